"""Adaptive overlap: ask for another label only where the labels so far do not settle the item.

Instead of giving every item to ``N`` annotators, give it to ``k`` first and add annotators one at
a time while they disagree, up to ``N``. :class:`AdaptiveOverlap` is the stopping rule; the
platform asks it after every submission whether the item needs another label.

The rule (evaluated on the labels an item has so far, in any order):

1. fewer than ``min_labels`` (``k``) labels: ask for another;
2. ``max_labels`` (``N``) labels or more: stop, whatever they say;
3. otherwise stop when the leading label is unique and its *confidence* reaches ``threshold``.

The confidence is the leading label's share of the votes (what :class:`MajorityVote` reports as
``probas_``) unless per-annotator ``reliabilities`` are given. Then it is the posterior of the
leading label under the one-coin model (the model of :class:`OneCoinDawidSkene`, whose
``skills_`` can be passed as they are): annotator ``a`` gives the true label with probability
``s_a`` and each of the other ``n_classes - 1`` labels with probability ``(1 - s_a) /
(n_classes - 1)``, with a uniform prior over the ``n_classes`` labels. Each answer then adds
``log(s_a (n_classes - 1) / (1 - s_a))`` to its label's score and the posterior is the softmax of
the scores, so a reliable annotator's answer settles an item sooner than a weak one's.

:meth:`AdaptiveOverlap.needs_more` works on one item in plain Python (a few microseconds: it runs
on every submission). :meth:`AdaptiveOverlap.needs_more_frame` gives the same decision for every
item of a long frame, and :meth:`AdaptiveOverlap.replay` says which rows a project would have
collected had the rows arrived in the frame's order under the policy; both are vectorised.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from accord.quality.data import BoolArray, FloatArray, IntArray

# Ties and threshold edges are compared with this slack, so that a share computed as 7 / 10 and a
# threshold written 0.7 agree, and a posterior tie survives floating-point summation order.
_EPS = 1e-9
# Reliabilities are clipped away from 0 and 1: one perfect annotator must not make a score infinite.
_CLIP = 1e-3


class _Prefix(NamedTuple):
    """The rows of a long frame ordered by item, then arrival (frame order)."""

    items: pd.Index  # items in order of first appearance
    order: IntArray  # frame positions in that order
    item_codes: IntArray  # item code of each ordered row
    stop_after: BoolArray  # whether the item stops after this row
    last: IntArray  # ordered position of each item's last row


@dataclass(frozen=True)
class AdaptiveOverlap:
    """Stopping rule for adaptive overlap: does an item need another label?

    Parameters (``k`` and ``N`` as in "ask ``k`` annotators first, at most ``N``"):

    * ``max_labels`` — ``N``, the most labels an item gets (the project's overlap); reaching it
      always stops.
    * ``min_labels`` — ``k``, the labels every item gets before the rule may stop (default 3).
      Two agreeing labels are not enough on noisy crowds: stopping at an agreeing pair costs
      about 2 (zheng_dog) to 3 (snow_rte) points of majority-vote accuracy
      (benchmarks/RESULTS.md, "Adaptive overlap").
      With ``max_labels <= min_labels`` the policy is fixed overlap (every item gets
      ``max_labels``), so the default also works for a project whose overlap is 2 or 3.
    * ``threshold`` — the confidence of the leading label at which the item stops (default 0.8).
      With vote shares and the defaults: 3–0 stops, 2–1 and 3–1 (0.75) continue, 4–1 (0.8)
      stops, 4–2 to 7–2 continue, 8–2 stops. A tie for the lead never stops before
      ``max_labels``. The comparison is ``>=`` (with a 1e-9 slack for rounding).
    * ``reliabilities`` — optional mapping (or Series) annotator → probability that the
      annotator's answer is correct, e.g. ``OneCoinDawidSkene().fit(data).skills_`` or gold
      accuracies. When given, the confidence is the one-coin posterior (module docstring) and
      ``annotators`` must be passed to :meth:`needs_more`. Values are clipped to [0.001, 0.999];
      a missing value (NaN, e.g. an annotator without gold items) counts as unknown. They are
      read once, when the policy is built: after recomputing skills, build a new policy
      (``dataclasses.replace(policy, reliabilities=skills)``).
    * ``default_reliability`` — reliability of an annotator missing from ``reliabilities``
      (default 0.7).
    * ``n_classes`` — number of possible labels (the control's choices); required with
      ``reliabilities``, unused otherwise.
    """

    max_labels: int
    min_labels: int = 3
    threshold: float = 0.8
    reliabilities: Mapping[Any, float] | pd.Series | None = field(
        default=None, compare=False, hash=False
    )
    default_reliability: float = 0.7
    n_classes: int | None = None
    _log_odds: dict[Any, float] | None = field(
        init=False, default=None, repr=False, compare=False, hash=False
    )
    _default_log_odds: float = field(init=False, default=0.0, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, minimum in (("min_labels", 1), ("max_labels", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"{name} must be an integer, not {value!r}")
            if value < minimum:
                raise ValueError(f"{name} must be >= {minimum}, not {value}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold!r}")
        if not 0.0 < self.default_reliability < 1.0:
            raise ValueError(
                f"default_reliability must be in (0, 1), not {self.default_reliability!r}"
            )
        if self.n_classes is not None and self.n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, not {self.n_classes}")
        if self.reliabilities is None:
            return
        if self.n_classes is None:
            raise ValueError("reliabilities need n_classes (the number of possible labels)")
        items = (
            self.reliabilities.items()
            if isinstance(self.reliabilities, Mapping)
            else zip(self.reliabilities.index, self.reliabilities.to_numpy(), strict=True)
        )
        log_odds = {}
        for annotator, value in items:
            reliability = float(value)
            if not math.isnan(reliability):
                log_odds[annotator] = self._weight(reliability)
        object.__setattr__(self, "_log_odds", log_odds)
        object.__setattr__(self, "_default_log_odds", self._weight(self.default_reliability))

    def _weight(self, reliability: float) -> float:
        """Log-odds an answer adds to its label's score under the one-coin model."""
        assert self.n_classes is not None
        s = min(max(reliability, _CLIP), 1.0 - _CLIP)
        return math.log(s * (self.n_classes - 1) / (1.0 - s))

    # -- one item -----------------------------------------------------------------------------

    def confidence(
        self, labels: Sequence[Hashable], annotators: Sequence[Hashable] | None = None
    ) -> float:
        """Confidence of the leading label: vote share, or posterior with reliabilities."""
        return self._lead(labels, annotators)[0]

    def needs_more(
        self, labels: Sequence[Hashable], annotators: Sequence[Hashable] | None = None
    ) -> bool:
        """Whether an item with these labels (and annotators, aligned) needs another label."""
        n = len(labels)
        if n >= self.max_labels:
            return False
        if n < self.min_labels:
            return True
        confidence, tied = self._lead(labels, annotators)
        return tied or confidence < self.threshold - _EPS

    def _lead(
        self, labels: Sequence[Hashable], annotators: Sequence[Hashable] | None
    ) -> tuple[float, bool]:
        """(confidence of the leading label, whether two labels share the lead)."""
        if annotators is not None and len(annotators) != len(labels):
            raise ValueError(
                f"{len(labels)} labels but {len(annotators)} annotators: they must align"
            )
        if self._log_odds is None:
            if not len(labels):
                return 0.0, False
            counts = Counter(labels).values()
            most = max(counts)
            return most / len(labels), sum(c == most for c in counts) > 1
        if annotators is None:
            raise ValueError("annotators are needed when the policy has reliabilities")
        assert self.n_classes is not None
        weights, default = self._log_odds, self._default_log_odds
        scores: dict[Hashable, float] = {}
        for label, annotator in zip(labels, annotators, strict=True):
            scores[label] = scores.get(label, 0.0) + weights.get(annotator, default)
        unseen = self.n_classes - len(scores)
        if unseen < 0:
            raise ValueError(f"{len(scores)} distinct labels but n_classes={self.n_classes}")
        top = max([*scores.values(), 0.0] if unseen else scores.values())
        total = sum(math.exp(v - top) for v in scores.values()) + unseen * math.exp(-top)
        tol = _EPS * max(1.0, abs(top))
        at_top = sum(abs(v - top) <= tol for v in scores.values())
        at_top += unseen if abs(top) <= tol else 0
        return 1.0 / total, at_top > 1

    # -- a whole long frame -------------------------------------------------------------------

    def needs_more_frame(
        self,
        frame: pd.DataFrame,
        *,
        item: str = "item",
        annotator: str = "annotator",
        label: str = "label",
    ) -> pd.Series:
        """:meth:`needs_more` for every item of a long frame (all of its rows so far).

        Returns a boolean Series indexed by item (in order of first appearance), name
        ``needs_more``.
        """
        prefix = self._prefix_stops(frame, item, annotator, label)
        return pd.Series(
            ~prefix.stop_after[prefix.last], index=prefix.items.rename(item), name="needs_more"
        )

    def replay(
        self,
        frame: pd.DataFrame,
        *,
        item: str = "item",
        annotator: str = "annotator",
        label: str = "label",
    ) -> pd.Series:
        """Rows that would have been collected had they arrived in the frame's order.

        For each item its rows are taken in frame order as the order in which annotators
        submitted; a row is kept while the item still needed a label after the rows before it.
        Returns a boolean Series aligned with ``frame.index``, name ``collected``. The rows of
        an item that it never needed (the policy had stopped) are ``False``; an item with fewer
        rows than the policy would ask for keeps all of them.
        """
        prefix = self._prefix_stops(frame, item, annotator, label)
        stops = prefix.stop_after.astype(np.int64)
        stops_before = pd.Series(stops).groupby(prefix.item_codes).cumsum().to_numpy() - stops
        kept = np.empty(len(frame), dtype=bool)
        kept[prefix.order] = stops_before == 0
        return pd.Series(kept, index=frame.index, name="collected")

    def _prefix_stops(self, frame: pd.DataFrame, item: str, annotator: str, label: str) -> _Prefix:
        """Per row, in item-then-arrival order: would the item stop after this row?"""
        missing = [c for c in (item, label) if c not in frame.columns]
        if self._log_odds is not None and annotator not in frame.columns:
            missing.append(annotator)
        if missing:
            raise ValueError(f"frame has no column(s) {missing}")
        if frame[[item, label]].isna().to_numpy().any():
            raise ValueError("frame has missing items or labels")
        item_codes, items = pd.factorize(frame[item], sort=False)
        label_codes, labels = pd.factorize(frame[label], sort=False)
        order = np.argsort(item_codes, kind="stable").astype(np.int64)
        ic = np.asarray(item_codes, dtype=np.int64)[order]
        lc = np.asarray(label_codes, dtype=np.int64)[order]
        n = ic.shape[0]
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return _Prefix(pd.Index(items), empty, empty, np.zeros(0, dtype=bool), empty)
        starts = np.flatnonzero(np.r_[True, ic[1:] != ic[:-1]])
        last = np.r_[starts[1:], n] - 1
        n_after = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1

        # Labels renumbered within each item, so the prefix matrices are only as wide as the
        # most distinct labels one item has, not the whole label set.
        pair_codes, local_first = np.unique(ic * len(labels) + lc, return_inverse=True)
        pair_item = pair_codes // len(labels)
        local = local_first - np.searchsorted(pair_item, pair_item)[local_first]
        width = int(local.max()) + 1
        rows = np.arange(n)
        one_hot = np.zeros((n, width), dtype=np.int64)
        one_hot[rows, local] = 1
        counts = pd.DataFrame(one_hot).groupby(ic).cumsum().to_numpy()

        if self._log_odds is None:
            top_count = counts.max(axis=1)
            confidence: FloatArray = top_count / n_after
            tied: BoolArray = (counts == top_count[:, None]).sum(axis=1) > 1
        else:
            confidence, tied = self._posterior_prefix(frame, annotator, order, ic, counts, local)
        stop_after = (n_after >= self.max_labels) | (
            (n_after >= self.min_labels) & (confidence >= self.threshold - _EPS) & ~tied
        )
        return _Prefix(pd.Index(items), order, ic, np.asarray(stop_after, dtype=bool), last)

    def _posterior_prefix(
        self,
        frame: pd.DataFrame,
        annotator: str,
        order: IntArray,
        ic: IntArray,
        counts: IntArray,
        local: IntArray,
    ) -> tuple[FloatArray, BoolArray]:
        """One-coin posterior of the leading label after each ordered row, and ties."""
        assert self._log_odds is not None and self.n_classes is not None
        annotators = frame[annotator].to_numpy()[order]
        weights = np.fromiter(
            (self._log_odds.get(a, self._default_log_odds) for a in pd.unique(annotators)),
            dtype=np.float64,
        )
        codes = pd.Index(pd.unique(annotators)).get_indexer(annotators)
        n, width = counts.shape
        contribution = np.zeros((n, width))
        contribution[np.arange(n), local] = weights[codes]
        scores = pd.DataFrame(contribution).groupby(ic).cumsum().to_numpy()
        seen = counts > 0
        unseen = self.n_classes - seen.sum(axis=1)
        if (unseen < 0).any():
            raise ValueError(f"an item has more distinct labels than n_classes={self.n_classes}")
        top = np.where(seen, scores, -np.inf).max(axis=1)
        top = np.where(unseen > 0, np.maximum(top, 0.0), top)
        total = np.where(seen, np.exp(scores - top[:, None]), 0.0).sum(axis=1)
        total += unseen * np.exp(-top)
        tol = _EPS * np.maximum(1.0, np.abs(top))
        at_top = (seen & (np.abs(scores - top[:, None]) <= tol[:, None])).sum(axis=1)
        at_top += np.where(np.abs(top) <= tol, unseen, 0)
        return np.asarray(1.0 / total, dtype=np.float64), np.asarray(at_top > 1, dtype=bool)
