"""Bootstrap confidence intervals for agreement coefficients, resampling items.

Items are the independent units, so a replicate draws items with replacement. Every built-in
coefficient is a function of per-item sums, so a replicate is a vector of item multiplicities
``W_b`` and all replicates together are one matrix product ``W @ per_item`` — no refitting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from accord.quality.agreement import (
    annotator_rows,
    fleiss_from_counts,
    gwet_from_counts,
    label_terms,
    pair_agreement,
)
from accord.quality.data import FloatArray, LabelData, LabelInput
from accord.quality.krippendorff import (
    LEVELS,
    alpha_from_counts,
    distance_matrix,
    value_counts,
)

Statistic = Literal["percent_agreement", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha"]
STATISTICS: tuple[str, ...] = (
    "percent_agreement",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
)
_CELLS_PER_CHUNK = 4_000_000


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a percentile bootstrap interval."""

    value: float
    low: float
    high: float
    confidence: float
    n_boot: int


def _replicate_weights(n_items: int, n_boot: int, rng: np.random.Generator) -> Iterator[FloatArray]:
    """Item multiplicities of ``n_boot`` resamples, in chunks that fit in memory."""
    chunk = max(1, _CELLS_PER_CHUNK // max(n_items, 1))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        draws = rng.integers(0, n_items, size=(b, n_items))
        rows = np.arange(b, dtype=np.int64)[:, None] * n_items
        flat = np.bincount((rows + draws).ravel(), minlength=b * n_items)
        yield np.asarray(flat.reshape(b, n_items), dtype=np.float64)
        done += b


# A replicate that drew one category only (chance agreement 1) has an undefined coefficient:
# its 0/0 gives NaN, and _estimate leaves it out of the interval without a warning.
def _undefined_is_nan() -> np.errstate:
    return np.errstate(divide="ignore", invalid="ignore")


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    return np.asarray(np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0))


def _agreement_replicates(statistic: str, counts: FloatArray) -> Callable[[FloatArray], FloatArray]:
    share, valid = pair_agreement(counts)
    valid_f = valid.astype(np.float64)
    share0 = np.where(valid, share, 0.0)
    n = counts.sum(axis=1)
    k = counts.shape[1]

    def observed(w: FloatArray) -> FloatArray:
        return _ratio(w @ share0, w @ valid_f)

    if statistic == "percent_agreement":
        return observed
    if statistic == "fleiss_kappa":
        used = counts * valid_f[:, None]

        def fleiss(w: FloatArray) -> FloatArray:
            with _undefined_is_nan():
                totals = w @ used
                p = totals / totals.sum(axis=1, keepdims=True)
                pe = (p * p).sum(axis=1)
                return np.asarray((observed(w) - pe) / (1.0 - pe), dtype=np.float64)

        return fleiss
    rated = (n > 0).astype(np.float64)
    shares = np.divide(counts, n[:, None], out=np.zeros_like(counts), where=n[:, None] > 0)

    def gwet(w: FloatArray) -> FloatArray:
        with _undefined_is_nan():
            pi = (w @ shares) / (w @ rated)[:, None]
            pe = (pi * (1.0 - pi)).sum(axis=1) / (k - 1)
            return np.asarray((observed(w) - pe) / (1.0 - pe), dtype=np.float64)

    return gwet


def _alpha_replicates(
    counts: FloatArray, values: FloatArray, level: str
) -> Callable[[FloatArray], FloatArray]:
    m = counts.sum(axis=1)
    inverse = np.divide(1.0, m - 1.0, out=np.zeros_like(m), where=m > 1)
    v = counts.shape[1]
    fixed = None if level == "ordinal" else distance_matrix(level, values, np.zeros(v))
    per_item: FloatArray | None = None
    if counts.shape[0] * v * v <= 4 * _CELLS_PER_CHUNK:
        # Per-item coincidence contributions, flattened: replicates are one matrix product.
        outer = counts[:, :, None] * counts[:, None, :]
        outer[:, np.arange(v), np.arange(v)] -= counts
        per_item = (outer * inverse[:, None, None]).reshape(counts.shape[0], v * v)

    def alphas(w: FloatArray) -> FloatArray:
        if per_item is not None:
            o = (w @ per_item).reshape(-1, v, v)
        else:
            o = np.stack(
                [
                    (counts * (wb * inverse)[:, None]).T @ counts
                    - np.diag((counts * (wb * inverse)[:, None]).sum(axis=0))
                    for wb in w
                ]
            )
        n_c = o.sum(axis=2)
        n = n_c.sum(axis=1)
        if fixed is None:
            delta = np.stack([distance_matrix(level, values, row) for row in n_c])
        else:
            delta = np.broadcast_to(fixed, o.shape)
        observed = (o * delta).sum(axis=(1, 2))
        expected = (n_c[:, :, None] * n_c[:, None, :] * delta).sum(axis=(1, 2))
        return np.asarray(1.0 - (n - 1.0) * _ratio(observed, expected), dtype=np.float64)

    return alphas


Replicator = Callable[[FloatArray], FloatArray]
"""Item multiplicities of a chunk of replicates (b × items) -> the statistic per replicate
(b, or b × k for per-label or per-annotator statistics)."""


def bootstrap_ci(
    data: LabelInput,
    statistic: Statistic | Callable[[LabelData], float] = "krippendorff_alpha",
    *,
    level: str = "nominal",
    value_domain: Sequence[Any] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> Estimate:
    """Percentile bootstrap interval of an agreement coefficient, resampling items.

    ``statistic`` names a built-in coefficient (computed for all replicates at once) or is any
    function of a :class:`LabelData` (then refitted per replicate, which is slower). ``level``
    and ``value_domain`` apply to Krippendorff's alpha. Replicates where the coefficient is
    undefined (e.g. no pairable item was drawn) are left out of the interval.
    """
    encoded = LabelData.coerce(data)
    rng = np.random.default_rng(_checked(n_boot, confidence, random_state))
    if callable(statistic):
        value = float(statistic(encoded))
        reps = _refit_replicates(encoded, statistic, n_boot, rng)
    else:
        value, replicate = _statistic_replicator(encoded, statistic, level, value_domain)
        reps = _replicate({"s": replicate}, encoded.n_items, n_boot, rng)["s"]
    return _estimate(value, reps, confidence, n_boot)


def _estimate(value: float, reps: FloatArray, confidence: float, n_boot: int) -> Estimate:
    tail = (1.0 - confidence) / 2.0
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return Estimate(value, float("nan"), float("nan"), confidence, n_boot)
    low, high = np.quantile(reps, [tail, 1.0 - tail])
    return Estimate(value, float(low), float(high), confidence, n_boot)


def _statistic_replicator(
    encoded: LabelData, statistic: str, level: str, value_domain: Sequence[Any] | None
) -> tuple[float, Replicator]:
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS} or a callable")
    if statistic == "krippendorff_alpha":
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
        counts, numeric = value_counts(encoded, value_domain)
        if level in ("interval", "ratio") and numeric is None:
            raise ValueError(f"{level} alpha needs numeric values")
        values = numeric if numeric is not None else np.arange(counts.shape[1], dtype=float)
        return alpha_from_counts(counts, values, level), _alpha_replicates(counts, values, level)
    counts = encoded.counts()
    value = (
        fleiss_from_counts(counts)
        if statistic == "fleiss_kappa"
        else gwet_from_counts(counts)
        if statistic == "gwet_ac1"
        else float(np.nanmean(pair_agreement(counts)[0]))
    )
    return value, _agreement_replicates(statistic, counts)


def _replicate(
    replicators: dict[str, Replicator], n_items: int, n_boot: int, rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Every statistic over the same replicates, drawing the item multiplicities once."""
    parts: dict[str, list[FloatArray]] = {name: [] for name in replicators}
    for w in _replicate_weights(n_items, n_boot, rng):
        for name, replicate in replicators.items():
            parts[name].append(replicate(w))
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def _label_replicators(encoded: LabelData) -> dict[str, Replicator]:
    used, same, pairs, disagree = label_terms(encoded.counts())

    def specific(w: FloatArray) -> FloatArray:
        return _ratio(w @ same, w @ pairs)

    def kappa(w: FloatArray) -> FloatArray:
        totals = w @ used
        n = totals.sum(axis=1, keepdims=True)
        p = _ratio(totals, np.broadcast_to(n, totals.shape))
        return np.asarray(1.0 - _ratio(w @ disagree, p * (1.0 - p) * n), dtype=np.float64)

    return {"specific_agreement": specific, "kappa": kappa}


def _annotator_replicators(
    encoded: LabelData, consensus: pd.Series | None
) -> dict[str, Replicator]:
    r = annotator_rows(encoded, consensus)
    shape = (encoded.n_items, encoded.n_annotators)

    def per_item(values: FloatArray) -> sp.csr_matrix:
        coords = (encoded.item_codes, r.annotator)
        return sp.csr_matrix((r.weight * values, coords), shape=shape)

    def share(num: sp.csr_matrix, den: sp.csr_matrix) -> Replicator:
        def replicate(w: FloatArray) -> FloatArray:
            return _ratio(np.asarray((num.T @ w.T).T), np.asarray((den.T @ w.T).T))

        return replicate

    return {
        "with_others": share(per_item(r.others_share * r.has_others), per_item(r.has_others)),
        "with_consensus": share(per_item(r.hit), per_item(r.known)),
    }


def label_agreement_ci(
    data: LabelInput,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Percentile bootstrap intervals (resampling items) of :func:`label_agreement`'s
    ``specific_agreement`` and ``kappa``: columns ``<statistic>_low`` and ``<statistic>_high``,
    one row per label."""
    encoded = LabelData.coerce(data)
    rng = np.random.default_rng(_checked(n_boot, confidence, random_state))
    reps = _replicate(_label_replicators(encoded), encoded.n_items, n_boot, rng)
    return _interval_frame(reps, confidence, encoded.labels.rename("label"))


def annotator_agreement_ci(
    data: LabelInput,
    consensus: pd.Series | None = None,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Percentile bootstrap intervals (resampling items, the consensus held fixed) of
    :func:`annotator_agreement`'s ``with_others`` and ``with_consensus``: columns
    ``<statistic>_low`` and ``<statistic>_high``, one row per annotator."""
    encoded = LabelData.coerce(data)
    rng = np.random.default_rng(_checked(n_boot, confidence, random_state))
    reps = _replicate(_annotator_replicators(encoded, consensus), encoded.n_items, n_boot, rng)
    return _interval_frame(reps, confidence, encoded.annotators.rename("annotator"))


@dataclass(frozen=True)
class AgreementIntervals:
    """Everything :func:`agreement_intervals` computes, from one set of replicates."""

    overall: dict[str, Estimate]
    per_label: pd.DataFrame
    per_annotator: pd.DataFrame


def agreement_intervals(
    data: LabelInput,
    consensus: pd.Series | None = None,
    *,
    statistics: Sequence[str] = STATISTICS,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> AgreementIntervals:
    """:func:`bootstrap_ci` of each nominal statistic, :func:`label_agreement_ci` and
    :func:`annotator_agreement_ci` at once: the same numbers as the separate calls with the
    same ``random_state``, for the cost of drawing the replicates once."""
    encoded = LabelData.coerce(data)
    rng = np.random.default_rng(_checked(n_boot, confidence, random_state))
    values: dict[str, float] = {}
    replicators: dict[str, Replicator] = {}
    for statistic in statistics:
        values[statistic], replicators[statistic] = _statistic_replicator(
            encoded, statistic, "nominal", None
        )
    per_label = _label_replicators(encoded)
    per_annotator = _annotator_replicators(encoded, consensus)
    reps = _replicate(replicators | per_label | per_annotator, encoded.n_items, n_boot, rng)
    return AgreementIntervals(
        overall={s: _estimate(values[s], reps[s], confidence, n_boot) for s in statistics},
        per_label=_interval_frame(
            {k: reps[k] for k in per_label}, confidence, encoded.labels.rename("label")
        ),
        per_annotator=_interval_frame(
            {k: reps[k] for k in per_annotator},
            confidence,
            encoded.annotators.rename("annotator"),
        ),
    )


def _checked(n_boot: int, confidence: float, random_state: int | None) -> int | None:
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")
    return random_state


def _interval_frame(
    replicates: dict[str, FloatArray], confidence: float, index: pd.Index
) -> pd.DataFrame:
    """Per column of the replicates, the percentile interval over the finite ones (NaN where
    none is finite)."""
    tail = (1.0 - confidence) / 2.0
    columns: dict[str, FloatArray] = {}
    for name, reps in replicates.items():
        low = np.full(reps.shape[1], np.nan)
        high = np.full(reps.shape[1], np.nan)
        for j in range(reps.shape[1]):
            finite = reps[:, j][np.isfinite(reps[:, j])]
            if finite.size:
                low[j], high[j] = np.quantile(finite, [tail, 1.0 - tail])
        columns[f"{name}_low"], columns[f"{name}_high"] = low, high
    return pd.DataFrame(columns, index=index)


def _refit_replicates(
    data: LabelData,
    statistic: Callable[[LabelData], float],
    n_boot: int,
    rng: np.random.Generator,
) -> FloatArray:
    order = np.argsort(data.item_codes, kind="stable")
    starts = np.searchsorted(data.item_codes[order], np.arange(data.n_items + 1))
    out = np.empty(n_boot)
    for b in range(n_boot):
        drawn = rng.integers(0, data.n_items, data.n_items)
        lengths = starts[drawn + 1] - starts[drawn]
        rows = order[np.repeat(starts[drawn], lengths) + _ranges(lengths)]
        new_items = np.repeat(np.arange(data.n_items), lengths)
        replicate = LabelData(
            items=pd.RangeIndex(data.n_items),
            annotators=data.annotators,
            labels=data.labels,
            item_codes=new_items,
            annotator_codes=data.annotator_codes[rows],
            label_codes=data.label_codes[rows],
            weights=data.weights[rows],
        )
        out[b] = statistic(replicate)
    return out


def _ranges(lengths: np.ndarray[Any, np.dtype[np.int64]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Concatenated ``arange(n)`` for each ``n`` in ``lengths``."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.asarray(np.arange(total, dtype=np.int64) - offsets, dtype=np.int64)
