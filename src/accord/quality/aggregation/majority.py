"""Majority vote (optionally weighted) and Wawa, with an explicit and reported tie rule.

A plain vote is the baseline every other aggregator must beat, and it is what people check by
hand; so its tie rule must be stated, reproducible and visible in the result (``ties_``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from accord.quality.aggregation._base import CategoricalAggregator, Gold
from accord.quality.data import FloatArray, IntArray, LabelData

TieBreak = Literal["frequent", "first", "random"]
TIE_BREAKS: tuple[str, ...] = ("frequent", "first", "random")


def vote_shares(data: LabelData, annotator_weights: FloatArray | None = None) -> FloatArray:
    """Item × label share of the (weighted) votes; an item with no weight gets a uniform row."""
    w = (
        data.weights
        if annotator_weights is None
        else data.weights * annotator_weights[data.annotator_codes]
    )
    flat = data.item_codes * data.n_labels + data.label_codes
    scores = np.bincount(flat, weights=w, minlength=data.n_items * data.n_labels).reshape(
        data.n_items, data.n_labels
    )
    total = scores.sum(axis=1, keepdims=True)
    uniform = np.full_like(scores, 1.0 / data.n_labels)
    return np.asarray(np.divide(scores, total, out=uniform, where=total > 0), dtype=np.float64)


def break_ties(
    probas: FloatArray,
    priority: FloatArray,
    rule: str,
    random_state: int | None,
) -> tuple[IntArray, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Winning label per row and which rows were ties, under the named rule.

    ``priority`` ranks labels for the ``frequent`` rule (higher wins among tied labels).
    """
    if rule not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, not {rule!r}")
    top = probas.max(axis=1, keepdims=True)
    tied = np.isclose(probas, top, rtol=1e-9, atol=1e-12)
    is_tie = tied.sum(axis=1) > 1
    k = probas.shape[1]
    if rule == "first":
        key = tied * (k - np.arange(k, dtype=np.float64))
    elif rule == "frequent":
        order = np.lexsort((np.arange(k), -priority))  # most frequent first, then label order
        rank = np.empty(k)
        rank[order] = np.arange(k, 0, -1, dtype=np.float64)
        key = tied * rank
    else:
        rng = np.random.default_rng(random_state)
        key = tied * (1.0 + rng.random(probas.shape))
    return np.asarray(key.argmax(axis=1), dtype=np.int64), is_tie


def agreement_with(data: LabelData, codes: IntArray) -> FloatArray:
    """Weighted share of each annotator's labels equal to ``codes`` of the item."""
    hit = (data.label_codes == codes[data.item_codes]) * data.weights
    num = np.bincount(data.annotator_codes, weights=hit, minlength=data.n_annotators)
    den = np.bincount(data.annotator_codes, weights=data.weights, minlength=data.n_annotators)
    out = np.divide(num, den, out=np.full(data.n_annotators, np.nan), where=den > 0)
    return np.asarray(out, dtype=np.float64)


class _VoteBase(CategoricalAggregator):
    tie_break: str
    random_state: int | None
    ties_: pd.Series
    n_ties_: int
    _gold_items: IntArray
    _tie_mask: np.ndarray[Any, np.dtype[np.bool_]]

    def _decide(self, data: LabelData, probas: FloatArray) -> IntArray:
        frequency: FloatArray = np.asarray(
            np.bincount(data.label_codes, weights=data.weights, minlength=data.n_labels),
            dtype=np.float64,
        )
        codes, is_tie = break_ties(probas, frequency, self.tie_break, self.random_state)
        self._tie_mask = is_tie
        return codes

    def _after_fit(self, data: LabelData) -> None:
        mask = self._tie_mask.copy()
        gold_items = self._gold_items
        mask[gold_items] = False
        self.ties_ = pd.Series(mask, index=data.items.rename("item"), name="tie")
        self.n_ties_ = int(mask.sum())
        codes = np.asarray(data.labels.get_indexer(pd.Index(self.labels_)), dtype=np.int64)
        self._final_skills(data, codes)

    def _final_skills(self, data: LabelData, codes: IntArray) -> None:
        self.skills_ = pd.Series(
            agreement_with(data, codes), index=data.annotators.rename("annotator"), name="skill"
        )


class MajorityVote(_VoteBase):
    """The label with the largest (weighted) number of votes.

    Ties: with ``tie_break="frequent"`` (default) a tied item gets, among its tied labels, the
    label given most often in the whole data set, then the earliest in label order; ``"first"``
    takes the earliest label in label order (sorted label values, or the order passed as
    ``labels``); ``"random"`` draws uniformly among tied labels with ``random_state``. Tied items
    are listed in ``ties_`` and counted in ``n_ties_``; ``probas_`` keeps the exact shares.

    ``weights`` maps annotator to vote weight; annotators missing from it get ``default_weight``
    or raise ``ValueError`` when that is ``None``. ``skills_`` is each annotator's agreement with
    the final labels.
    """

    def __init__(
        self,
        weights: Mapping[Any, float] | pd.Series | None = None,
        *,
        default_weight: float | None = None,
        tie_break: TieBreak = "frequent",
        random_state: int | None = 0,
    ) -> None:
        self.weights = weights
        self.default_weight = default_weight
        self.tie_break = tie_break
        self.random_state = random_state

    def _annotator_weights(self, data: LabelData) -> FloatArray | None:
        if self.weights is None:
            return None
        given = pd.Series(self.weights, dtype=np.float64)
        w = np.array(given.reindex(data.annotators), dtype=np.float64)
        missing = np.isnan(w)
        if missing.any():
            if self.default_weight is None:
                names = [str(a) for a in data.annotators[missing][:5]]
                raise ValueError(f"no weight for annotators {names}; set default_weight")
            w[missing] = self.default_weight
        if (w < 0).any():
            raise ValueError("annotator weights must be non-negative")
        return w

    def _fit(self, data: LabelData, gold: Gold) -> tuple[FloatArray, FloatArray]:
        self._gold_items = gold.items
        probas = gold.clamp(vote_shares(data, self._annotator_weights(data)))
        return probas, np.full(data.n_annotators, np.nan)


class Wawa(_VoteBase):
    """Worker agreement with aggregate: a vote weighted by each annotator's agreement with the
    plain majority (or with the gold answer on gold items).

    Two passes are enough because the weights only need to separate careful annotators from
    careless ones, not to be calibrated. ``skills_`` holds the weights used in the second pass.
    The tie rule is the one of :class:`MajorityVote`.
    """

    def __init__(self, *, tie_break: TieBreak = "frequent", random_state: int | None = 0) -> None:
        self.tie_break = tie_break
        self.random_state = random_state

    def _fit(self, data: LabelData, gold: Gold) -> tuple[FloatArray, FloatArray]:
        self._gold_items = gold.items
        first = gold.clamp(vote_shares(data))
        codes = self._decide(data, first)
        codes[gold.items] = gold.labels
        skills = np.nan_to_num(agreement_with(data, codes))
        self._weights = skills
        probas = gold.clamp(vote_shares(data, skills))
        return probas, skills

    def _final_skills(self, data: LabelData, codes: IntArray) -> None:
        self.skills_ = pd.Series(
            self._weights, index=data.annotators.rename("annotator"), name="skill"
        )
