"""Active learning: which unlabelled items to ask people about next.

Uncertainty sampling ranks items by how unsure the model is (:func:`uncertainty`); core-set
selection spreads a batch over the embedding space by farthest-first traversal from what is
already labelled (:func:`k_center_greedy`); :func:`hybrid` does the second among the most
uncertain items. Density-weighted uncertainty (:func:`density_weighted`, the information
density of Settles & Craven 2008) multiplies the uncertainty by :func:`information_density`,
the mean cosine similarity of an item to the unlabelled pool raised to a power beta (1 by
default), so that items typical of the pool come before outliers the model is equally unsure
of. :func:`queue_scores` turns any strategy into one priority per item for the work queue.
Pure numpy: nothing here touches the database.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from accord.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

UNCERTAINTY_METHODS = ("least_confidence", "margin", "entropy")
STRATEGIES = ("least_confidence", "margin", "entropy", "k_center", "hybrid", "density_weighted")
METRICS = ("cosine", "euclidean")
DEFAULT_BUDGET = 100
_CHUNK_CELLS = 1 << 23  # distance cells computed at once against the labelled set (64 MiB)


def _choice_error(field: str, value: str, allowed: tuple[str, ...]) -> InvalidInput:
    return InvalidInput(
        f"{field} must be one of {', '.join(allowed)}, not {value!r}",
        [{"field": field, "rule": "choice"}],
    )


def uncertainty(probas: NDArray[np.float64], method: str) -> NDArray[np.float64]:
    """How unsure the model is about each row of class probabilities ``(n, c)``, in [0, 1],
    higher = more uncertain:

    - ``least_confidence``: 1 - p1
    - ``margin``: 1 - (p1 - p2)
    - ``entropy``: -sum p log p / log c

    where p1 >= p2 are the two largest probabilities of the row. A row holding a NaN (no
    prediction for that item) counts as maximally uncertain: 1.
    """
    if method not in UNCERTAINTY_METHODS:
        raise _choice_error("method", method, UNCERTAINTY_METHODS)
    p = np.asarray(probas, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise InvalidInput(
            "probas must be a 2-D array with one column per class",
            [{"field": "probas", "rule": "shape"}],
        )
    n, c = p.shape
    missing = np.asarray(np.isnan(p).any(axis=1), dtype=bool)
    p = np.clip(np.where(missing[:, None], 1.0 / c, p), 0.0, 1.0)
    if method == "least_confidence":
        scores = 1.0 - p.max(axis=1)
    elif method == "margin":
        if c == 1:
            scores = 1.0 - p[:, 0]
        else:
            two = -np.partition(-p, 1, axis=1)[:, :2]
            scores = 1.0 - (two[:, 0] - two[:, 1])
    elif c == 1:
        scores = np.zeros(n)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(p), 0.0)
        scores = -terms.sum(axis=1) / np.log(c)
    out: FloatArray = np.clip(scores, 0.0, 1.0).astype(np.float64)
    out[missing] = 1.0
    return out


def _check_labeled(labeled: NDArray[np.bool_], n: int) -> BoolArray:
    mask = np.asarray(labeled, dtype=bool).reshape(-1)
    if mask.shape[0] != n:
        raise InvalidInput(
            f"labeled must hold one flag per row ({n}), not {mask.shape[0]}",
            [{"field": "labeled", "rule": "shape"}],
        )
    return mask


def _check_rows(vectors: NDArray[np.float32], n: int) -> None:
    if np.asarray(vectors).shape[0] != n:
        raise InvalidInput(
            "probas and vectors must have the same number of rows",
            [{"field": "vectors", "rule": "shape"}],
        )


def _check_budget(budget: int) -> int:
    if budget < 0:
        raise InvalidInput("budget must not be negative", [{"field": "budget", "rule": "range"}])
    return int(budget)


def _prepare(vectors: NDArray[Any], metric: str) -> NDArray[np.float32]:
    if metric not in METRICS:
        raise _choice_error("metric", metric, METRICS)
    x = np.array(vectors, dtype=np.float32, copy=True)
    if x.ndim != 2:
        raise InvalidInput("vectors must be a 2-D array", [{"field": "vectors", "rule": "shape"}])
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1)
        nonzero = norms > 0
        x[nonzero] /= norms[nonzero, None]
    return x


def _distances(
    x: NDArray[np.float32], center: NDArray[np.float32], metric: str
) -> NDArray[np.float32]:
    """Distance of every row of ``x`` to one ``center`` (cosine distance, or Euclidean)."""
    if metric == "cosine":
        out: NDArray[np.float32] = np.float32(1.0) - x @ center
        return out
    diff = x - center
    out = np.sqrt(np.einsum("nd,nd->n", diff, diff)).astype(np.float32)
    return out


def _min_distances(
    x: NDArray[np.float32], rows: IntArray, centers: IntArray, metric: str
) -> NDArray[np.float32]:
    """For each of ``rows``, the distance to its nearest row among ``centers``, in chunks."""
    out = np.empty(len(rows), dtype=np.float32)
    c = x[centers]
    step = max(1, _CHUNK_CELLS // max(1, len(centers)))
    c_sq = np.einsum("kd,kd->k", c, c) if metric == "euclidean" else None
    for start in range(0, len(rows), step):
        block = x[rows[start : start + step]]
        if c_sq is None:
            out[start : start + step] = 1.0 - (block @ c.T).max(axis=1)
        else:
            sq = np.einsum("bd,bd->b", block, block)[:, None] - 2.0 * (block @ c.T) + c_sq
            out[start : start + step] = np.sqrt(np.maximum(sq.min(axis=1), 0.0))
    return out


def k_center_greedy(
    vectors: NDArray[np.float32],
    labeled: NDArray[np.bool_],
    budget: int,
    *,
    metric: str = "cosine",
) -> NDArray[np.int64]:
    """Farthest-first traversal: ``budget`` unlabelled rows, each the one farthest from every
    labelled or already chosen row, in pick order (the greedy 2-approximation of k-center).

    ``metric="cosine"`` (default) measures 1 - cosine similarity between the L2-normalised
    rows; ``"euclidean"`` the Euclidean distance between the rows as given (on unit-length
    rows both give the same order). Without labelled rows the traversal starts from the row
    nearest the mean of all rows. Equal distances go to the lowest row.

    Cost: one chunked matrix product of the unlabelled rows against the labelled ones, then
    one matrix-vector product over the unlabelled rows per pick; memory O(n) beyond a copy
    of the unlabelled rows.
    """
    budget = _check_budget(budget)
    x = _prepare(vectors, metric)
    n = x.shape[0]
    mask = _check_labeled(labeled, n)
    unlabeled = np.flatnonzero(~mask).astype(np.int64)
    budget = min(budget, len(unlabeled))
    picks = np.empty(budget, dtype=np.int64)
    if budget == 0:
        return picks
    pool = x[unlabeled]
    if mask.any():
        min_dist = _min_distances(x, unlabeled, np.flatnonzero(mask).astype(np.int64), metric)
        row = int(np.argmax(min_dist))
    else:
        min_dist = np.full(len(unlabeled), np.inf, dtype=np.float32)
        mean = pool.mean(axis=0)
        if metric == "cosine":
            norm = float(np.linalg.norm(mean))
            mean = mean / norm if norm > 0 else mean
        row = int(np.argmin(_distances(pool, mean.astype(np.float32), metric)))
    near = np.empty(len(unlabeled), dtype=np.float32)
    for i in range(budget):
        picks[i] = unlabeled[row]
        if metric == "cosine":
            np.dot(pool, pool[row], out=near)
            np.subtract(np.float32(1.0), near, out=near)
        else:
            near[:] = _distances(pool, pool[row], metric)
        np.minimum(min_dist, near, out=min_dist)
        min_dist[row] = -np.inf
        row = int(np.argmax(min_dist))
    return picks


def hybrid(
    probas: NDArray[np.float64],
    vectors: NDArray[np.float32],
    labeled: NDArray[np.bool_],
    budget: int,
    candidates_factor: int = 10,
    *,
    method: str = "margin",
    metric: str = "cosine",
) -> NDArray[np.int64]:
    """Uncertainty first, diversity second: of the ``budget * candidates_factor`` most
    uncertain unlabelled rows (by ``method``), the ``budget`` that a k-center greedy traversal
    picks, counting distances to the labelled rows too. Rows in pick order."""
    budget = _check_budget(budget)
    if candidates_factor < 1:
        raise InvalidInput(
            "candidates_factor must be at least 1",
            [{"field": "candidates_factor", "rule": "range"}],
        )
    scores = uncertainty(probas, method)
    n = len(scores)
    mask = _check_labeled(labeled, n)
    _check_rows(vectors, n)
    unlabeled = np.flatnonzero(~mask)
    n_candidates = min(len(unlabeled), budget * candidates_factor)
    # most uncertain first; equal scores by row order
    order = np.lexsort((unlabeled, -scores[unlabeled]))
    candidates = np.sort(unlabeled[order[:n_candidates]])
    subset = np.concatenate([np.flatnonzero(mask), candidates]).astype(np.int64)
    sub_labeled = np.zeros(len(subset), dtype=bool)
    sub_labeled[: int(mask.sum())] = True
    picks = k_center_greedy(np.asarray(vectors)[subset], sub_labeled, budget, metric=metric)
    return subset[picks]


def information_density(vectors: NDArray[Any], labeled: NDArray[np.bool_]) -> FloatArray:
    """For every row, its mean cosine similarity to the unlabelled rows (itself included when
    it is unlabelled), clipped at 0: how typical of the pool it is.

    The mean of the similarities to the L2-normalised unlabelled rows equals the similarity
    to their (not renormalised) mean, so this is one matrix-vector product, O(n d), exact. An
    all-zero row is similar to nothing (0); negative means (a row that points away from the
    pool on average) count as 0. Without unlabelled rows every row scores 0.
    """
    x = _prepare(vectors, "cosine")
    mask = _check_labeled(labeled, x.shape[0])
    pool = np.flatnonzero(~mask)
    if not len(pool):
        return np.zeros(x.shape[0], dtype=np.float64)
    mean = x[pool].sum(axis=0, dtype=np.float64) / len(pool)
    out: FloatArray = np.clip((x @ mean.astype(np.float32)).astype(np.float64), 0.0, 1.0)
    return out


def _check_beta(beta: float) -> float:
    value = float(beta)
    if not np.isfinite(value) or value < 0:
        raise InvalidInput(
            "beta must be a finite number, at least 0", [{"field": "beta", "rule": "range"}]
        )
    return value


def density_weighted(
    probas: NDArray[np.float64],
    vectors: NDArray[np.float32],
    labeled: NDArray[np.bool_],
    *,
    beta: float = 1.0,
    method: str = "margin",
) -> FloatArray:
    """Information density (Settles & Craven 2008) for every row: its uncertainty by ``method``
    times its :func:`information_density` (mean cosine similarity to the unlabelled rows)
    to the power ``beta``. ``beta = 0`` is plain uncertainty sampling; larger values favour
    typical rows more. Values in [0, 1]; labelled rows are scored too (they only shape the
    pool by being left out of it)."""
    beta = _check_beta(beta)
    scores = uncertainty(probas, method)
    n = len(scores)
    mask = _check_labeled(labeled, n)
    _check_rows(vectors, n)
    density = information_density(vectors, mask)
    out: FloatArray = scores * density**beta
    return out


def queue_scores(
    strategy: str,
    *,
    probas: NDArray[np.float64] | None,
    vectors: NDArray[np.float32] | None,
    labeled: NDArray[np.bool_],
    budget: int | None = None,
    method: str = "margin",
    candidates_factor: int = 10,
    beta: float = 1.0,
) -> NDArray[np.float64]:
    """A priority for every row (higher = ask sooner); labelled rows get -inf.

    - ``least_confidence`` / ``margin`` / ``entropy`` (need ``probas``): the uncertainty.
    - ``density_weighted`` (needs both): the uncertainty by ``method`` times the mean cosine
      similarity to the unlabelled rows to the power ``beta`` (:func:`density_weighted`).
    - ``k_center`` (needs ``vectors``) and ``hybrid`` (needs both): the ``budget`` rows the
      selection picks (default 100) score 1 + budget, budget, ..., 2 in pick order, above
      every other row; the other unlabelled rows keep their uncertainty by ``method`` (in
      [0, 1]), or 0 without ``probas``, so the queue goes on sensibly once the batch is done.
    """
    if strategy not in STRATEGIES:
        raise _choice_error("strategy", strategy, STRATEGIES)
    mask = np.asarray(labeled, dtype=bool).reshape(-1)
    n = mask.shape[0]
    if probas is not None and np.asarray(probas).shape[0] != n:
        raise InvalidInput(
            "probas must hold one row per item", [{"field": "probas", "rule": "shape"}]
        )
    if vectors is not None and np.asarray(vectors).shape[0] != n:
        raise InvalidInput(
            "vectors must hold one row per item", [{"field": "vectors", "rule": "shape"}]
        )
    needs_probas = strategy in UNCERTAINTY_METHODS or strategy in ("hybrid", "density_weighted")
    needs_vectors = strategy in ("k_center", "hybrid", "density_weighted")
    if needs_probas and probas is None:
        raise InvalidInput(
            f"the {strategy} strategy needs model probabilities",
            [{"field": "probas", "rule": "required"}],
        )
    if needs_vectors and vectors is None:
        raise InvalidInput(
            f"the {strategy} strategy needs item vectors",
            [{"field": "vectors", "rule": "required"}],
        )
    if strategy in UNCERTAINTY_METHODS:
        assert probas is not None
        scores = uncertainty(probas, strategy)
    elif strategy == "density_weighted":
        assert probas is not None and vectors is not None
        scores = density_weighted(probas, vectors, mask, beta=beta, method=method)
    else:
        assert vectors is not None
        size = DEFAULT_BUDGET if budget is None else _check_budget(budget)
        scores = uncertainty(probas, method) if probas is not None else np.zeros(n)
        if strategy == "k_center":
            picks = k_center_greedy(vectors, mask, size)
        else:
            assert probas is not None
            picks = hybrid(probas, vectors, mask, size, candidates_factor, method=method)
        scores[picks] = 1.0 + np.arange(len(picks), 0, -1, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    scores[mask] = -np.inf
    return scores
