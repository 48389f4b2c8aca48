"""Label-error detection against cleanlab, on synthetic probabilities and on SST-2 text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cleanlab.filter import find_label_issues

from accord.quality import (
    disagreement_suspects,
    find_label_errors,
    find_text_label_errors,
    label_issue_mask,
    out_of_fold_probas,
)
from tests.quality.conftest import DATASETS, accuracy

Data = tuple[pd.DataFrame, pd.DataFrame, pd.Series]


def noisy_problem(
    seed: int, n: int = 1500, k: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    flipped = rng.random(n) < 0.15
    given = np.where(flipped, (true + rng.integers(1, k, n)) % k, true)
    logits = rng.normal(0, 1.0, (n, k))
    logits[np.arange(n), true] += 2.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return given, probs, flipped


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("prune_by_noise_rate", "prune_by_noise_rate"),
        ("prune_by_class", "prune_by_class"),
        ("both", "both"),
        ("confident_joint", "confident_learning"),
    ],
)
def test_masks_equal_cleanlab(seed: int, ours: str, theirs: str) -> None:
    given, probs, _ = noisy_problem(seed)
    mask = label_issue_mask(given, probs, filter_by=ours)  # type: ignore[arg-type]
    expected = find_label_issues(given, probs, filter_by=theirs)
    assert np.array_equal(mask, expected)


def test_ranked_table_and_reasons() -> None:
    given, probs, flipped = noisy_problem(3)
    names = np.array(["a", "b", "c", "d"])
    labels = pd.Series(names[given], index=[f"s{i}" for i in range(len(given))])
    frame = pd.DataFrame(probs, index=labels.index, columns=names)
    table = find_label_errors(labels, frame)
    assert table["self_confidence"].is_monotonic_increasing
    assert (table["given_label"] != table["suggested_label"]).all()
    assert (table["given_label"] == labels.loc[table.index]).all()
    assert table["reason"].str.contains("against the given").all()
    hit = flipped[[int(i[1:]) for i in table.index]].mean()
    assert hit > 0.7  # most flagged examples are real flips
    margin = find_label_errors(labels, frame, rank_by="normalized_margin")
    assert margin["margin"].is_monotonic_increasing and set(margin.index) == set(table.index)


def test_bad_inputs() -> None:
    given, probs, _ = noisy_problem(0, n=50)
    with pytest.raises(ValueError, match="one row per label"):
        find_label_errors(given[:-1], probs)
    with pytest.raises(ValueError, match="outside the classes"):
        find_label_errors(given + 10, probs)
    with pytest.raises(ValueError, match="filter_by"):
        label_issue_mask(given, probs, filter_by="nope")  # type: ignore[arg-type]


@pytest.mark.slow
def test_sst2_sample_not_worse_than_cleanlab() -> None:
    text = pd.read_csv(DATASETS / "text" / "sst2.csv")
    sample = text[text["split"] == "train"].sample(3000, random_state=1).reset_index(drop=True)
    rng = np.random.default_rng(1)
    flipped = rng.random(len(sample)) < 0.10
    swap = {"positive": "negative", "negative": "positive"}
    labels = sample["label"].where(~flipped, sample["label"].map(swap))
    probas = out_of_fold_probas(sample["text"], labels, n_splits=3)
    assert list(probas.columns) == ["negative", "positive"]
    assert np.allclose(probas.sum(axis=1), 1.0)
    codes = (labels == "positive").to_numpy().astype(int)
    theirs = find_label_issues(codes, probas.to_numpy())
    assert np.array_equal(
        label_issue_mask(codes, probas.to_numpy(), filter_by="prune_by_noise_rate"), theirs
    )
    ours = np.zeros(len(sample), dtype=bool)
    ours[find_label_errors(labels, probas).index.to_numpy()] = True

    def f1(mask: np.ndarray) -> float:
        tp = (mask & flipped).sum()
        return 2 * tp / (mask.sum() + flipped.sum())

    assert f1(ours) >= f1(theirs)
    assert f1(ours) > 0.25
    one_call = find_text_label_errors(sample["text"], labels, n_splits=3)
    assert one_call.index.equals(find_label_errors(labels, probas).index)


def test_disagreement_suspects(snow_rte: Data) -> None:
    _, framed, truth = snow_rte
    table = disagreement_suspects(framed, threshold=0.9)
    assert table["suspicion"].is_monotonic_decreasing
    weak = table[table["annotator"].isna()]
    strong_rows = table[table["annotator"].notna()]
    assert weak["reason"].str.startswith("weak consensus").all()
    assert strong_rows["reason"].str.contains("contradicts").all()
    weak_items = pd.Index(weak["item"])
    rest = truth.index.difference(weak_items)
    consensus = strong_rows.drop_duplicates("item").set_index("item")["consensus_label"]
    assert (strong_rows["label"] != strong_rows["consensus_label"]).all()
    from accord.quality import DawidSkene

    labels = DawidSkene().fit_predict(framed)
    # consensus is less often right on the items it flags as weak
    assert accuracy(labels.loc[weak_items], truth) < accuracy(labels.loc[rest], truth)
    assert (consensus == labels.loc[consensus.index]).all()
    with pytest.raises(ValueError, match="threshold"):
        disagreement_suspects(framed, threshold=0)
