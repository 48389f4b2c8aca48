"""The shape every categorical aggregator shares, so that they are interchangeable.

Hyper-parameters go to ``__init__``; ``fit(data, gold=None)`` encodes the data once, runs the
model on integer codes and stores pandas results (``labels_``, ``probas_``, ``skills_``).
"""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple, Self

import numpy as np
import pandas as pd

from accord.quality.data import FloatArray, IntArray, LabelData, LabelInput


class Gold(NamedTuple):
    """Known answers as codes: ``labels[k]`` is the true label of item ``items[k]``."""

    items: IntArray
    labels: IntArray

    def clamp(self, probas: FloatArray) -> FloatArray:
        """Force the posterior of every gold item onto its known label (in place)."""
        if self.items.shape[0]:
            probas[self.items] = 0.0
            probas[self.items, self.labels] = 1.0
        return probas

    def one_hot(self, n_items: int, n_labels: int) -> FloatArray:
        out = np.zeros((n_items, n_labels))
        return self.clamp(out) if self.items.shape[0] else out


def softmax_rows(log_scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-normalised probabilities and each row's log normaliser, without overflow."""
    top = log_scores.max(axis=1, keepdims=True)
    scaled = np.exp(log_scores - top)
    total = scaled.sum(axis=1, keepdims=True)
    return np.asarray(scaled / total, dtype=np.float64), np.asarray((np.log(total) + top)[:, 0])


def posterior_agreement(data: LabelData, probas: FloatArray) -> FloatArray:
    """Expected share of each annotator's answers that are correct under ``probas``."""
    hit = probas[data.item_codes, data.label_codes] * data.weights
    num = np.bincount(data.annotator_codes, weights=hit, minlength=data.n_annotators)
    den = np.bincount(data.annotator_codes, weights=data.weights, minlength=data.n_annotators)
    out = np.divide(num, den, out=np.full(data.n_annotators, np.nan), where=den > 0)
    return np.asarray(out, dtype=np.float64)


def check_positive_int(name: str, value: int, minimum: int = 1) -> None:
    if not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")


class CategoricalAggregator:
    """Base class: subclasses implement ``_fit`` on codes and return (probas, skills)."""

    labels_: pd.Series
    probas_: pd.DataFrame
    skills_: pd.Series
    n_iter_: int

    def _fit(self, data: LabelData, gold: Gold) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    def _decide(self, data: LabelData, probas: FloatArray) -> IntArray:
        """Most probable label; an exact tie goes to the earliest label in label order."""
        return np.asarray(probas.argmax(axis=1), dtype=np.int64)

    def fit(self, data: LabelInput, gold: pd.Series | None = None) -> Self:
        encoded = LabelData.coerce(data)
        known = Gold(*encoded.encode_gold(gold))
        self.n_iter_ = 0
        probas, skills = self._fit(encoded, known)
        codes = self._decide(encoded, probas)
        codes[known.items] = known.labels
        items = encoded.items.rename("item")
        self.probas_ = pd.DataFrame(probas, index=items, columns=encoded.labels.rename("label"))
        self.labels_ = pd.Series(encoded.labels.take(codes), index=items, name="label")
        self.skills_ = pd.Series(skills, index=encoded.annotators.rename("annotator"), name="skill")
        self._after_fit(encoded)
        return self

    def _after_fit(self, data: LabelData) -> None:
        """Hook for model-specific result tables."""

    def fit_predict(self, data: LabelInput, gold: pd.Series | None = None) -> pd.Series:
        return self.fit(data, gold).labels_

    def fit_predict_proba(self, data: LabelInput, gold: pd.Series | None = None) -> pd.DataFrame:
        return self.fit(data, gold).probas_

    def get_params(self) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
