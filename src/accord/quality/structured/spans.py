"""Text spans: weighted position-level vote into consensus spans, and span F1.

Spans are half-open ``[start, end)`` offsets into the item's text — characters or tokens, as
long as every annotator of an item uses the same unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from accord.quality.structured.frames import require_columns, weighted_votes

SPAN_COLUMNS: tuple[str, ...] = ("item", "start", "end", "label")


def _check(frame: pd.DataFrame, extra: tuple[str, ...] = ()) -> None:
    require_columns(frame, (*SPAN_COLUMNS, *extra), "span")


class SpanAggregator:
    """Consensus spans from a weighted vote at every position.

    Each annotator of an item votes, at every position, for the label of the span covering it
    or for "no span". A position gets label ``L`` when the skill-weighted share of the item's
    annotators voting ``L`` is above ``min_support`` (default 0.5: a strict weighted
    majority); runs of consecutive positions with the same winning label become spans.

    Input columns: ``item, annotator, start, end, label``; a row with missing ``start``/``end``
    records that the annotator saw the item and marked nothing. ``skills`` maps annotator to
    weight (default 1). Overlapping spans of one label by one annotator should be merged first.
    Result ``spans_``: ``item, label, start, end, support`` (mean winning share over the span).

    Vectorised: votes are +weight / -weight events at span boundaries; one sort by
    (item, label, position) and one cumulative sum give the coverage of every segment.
    """

    def __init__(
        self, min_support: float = 0.5, skills: Mapping[Any, float] | pd.Series | None = None
    ) -> None:
        self.min_support = min_support
        self.skills = skills

    def fit(self, data: pd.DataFrame) -> SpanAggregator:
        _check(data, ("annotator",))
        if len(data) == 0:
            raise ValueError("span data is empty")
        frame, voters = weighted_votes(data, self.skills)
        spans = frame.dropna(subset=["start", "end"])
        if (spans["end"] < spans["start"]).any():
            raise ValueError("spans need end >= start")
        columns = ["item", "label", "start", "end", "support"]
        if spans.empty:
            self.spans_ = pd.DataFrame(columns=columns)
            return self
        group_codes, groups = pd.factorize(
            pd.MultiIndex.from_arrays([spans["item"], spans["label"]])
        )
        g = np.concatenate([group_codes, group_codes]).astype(np.int64)
        pos = np.concatenate([spans["start"].to_numpy(np.int64), spans["end"].to_numpy(np.int64)])
        w = spans["_w"].to_numpy(np.float64)
        delta = np.concatenate([w, -w])
        order = np.lexsort((pos, g))
        g, pos, delta = g[order], pos[order], delta[order]
        level = np.cumsum(delta)
        # segment k covers [pos[k], pos[k+1]) inside one group
        same_group = g[:-1] == g[1:]
        seg_start, seg_end = pos[:-1], pos[1:]
        group_items = groups.get_level_values(0)
        total = voters.reindex(group_items).to_numpy(np.float64)[g[:-1]]
        share = np.divide(level[:-1], total, out=np.zeros_like(total), where=total > 0)
        chosen = same_group & (seg_end > seg_start) & (share > self.min_support + 1e-12)
        idx = np.flatnonzero(chosen)
        if idx.size == 0:
            self.spans_ = pd.DataFrame(columns=columns)
            return self
        s, e, grp, sh = seg_start[idx], seg_end[idx], g[idx], share[idx]
        length = (e - s).astype(np.float64)
        new_run = np.ones(idx.size, dtype=bool)
        new_run[1:] = (grp[1:] != grp[:-1]) | (s[1:] != e[:-1])
        run = np.cumsum(new_run) - 1
        n_runs = int(run[-1]) + 1
        starts = s[new_run]
        ends = np.zeros(n_runs, dtype=np.int64)
        np.maximum.at(ends, run, e)
        support = np.bincount(run, sh * length, n_runs) / np.bincount(run, length, n_runs)
        run_group = grp[new_run]
        self.spans_ = pd.DataFrame(
            {
                "item": group_items.take(run_group),
                "label": groups.get_level_values(1).take(run_group),
                "start": starts,
                "end": ends,
                "support": support,
            }
        )
        return self

    def fit_predict(self, data: pd.DataFrame) -> pd.DataFrame:
        return self.fit(data).spans_


@dataclass(frozen=True)
class SpanScore:
    precision: float
    recall: float
    f1: float
    n_reference: int
    n_predicted: int


def span_f1(
    reference: pd.DataFrame,
    predicted: pd.DataFrame,
    *,
    mode: Literal["exact", "overlap"] = "exact",
) -> SpanScore:
    """Span precision, recall and F1 of ``predicted`` against ``reference``.

    ``exact``: a span counts when a span of the other side has the same item, label, start and
    end. ``overlap``: when a span of the other side with the same item and label shares at least
    one position. Precision is the share of predicted spans that count, recall the share of
    reference spans that count, F1 their harmonic mean.
    """
    _check(reference)
    _check(predicted)
    if mode not in ("exact", "overlap"):
        raise ValueError("mode must be 'exact' or 'overlap'")
    ref = reference[list(SPAN_COLUMNS)].reset_index(drop=True)
    pred = predicted[list(SPAN_COLUMNS)].reset_index(drop=True)
    n_ref, n_pred = len(ref), len(pred)
    if mode == "exact":
        ref_keys = pd.MultiIndex.from_frame(ref)
        pred_keys = pd.MultiIndex.from_frame(pred)
        pred_hit = int(pred_keys.isin(ref_keys).sum())
        ref_hit = int(ref_keys.isin(pred_keys).sum())
    else:
        joined = ref.assign(_r=np.arange(n_ref)).merge(
            pred.assign(_p=np.arange(n_pred)), on=["item", "label"], suffixes=("_r", "_p")
        )
        overlap = (joined["start_r"] < joined["end_p"]) & (joined["start_p"] < joined["end_r"])
        hits = joined[overlap.to_numpy()]
        pred_hit = int(hits["_p"].nunique())
        ref_hit = int(hits["_r"].nunique())
    precision = pred_hit / n_pred if n_pred else float("nan")
    recall = ref_hit / n_ref if n_ref else float("nan")
    f1 = (
        2 * precision * recall / (precision + recall)
        if n_pred and n_ref and precision + recall > 0
        else 0.0
        if n_pred and n_ref
        else float("nan")
    )
    return SpanScore(precision, recall, f1, n_ref, n_pred)
