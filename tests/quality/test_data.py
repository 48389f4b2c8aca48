"""Encoding of long-format label data, duplicate policies and input validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accord.quality import LabelData, MajorityVote


def frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "annotator", "label"])


def test_codes_round_trip_to_original_values() -> None:
    data = LabelData.from_frame(frame([("b", "x", "pos"), ("a", "y", "neg"), ("a", "x", "pos")]))
    assert list(data.items) == ["a", "b"]
    assert list(data.labels) == ["neg", "pos"]
    decoded = list(
        zip(
            data.items[data.item_codes],
            data.annotators[data.annotator_codes],
            data.labels[data.label_codes],
            strict=True,
        )
    )
    assert decoded == [("b", "x", "pos"), ("a", "y", "neg"), ("a", "x", "pos")]
    assert data.counts().tolist() == [[1.0, 1.0], [0.0, 1.0]]


def test_compact_integer_codes_match_pandas_factorize() -> None:
    rng = np.random.default_rng(3)
    items = rng.integers(-50, 500, 2000)
    data = LabelData.from_arrays(items, rng.integers(0, 9, 2000), rng.integers(1, 4, 2000) * 1.0)
    codes, uniques = pd.factorize(pd.Series(items), sort=True)
    assert np.array_equal(data.item_codes, codes)
    assert list(data.items) == list(uniques)
    assert list(data.labels) == [1.0, 2.0, 3.0]


def test_fixed_label_set_keeps_unused_labels_and_rejects_unknown() -> None:
    data = LabelData.from_frame(frame([(1, "a", "x")]), labels=["x", "y", "z"])
    assert data.n_labels == 3
    assert data.counts().tolist() == [[1.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="outside the label set"):
        LabelData.from_frame(frame([(1, "a", "w")]), labels=["x", "y"])


@pytest.mark.parametrize(
    ("policy", "rows", "weights"),
    [
        ("keep", 4, [1.0, 1.0, 1.0, 1.0]),
        ("average", 4, [1 / 3, 1 / 3, 1 / 3, 1.0]),
        ("first", 2, [1.0, 1.0]),
        ("last", 2, [1.0, 1.0]),
    ],
)
def test_duplicate_policies(policy: str, rows: int, weights: list[float]) -> None:
    raw = frame([(1, "a", "x"), (1, "a", "x"), (1, "a", "y"), (2, "a", "y")])
    data = LabelData.from_frame(raw, duplicates=policy)  # type: ignore[arg-type]
    assert data.n_rows == rows
    assert data.n_repeated_pairs == 2
    assert data.weights.tolist() == pytest.approx(weights)
    if policy == "first":
        assert data.labels[data.label_codes].tolist() == ["x", "y"]
    if policy == "last":
        assert data.labels[data.label_codes].tolist() == ["y", "y"]


def test_average_policy_makes_each_pair_one_vote() -> None:
    # annotator a repeats "x" three times; b and c say "y": a repeat is not new evidence.
    raw = frame([(1, "a", "x")] * 3 + [(1, "b", "y"), (1, "c", "y")])
    assert MajorityVote().fit_predict(raw).tolist() == ["y"]
    kept = LabelData.from_frame(raw, duplicates="keep")
    assert MajorityVote().fit_predict(kept).tolist() == ["x"]


def test_sparse_pair_table_path_agrees_with_dense_path() -> None:
    # many items and annotators: the duplicate check falls back to sorting
    rng = np.random.default_rng(0)
    items = rng.integers(0, 100_000, 500)
    annotators = rng.integers(0, 100_000, 500)
    items[:10], annotators[:10] = items[10:20], annotators[10:20]
    data = LabelData.from_arrays(items, annotators, np.zeros(500), duplicates="average")
    pairs = pd.Series(list(zip(items, annotators, strict=True)))
    expected = 1.0 / pairs.map(pairs.value_counts()).to_numpy()
    assert data.weights == pytest.approx(expected)
    assert data.n_repeated_pairs == int(pairs.duplicated().sum())


def test_gal_adult2_repeated_pairs_are_counted(gal_adult2: tuple[pd.DataFrame, ...]) -> None:
    _, framed, _ = gal_adult2
    data = LabelData.from_frame(framed)
    assert data.n_repeated_pairs == 2922
    per_pair = np.bincount(data.item_codes * data.n_annotators + data.annotator_codes, data.weights)
    assert np.allclose(per_pair[per_pair > 0], 1.0)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (pd.DataFrame(columns=["item", "annotator", "label"]), "empty"),
        (pd.DataFrame({"item": [1], "label": [1]}), "columns"),
        (frame([(1, "a", None)]), "missing labels"),
        (frame([(None, "a", 1)]), "missing items"),
    ],
)
def test_bad_input_raises_value_error(bad: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelData.from_frame(bad)


def test_gold_with_unknown_label_raises() -> None:
    data = LabelData.from_frame(frame([(1, "a", "x"), (2, "a", "y")]))
    with pytest.raises(ValueError, match="gold labels outside"):
        data.encode_gold(pd.Series({1: "z"}))
    items, labels = data.encode_gold(pd.Series({1: "y", 99: "x"}))
    assert items.tolist() == [0] and labels.tolist() == [1]


def test_from_codes_and_tuple_input() -> None:
    data = LabelData.from_codes([0, 0, 1], [0, 1, 0], [1, 1, 0], n_labels=3)
    assert data.n_items == 2 and data.n_labels == 3
    assert MajorityVote().fit_predict(data).tolist() == [1, 0]
    as_tuple = LabelData.coerce((["i", "i", "j"], ["a", "b", "a"], ["p", "p", "n"]))
    assert as_tuple.counts().tolist() == [[0.0, 2.0], [1.0, 0.0]]
    with pytest.raises(ValueError):
        LabelData.coerce([1, 2, 3])  # type: ignore[arg-type]
