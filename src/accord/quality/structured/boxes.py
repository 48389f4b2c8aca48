"""Bounding boxes: IoU, one-to-one matching, F1 at an IoU threshold, and consensus boxes.

Boxes are ``x_min, y_min, x_max, y_max`` in any consistent unit. Matching is the Hungarian
assignment (``scipy.optimize.linear_sum_assignment``) maximising total IoU, so a box can match at
most one box of the other side — greedy matching can pair the wrong boxes in crowded images.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import linear_sum_assignment

from accord.quality.data import FloatArray, IntArray
from accord.quality.structured.frames import require_columns, weighted_votes

COORDS: tuple[str, str, str, str] = ("x_min", "y_min", "x_max", "y_max")


def box_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """IoU matrix between boxes ``a`` (n × 4) and ``b`` (m × 4): intersection over union area."""
    x = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    y = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if (x[:, 2] < x[:, 0]).any() or (x[:, 3] < x[:, 1]).any():
        raise ValueError("boxes need x_max >= x_min and y_max >= y_min")
    if (y[:, 2] < y[:, 0]).any() or (y[:, 3] < y[:, 1]).any():
        raise ValueError("boxes need x_max >= x_min and y_max >= y_min")
    w = np.clip(
        np.minimum(x[:, None, 2], y[None, :, 2]) - np.maximum(x[:, None, 0], y[None, :, 0]), 0, None
    )
    h = np.clip(
        np.minimum(x[:, None, 3], y[None, :, 3]) - np.maximum(x[:, None, 1], y[None, :, 1]), 0, None
    )
    inter = w * h
    area_x = (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    area_y = (y[:, 2] - y[:, 0]) * (y[:, 3] - y[:, 1])
    union = area_x[:, None] + area_y[None, :] - inter
    return np.asarray(np.divide(inter, union, out=np.zeros_like(inter), where=union > 0))


def match_boxes(
    reference: npt.ArrayLike, predicted: npt.ArrayLike, iou_threshold: float = 0.5
) -> tuple[IntArray, IntArray, FloatArray]:
    """One-to-one matches maximising total IoU; pairs below ``iou_threshold`` are dropped.

    Returns reference indices, predicted indices and the IoU of each kept pair.
    """
    iou = box_iou(reference, predicted)
    if iou.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    rows, cols = linear_sum_assignment(iou, maximize=True)
    keep = iou[rows, cols] >= iou_threshold
    return (
        rows[keep].astype(np.int64),
        cols[keep].astype(np.int64),
        np.asarray(iou[rows, cols][keep], dtype=np.float64),
    )


@dataclass(frozen=True)
class MatchScore:
    """Counts and rates of a one-to-one matching between reference and predicted objects."""

    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    recall: float
    f1: float
    mean_iou: float


def _score(tp: int, n_pred: int, n_ref: int, ious: list[float]) -> MatchScore:
    precision = tp / n_pred if n_pred else float("nan")
    recall = tp / n_ref if n_ref else float("nan")
    f1 = 2 * tp / (n_pred + n_ref) if n_pred + n_ref else float("nan")
    mean_iou = float(np.mean(ious)) if ious else float("nan")
    return MatchScore(tp, n_pred - tp, n_ref - tp, precision, recall, f1, mean_iou)


def _group_keys(frame: pd.DataFrame) -> list[str]:
    return ["item", "label"] if "label" in frame.columns else ["item"]


def _check_frame(frame: pd.DataFrame, extra: tuple[str, ...] = ()) -> None:
    require_columns(frame, ("item", *COORDS, *extra), "box")


def box_f1(
    reference: pd.DataFrame, predicted: pd.DataFrame, *, iou_threshold: float = 0.5
) -> MatchScore:
    """F1 at an IoU threshold and mean IoU of matched pairs, matching within (item, label).

    Both frames have columns ``item, x_min, y_min, x_max, y_max`` and optionally ``label``
    (then only boxes of the same label can match). A reference box matched at IoU at least
    ``iou_threshold`` is a true positive; ``F1 = 2 TP / (n_pred + n_ref)``.
    """
    _check_frame(reference)
    _check_frame(predicted)
    keys = _group_keys(reference)
    if keys != _group_keys(predicted):
        raise ValueError("either both frames have a label column or neither")
    ref_groups = {k: g for k, g in reference.groupby(keys, sort=False)}
    tp, ious = 0, []
    for key, pred in predicted.groupby(keys, sort=False):
        ref = ref_groups.get(key)
        if ref is None:
            continue
        _, _, iou = match_boxes(ref[list(COORDS)], pred[list(COORDS)], iou_threshold)
        tp += int(iou.shape[0])
        ious.extend(iou.tolist())
    return _score(tp, len(predicted), len(reference), ious)


class BoxAggregator:
    """Consensus boxes: cluster the annotators' boxes per item (and label), average each cluster.

    Annotators are visited from the most to the least skilled; each one's boxes are matched
    (Hungarian, IoU at least ``iou_threshold``) to the current cluster means, matched boxes
    join their cluster and the rest open new clusters, so a cluster never holds two boxes of
    one annotator. A cluster is kept when the skill-weighted share of the item's annotators in
    it is at least ``min_support``; its coordinates are the skill-weighted mean of its boxes.

    Input columns: ``item, annotator, x_min, y_min, x_max, y_max`` and optionally ``label``.
    A row with missing coordinates records that the annotator saw the item and drew nothing
    (it counts in the denominator of the support). ``skills`` maps annotator to weight
    (default 1). Result ``boxes_``: one row per consensus box with ``support`` (weighted share),
    ``n_boxes`` and ``mean_iou`` (members against the consensus box).
    """

    def __init__(
        self,
        iou_threshold: float = 0.5,
        min_support: float = 0.5,
        skills: Mapping[Any, float] | pd.Series | None = None,
    ) -> None:
        self.iou_threshold = iou_threshold
        self.min_support = min_support
        self.skills = skills

    def fit(self, data: pd.DataFrame) -> BoxAggregator:
        _check_frame(data, ("annotator",))
        if len(data) == 0:
            raise ValueError("box data is empty")
        frame, voters = weighted_votes(data, self.skills)
        drawn = frame.dropna(subset=list(COORDS))
        keys = _group_keys(drawn)
        rows: list[dict[str, Any]] = []
        for key, group in drawn.groupby(keys, sort=False):
            item = key[0] if isinstance(key, tuple) else key
            total = float(voters.get(item, 0.0))
            for box, members, ious, w in self._clusters(group):
                support = w / total if total > 0 else 0.0
                if support + 1e-12 < self.min_support:
                    continue
                row: dict[str, Any] = {"item": item}
                if len(keys) == 2:
                    row["label"] = key[1]
                row.update(dict(zip(COORDS, box.tolist(), strict=True)))
                row.update({"support": support, "n_boxes": members, "mean_iou": ious})
                rows.append(row)
        columns = ["item", *(["label"] if len(keys) == 2 else []), *COORDS]
        self.boxes_ = pd.DataFrame(rows, columns=[*columns, "support", "n_boxes", "mean_iou"])
        return self

    def fit_predict(self, data: pd.DataFrame) -> pd.DataFrame:
        return self.fit(data).boxes_

    def _clusters(self, group: pd.DataFrame) -> list[tuple[FloatArray, int, float, float]]:
        coords = group[list(COORDS)].to_numpy(np.float64)
        weights = group["_w"].to_numpy(np.float64)
        annotators = group["annotator"].to_numpy()
        order = pd.DataFrame({"a": annotators, "w": weights}).groupby("a", sort=False)["w"].first()
        sums: list[FloatArray] = []
        mass: list[float] = []
        members: list[list[int]] = []
        for annotator in order.sort_values(ascending=False, kind="stable").index:
            idx = np.flatnonzero(annotators == annotator)
            if sums:
                means = np.array(sums) / np.maximum(np.array(mass), 1e-12)[:, None]
                r, c, _ = match_boxes(coords[idx], means, self.iou_threshold)
            else:
                r = c = np.zeros(0, dtype=np.int64)
            matched = set(r.tolist())
            for box_row, cluster in zip(r.tolist(), c.tolist(), strict=True):
                i = idx[box_row]
                sums[cluster] = sums[cluster] + weights[i] * coords[i]
                mass[cluster] += weights[i]
                members[cluster].append(i)
            for box_row, i in enumerate(idx):
                if box_row not in matched:
                    sums.append(weights[i] * coords[i])
                    mass.append(float(weights[i]))
                    members.append([int(i)])
        out = []
        for s, m, mem in zip(sums, mass, members, strict=True):
            box = s / m if m > 0 else coords[mem].mean(axis=0)
            ious = box_iou(coords[mem], box[None, :])[:, 0]
            out.append((box, len(mem), float(ious.mean()), float(weights[mem].sum())))
        return out
