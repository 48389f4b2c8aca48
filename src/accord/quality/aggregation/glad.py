"""GLAD: annotator ability and item difficulty jointly (Whitehill et al., NeurIPS 2009).

The M-step maximises over one ability per annotator and one difficulty per item. Given the
difficulties the objective separates into one concave problem per annotator, and given the
abilities into one problem per item, so it alternates damped Newton steps on the two blocks, each
a handful of ``np.bincount`` sums over label rows. A generic optimiser over all parameters at once
needs far more evaluations for the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
from scipy.special import expit

from accord.quality.aggregation._base import (
    CategoricalAggregator,
    Gold,
    check_positive_int,
    posterior_agreement,
    softmax_rows,
)
from accord.quality.aggregation.majority import vote_shares
from accord.quality.data import FloatArray, IntArray, LabelData


def _log_sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(-np.logaddexp(0.0, -x), dtype=np.float64)


def _expected(x: FloatArray, q: FloatArray, w: FloatArray, log_wrong_share: float) -> FloatArray:
    """Per-row expected complete-data log-likelihood given P(answer correct) = q."""
    return w * (q * _log_sigmoid(x) + (1 - q) * (_log_sigmoid(-x) - log_wrong_share))


def _ability_rows(
    ann: IntArray, scale: FloatArray, alpha: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Row logits ``alpha[a] * exp(beta[i])`` and their derivative in ``alpha``."""
    return alpha[ann] * scale, scale


def _difficulty_rows(
    item: IntArray, ability: FloatArray, beta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Row logits and their derivative in ``beta`` (equal, since d/db a e^b = a e^b)."""
    x = ability * np.exp(beta[item])
    return x, x


RowLogits = Callable[[FloatArray], tuple[FloatArray, FloatArray]]


class _Block:
    """One block of M-step parameters whose objective is a sum of independent per-owner terms."""

    def __init__(
        self,
        owner: IntArray,
        n: int,
        mean: float,
        w: FloatArray,
        q: FloatArray,
        log_wrong_share: float,
        *,
        second: bool = False,
    ) -> None:
        self.owner, self.n, self.mean, self.w, self.q = owner, n, mean, w, q
        self.log_wrong_share, self.second = log_wrong_share, second

    def value(self, theta: FloatArray, x: FloatArray) -> FloatArray:
        rows = _expected(x, self.q, self.w, self.log_wrong_share)
        return np.bincount(self.owner, rows, self.n) - 0.5 * (theta - self.mean) ** 2

    def step(self, theta: FloatArray, rows_of: RowLogits) -> FloatArray:
        """One damped Newton step per owner; a step is halved until it does not lose."""
        x, dx = rows_of(theta)
        f0 = self.value(theta, x)
        resid = self.w * (self.q - expit(x))
        grad = np.bincount(self.owner, resid * dx, self.n) - (theta - self.mean)
        hess = np.bincount(self.owner, self.w * expit(x) * expit(-x) * dx * dx, self.n) + 1.0
        if self.second:  # d2x/dbeta2 = x: the term that can make an item's problem non-concave
            hess -= np.bincount(self.owner, resid * x, self.n)
        step = grad / np.maximum(hess, 1.0)
        size = np.ones(self.n)
        worse = np.zeros(self.n, dtype=bool)
        for _ in range(20):
            candidate = theta + size * step
            worse = self.value(candidate, rows_of(candidate)[0]) < f0 - 1e-12
            if not worse.any():
                break
            size[worse] *= 0.5
        size[worse] = 0.0
        return np.asarray(theta + size * step, dtype=np.float64)


class GLAD(CategoricalAggregator):
    """Probability of a correct answer ``sigmoid(alpha[a] * exp(beta[i]))``.

    ``alpha[a]`` is the annotator's ability (negative: adversarial) and ``exp(beta[i]) > 0`` the
    item's inverse difficulty; a wrong answer is uniform over the other ``K - 1`` labels.
    Gaussian priors ``alpha ~ N(alpha_prior, 1)`` and ``beta ~ N(beta_prior, 1)`` keep items and
    annotators with few labels from running off to infinity. EM alternates the posterior over
    classes (E-step; gold items clamped) and ``m_step_iter`` alternating Newton sweeps over
    ``alpha`` and ``beta`` (M-step; each step is halved until it does not lower the objective),
    until the expected complete-data log-likelihood per unit of label weight changes by less
    than ``tol``. Class priors stay uniform unless ``fit_priors`` is set.

    Results: ``labels_``, ``probas_``, ``skills_`` (expected share of correct answers),
    ``alphas_`` (ability per annotator), ``betas_`` (log inverse difficulty per item).
    """

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-5,
        m_step_iter: int = 5,
        alpha_prior: float = 1.0,
        beta_prior: float = 1.0,
        fit_priors: bool = False,
    ) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.m_step_iter = m_step_iter
        self.alpha_prior = alpha_prior
        self.beta_prior = beta_prior
        self.fit_priors = fit_priors

    def _fit(self, data: LabelData, gold: Gold) -> tuple[FloatArray, FloatArray]:
        check_positive_int("n_iter", self.n_iter)
        check_positive_int("m_step_iter", self.m_step_iter)
        n_i, n_a, k = data.n_items, data.n_annotators, data.n_labels
        if k < 2:
            self._alpha, self._beta = np.full(n_a, self.alpha_prior), np.full(n_i, self.beta_prior)
            return np.ones((n_i, 1)), np.ones(n_a)
        item, ann, w = data.item_codes, data.annotator_codes, data.weights
        cell = item * k + data.label_codes
        log_wrong_share = np.log(k - 1.0)
        total = float(w.sum())

        def posterior(alpha: FloatArray, beta: FloatArray, prior: FloatArray) -> FloatArray:
            x = alpha[ann] * np.exp(beta[item])
            right, wrong = _log_sigmoid(x), _log_sigmoid(-x) - log_wrong_share
            base = np.bincount(item, weights=w * wrong, minlength=n_i)
            bonus = np.bincount(cell, weights=w * (right - wrong), minlength=n_i * k)
            scores = bonus.reshape(n_i, k) + base[:, None] + np.log(prior)
            return gold.clamp(softmax_rows(np.asarray(scores, dtype=np.float64))[0])

        alpha = np.full(n_a, self.alpha_prior, dtype=np.float64)
        beta = np.full(n_i, self.beta_prior, dtype=np.float64)
        prior = np.full(k, 1.0 / k)
        probas = gold.clamp(vote_shares(data))
        previous = np.inf
        for iteration in range(1, self.n_iter + 1):
            q = probas[item, data.label_codes]
            for _ in range(self.m_step_iter):
                by_annotator = _Block(ann, n_a, self.alpha_prior, w, q, log_wrong_share)
                new_alpha = by_annotator.step(
                    alpha, partial(_ability_rows, ann, np.exp(beta[item]))
                )
                by_item = _Block(item, n_i, self.beta_prior, w, q, log_wrong_share, second=True)
                new_beta = by_item.step(beta, partial(_difficulty_rows, item, new_alpha[ann]))
                moved = max(np.abs(new_alpha - alpha).max(), np.abs(new_beta - beta).max())
                alpha, beta = new_alpha, new_beta
                if moved < 1e-6:
                    break
            if self.fit_priors:
                prior = np.maximum(probas.mean(axis=0), 1e-10)
                prior /= prior.sum()
            x = alpha[ann] * np.exp(beta[item])
            loss = (
                -float(
                    _expected(x, q, w, log_wrong_share).sum()
                    - 0.5
                    * (
                        ((alpha - self.alpha_prior) ** 2).sum()
                        + ((beta - self.beta_prior) ** 2).sum()
                    )
                )
                / total
            )
            probas = posterior(alpha, beta, prior)
            self.n_iter_ = iteration
            if abs(previous - loss) < self.tol:
                break
            previous = loss
        self._alpha, self._beta = alpha, beta
        return probas, posterior_agreement(data, probas)

    def _after_fit(self, data: LabelData) -> None:
        self.alphas_ = pd.Series(
            self._alpha, index=data.annotators.rename("annotator"), name="alpha"
        )
        self.betas_ = pd.Series(self._beta, index=data.items.rename("item"), name="beta")
