"""Krippendorff's alpha for nominal, ordinal, interval and ratio data, with missing values.

Everything is computed from the unit × value count matrix: the coincidence matrix is one sparse
product, so a million labels take a few milliseconds. Units with fewer than two values are not
pairable and drop out, which is how missing data is handled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from accord.quality.data import FloatArray, LabelData

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")


def distance_matrix(level: str, values: FloatArray, marginals: FloatArray) -> FloatArray:
    """Squared difference ``delta^2[c, k]`` between values ``c`` and ``k`` at this level.

    ``values`` are the numeric values in order (only used for interval and ratio); ``marginals``
    are the pairable value counts ``n_c`` (only used for ordinal, whose distance between two
    ranks counts the values that lie between them).
    """
    _check_level(level)
    v = values.shape[0]
    if level == "nominal":
        return 1.0 - np.eye(v)
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(marginals)])
        lo = np.minimum.outer(np.arange(v), np.arange(v))
        hi = np.maximum.outer(np.arange(v), np.arange(v))
        between = cum[hi + 1] - cum[lo]
        return np.asarray((between - (marginals[:, None] + marginals[None, :]) / 2.0) ** 2)
    diff = np.subtract.outer(values, values)
    if level == "interval":
        return np.asarray(diff**2)
    total = np.add.outer(values, values)
    ratio = np.divide(diff, total, out=np.zeros_like(diff), where=total != 0)
    return np.asarray(ratio**2)


def coincidences(counts: FloatArray) -> FloatArray:
    """Coincidence matrix ``o[c, k] = sum_u n_uc (n_uk - [c == k]) / (m_u - 1)``.

    Units with fewer than two values get weight zero instead of being filtered out, which
    spares a copy of the count matrix.
    """
    m = counts.sum(axis=1)
    inverse = np.divide(1.0, m - 1.0, out=np.zeros_like(m), where=m > 1)
    scaled = counts * inverse[:, None]
    o = scaled.T @ counts
    o[np.diag_indices_from(o)] -= scaled.sum(axis=0)
    return np.asarray(o)


def alpha_from_coincidences(o: FloatArray, values: FloatArray, level: str) -> float:
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        raise ValueError("Krippendorff's alpha needs at least one unit with two or more values")
    delta = distance_matrix(level, values, n_c)
    expected = (np.outer(n_c, n_c) * delta).sum()
    if expected == 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * (o * delta).sum() / expected)


def alpha_from_counts(counts: FloatArray, values: FloatArray, level: str = "nominal") -> float:
    """Alpha from a unit × value count matrix (columns in value order)."""
    _check_level(level)
    return alpha_from_coincidences(coincidences(counts), values, level)


def _matrix_counts(
    matrix: npt.NDArray[Any], value_domain: Sequence[Any] | None
) -> tuple[FloatArray, FloatArray | None, pd.Index]:
    """Unit × value counts from an annotator × unit matrix with NaN (or None) as missing."""
    if matrix.ndim != 2:
        raise ValueError("a reliability matrix must be two-dimensional (annotators × units)")
    n_units = matrix.shape[1]
    units = np.broadcast_to(np.arange(n_units, dtype=np.int64), matrix.shape)
    if matrix.dtype.kind in "iuf" and value_domain is None:
        numbers = matrix.astype(np.float64, copy=False)
        low, high = np.nanmin(numbers), np.nanmax(numbers)
        if np.isnan(low):
            raise ValueError("the reliability data holds no values")
        if high - low < 64:
            # Few distinct numbers (the usual rating scale): one comparison per candidate value
            # beats any sort or scatter over a million cells. If some value is not a whole
            # number the counts fall short of the observed cells and the general path runs.
            domain = np.arange(low, high + 1.0)
            per_value = np.empty((domain.size, n_units), dtype=np.int32)
            for j, v in enumerate(domain):
                np.sum(numbers == v, axis=0, out=per_value[j])
            observed = numbers.size - int(np.count_nonzero(np.isnan(numbers)))
            if int(per_value.sum()) == observed:
                used = per_value.any(axis=1)
                counts_t = per_value[used].astype(np.float64)
                return counts_t.T, domain[used], pd.Index(domain[used])
        flat = numbers.ravel()
        seen = ~np.isnan(flat)
        unit_of = units.ravel()[seen]
        domain, codes = np.unique(flat[seen], return_inverse=True)
        counts = np.bincount(unit_of * domain.size + codes, minlength=n_units * domain.size)
        return counts.reshape(n_units, domain.size).astype(np.float64), domain, pd.Index(domain)
    flat_series = pd.Series(matrix.ravel())
    seen = flat_series.notna().to_numpy()
    observed_values: pd.Series = flat_series[seen]
    if value_domain is None:
        codes_, index = pd.factorize(observed_values, sort=True)
    else:
        index = pd.Index(list(value_domain))
        codes_ = index.get_indexer(pd.Index(observed_values))
        if (codes_ < 0).any():
            raise ValueError("the reliability data contains values outside value_domain")
    unit_of = units.ravel()[seen]
    counts = np.bincount(unit_of * len(index) + codes_, minlength=n_units * len(index))
    numeric = None
    if index.dtype.kind in "iuf":
        numeric = index.to_numpy(dtype=np.float64)
    return counts.reshape(n_units, len(index)).astype(np.float64), numeric, index


def _label_counts(
    data: LabelData, value_domain: Sequence[Any] | None
) -> tuple[FloatArray, FloatArray | None]:
    counts = data.counts()
    labels = data.labels
    if value_domain is not None:
        domain = pd.Index(list(value_domain))
        position = domain.get_indexer(labels)
        if (position < 0).any():
            raise ValueError("the label data contains values outside value_domain")
        full = np.zeros((counts.shape[0], len(domain)))
        full[:, position] = counts
        counts, labels = full, domain
    numeric = labels.to_numpy(dtype=np.float64) if labels.dtype.kind in "iuf" else None
    return counts, numeric


def value_counts(
    data: LabelData | pd.DataFrame | tuple[Any, Any, Any] | npt.ArrayLike,
    value_domain: Sequence[Any] | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Unit × value counts and the numeric values (``None`` when the values are not numbers)."""
    if isinstance(data, LabelData | pd.DataFrame | tuple):
        return _label_counts(LabelData.coerce(data), value_domain)
    counts, numeric, _ = _matrix_counts(np.asarray(data), value_domain)
    return counts, numeric


def krippendorff_alpha(
    data: LabelData | pd.DataFrame | tuple[Any, Any, Any] | npt.ArrayLike,
    level: Level = "nominal",
    *,
    value_domain: Sequence[Any] | None = None,
) -> float:
    """Krippendorff's alpha ``1 - D_o / D_e`` at the given level of measurement.

    ``data`` is long-format label data (items are the units) or an annotator × unit reliability
    matrix with ``NaN`` for missing values (the layout of the ``krippendorff`` package).
    ``value_domain`` fixes the ordered set of values for ordinal data whose values do not sort
    (e.g. ``["low", "mid", "high"]``); interval and ratio need numeric values.
    """
    _check_level(level)
    counts, numeric = value_counts(data, value_domain)
    if level in ("interval", "ratio") and numeric is None:
        raise ValueError(f"{level} alpha needs numeric values")
    values = numeric if numeric is not None else np.arange(counts.shape[1], dtype=np.float64)
    return alpha_from_counts(counts, values, level)
