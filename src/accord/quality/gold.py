"""Scoring annotators on gold items (items whose answer is known).

Gold counts per annotator are small, so a bare accuracy is misleading: every figure comes with
a Wilson score interval, which stays inside [0, 1] and behaves at 0 and n correct answers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import norm

from accord.quality.data import FloatArray, IntArray, LabelData, LabelInput


def wilson_interval(
    successes: npt.ArrayLike, trials: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for a binomial proportion (vectorised; NaN where ``trials == 0``).

    ``(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``z`` the two-sided normal
    quantile of ``confidence``.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if np.any(x < 0) or np.any(x > n):
        raise ValueError("successes must lie between 0 and trials")
    z = float(norm.ppf(0.5 + confidence / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denominator = 1.0 + z * z / n
        center = (p + z * z / (2.0 * n)) / denominator
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    low = np.where(n > 0, np.clip(center - half, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(center + half, 0.0, 1.0), np.nan)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _gold_rows(data: LabelData, gold: pd.Series) -> tuple[npt.NDArray[np.bool_], IntArray]:
    """Which label rows are on gold items, and the true label code of every item (-1 if none)."""
    items, labels = data.encode_gold(gold)
    if items.shape[0] == 0:
        raise ValueError("none of the gold items appears in the label data")
    truth = np.full(data.n_items, -1, dtype=np.int64)
    truth[items] = labels
    return truth[data.item_codes] >= 0, truth


def gold_accuracy(data: LabelInput, gold: pd.Series, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per annotator: gold labels answered, correct answers, accuracy and its Wilson interval.

    Annotators without gold labels are listed with ``n_gold = 0`` and NaN accuracy. Repeated
    answers to the same gold item follow the data's duplicate policy (by default they share
    one unit of weight).
    """
    encoded = LabelData.coerce(data)
    on_gold, truth = _gold_rows(encoded, gold)
    a = encoded.n_annotators
    ann = encoded.annotator_codes
    w = encoded.weights * on_gold
    correct = encoded.label_codes == truth[encoded.item_codes]
    n = np.bincount(ann, weights=w, minlength=a)
    hits = np.bincount(ann, weights=w * correct, minlength=a)
    low, high = wilson_interval(hits, n, confidence)
    accuracy = np.divide(hits, n, out=np.full(a, np.nan), where=n > 0)
    return pd.DataFrame(
        {"n_gold": n, "correct": hits, "accuracy": accuracy, "low": low, "high": high},
        index=encoded.annotators.rename("annotator"),
    )


def gold_confusion(
    data: LabelInput,
    gold: pd.Series,
    *,
    by_annotator: bool = False,
    normalize: bool = False,
) -> pd.DataFrame:
    """Confusion of given labels against gold: rows true label, columns given label.

    ``by_annotator`` adds the annotator as the outer row level; ``normalize`` turns each row
    into shares (the per-class accuracy is then the diagonal).
    """
    encoded = LabelData.coerce(data)
    on_gold, truth = _gold_rows(encoded, gold)
    k = encoded.n_labels
    true_codes = truth[encoded.item_codes]
    w = encoded.weights * on_gold
    cell = np.where(on_gold, true_codes, 0) * k + encoded.label_codes
    labels = encoded.labels
    if by_annotator:
        a = encoded.n_annotators
        flat = np.bincount(encoded.annotator_codes * k * k + cell, weights=w, minlength=a * k * k)
        table = flat.reshape(a * k, k)
        index: pd.Index = pd.MultiIndex.from_product(
            [encoded.annotators, labels], names=["annotator", "true_label"]
        )
    else:
        table = np.bincount(cell, weights=w, minlength=k * k).reshape(k, k)
        index = pd.Index(labels.rename("true_label"))
    if normalize:
        total = table.sum(axis=1, keepdims=True)
        table = np.divide(table, total, out=np.full_like(table, np.nan), where=total > 0)
    return pd.DataFrame(table, index=index, columns=labels.rename("label"))
