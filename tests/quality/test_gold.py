"""Gold scoring: Wilson intervals against statsmodels, accuracy and confusion by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from accord.quality import gold_accuracy, gold_confusion, wilson_interval

Data = tuple[pd.DataFrame, pd.DataFrame, pd.Series]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5000), st.floats(0, 1), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_matches_statsmodels(n: int, share: float, confidence: float) -> None:
    x = round(share * n)
    low, high = wilson_interval(x, n, confidence)
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    assert float(low) == pytest.approx(ref_low, abs=1e-12)
    assert float(high) == pytest.approx(ref_high, abs=1e-12)


def test_wilson_vectorised_and_edge_cases() -> None:
    low, high = wilson_interval([0, 5, 0], [10, 10, 0])
    assert low[0] == 0.0 and high[0] > 0.2
    assert low[1] < 0.5 < high[1]
    assert np.isnan(low[2]) and np.isnan(high[2])
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_gold_accuracy_by_hand(zheng_dog: Data) -> None:
    _, framed, truth = zheng_dog
    gold = truth.iloc[::3]
    table = gold_accuracy(framed, gold)
    on_gold = framed[framed["item"].isin(gold.index)]
    correct = on_gold["label"].to_numpy() == gold.loc[on_gold["item"]].to_numpy()
    by_hand = pd.DataFrame({"a": on_gold["annotator"], "ok": correct}).groupby("a")["ok"]
    assert np.allclose(table.loc[by_hand.size().index, "n_gold"], by_hand.size())
    assert np.allclose(table.loc[by_hand.sum().index, "correct"], by_hand.sum())
    assert np.allclose(table.loc[by_hand.mean().index, "accuracy"], by_hand.mean())
    known = table[table["n_gold"] > 0]
    low, high = proportion_confint(known["correct"], known["n_gold"], method="wilson")
    assert np.allclose(known["low"], low)
    assert np.allclose(known["high"], high)
    without = table[table["n_gold"] == 0]
    assert without["accuracy"].isna().all()


def test_gold_confusion(zheng_dog: Data) -> None:
    _, framed, truth = zheng_dog
    confusion = gold_confusion(framed, truth)
    expected = pd.crosstab(truth.loc[framed["item"]].to_numpy(), framed["label"].to_numpy())
    assert np.array_equal(confusion.to_numpy(), expected.to_numpy())
    per = gold_confusion(framed, truth, by_annotator=True)
    assert per.to_numpy().sum() == len(framed)
    assert np.allclose(per.groupby(level="true_label").sum().to_numpy(), confusion.to_numpy())
    shares = gold_confusion(framed, truth, normalize=True)
    assert np.allclose(shares.sum(axis=1), 1.0)


def test_gold_errors(zheng_dog: Data) -> None:
    _, framed, _ = zheng_dog
    with pytest.raises(ValueError, match="none of the gold items"):
        gold_accuracy(framed, pd.Series({"nope": 1}))
    with pytest.raises(ValueError, match="gold labels outside"):
        gold_accuracy(framed, pd.Series({1: 99}))
