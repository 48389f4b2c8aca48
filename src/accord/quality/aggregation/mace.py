"""MACE: multi-annotator competence estimation (Hovy et al., NAACL 2013).

All random restarts run at once: every array carries a leading restart axis, so ten restarts
cost about as much as one pass of numpy over the label rows, not ten Python loops.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import digamma

from accord.quality.aggregation._base import (
    CategoricalAggregator,
    Gold,
    check_positive_int,
    posterior_agreement,
)
from accord.quality.data import FloatArray, LabelData


def _variational(counts: FloatArray, prior: float | FloatArray) -> FloatArray:
    """Mean-field update ``exp(psi(count + prior) - psi(sum(count + prior)))`` on the last axis."""
    shifted = counts + prior
    out = np.exp(digamma(shifted) - digamma(shifted.sum(axis=-1, keepdims=True)))
    return np.asarray(out, dtype=np.float64)


def _normalise(counts: FloatArray, smoothing: float) -> FloatArray:
    shifted = counts + smoothing
    total = shifted.sum(axis=-1, keepdims=True)
    return np.asarray(np.divide(shifted, total, out=np.zeros_like(shifted), where=total > 0))


class MACE(CategoricalAggregator):
    """Each annotator either knows the answer (probability ``theta[a]``) or spams, in which case
    the answer is drawn from the annotator's own strategy distribution ``xi[a]``.

    ``method="vb"`` (default) uses variational Bayes with a ``Beta(alpha, beta)`` prior on
    ``theta`` and a symmetric ``Dirichlet(strategy_prior)`` on ``xi``; ``method="em"`` uses
    maximum likelihood with ``smoothing`` pseudo-counts (default ``0.01 / K``). ``n_restarts``
    random starts run in parallel for ``n_iter`` iterations each and the one with the highest
    marginal likelihood is kept. Gold items are clamped in every E-step.

    Label distribution: the paper fixes it to uniform. On data where one label dominates, a
    fixed uniform distribution can only absorb the surplus of that label into the spamming
    strategies, so competent annotators are fitted as spammers who favour it, and a minority
    answer from anyone then outweighs two majority answers. With ``fit_priors=True`` (default)
    the label distribution is estimated with the other parameters (``priors_``). The decision
    stays MACE's: ``probas_`` and ``labels_`` are the posterior under a uniform label
    distribution, i.e. what the answers themselves support, given the fitted annotators, unless
    ``decide_with_priors=True``, which uses the fitted distribution (the Bayes posterior: more
    accurate when the items to label are drawn like the data, but a lone rare answer then loses
    to the base rate). ``fit_priors=False`` is the paper's model throughout.

    Results: ``labels_``, ``probas_``, ``skills_`` (expected share of correct answers),
    ``competence_`` (``theta``), ``strategies_`` (``xi``, annotator × label), ``priors_`` (label
    distribution of the fitted model) and ``log_likelihood_`` of the kept restart.
    """

    def __init__(
        self,
        n_restarts: int = 10,
        n_iter: int = 50,
        method: Literal["vb", "em"] = "vb",
        alpha: float = 0.5,
        beta: float = 0.5,
        strategy_prior: float = 10.0,
        smoothing: float | None = None,
        default_noise: float = 0.5,
        random_state: int | None = 0,
        fit_priors: bool = True,
        decide_with_priors: bool = False,
    ) -> None:
        self.n_restarts = n_restarts
        self.n_iter = n_iter
        self.method = method
        self.alpha = alpha
        self.beta = beta
        self.strategy_prior = strategy_prior
        self.smoothing = smoothing
        self.default_noise = default_noise
        self.random_state = random_state
        self.fit_priors = fit_priors
        self.decide_with_priors = decide_with_priors

    def _fit(self, data: LabelData, gold: Gold) -> tuple[FloatArray, FloatArray]:
        check_positive_int("n_restarts", self.n_restarts)
        check_positive_int("n_iter", self.n_iter)
        if self.method not in ("vb", "em"):
            raise ValueError(f"method must be 'vb' or 'em', not {self.method!r}")
        s, n_i, n_a, k = self.n_restarts, data.n_items, data.n_annotators, data.n_labels
        item, ann, lab, w = data.item_codes, data.annotator_codes, data.label_codes, data.weights
        smoothing = 0.01 / k if self.smoothing is None else self.smoothing
        rng = np.random.default_rng(self.random_state)
        low, high = 1.0, 1.0 + self.default_noise
        spam_know = _normalise(rng.uniform(low, high, (s, n_a, 2)), 0.0)
        strategy = _normalise(rng.uniform(low, high, (s, n_a, k)), 0.0)

        restart = np.arange(s, dtype=np.int64)[:, None]
        # Every per-row quantity depends only on (restart, annotator, answer): it is computed
        # on that small table and gathered with precomputed flat positions; per-item sums are
        # bincounts into a (restart, label, item) layout so the softmax runs over long rows.
        item_slot = (restart * n_i + item).ravel()
        cell_slot = (restart * (k * n_i) + lab * n_i + item).ravel()
        ann_slot = (restart * n_a + ann).ravel()
        answer_slot = (restart * (n_a * k) + ann * k + lab).ravel()
        weights = np.tile(w, s)
        weight_per_annotator = np.tile(np.bincount(ann, w, n_a), s)

        def e_step(
            spam_know: FloatArray, strategy: FloatArray, log_prior: FloatArray
        ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
            spam = spam_know[:, :, :1] * strategy  # P(spamming and answering l)
            know = spam_know[:, :, 1:]
            log_spam = np.log(np.maximum(spam, 1e-300))
            gain = np.log(spam + know) - log_spam  # extra log-likelihood when l is the truth
            knew_share = know / (spam + know)  # P(knew | answered l, l is the truth)
            base = np.bincount(item_slot, weights * np.take(log_spam, answer_slot), s * n_i)
            bonus = np.bincount(cell_slot, weights * np.take(gain, answer_slot), s * k * n_i)
            scores = bonus.reshape(s, k, n_i) + base.reshape(s, 1, n_i) + log_prior[:, :, None]
            top = scores.max(axis=1, keepdims=True)
            scaled = np.exp(scores - top)
            total = scaled.sum(axis=1, keepdims=True)
            probas = scaled / total
            log_lik = (np.log(total) + top)[:, 0, :].sum(axis=1)
            if gold.items.shape[0]:
                probas[:, :, gold.items] = 0.0
                probas[:, gold.labels, gold.items] = 1.0
            knew = weights * np.take(probas, cell_slot) * np.take(knew_share, answer_slot)
            known_counts = np.bincount(ann_slot, knew, s * n_a)
            spam_counts = weight_per_annotator - known_counts
            strategy_counts = np.bincount(answer_slot, weights - knew, s * n_a * k)
            counts = np.stack([spam_counts, known_counts], axis=-1).reshape(s, n_a, 2)
            return (
                np.asarray(probas, dtype=np.float64),
                np.asarray(log_lik, dtype=np.float64),
                counts.astype(np.float64),
                strategy_counts.reshape(s, n_a, k).astype(np.float64),
            )

        priors = np.array([self.alpha, self.beta])
        uniform = np.full((s, k), -np.log(k))
        log_prior = uniform
        probas, log_lik, counts, strategy_counts = e_step(spam_know, strategy, log_prior)
        for iteration in range(1, self.n_iter + 1):
            if self.method == "vb":
                spam_know = _variational(counts, priors)
                strategy = _variational(strategy_counts, self.strategy_prior)
            else:
                spam_know = _normalise(counts, smoothing)
                strategy = _normalise(strategy_counts, smoothing)
            if self.fit_priors:
                prior = np.maximum(probas.mean(axis=2), 1e-10)
                log_prior = np.log(prior / prior.sum(axis=1, keepdims=True))
            probas, log_lik, counts, strategy_counts = e_step(spam_know, strategy, log_prior)
            self.n_iter_ = iteration
        best = int(np.argmax(log_lik))
        self.log_likelihood_ = float(log_lik[best])
        self._prior = np.exp(log_prior[best])
        if self.fit_priors and not self.decide_with_priors:
            # Same fitted annotators, MACE's uniform label distribution for the decision.
            probas = e_step(spam_know, strategy, uniform)[0]
        chosen = spam_know[best]
        self._competence = chosen[:, 1] / chosen.sum(axis=1)
        self._strategy = strategy[best] / strategy[best].sum(axis=1, keepdims=True)
        result = np.ascontiguousarray(probas[best].T)
        return result, posterior_agreement(data, result)

    def _after_fit(self, data: LabelData) -> None:
        annotators = data.annotators.rename("annotator")
        self.competence_ = pd.Series(self._competence, index=annotators, name="competence")
        self.strategies_ = pd.DataFrame(
            self._strategy, index=annotators, columns=data.labels.rename("label")
        )
        self.priors_ = pd.Series(self._prior, index=data.labels.rename("label"), name="prior")
