"""Chance-corrected agreement between annotators: overall, per item, per annotator, per label.

All coefficients are computed from the item × label count matrix (or sparse annotator × item
indicators for the pairwise ones), so they cost one pass over the labels whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from accord.quality.aggregation.majority import break_ties, vote_shares
from accord.quality.data import FloatArray, IntArray, LabelData, LabelInput

KappaWeights = Literal["linear", "quadratic"] | None


# --------------------------------------------------------------------------- per-item statistics
def pair_agreement(counts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per item: share of agreeing ordered pairs of labels, and whether it has two or more labels.

    ``P_i = sum_c n_ic (n_ic - 1) / (n_i (n_i - 1))`` — the chance that two different labels of
    the item, drawn without replacement, are equal.
    """
    n = counts.sum(axis=1)
    valid = n > 1
    num = (counts * (counts - 1.0)).sum(axis=1)
    share = np.divide(num, n * (n - 1.0), out=np.full(n.shape, np.nan), where=valid)
    return share, valid


def _counts(data: LabelInput) -> tuple[LabelData, FloatArray]:
    encoded = LabelData.coerce(data)
    return encoded, encoded.counts()


def percent_agreement(data: LabelInput) -> float:
    """Mean over items (with at least two labels) of the share of agreeing label pairs."""
    _, counts = _counts(data)
    share, valid = pair_agreement(counts)
    if not valid.any():
        raise ValueError("agreement needs at least one item with two or more labels")
    return float(share[valid].mean())


def fleiss_from_counts(counts: FloatArray) -> float:
    share, valid = pair_agreement(counts)
    if not valid.any():
        raise ValueError("agreement needs at least one item with two or more labels")
    observed = share[valid].mean()
    used = counts[valid]
    p = used.sum(axis=0) / used.sum()
    expected = float(p @ p)
    if expected >= 1.0:
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def fleiss_kappa(data: LabelInput) -> float:
    """Fleiss' kappa ``(P_bar - P_e) / (1 - P_e)`` with ``P_e = sum_c p_c^2``.

    ``P_bar`` is :func:`percent_agreement` and ``p_c`` the share of label ``c`` among all labels
    of items with two or more labels. With the same number of labels per item this is exactly
    Fleiss (1971); with varying numbers each item's ``P_i`` uses its own count.
    """
    return fleiss_from_counts(_counts(data)[1])


def gwet_from_counts(counts: FloatArray) -> float:
    share, valid = pair_agreement(counts)
    if not valid.any():
        raise ValueError("agreement needs at least one item with two or more labels")
    k = counts.shape[1]
    if k < 2:
        return float("nan")
    n = counts.sum(axis=1)
    rated = n > 0
    pi = (counts[rated] / n[rated, None]).mean(axis=0)
    expected = float((pi * (1.0 - pi)).sum() / (k - 1))
    observed = float(share[valid].mean())
    return (observed - expected) / (1.0 - expected)


def gwet_ac1(data: LabelInput) -> float:
    """Gwet's AC1 ``(p_a - p_e) / (1 - p_e)`` with ``p_e = sum_c pi_c (1 - pi_c) / (K - 1)``.

    ``p_a`` is :func:`percent_agreement` and ``pi_c`` the mean over items of the share of label
    ``c`` among the item's labels. Unlike kappa it does not collapse when one label dominates.
    """
    return gwet_from_counts(_counts(data)[1])


# ------------------------------------------------------------------------------- two annotators
def _kappa_weights(k: int, weights: KappaWeights) -> FloatArray:
    if weights is None:
        return 1.0 - np.eye(k)
    d = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(np.float64)
    if weights == "linear":
        return d
    if weights == "quadratic":
        return d**2
    raise ValueError("weights must be None, 'linear' or 'quadratic'")


def kappa_from_confusion(confusion: FloatArray, weights: KappaWeights = None) -> float:
    total = confusion.sum()
    if total <= 0:
        return float("nan")
    w = _kappa_weights(confusion.shape[0], weights)
    expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / total
    denominator = (w * expected).sum()
    if denominator == 0:
        return float("nan")
    return float(1.0 - (w * confusion).sum() / denominator)


def cohen_kappa(
    first: pd.Series | LabelInput,
    second: pd.Series | None = None,
    *,
    annotators: tuple[Any, Any] | None = None,
    weights: KappaWeights = None,
) -> float:
    """Cohen's kappa ``1 - sum w_ck o_ck / sum w_ck e_ck`` between two label sequences.

    Call it with two Series indexed by item (compared on the items they share), or with label
    data and ``annotators=(a, b)``. ``weights`` as in scikit-learn: ``None`` (unweighted),
    ``"linear"`` or ``"quadratic"`` distances between label positions in sorted label order.
    """
    if second is not None:
        if not isinstance(first, pd.Series):
            raise ValueError("with two arguments both must be Series indexed by item")
        shared = first.index.intersection(second.index)
        a_values = first.loc[shared].to_numpy()
        b_values = second.loc[shared].to_numpy()
    else:
        if annotators is None:
            raise ValueError("pass a second Series or annotators=(a, b)")
        encoded = LabelData.coerce(first)  # type: ignore[arg-type]
        codes = encoded.annotators.get_indexer(pd.Index(list(annotators)))
        if (codes < 0).any():
            raise ValueError(f"unknown annotators {annotators}")
        table = _single_label_table(encoded)
        both = (table[:, codes[0]] >= 0) & (table[:, codes[1]] >= 0)
        a_values = encoded.labels.take(table[both, codes[0]]).to_numpy()
        b_values = encoded.labels.take(table[both, codes[1]]).to_numpy()
    if len(a_values) == 0:
        raise ValueError("the two annotators share no items")
    codes_all, uniques = pd.factorize(np.concatenate([a_values, b_values]), sort=True)
    k = len(uniques)
    n = len(a_values)
    confusion = np.bincount(codes_all[:n] * k + codes_all[n:], minlength=k * k).reshape(k, k)
    return kappa_from_confusion(confusion.astype(np.float64), weights)


def _single_label_table(data: LabelData) -> IntArray:
    """Item × annotator label codes (-1 where absent); the last row wins for repeated pairs."""
    table = np.full((data.n_items, data.n_annotators), -1, dtype=np.int64)
    table[data.item_codes, data.annotator_codes] = data.label_codes
    return table


def _indicators(data: LabelData) -> tuple[sp.csr_matrix, list[sp.csr_matrix]]:
    shape = (data.n_annotators, data.n_items)
    rows, cols, w = data.annotator_codes, data.item_codes, data.weights
    seen = sp.csr_matrix((w, (rows, cols)), shape=shape)
    per_label = []
    for c in range(data.n_labels):
        mask = data.label_codes == c
        per_label.append(sp.csr_matrix((w[mask], (rows[mask], cols[mask])), shape=shape))
    return seen, per_label


def pairwise_cohen_kappa(data: LabelInput, *, min_overlap: int = 1) -> pd.DataFrame:
    """Annotator × annotator Cohen's kappa on the items each pair shares (NaN below
    ``min_overlap`` shared items).

    Computed for all pairs at once from sparse label indicators: ``X_c Y^T`` gives, for every
    pair, how often the first said ``c`` on items the second also labelled.
    """
    encoded = LabelData.coerce(data)
    seen, per_label = _indicators(encoded)
    seen_bin = seen.sign()
    overlap = (seen_bin @ seen_bin.T).toarray()
    agree = np.zeros_like(overlap)
    chance = np.zeros_like(overlap)
    for x in per_label:
        agree += (x @ x.T).toarray()
        marginal = (x @ seen_bin.T).toarray()
        chance += marginal * marginal.T
    with np.errstate(divide="ignore", invalid="ignore"):
        po = agree / overlap
        pe = chance / overlap**2
        kappa = (po - pe) / (1.0 - pe)
    kappa[overlap < max(min_overlap, 1)] = np.nan
    names = encoded.annotators.rename("annotator")
    return pd.DataFrame(kappa, index=names, columns=names.rename("other"))


# --------------------------------------------------------------------------------- breakdowns
def item_agreement(data: LabelInput) -> pd.DataFrame:
    """Per item: number of labels, pairwise agreement ``P_i``, majority share and entropy (nats)."""
    encoded, counts = _counts(data)
    share, _ = pair_agreement(counts)
    n = counts.sum(axis=1)
    p = counts / n[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return pd.DataFrame(
        {
            "n_labels": n,
            "agreement": share,
            "majority_share": p.max(axis=1),
            "entropy": entropy,
        },
        index=encoded.items.rename("item"),
    )


def label_terms(counts: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per item and label, zero for items with fewer than two labels: the counts ``n_ic``,
    ``n_ic (n_ic - 1)``, ``n_ic (n_i - 1)`` and ``n_ic (n_i - n_ic) / (n_i - 1)``; the per-label
    statistics are ratios of their sums over items."""
    n = counts.sum(axis=1)
    valid = (n > 1)[:, None]
    used = np.where(valid, counts, 0.0)
    m = np.where(valid[:, 0], n, 2.0)[:, None]  # any n > 1 where the item is unused
    return (
        used,
        used * (used - 1.0),
        used * (m - 1.0),
        used * (m - used) / (m - 1.0),
    )


def label_agreement(data: LabelInput) -> pd.DataFrame:
    """Per label: share of labels, specific agreement and Fleiss' per-category kappa.

    Specific agreement ``sum_i n_ic (n_ic - 1) / sum_i n_ic (n_i - 1)`` is the chance that
    another annotator of the same item also says ``c`` given that one did. The per-category
    kappa is ``1 - sum_i n_ic (n_i - n_ic) / (n_i - 1) / (p_c q_c sum_i n_i)``.
    """
    encoded, counts = _counts(data)
    used, same, pairs, disagree = label_terms(counts)
    n_used = used.sum()
    p = used.sum(axis=0) / n_used
    with np.errstate(divide="ignore", invalid="ignore"):
        specific = same.sum(axis=0) / pairs.sum(axis=0)
        kappa = 1.0 - disagree.sum(axis=0) / (p * (1.0 - p) * n_used)
    return pd.DataFrame(
        {
            "n_labels": counts.sum(axis=0),
            "share": p,
            "specific_agreement": specific,
            "kappa": kappa,
        },
        index=encoded.labels.rename("label"),
    )


@dataclass(frozen=True)
class AnnotatorRows:
    """Per label row: its annotator's code and weight, whether other annotators labelled the
    item (``has_others``) and the share of their labels that are equal (``others_share``), and
    whether the item has a consensus (``known``) equal to the row's label (``hit``)."""

    annotator: IntArray
    weight: FloatArray
    has_others: FloatArray
    others_share: FloatArray
    known: FloatArray
    hit: FloatArray
    consensus: IntArray


def annotator_rows(encoded: LabelData, consensus: pd.Series | None = None) -> AnnotatorRows:
    """The row-level terms of :func:`annotator_agreement` (its bootstrap sums them per item)."""
    k, a = encoded.n_labels, encoded.n_annotators
    item, ann, lab, w = (
        encoded.item_codes,
        encoded.annotator_codes,
        encoded.label_codes,
        encoded.weights,
    )
    counts = encoded.counts()
    pair = item * a + ann
    own_same = np.bincount(pair * k + lab, weights=w)[pair * k + lab]
    own_total = np.bincount(pair, weights=w)[pair]
    others_same = counts[item, lab] - own_same
    others_total = counts.sum(axis=1)[item] - own_total
    has_others = others_total > 1e-12
    row_share = np.divide(others_same, others_total, out=np.zeros_like(w), where=has_others)
    if consensus is None:
        frequency = np.bincount(lab, weights=w, minlength=k)
        cons_codes, _ = break_ties(
            vote_shares(encoded), frequency.astype(np.float64), "frequent", None
        )
    else:
        cons_codes = np.asarray(
            encoded.labels.get_indexer(pd.Index(consensus.reindex(encoded.items))), dtype=np.int64
        )
    known = cons_codes[item] >= 0
    return AnnotatorRows(
        annotator=ann,
        weight=w,
        has_others=has_others.astype(np.float64),
        others_share=row_share,
        known=known.astype(np.float64),
        hit=((lab == cons_codes[item]) & known).astype(np.float64),
        consensus=cons_codes,
    )


def annotator_agreement(
    data: LabelInput,
    consensus: pd.Series | None = None,
) -> pd.DataFrame:
    """Per annotator: agreement with the other annotators and with a consensus label.

    ``with_others`` is the mean, over the annotator's labels, of the share of the other
    annotators' labels on the same item that are equal. ``with_consensus`` is the share of the
    annotator's labels equal to ``consensus`` (a Series item -> label, e.g. an aggregator's
    ``labels_``; by default the plain majority vote with the ``frequent`` tie rule), and
    ``kappa_consensus`` the same corrected for chance with the annotator's own label mix.
    """
    encoded = LabelData.coerce(data)
    k, a = encoded.n_labels, encoded.n_annotators
    r = annotator_rows(encoded, consensus)
    ann, lab, w, item = r.annotator, encoded.label_codes, r.weight, encoded.item_codes
    num = np.bincount(ann, weights=w * r.others_share * r.has_others, minlength=a)
    den = np.bincount(ann, weights=w * r.has_others, minlength=a)
    with_others = np.divide(num, den, out=np.full(a, np.nan), where=den > 0)
    total = np.bincount(ann, weights=w * r.known, minlength=a)
    agreement = np.divide(
        np.bincount(ann, weights=w * r.hit, minlength=a),
        total,
        out=np.full(a, np.nan),
        where=total > 0,
    )
    known = r.known > 0
    own_mix = np.bincount(ann * k + lab, weights=w * r.known, minlength=a * k).reshape(a, k)
    cons_mix = np.bincount(
        ann[known] * k + r.consensus[item][known], weights=w[known], minlength=a * k
    ).reshape(a, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        chance = (own_mix * cons_mix).sum(axis=1) / total**2
        kappa = (agreement - chance) / (1.0 - chance)
    return pd.DataFrame(
        {
            "n_labels": np.bincount(ann, weights=w, minlength=a),
            "with_others": with_others,
            "with_consensus": agreement,
            "kappa_consensus": kappa,
        },
        index=encoded.annotators.rename("annotator"),
    )
