"""Finding labels that are probably wrong.

Two independent signals: a model that disagrees confidently with the given label (confident
learning over out-of-fold predicted probabilities), and annotators who disagree with each other
(weak consensus). Both return a ranked table with a human-readable reason per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from accord.quality.aggregation._base import CategoricalAggregator
from accord.quality.aggregation.dawid_skene import DawidSkene
from accord.quality.data import BoolArray, FloatArray, IntArray, LabelData, LabelInput

Filter = Literal["prune_by_noise_rate", "prune_by_class", "both", "confident_joint"]
FILTERS: tuple[str, ...] = ("prune_by_noise_rate", "prune_by_class", "both", "confident_joint")
RankBy = Literal["self_confidence", "normalized_margin"]


def _encode(
    labels: Sequence[Any] | pd.Series | npt.NDArray[Any],
    pred_probs: pd.DataFrame | npt.ArrayLike,
    classes: Sequence[Any] | None,
) -> tuple[IntArray, FloatArray, pd.Index, pd.Index]:
    given = labels if isinstance(labels, pd.Series) else pd.Series(np.asarray(labels))
    if isinstance(pred_probs, pd.DataFrame):
        probs = pred_probs.to_numpy(dtype=np.float64)
        class_index = pd.Index(pred_probs.columns) if classes is None else pd.Index(list(classes))
        if isinstance(labels, pd.Series) and not labels.index.equals(pred_probs.index):
            probs = pred_probs.reindex(labels.index).to_numpy(dtype=np.float64)
    else:
        probs = np.asarray(pred_probs, dtype=np.float64)
        if classes is not None:
            class_index = pd.Index(list(classes))
        else:
            class_index = pd.RangeIndex(probs.shape[1] if probs.ndim == 2 else 0)
    if probs.ndim != 2 or probs.shape[0] != len(given):
        raise ValueError("pred_probs must be an (n_examples, n_classes) matrix, one row per label")
    if len(given) == 0:
        raise ValueError("no labels given")
    if probs.shape[1] != len(class_index) or probs.shape[1] < 2:
        raise ValueError("pred_probs needs one column per class and at least two classes")
    if not np.all(np.isfinite(probs)) or (probs < 0).any():
        raise ValueError("pred_probs must be finite and non-negative (missing rows?)")
    codes = np.asarray(class_index.get_indexer(pd.Index(given)), dtype=np.int64)
    if (codes < 0).any():
        unknown = sorted({str(v) for v in given.to_numpy()[codes < 0]})
        raise ValueError(f"labels outside the classes {list(class_index)}: {unknown[:5]}")
    probs = probs / probs.sum(axis=1, keepdims=True)
    return codes, probs, class_index, pd.Index(given.index)


def confident_joint(codes: IntArray, probs: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """Calibrated confident joint, each example's confident true class (-1: none) and thresholds.

    Threshold ``t_j`` is the mean predicted probability of class ``j`` over examples labelled
    ``j``. An example counts towards ``C[given, j]`` for the most probable class ``j`` among
    those with ``p_j >= t_j``. Rows are then rescaled to the given-label counts and the whole
    matrix to the number of examples, which removes the model's over- or under-confidence.
    """
    k = probs.shape[1]
    given_count = np.bincount(codes, minlength=k).astype(np.float64)
    own_sum = np.bincount(codes, weights=probs[np.arange(codes.shape[0]), codes], minlength=k)
    thresholds = np.divide(own_sum, given_count, out=np.ones(k), where=given_count > 0)
    above = probs >= thresholds[None, :] - 1e-12
    masked = np.where(above, probs, -1.0)
    true = np.where(above.any(axis=1), masked.argmax(axis=1), -1).astype(np.int64)
    counted = true >= 0
    joint = np.bincount(codes[counted] * k + true[counted], minlength=k * k).reshape(k, k)
    joint = joint.astype(np.float64)
    row = joint.sum(axis=1, keepdims=True)
    calibrated = np.divide(
        joint * given_count[:, None], row, out=np.zeros_like(joint), where=row > 0
    )
    total = calibrated.sum()
    if total > 0:
        calibrated *= codes.shape[0] / total
    return _round_rows(calibrated), true, thresholds


def _round_rows(matrix: FloatArray) -> FloatArray:
    """Round to whole counts keeping each row's (rounded) total: the cells whose rounding lost
    the most gain the missing units, those that gained the most give back the excess."""
    rounded = np.round(matrix)
    error = matrix - rounded
    deficit = np.round(matrix.sum(axis=1) - rounded.sum(axis=1)).astype(np.int64)
    for row in np.flatnonzero(deficit):
        d = int(deficit[row])
        order = np.argsort(-error[row] if d > 0 else error[row], kind="stable")
        rounded[row, order[: abs(d)]] += np.sign(d)
    return rounded


def _largest(score: FloatArray, candidates: BoolArray, count: int) -> BoolArray:
    """Mask of the ``count`` candidates with the largest score."""
    out = np.zeros(score.shape[0], dtype=bool)
    idx = np.flatnonzero(candidates)
    if count <= 0 or idx.size == 0:
        return out
    count = min(count, idx.size)
    top = idx[np.argpartition(-score[idx], count - 1)[:count]]
    out[top] = True
    return out


def label_issue_mask(
    codes: IntArray,
    probs: FloatArray,
    *,
    filter_by: Filter = "prune_by_noise_rate",
    frac_noise: float = 1.0,
) -> BoolArray:
    """Which examples' given labels confident learning flags.

    * ``prune_by_noise_rate``: for every pair given ``i`` / true ``j != i`` flag the
      ``C[i, j]`` examples labelled ``i`` with the largest margin ``p_j - p_i``.
    * ``prune_by_class``: for every class ``i`` flag the ``sum_j!=i C[i, j]`` examples labelled
      ``i`` with the lowest ``p_i``.
    * ``both``: flagged by both rules.
    * ``confident_joint``: examples whose confident true class differs from the given one.

    An example whose given label is also the model's most probable class is never flagged.
    ``frac_noise`` scales every count (1.0 flags the estimated number of errors).
    """
    if filter_by not in FILTERS:
        raise ValueError(f"filter_by must be one of {FILTERS}, not {filter_by!r}")
    if not 0.0 < frac_noise <= 1.0:
        raise ValueError("frac_noise must lie in (0, 1]")
    k = probs.shape[1]
    joint, true, _ = confident_joint(codes, probs)
    n_flag = np.round(joint * frac_noise).astype(np.int64)  # whole counts when frac_noise == 1
    np.fill_diagonal(n_flag, 0)
    own = probs[np.arange(codes.shape[0]), codes]
    by_noise = np.zeros(codes.shape[0], dtype=bool)
    by_class = np.zeros(codes.shape[0], dtype=bool)
    for i in range(k):
        labelled_i = codes == i
        if filter_by in ("prune_by_noise_rate", "both"):
            for j in range(k):
                if j != i and n_flag[i, j] > 0:
                    by_noise |= _largest(probs[:, j] - own, labelled_i, int(n_flag[i, j]))
        if filter_by in ("prune_by_class", "both"):
            by_class |= _largest(-own, labelled_i, int(n_flag[i].sum()))
    if filter_by == "prune_by_noise_rate":
        mask = by_noise
    elif filter_by == "prune_by_class":
        mask = by_class
    elif filter_by == "both":
        mask = by_noise & by_class
    else:
        mask = (true >= 0) & (true != codes)
    return np.asarray(mask & (probs.argmax(axis=1) != codes), dtype=bool)


def find_label_errors(
    labels: Sequence[Any] | pd.Series | npt.NDArray[Any],
    pred_probs: pd.DataFrame | npt.ArrayLike,
    *,
    classes: Sequence[Any] | None = None,
    filter_by: Filter = "confident_joint",
    frac_noise: float = 1.0,
    rank_by: RankBy = "self_confidence",
) -> pd.DataFrame:
    """Confident learning (Northcutt et al., JAIR 2021) over out-of-sample probabilities.

    ``labels`` are the given labels (a Series keeps its index as the item id); ``pred_probs``
    are out-of-fold predicted probabilities, one row per label (a DataFrame's columns name the
    classes; for an array pass ``classes`` or use codes ``0..K-1``). ``filter_by`` defaults to
    ``confident_joint`` (flag exactly the off-diagonal of the confident joint), which flags fewer
    examples than the pruning rules when the model itself errs often, and so is more precise;
    see :func:`label_issue_mask` for the others. Returns the flagged items,
    most suspicious first (lowest self-confidence ``p_given``, or lowest normalised margin
    ``p_given - max_other``), with the suggested label and a reason.
    """
    codes, probs, class_index, items = _encode(labels, pred_probs, classes)
    mask = label_issue_mask(codes, probs, filter_by=filter_by, frac_noise=frac_noise)
    rows = np.flatnonzero(mask)
    own = probs[rows, codes[rows]]
    others = probs[rows].copy()
    others[np.arange(rows.size), codes[rows]] = -1.0
    best_other = others.argmax(axis=1)
    margin = own - others.max(axis=1)
    score = own if rank_by == "self_confidence" else margin
    if rank_by not in ("self_confidence", "normalized_margin"):
        raise ValueError("rank_by must be 'self_confidence' or 'normalized_margin'")
    order = np.argsort(score, kind="stable")
    rows, own, best_other, margin = rows[order], own[order], best_other[order], margin[order]
    given_names = class_index.take(codes[rows])
    suggested = class_index.take(best_other)
    p_suggested = probs[rows, best_other]
    reasons = [
        f"model gives {s!r} p={ps:.2f} against the given {g!r} p={pg:.2f}"
        for s, ps, g, pg in zip(suggested, p_suggested, given_names, own, strict=True)
    ]
    return pd.DataFrame(
        {
            "given_label": given_names,
            "suggested_label": suggested,
            "self_confidence": own,
            "margin": margin,
            "reason": reasons,
        },
        index=items.take(rows).rename("item"),
    )


def out_of_fold_probas(
    texts: Sequence[str] | pd.Series,
    labels: Sequence[Any] | pd.Series,
    *,
    n_splits: int = 5,
    random_state: int | None = 0,
    c: float = 4.0,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Out-of-fold class probabilities from a TF-IDF + logistic-regression baseline.

    Each text is scored by a classifier that did not see its label (stratified
    ``n_splits``-fold cross-validation), which is what confident learning needs: in-sample
    probabilities would simply echo the noisy labels. Word 1–2-grams and character 2–5-grams,
    sublinear tf. The TF-IDF vocabulary and weights use no label, so they are fitted once on
    all texts and only the classifier is cross-validated (five times cheaper than refitting
    the features per fold); ``n_jobs`` fits the folds in parallel processes (-1: every core).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_union

    text_series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts))
    label_series = labels if isinstance(labels, pd.Series) else pd.Series(list(labels))
    if len(text_series) != len(label_series):
        raise ValueError("texts and labels must have the same length")
    if len(text_series) < n_splits:
        raise ValueError("fewer texts than cross-validation folds")
    if label_series.isna().any():
        raise ValueError("labels contain missing values")
    classes = pd.Index(sorted(label_series.unique()))
    y = classes.get_indexer(label_series.to_numpy())
    if np.bincount(y).min() < n_splits:
        raise ValueError("every class needs at least n_splits examples")
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True),
    )
    matrix = features.fit_transform(text_series.astype(str).to_numpy())
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    probs = cross_val_predict(
        LogisticRegression(C=c, max_iter=2000),
        matrix,
        y,
        cv=folds,
        method="predict_proba",
        n_jobs=n_jobs,
    )
    return pd.DataFrame(probs, index=label_series.index, columns=classes.rename("label"))


def find_text_label_errors(
    texts: Sequence[str] | pd.Series,
    labels: Sequence[Any] | pd.Series,
    *,
    n_splits: int = 5,
    random_state: int | None = 0,
    filter_by: Filter = "confident_joint",
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """:func:`out_of_fold_probas` followed by :func:`find_label_errors`."""
    label_series = labels if isinstance(labels, pd.Series) else pd.Series(list(labels))
    probs = out_of_fold_probas(
        texts, label_series, n_splits=n_splits, random_state=random_state, n_jobs=n_jobs
    )
    return find_label_errors(label_series, probs, filter_by=filter_by)


def disagreement_suspects(
    data: LabelInput,
    *,
    model: CategoricalAggregator | None = None,
    threshold: float = 0.7,
    min_labels: int = 2,
) -> pd.DataFrame:
    """Items whose consensus is weak, and labels that contradict a strong consensus.

    The consensus is the posterior of ``model`` (Dawid–Skene by default). An item with at least
    ``min_labels`` labels is suspect when its consensus confidence is below ``threshold``; a
    single label is suspect when it differs from a consensus at or above ``threshold``. Rows are
    ranked by how confident the evidence against them is.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must lie in (0, 1]")
    encoded = LabelData.coerce(data)
    fitted = (model or DawidSkene()).fit(encoded)
    probas = fitted.probas_.to_numpy()
    consensus = np.asarray(encoded.labels.get_indexer(pd.Index(fitted.labels_)), dtype=np.int64)
    confidence = probas[np.arange(encoded.n_items), consensus]
    n_labels = np.bincount(encoded.item_codes, minlength=encoded.n_items)
    weak = (confidence < threshold) & (n_labels >= min_labels)
    weak_items = np.flatnonzero(weak)
    item_rows = pd.DataFrame(
        {
            "item": encoded.items.take(weak_items),
            "annotator": None,
            "label": None,
            "consensus_label": encoded.labels.take(consensus[weak_items]),
            "confidence": confidence[weak_items],
            "suspicion": 1.0 - confidence[weak_items],
            "reason": [
                f"weak consensus: {c:.2f} for {lab!r} over {n} labels"
                for c, lab, n in zip(
                    confidence[weak_items],
                    encoded.labels.take(consensus[weak_items]),
                    n_labels[weak_items],
                    strict=True,
                )
            ],
        }
    )
    strong = confidence[encoded.item_codes] >= threshold
    against = strong & (encoded.label_codes != consensus[encoded.item_codes])
    rows = np.flatnonzero(against)
    cons_codes = consensus[encoded.item_codes[rows]]
    conf_rows = confidence[encoded.item_codes[rows]]
    label_rows = pd.DataFrame(
        {
            "item": encoded.items.take(encoded.item_codes[rows]),
            "annotator": encoded.annotators.take(encoded.annotator_codes[rows]),
            "label": encoded.labels.take(encoded.label_codes[rows]),
            "consensus_label": encoded.labels.take(cons_codes),
            "confidence": conf_rows,
            "suspicion": conf_rows,
            "reason": [
                f"label {lab!r} contradicts consensus {c!r} ({p:.2f})"
                for lab, c, p in zip(
                    encoded.labels.take(encoded.label_codes[rows]),
                    encoded.labels.take(cons_codes),
                    conf_rows,
                    strict=True,
                )
            ],
        }
    )
    frames = [f for f in (item_rows, label_rows) if len(f)]
    if not frames:
        return item_rows.iloc[:0]
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values("suspicion", ascending=False, kind="stable").reset_index(drop=True)
