"""Categorical aggregation checked against crowd-kit 1.4.2 and gold answers on real crowd data."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from accord.quality import (
    GLAD,
    MACE,
    DawidSkene,
    LabelData,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
)
from tests.quality.conftest import accuracy

Data = tuple[pd.DataFrame, pd.DataFrame, pd.Series]


def crowdkit(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    import crowdkit.aggregation as ck
    from crowdkit.aggregation.utils import get_accuracy

    def wawa(df: pd.DataFrame) -> pd.Series:
        # crowd-kit's Wawa class needs an older scikit-learn; same steps with its functions
        mv = ck.MajorityVote().fit(df)
        return ck.MajorityVote().fit_predict(df, get_accuracy(df, mv.labels_, by="worker"))

    table: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
        "DawidSkene": lambda df: ck.DawidSkene(n_iter=100).fit_predict(df),
        "OneCoinDawidSkene": lambda df: ck.OneCoinDawidSkene(n_iter=100).fit_predict(df),
        "GLAD": lambda df: ck.GLAD().fit_predict(df),
        "MACE": lambda df: ck.MACE().fit_predict(df),
        "Wawa": wawa,
    }
    return table[name]


def run_reference(name: str, raw: pd.DataFrame) -> tuple[pd.Series, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        result = crowdkit(name)(raw)
        return result, time.perf_counter() - start


@pytest.mark.parametrize("dataset", ["zheng_dog", "snow_rte"])
@pytest.mark.parametrize(
    ("model", "reference"),
    [(DawidSkene, "DawidSkene"), (OneCoinDawidSkene, "OneCoinDawidSkene"), (Wawa, "Wawa")],
)
def test_accuracy_at_least_crowdkit(
    dataset: str, model: type, reference: str, request: pytest.FixtureRequest
) -> None:
    raw, framed, truth = request.getfixturevalue(dataset)
    ours = accuracy(model().fit_predict(framed), truth)
    theirs = accuracy(run_reference(reference, raw)[0], truth)
    assert ours >= theirs - 1e-12


@pytest.mark.slow
@pytest.mark.parametrize(("model", "reference"), [(GLAD, "GLAD"), (MACE, "MACE")])
def test_glad_mace_close_to_crowdkit_and_faster(
    zheng_dog: Data, model: type, reference: str
) -> None:
    raw, framed, truth = zheng_dog
    start = time.perf_counter()
    ours = accuracy(model().fit_predict(framed), truth)
    our_seconds = time.perf_counter() - start
    predicted, their_seconds = run_reference(reference, raw)
    assert ours >= accuracy(predicted, truth) - 0.005
    assert their_seconds > 5 * our_seconds


@pytest.mark.parametrize(
    ("dataset", "model", "published"),
    [
        ("zheng_dog", DawidSkene, 0.843),
        ("snow_rte", DawidSkene, 0.9275),
        ("zheng_dog", GLAD, 0.834),
        ("snow_rte", GLAD, 0.925),
        ("zheng_dog", MACE, 0.830),
        ("snow_rte", MACE, 0.925),
        ("zheng_dog", MajorityVote, 0.812),
    ],
)
def test_published_accuracies(
    dataset: str, model: type, published: float, request: pytest.FixtureRequest
) -> None:
    _, framed, truth = request.getfixturevalue(dataset)
    assert accuracy(model().fit_predict(framed), truth) >= published - 0.0015


def test_majority_vote_matches_plain_counting(zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    mv = MajorityVote(tie_break="first").fit(framed)
    counts = pd.crosstab(framed["item"], framed["label"])
    assert np.allclose(mv.probas_.to_numpy(), (counts.T / counts.sum(axis=1)).T.to_numpy())
    expected = counts.idxmax(axis=1)  # first maximal column = earliest label
    assert (mv.labels_ == expected.loc[mv.labels_.index]).all()
    tied = (counts.eq(counts.max(axis=1), axis=0).sum(axis=1) > 1).sum()
    assert mv.n_ties_ == tied == 50


def test_tie_rules() -> None:
    rows = [(1, "a", "x"), (1, "b", "y"), (2, "a", "y"), (2, "b", "y"), (2, "c", "x")]
    rows += [(3, "a", "y"), (3, "b", "y")]
    data = pd.DataFrame(rows, columns=["item", "annotator", "label"])
    frequent = MajorityVote().fit(data)
    assert frequent.labels_.loc[1] == "y"  # "y" is given 5 times overall, "x" twice
    assert frequent.ties_.tolist() == [True, False, False]
    assert MajorityVote(tie_break="first").fit(data).labels_.loc[1] == "x"
    drawn = {
        MajorityVote(tie_break="random", random_state=s).fit(data).labels_.loc[1] for s in range(20)
    }
    assert drawn == {"x", "y"}
    with pytest.raises(ValueError, match="tie_break"):
        MajorityVote(tie_break="bogus").fit(data)  # type: ignore[arg-type]


def test_weighted_majority_vote() -> None:
    data = pd.DataFrame(
        [(1, "a", "x"), (1, "b", "y"), (1, "c", "y")], columns=["item", "annotator", "label"]
    )
    assert MajorityVote().fit_predict(data).tolist() == ["y"]
    heavy = MajorityVote(weights={"a": 3.0, "b": 1.0, "c": 1.0})
    assert heavy.fit_predict(data).tolist() == ["x"]
    assert heavy.probas_.loc[1, "x"] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="default_weight"):
        MajorityVote(weights={"a": 1.0}).fit(data)
    assert MajorityVote(weights={"a": 3.0}, default_weight=2.0).fit_predict(data).tolist() == ["y"]


ALL_MODELS: list[Callable[[], Any]] = [
    MajorityVote,
    Wawa,
    DawidSkene,
    OneCoinDawidSkene,
    GLAD,
    lambda: MACE(n_restarts=2, n_iter=20),
]


@pytest.mark.parametrize("make", ALL_MODELS)
def test_results_shape_and_probabilities(make: Callable[[], Any], zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    model = make().fit(framed)
    assert model.probas_.shape == (807, 4)
    assert np.allclose(model.probas_.sum(axis=1), 1.0)
    assert ((model.probas_ >= 0) & (model.probas_ <= 1)).all().all()
    assert list(model.probas_.columns) == [0, 1, 2, 3]
    assert model.labels_.index.equals(model.probas_.index)
    assert model.skills_.index.nunique() == framed["annotator"].nunique()


@pytest.mark.parametrize("make", ALL_MODELS)
def test_gold_clamps_and_informs_skills(make: Callable[[], Any], snow_rte: Data) -> None:
    _, framed, truth = snow_rte
    gold = truth.iloc[:400]
    plain = make().fit(framed)
    guided = make().fit(framed, gold=gold)
    assert (guided.labels_.loc[gold.index] == gold).all()
    assert np.allclose(guided.probas_.loc[gold.index].max(axis=1), 1.0)
    assert not np.allclose(guided.skills_.to_numpy(), plain.skills_.to_numpy())
    rest = truth.iloc[400:]
    assert accuracy(guided.labels_, rest) >= accuracy(plain.labels_, rest) - 0.02
    with pytest.raises(ValueError, match="gold labels outside"):
        make().fit(framed, gold=pd.Series({gold.index[0]: 7}))


def test_dawid_skene_gold_improves_skill_estimate(snow_rte: Data) -> None:
    _, framed, truth = snow_rte
    data = LabelData.from_frame(framed)
    guided = DawidSkene().fit(data, gold=truth)
    true_acc = (
        framed.assign(ok=framed["label"].to_numpy() == truth.loc[framed["item"]].to_numpy())
        .groupby("annotator")["ok"]
        .mean()
    )
    assert np.allclose(guided.skills_.loc[true_acc.index], true_acc, atol=1e-6)


def test_dawid_skene_confusions_and_speed(gal_adult2: Data) -> None:
    _, framed, truth = gal_adult2
    data = LabelData.from_frame(framed)
    start = time.perf_counter()
    ds = DawidSkene().fit(data)
    assert time.perf_counter() - start < 0.3
    conf = ds.confusions_.to_numpy().reshape(data.n_annotators, 4, 4)
    assert np.allclose(conf.sum(axis=2), 1.0)
    assert ds.priors_.sum() == pytest.approx(1.0)
    assert accuracy(ds.labels_, truth) >= 0.745  # converged DS; published 0.748
    assert ds.n_iter_ < 100


def test_unanimous_data_gives_the_unanimous_label() -> None:
    rows = [(i, a, "y" if i % 2 else "x") for i in range(6) for a in "abc"]
    data = pd.DataFrame(rows, columns=["item", "annotator", "label"])
    for make in ALL_MODELS:
        labels = make().fit_predict(data)
        assert labels.tolist() == ["x", "y"] * 3, make
