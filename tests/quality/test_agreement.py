"""Agreement coefficients against independent references: krippendorff, statsmodels, sklearn."""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from accord.quality import (
    MajorityVote,
    agreement_intervals,
    annotator_agreement,
    annotator_agreement_ci,
    bootstrap_ci,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    item_agreement,
    krippendorff_alpha,
    label_agreement,
    label_agreement_ci,
    pairwise_cohen_kappa,
    percent_agreement,
)
from accord.quality.data import LabelData

Data = tuple[pd.DataFrame, pd.DataFrame, pd.Series]
LEVELS = ("nominal", "ordinal", "interval", "ratio")


def matrix_to_frame(matrix: np.ndarray) -> pd.DataFrame:
    annotators, units = np.nonzero(~pd.isna(matrix))
    return pd.DataFrame(
        {"item": units, "annotator": annotators, "label": matrix[annotators, units]}
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_krippendorff_matches_package_with_missing_data(level: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 8, 300)
    matrix = np.where(rng.random((6, 300)) < 0.6, truth, rng.integers(1, 8, (6, 300))).astype(float)
    matrix[rng.random(matrix.shape) < 0.3] = np.nan
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert krippendorff_alpha(matrix, level) == pytest.approx(expected, abs=1e-9)
    assert krippendorff_alpha(matrix_to_frame(matrix), level) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_non_integer_values(level: str) -> None:
    rng = np.random.default_rng(5)
    matrix = rng.choice([0.5, 1.25, 2.0, 3.75, 10.0], size=(4, 120))
    matrix[rng.random(matrix.shape) < 0.25] = np.nan
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert krippendorff_alpha(matrix, level) == pytest.approx(expected, abs=1e-9)


def test_krippendorff_published_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4-coder example.
    nan = np.nan
    data = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    )
    assert krippendorff_alpha(data, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(data, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(data, "interval") == pytest.approx(0.849, abs=5e-4)


def test_krippendorff_string_values_with_domain(snow_rte: Data) -> None:
    words = np.array([["low", "mid", None, "high"], ["low", "high", "mid", "high"]], dtype=object)
    numbers = np.array([[0, 1, np.nan, 2], [0, 2, 1, 2]], dtype=float)
    ours = krippendorff_alpha(words, "ordinal", value_domain=["low", "mid", "high"])
    assert ours == pytest.approx(krippendorff.alpha(numbers, level_of_measurement="ordinal"))
    _, framed, _ = snow_rte
    wide = framed.pivot(index="annotator", columns="item", values="label").to_numpy(float)
    expected = krippendorff.alpha(reliability_data=wide, level_of_measurement="nominal")
    assert krippendorff_alpha(framed, "nominal") == pytest.approx(expected, abs=1e-9)
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(framed, "cardinal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="numeric"):
        krippendorff_alpha(framed.assign(label=framed["label"].map({0: "n", 1: "y"})), "interval")


@pytest.mark.parametrize("name", ["snow_rte", "zheng_dog"])
def test_fleiss_matches_statsmodels(name: str, request: pytest.FixtureRequest) -> None:
    raw, framed, _ = request.getfixturevalue(name)
    table = pd.crosstab(raw["task"], raw["label"]).to_numpy()
    assert fleiss_kappa(framed) == pytest.approx(sm_fleiss_kappa(table, method="fleiss"), abs=1e-12)


def test_percent_agreement_and_ac1_two_raters() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 3, 200)
    b = np.where(rng.random(200) < 0.7, a, rng.integers(0, 3, 200))
    rows = [(i, "a", x) for i, x in enumerate(a)] + [(i, "b", x) for i, x in enumerate(b)]
    data = pd.DataFrame(rows, columns=["item", "annotator", "label"])
    pa = float((a == b).mean())
    assert percent_agreement(data) == pytest.approx(pa)
    pi = np.array([((a == k).mean() + (b == k).mean()) / 2 for k in range(3)])
    pe = float((pi * (1 - pi)).sum() / 2)
    assert gwet_ac1(data) == pytest.approx((pa - pe) / (1 - pe))


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn(weights: str | None, zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    wide = framed.pivot(index="item", columns="annotator", values="label")
    busiest = framed["annotator"].value_counts().index[:2]
    both = wide[list(busiest)].dropna()
    expected = cohen_kappa_score(both.iloc[:, 0], both.iloc[:, 1], weights=weights)
    ours = cohen_kappa(framed, annotators=tuple(busiest), weights=weights)  # type: ignore[arg-type]
    assert ours == pytest.approx(expected, abs=1e-12)
    series = cohen_kappa(both.iloc[:, 0], both.iloc[:, 1], weights=weights)  # type: ignore[arg-type]
    assert series == pytest.approx(expected, abs=1e-12)


def test_pairwise_cohen_matrix_matches_sklearn(zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    table = pairwise_cohen_kappa(framed, min_overlap=20)
    wide = framed.pivot(index="item", columns="annotator", values="label")
    top = framed["annotator"].value_counts().index[:6]
    checked = 0
    for i, a in enumerate(top):
        for b in top[i + 1 :]:
            both = wide[[a, b]].dropna()
            if len(both) < 20:
                assert np.isnan(table.loc[a, b])
                continue
            expected = cohen_kappa_score(both[a], both[b])
            assert table.loc[a, b] == pytest.approx(expected, abs=1e-9)
            assert table.loc[b, a] == pytest.approx(expected, abs=1e-9)
            checked += 1
    assert checked >= 3


def test_label_agreement_decomposes_fleiss(zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    per_label = label_agreement(framed)
    pq = per_label["share"] * (1 - per_label["share"])
    # Fleiss (1971): overall kappa is the pq-weighted mean of the per-category kappas
    assert (pq * per_label["kappa"]).sum() / pq.sum() == pytest.approx(fleiss_kappa(framed))
    assert per_label["share"].sum() == pytest.approx(1.0)
    counts = pd.crosstab(framed["item"], framed["label"])
    c = counts.to_numpy(float)
    specific = (c * (c - 1)).sum(axis=0) / (c * (c.sum(axis=1, keepdims=True) - 1)).sum(axis=0)
    assert np.allclose(per_label["specific_agreement"], specific)


def test_item_and_annotator_agreement_by_hand(zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    items = item_agreement(framed)
    counts = pd.crosstab(framed["item"], framed["label"]).loc[items.index]
    c = counts.to_numpy(float)
    assert np.allclose(items["agreement"], (c * (c - 1)).sum(axis=1) / (10 * 9))
    assert np.allclose(items["majority_share"], c.max(axis=1) / 10)
    table = annotator_agreement(framed)
    sample = framed["annotator"].unique()[:5]
    merged = framed.merge(framed, on="item", suffixes=("", "_o"))
    merged = merged[merged["annotator"] != merged["annotator_o"]]
    merged["same"] = merged["label"] == merged["label_o"]
    per_row = merged.groupby(["annotator", "item"])["same"].mean()
    expected = per_row.groupby("annotator").mean()
    assert np.allclose(table.loc[sample, "with_others"], expected.loc[sample])
    consensus = framed.groupby("item")["label"].agg(lambda s: s.value_counts().index[0])
    table2 = annotator_agreement(framed, consensus=consensus)
    hits = framed["label"].to_numpy() == consensus.loc[framed["item"]].to_numpy()
    by_hand = pd.Series(hits, index=framed["annotator"]).groupby(level=0).mean()
    assert np.allclose(table2.loc[sample, "with_consensus"], by_hand.loc[sample])
    assert (table2["kappa_consensus"].dropna() <= 1.0 + 1e-12).all()
    assert table2["kappa_consensus"].notna().sum() > 50


@pytest.mark.parametrize("statistic", ["percent_agreement", "fleiss_kappa", "gwet_ac1"])
def test_vectorised_bootstrap_equals_refitting(statistic: str, zheng_dog: Data) -> None:
    from accord.quality import agreement

    _, framed, _ = zheng_dog
    fast = bootstrap_ci(framed, statistic, n_boot=60, random_state=7)  # type: ignore[arg-type]
    fn = getattr(agreement, statistic)
    slow = bootstrap_ci(framed, lambda d: fn(d), n_boot=60, random_state=7)
    assert fast.value == pytest.approx(slow.value)
    assert fast.low == pytest.approx(slow.low, abs=1e-12)
    assert fast.high == pytest.approx(slow.high, abs=1e-12)
    assert fast.low < fast.value < fast.high


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_bootstrap_equals_refitting(level: str, snow_rte: Data) -> None:
    _, framed, _ = snow_rte
    data = LabelData.from_frame(framed)
    fast = bootstrap_ci(data, "krippendorff_alpha", level=level, n_boot=40, random_state=3)
    slow = bootstrap_ci(
        data,
        lambda d: krippendorff_alpha(d, level),
        n_boot=40,
        random_state=3,  # type: ignore[arg-type]
    )
    assert fast.value == pytest.approx(krippendorff_alpha(data, level))  # type: ignore[arg-type]
    assert (fast.low, fast.high) == pytest.approx((slow.low, slow.high), abs=1e-10)


def test_per_label_intervals_equal_refitting(zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    fast = label_agreement_ci(framed, n_boot=60, random_state=5)
    point = label_agreement(framed)
    for label in point.index:
        for statistic in ("specific_agreement", "kappa"):
            slow = bootstrap_ci(
                framed,
                lambda d, s=statistic, lab=label: float(label_agreement(d)[s][lab]),
                n_boot=60,
                random_state=5,
            )
            low, high = fast.loc[label, [f"{statistic}_low", f"{statistic}_high"]]
            assert (low, high) == pytest.approx((slow.low, slow.high), abs=1e-12)
            assert low < point.loc[label, statistic] < high


def test_per_annotator_intervals_equal_a_direct_resampling(snow_rte: Data) -> None:
    """The sparse per-item sums against pandas over the same item draws; with_others also
    against refitting, with_consensus with the consensus held fixed."""
    from accord.quality.bootstrap import _replicate_weights

    _, framed, _ = snow_rte
    data = LabelData.from_frame(framed)
    consensus = MajorityVote().fit(framed).labels_
    fast = annotator_agreement_ci(framed, consensus, n_boot=40, random_state=2)
    slow_others = {
        a: bootstrap_ci(
            data,
            lambda d, a=a: float(annotator_agreement(d)["with_others"].get(a, np.nan)),
            n_boot=40,
            random_state=2,
        )
        for a in fast.index[:5]
    }
    for a, est in slow_others.items():
        assert (fast.loc[a, "with_others_low"], fast.loc[a, "with_others_high"]) == (
            pytest.approx((est.low, est.high), abs=1e-12)
        )
    hits = framed.assign(
        hit=(framed["label"] == consensus.reindex(framed["item"]).to_numpy()).astype(float),
        code=data.items.get_indexer(framed["item"]),
    )
    (weights,) = _replicate_weights(data.n_items, 40, np.random.default_rng(2))
    replicates = []
    for w in weights:
        drawn = hits.assign(w=w[hits["code"]])
        by = drawn.assign(wh=drawn["w"] * drawn["hit"]).groupby("annotator")[["wh", "w"]].sum()
        replicates.append(by["wh"] / by["w"])
    table = pd.DataFrame(replicates)
    for a in fast.index:
        finite = table[a].dropna()
        low, high = np.quantile(finite, [0.025, 0.975])
        assert fast.loc[a, "with_consensus_low"] == pytest.approx(low, abs=1e-12)
        assert fast.loc[a, "with_consensus_high"] == pytest.approx(high, abs=1e-12)
    point = annotator_agreement(framed, consensus)
    busy = point.index[point["n_labels"] >= 50]
    assert (fast.loc[busy, "with_consensus_low"] <= point.loc[busy, "with_consensus"]).all()
    assert (point.loc[busy, "with_consensus"] <= fast.loc[busy, "with_consensus_high"]).all()


def test_all_intervals_at_once_equal_the_separate_calls(zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    consensus = MajorityVote().fit(framed).labels_
    together = agreement_intervals(framed, consensus, n_boot=80, random_state=4)
    for statistic, estimate in together.overall.items():
        alone = bootstrap_ci(framed, statistic, n_boot=80, random_state=4)  # type: ignore[arg-type]
        assert (estimate.value, estimate.low, estimate.high) == (alone.value, alone.low, alone.high)
    pd.testing.assert_frame_equal(
        together.per_label, label_agreement_ci(framed, n_boot=80, random_state=4)
    )
    pd.testing.assert_frame_equal(
        together.per_annotator,
        annotator_agreement_ci(framed, consensus, n_boot=80, random_state=4),
    )


def test_bootstrap_interval_covers_truth_often() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(20):
        truth = rng.integers(0, 3, 150)
        m = np.where(rng.random((4, 150)) < 0.8, truth, rng.integers(0, 3, (4, 150))).astype(float)
        est = bootstrap_ci(matrix_to_frame(m), "krippendorff_alpha", n_boot=200, random_state=1)
        # population alpha of this process: agreement 0.8 + 0.2/3 chance
        p_same = 0.8**2 + (1 - 0.8**2) / 3
        alpha = 1 - (1 - p_same) / (1 - 1 / 3)
        covered += est.low <= alpha <= est.high
    assert covered >= 15


@pytest.mark.parametrize("statistic", ["fleiss_kappa", "gwet_ac1"])
def test_one_category_has_no_coefficient_and_no_interval(statistic: str) -> None:
    framed = pd.DataFrame(
        [(i, a, "yes") for i in range(4) for a in range(3)], columns=["item", "annotator", "label"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate = bootstrap_ci(framed, statistic, n_boot=50, random_state=0)  # type: ignore[arg-type]
    assert np.isnan([estimate.value, estimate.low, estimate.high]).all()


@pytest.mark.parametrize("statistic", ["fleiss_kappa", "gwet_ac1"])
def test_replicates_of_one_category_are_left_out_quietly(statistic: str) -> None:
    """Five unanimous items and one split one: a replicate that draws only unanimous items has
    chance agreement 1 and no coefficient; it is left out of the interval, without a warning,
    exactly as refitting the coefficient on each replicate leaves it out."""
    from accord.quality import agreement

    rows = [(i, a, "yes") for i in range(5) for a in range(3)]
    rows += [(5, 0, "yes"), (5, 1, "no"), (5, 2, "no")]
    framed = pd.DataFrame(rows, columns=["item", "annotator", "label"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast = bootstrap_ci(framed, statistic, n_boot=300, random_state=2)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = getattr(agreement, statistic)
        slow = bootstrap_ci(framed, lambda d: fn(d), n_boot=300, random_state=2)
    assert np.isfinite(fast.low) and np.isfinite(fast.high)
    assert (fast.low, fast.high) == pytest.approx((slow.low, slow.high), abs=1e-12)
    assert fast.value == pytest.approx(fn(framed))


def test_bootstrap_rejects_bad_arguments(zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    with pytest.raises(ValueError):
        bootstrap_ci(framed, "mystery")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bootstrap_ci(framed, n_boot=0)
    with pytest.raises(ValueError):
        bootstrap_ci(framed, confidence=1.5)
