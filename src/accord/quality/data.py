"""Long-format label data, integer-coded once so that every algorithm works on numpy arrays.

Every algorithm in :mod:`accord.quality` takes one row per label an annotator gave to an item.
Encoding happens once here; the algorithms then only see dense integer codes and row weights, so
they can use ``np.bincount`` and sparse products instead of grouping by Python objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

Duplicates = Literal["average", "keep", "first", "last"]
"""How repeated (item, annotator) pairs are treated.

* ``average`` (default): every row of a pair gets weight ``1 / rows in the pair``, so each
  annotator contributes one unit of evidence per item; an exact repeat is therefore the same as a
  single answer and two conflicting answers count half each.
* ``keep``: every row counts fully (what most reference implementations do).
* ``first`` / ``last``: only the first / last row of the pair in input order is kept.
"""

DUPLICATE_POLICIES: tuple[str, ...] = ("average", "keep", "first", "last")


def _factorize(values: pd.Series, *, sort: bool = True) -> tuple[IntArray, pd.Index]:
    """Codes in sorted order when the values sort, else in order of appearance.

    Whole numbers in a compact range (the usual ids and rating scales) are coded with one
    ``bincount`` instead of a hash table.
    """
    if values.dtype.kind in "iuf" and len(values):
        raw = values.to_numpy()
        low, high = raw.min(), raw.max()
        if np.isfinite(low) and np.isfinite(high) and high - low <= 2 * len(raw) + 1024:
            shifted = raw - low
            offsets = shifted.astype(np.int64)
            if raw.dtype.kind in "iu" or np.array_equal(offsets, shifted):
                present = np.bincount(offsets) > 0
                code_of = np.cumsum(present) - 1
                uniques = np.flatnonzero(present).astype(raw.dtype) + low
                return np.asarray(code_of[offsets], dtype=np.int64), pd.Index(uniques)
    try:
        codes, uniques = pd.factorize(values, sort=sort)
    except TypeError:
        codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def resolve_duplicates(
    item_codes: IntArray,
    annotator_codes: IntArray,
    weights: FloatArray,
    n_annotators: int,
    policy: str,
) -> tuple[IntArray, FloatArray, int]:
    """Rows to keep, their weights and the number of rows that repeat an earlier pair."""
    if policy not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}, not {policy!r}")
    n = item_codes.shape[0]
    n_items = int(item_codes.max()) + 1 if n else 0
    pair = item_codes * max(n_annotators, 1) + annotator_codes
    rows = np.arange(n, dtype=np.int64)
    if n_items * max(n_annotators, 1) <= 4 * n + 1_000_000:
        # Dense pair table: one bincount instead of sorting a million pairs.
        per_pair = np.bincount(pair)
        n_repeats = int(n - np.count_nonzero(per_pair))
        if n_repeats == 0 or policy == "keep":
            return rows, weights, n_repeats
        if policy == "average":
            return rows, weights / per_pair[pair], n_repeats
    _, first, inverse, counts = np.unique(
        pair, return_index=True, return_inverse=True, return_counts=True
    )
    n_repeats = int(n - first.shape[0])
    if n_repeats == 0 or policy == "keep":
        return rows, weights, n_repeats
    if policy == "average":
        return rows, weights / counts[inverse], n_repeats
    if policy == "first":
        keep = np.sort(first)
    else:
        last = n - 1 - np.unique(pair[::-1], return_index=True)[1]
        keep = np.sort(last)
    return keep.astype(np.int64), weights[keep], n_repeats


@dataclass(frozen=True, eq=False)
class LabelData:
    """One row per (item, annotator, label), each column integer-coded, with a weight per row.

    ``items``, ``annotators`` and ``labels`` hold the original values in code order, so
    ``items[item_codes[k]]`` is the item of row ``k``. Weights come from the duplicate policy
    (see :data:`Duplicates`) times any user weight column.
    """

    items: pd.Index
    annotators: pd.Index
    labels: pd.Index
    item_codes: IntArray
    annotator_codes: IntArray
    label_codes: IntArray
    weights: FloatArray
    n_repeated_pairs: int = 0

    def __post_init__(self) -> None:
        n = self.item_codes.shape[0]
        if n == 0:
            raise ValueError("label data is empty")
        for name in ("annotator_codes", "label_codes", "weights"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have one entry per row ({n})")
        for codes, index, name in (
            (self.item_codes, self.items, "item"),
            (self.annotator_codes, self.annotators, "annotator"),
            (self.label_codes, self.labels, "label"),
        ):
            if codes.min() < 0 or codes.max() >= len(index):
                raise ValueError(f"{name} codes out of range")
        if not np.all(np.isfinite(self.weights)) or (self.weights < 0).any():
            raise ValueError("weights must be finite and non-negative")

    # ------------------------------------------------------------------ sizes
    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_annotators(self) -> int:
        return len(self.annotators)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    @property
    def n_rows(self) -> int:
        return int(self.item_codes.shape[0])

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        item: str = "item",
        annotator: str = "annotator",
        label: str = "label",
        weight: str | None = None,
        labels: Sequence[Any] | None = None,
        duplicates: Duplicates = "average",
    ) -> LabelData:
        """Encode a DataFrame; ``labels`` fixes the label set and order (else sorted values)."""
        if not isinstance(frame, pd.DataFrame):
            raise ValueError("label data must be a pandas DataFrame")
        wanted = [item, annotator, label] + ([weight] if weight else [])
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise ValueError(
                f"label data needs columns {missing}; got {list(frame.columns)} "
                f"(expected long format with columns {item!r}, {annotator!r}, {label!r})"
            )
        return cls.from_arrays(
            frame[item],
            frame[annotator],
            frame[label],
            weights=None if weight is None else frame[weight].to_numpy(dtype=np.float64),
            labels=labels,
            duplicates=duplicates,
        )

    @classmethod
    def from_arrays(
        cls,
        items: Sequence[Any] | pd.Series | npt.NDArray[Any],
        annotators: Sequence[Any] | pd.Series | npt.NDArray[Any],
        label_values: Sequence[Any] | pd.Series | npt.NDArray[Any],
        *,
        weights: Sequence[float] | npt.NDArray[Any] | None = None,
        labels: Sequence[Any] | None = None,
        duplicates: Duplicates = "average",
    ) -> LabelData:
        item_series = pd.Series(np.asarray(items) if not isinstance(items, pd.Series) else items)
        annotator_series = pd.Series(
            np.asarray(annotators) if not isinstance(annotators, pd.Series) else annotators
        )
        values = pd.Series(
            np.asarray(label_values) if not isinstance(label_values, pd.Series) else label_values
        )
        n = len(values)
        if n == 0:
            raise ValueError("label data is empty")
        if len(item_series) != n or len(annotator_series) != n:
            raise ValueError("items, annotators and labels must have the same length")
        if item_series.isna().any() or annotator_series.isna().any():
            raise ValueError("label data contains missing items or annotators")
        if values.isna().any():
            raise ValueError("label data contains missing labels")
        item_codes, item_index = _factorize(item_series)
        annotator_codes, annotator_index = _factorize(annotator_series)
        if labels is None:
            label_codes, label_index = _factorize(values)
        else:
            label_index = pd.Index(list(labels))
            if label_index.has_duplicates:
                raise ValueError("the label set has duplicates")
            label_codes = np.asarray(label_index.get_indexer(values), dtype=np.int64)
            if (label_codes < 0).any():
                unknown = sorted({str(v) for v in values[label_codes < 0]})
                raise ValueError(f"labels outside the label set: {unknown[:5]}")
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        rows, w, n_repeats = resolve_duplicates(
            item_codes, annotator_codes, w, len(annotator_index), duplicates
        )
        if rows.shape[0] != n:
            item_codes, annotator_codes, label_codes = (
                item_codes[rows],
                annotator_codes[rows],
                label_codes[rows],
            )
        return cls(
            items=item_index,
            annotators=annotator_index,
            labels=label_index,
            item_codes=item_codes,
            annotator_codes=annotator_codes,
            label_codes=label_codes,
            weights=np.ascontiguousarray(w, dtype=np.float64),
            n_repeated_pairs=n_repeats,
        )

    @classmethod
    def from_codes(
        cls,
        item_codes: npt.ArrayLike,
        annotator_codes: npt.ArrayLike,
        label_codes: npt.ArrayLike,
        *,
        n_items: int | None = None,
        n_annotators: int | None = None,
        n_labels: int | None = None,
        weights: npt.ArrayLike | None = None,
        duplicates: Duplicates = "average",
    ) -> LabelData:
        """Wrap data that is already integer-coded; names become ``0..n-1``."""
        i = np.asarray(item_codes, dtype=np.int64)
        a = np.asarray(annotator_codes, dtype=np.int64)
        c = np.asarray(label_codes, dtype=np.int64)
        if i.size == 0:
            raise ValueError("label data is empty")
        if i.ndim != 1 or a.shape != i.shape or c.shape != i.shape:
            raise ValueError("code arrays must be one-dimensional and of equal length")
        if min(i.min(), a.min(), c.min()) < 0:
            raise ValueError("codes must be non-negative")
        ni = int(i.max()) + 1 if n_items is None else n_items
        na = int(a.max()) + 1 if n_annotators is None else n_annotators
        nl = int(c.max()) + 1 if n_labels is None else n_labels
        w = np.ones(i.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
        rows, w, n_repeats = resolve_duplicates(i, a, w, na, duplicates)
        return cls(
            items=pd.RangeIndex(ni),
            annotators=pd.RangeIndex(na),
            labels=pd.RangeIndex(nl),
            item_codes=i[rows],
            annotator_codes=a[rows],
            label_codes=c[rows],
            weights=np.ascontiguousarray(w, dtype=np.float64),
            n_repeated_pairs=n_repeats,
        )

    @classmethod
    def coerce(
        cls,
        data: LabelData | pd.DataFrame | tuple[Any, Any, Any],
        *,
        labels: Sequence[Any] | None = None,
    ) -> LabelData:
        """Accept a LabelData, a long DataFrame or an ``(items, annotators, labels)`` tuple."""
        if isinstance(data, LabelData):
            if labels is not None and list(labels) != list(data.labels):
                raise ValueError("the label set differs from the one the data was coded with")
            return data
        if isinstance(data, pd.DataFrame):
            return cls.from_frame(data, labels=labels)
        if isinstance(data, tuple) and len(data) == 3:
            return cls.from_arrays(*data, labels=labels)
        raise ValueError(
            "label data must be a LabelData, a DataFrame with columns item, annotator, label, "
            "or an (items, annotators, labels) tuple"
        )

    # ----------------------------------------------------------- derived data
    def counts(self) -> FloatArray:
        """Item-by-label matrix of the (weighted) number of annotators who gave each label."""
        flat = self.item_codes * self.n_labels + self.label_codes
        counts = np.bincount(flat, weights=self.weights, minlength=self.n_items * self.n_labels)
        return np.asarray(counts.reshape(self.n_items, self.n_labels), dtype=np.float64)

    def labels_per_item(self) -> FloatArray:
        counts = np.bincount(self.item_codes, weights=self.weights, minlength=self.n_items)
        return np.asarray(counts, dtype=np.float64)

    @cached_property
    def design(self) -> sp.csr_matrix:
        """Sparse item × (annotator, label) matrix of row weights.

        ``design @ L`` with ``L[a * K + l, c]`` sums, per item, a per-(annotator, answer, class)
        quantity over the item's labels; ``design.T @ T`` gathers posterior mass per annotator
        and answer. Both EM steps of the confusion-matrix models are these two products.
        """
        cols = self.annotator_codes * self.n_labels + self.label_codes
        return sp.csr_matrix(
            (self.weights, (self.item_codes, cols)),
            shape=(self.n_items, self.n_annotators * self.n_labels),
        )

    def encode_gold(self, gold: pd.Series | None) -> tuple[IntArray, IntArray]:
        """Item and label codes of known answers; items absent from the data are ignored."""
        if gold is None:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        if not isinstance(gold, pd.Series):
            raise ValueError("gold must be a pandas Series indexed by item")
        gold = gold.dropna()
        label_codes = np.asarray(self.labels.get_indexer(pd.Index(gold.to_numpy())), dtype=np.int64)
        if (label_codes < 0).any():
            unknown = sorted({str(v) for v in gold.to_numpy()[label_codes < 0]})
            raise ValueError(
                f"gold labels outside the label set {list(self.labels)[:10]}: {unknown[:5]}"
            )
        if gold.index.has_duplicates:
            raise ValueError("gold has more than one label for some items")
        item_codes = np.asarray(self.items.get_indexer(gold.index), dtype=np.int64)
        known = item_codes >= 0
        return item_codes[known], label_codes[known]

    def label_values(self, codes: IntArray) -> pd.Index:
        return self.labels.take(codes)


LabelInput: TypeAlias = LabelData | pd.DataFrame | tuple[Any, Any, Any]
"""What every function taking label data accepts."""


def as_label_data(
    data: LabelInput,
    *,
    labels: Sequence[Any] | None = None,
) -> LabelData:
    """Shorthand for :meth:`LabelData.coerce`."""
    return LabelData.coerce(data, labels=labels)
