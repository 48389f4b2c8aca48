"""Dawid–Skene: one confusion matrix per annotator, fitted by expectation–maximisation.

Both EM steps are sparse products with the item × (annotator, answer) design matrix, so an
iteration costs a few milliseconds even for 100,000 labels; there is no per-row Python work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accord.quality.aggregation._base import (
    CategoricalAggregator,
    Gold,
    check_positive_int,
    posterior_agreement,
    softmax_rows,
)
from accord.quality.aggregation.majority import vote_shares
from accord.quality.data import FloatArray, LabelData

_EPS = 1e-10


class DawidSkene(CategoricalAggregator):
    """Full confusion matrices per annotator (Dawid & Skene, 1979).

    Model: the true label of item ``i`` is ``c`` with prior ``p[c]``; annotator ``a`` answers
    ``l`` with probability ``pi[a, c, l]``, independently of the other annotators. EM starts from
    the vote shares, alternates the M-step (``pi`` and ``p`` from expected counts, plus
    ``smoothing`` pseudo-counts per cell) and the E-step (posterior over classes), and stops when
    the observed-data log-likelihood gains less than ``tol`` per unit of label weight.

    Gold items are clamped to their known label in every E-step, so they also pin down the
    confusion matrices of the annotators who labelled them.

    Results: ``labels_``, ``probas_``, ``skills_`` (expected share of correct answers),
    ``confusions_`` (rows ``(annotator, true label)``, columns answered label), ``priors_``,
    ``log_likelihood_`` and ``n_iter_``.
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-6, smoothing: float = 0.0) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.smoothing = smoothing

    def _check(self) -> None:
        check_positive_int("n_iter", self.n_iter)
        if self.tol < 0 or self.smoothing < 0:
            raise ValueError("tol and smoothing must be non-negative")

    def _m_step(self, data: LabelData, probas: FloatArray) -> tuple[FloatArray, FloatArray]:
        a, k = data.n_annotators, data.n_labels
        counts = np.asarray(data.design.T @ probas).reshape(a, k, k).transpose(0, 2, 1)
        counts = np.maximum(counts + self.smoothing, _EPS)
        confusion = counts / counts.sum(axis=2, keepdims=True)
        prior = np.maximum(probas.mean(axis=0), _EPS)
        return confusion, prior / prior.sum()

    @staticmethod
    def _e_step(
        data: LabelData, confusion: FloatArray, prior: FloatArray
    ) -> tuple[FloatArray, float]:
        a, k = data.n_annotators, data.n_labels
        log_pi = np.log(confusion).transpose(0, 2, 1).reshape(a * k, k)
        scores = np.asarray(data.design @ log_pi) + np.log(prior)
        probas, norm = softmax_rows(scores)
        return probas, float(norm.sum())

    def _fit(self, data: LabelData, gold: Gold) -> tuple[FloatArray, FloatArray]:
        self._check()
        probas = gold.clamp(vote_shares(data))
        total = float(data.weights.sum())
        previous = -np.inf
        log_lik = previous
        for iteration in range(1, self.n_iter + 1):
            confusion, prior = self._m_step(data, probas)
            probas, log_lik = self._e_step(data, confusion, prior)
            gold.clamp(probas)
            self.n_iter_ = iteration
            if abs(log_lik - previous) / total < self.tol:
                break
            previous = log_lik
        self._confusion, self._prior = self._m_step(data, probas)
        self.log_likelihood_ = log_lik
        return probas, posterior_agreement(data, probas)

    def _after_fit(self, data: LabelData) -> None:
        a, k = data.n_annotators, data.n_labels
        rows = pd.MultiIndex.from_product(
            [data.annotators, data.labels], names=["annotator", "true_label"]
        )
        self.confusions_ = pd.DataFrame(
            self._confusion.reshape(a * k, k), index=rows, columns=data.labels.rename("label")
        )
        self.priors_ = pd.Series(self._prior, index=data.labels.rename("label"), name="prior")


class OneCoinDawidSkene(DawidSkene):
    """Dawid–Skene with one accuracy ``s[a]`` per annotator (the "one-coin" model).

    ``pi[a, c, c] = s[a]`` and every wrong answer has probability ``(1 - s[a]) / (K - 1)``.
    Fewer parameters than the full model, so it is steadier when annotators label few items,
    at the cost of ignoring systematic confusions. ``smoothing`` adds Beta pseudo-counts to the
    accuracy estimate. ``skills_`` is ``s``.
    """

    def _accuracy(self, data: LabelData, probas: FloatArray) -> FloatArray:
        hit = probas[data.item_codes, data.label_codes] * data.weights
        num = np.bincount(data.annotator_codes, weights=hit, minlength=data.n_annotators)
        den = np.bincount(data.annotator_codes, weights=data.weights, minlength=data.n_annotators)
        skill = (num + self.smoothing) / np.maximum(den + 2 * self.smoothing, _EPS)
        return np.asarray(np.clip(skill, _EPS, 1 - _EPS), dtype=np.float64)

    def _fit(self, data: LabelData, gold: Gold) -> tuple[FloatArray, FloatArray]:
        self._check()
        k = data.n_labels
        if k == 1:
            self._confusion = np.ones((data.n_annotators, 1, 1))
            self._prior, self.log_likelihood_ = np.ones(1), 0.0
            return np.ones((data.n_items, 1)), np.ones(data.n_annotators)
        probas = gold.clamp(vote_shares(data))
        total = float(data.weights.sum())
        cell = data.item_codes * k + data.label_codes
        previous = -np.inf
        log_lik = previous
        skill = self._accuracy(data, probas)
        for iteration in range(1, self.n_iter + 1):
            skill = self._accuracy(data, probas)
            prior = np.maximum(probas.mean(axis=0), _EPS)
            log_right = np.log(skill)[data.annotator_codes]
            log_wrong = np.log((1 - skill) / (k - 1))[data.annotator_codes]
            base = np.bincount(
                data.item_codes, weights=data.weights * log_wrong, minlength=data.n_items
            )
            bonus = np.bincount(
                cell, weights=data.weights * (log_right - log_wrong), minlength=data.n_items * k
            ).reshape(data.n_items, k)
            probas, norm = softmax_rows(bonus + base[:, None] + np.log(prior / prior.sum()))
            log_lik = float(norm.sum())
            gold.clamp(probas)
            self.n_iter_ = iteration
            if abs(log_lik - previous) / total < self.tol:
                break
            previous = log_lik
        skill = self._accuracy(data, probas)
        wrong = (1 - skill) / (k - 1)
        confusion = np.broadcast_to(wrong[:, None, None], (data.n_annotators, k, k)).copy()
        confusion[:, np.arange(k), np.arange(k)] = skill[:, None]
        prior = np.maximum(probas.mean(axis=0), _EPS)
        self._confusion, self._prior = confusion, prior / prior.sum()
        self.log_likelihood_ = log_lik
        return probas, np.asarray(skill, dtype=np.float64)
