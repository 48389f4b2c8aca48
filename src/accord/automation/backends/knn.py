"""``knn``: the labels of the k most similar labelled items (cosine similarity of the item
vectors), for a single-choice control. Exact search with numpy, in blocks of queries, up to
``exact_limit`` labelled items (by default :data:`accord.automation.embeddings.EXACT_LIMIT`);
beyond it the neighbours come from the approximate usearch index of
:class:`~accord.automation.embeddings.VectorIndex` when the optional package usearch is
installed (``accord[ann]``), and from the exact search when it is not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from accord.automation.backends.base import (
    BackendError,
    BackendSpec,
    Example,
    ModelPrediction,
    Task,
    label_predictions,
    require_single_choice,
    single_label,
)
from accord.automation.backends.options import Options
from accord.automation.embeddings import EXACT_LIMIT, VectorIndex

# Similarities computed at once: queries x labelled items, float32 (about 128 MB).
BLOCK_CELLS = 32_000_000
WEIGHTS = ("similarity", "distance", "uniform")


def normalise(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows scaled to unit length; zero rows stay zero (similar to nothing)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True).astype(np.float32)
    norms[norms == 0] = 1
    out: NDArray[np.float32] = (vectors / norms).astype(np.float32, copy=False)
    return out


def top_k(sim: NDArray[np.float32], k: int, group: int = 32) -> NDArray[np.int64]:
    """Column indices of the k largest values of each row, in no particular order.

    Selecting among all columns costs about 15 ns a value; instead each row is cut into groups
    of ``group`` columns, the k groups with the largest maxima are kept (the k largest values
    lie in them: a value outside them is outdone by k group maxima), and the selection runs on
    their k x group values only."""
    m, n = sim.shape
    if k >= n:
        return np.broadcast_to(np.arange(n, dtype=np.int64), (m, n)).copy()
    full = n // group
    if full <= k:
        return np.argpartition(sim, n - k, axis=1)[:, n - k :].astype(np.int64)
    maxima = sim[:, : full * group].reshape(m, full, group).max(axis=2)
    if n > full * group:
        maxima = np.hstack([maxima, sim[:, full * group :].max(axis=1, keepdims=True)])
    groups = np.argpartition(maxima, maxima.shape[1] - k, axis=1)[:, -k:]
    candidates = (groups[:, :, None] * group + np.arange(group)).reshape(m, k * group)
    outside = candidates >= n  # the last, shorter group
    values = np.take_along_axis(sim, np.minimum(candidates, n - 1), axis=1)
    values[outside] = -np.inf
    best = np.argpartition(values, values.shape[1] - k, axis=1)[:, -k:]
    return np.take_along_axis(candidates, best, axis=1).astype(np.int64)


def unit64(vectors: NDArray[np.float32]) -> NDArray[np.float64]:
    """float64 copies of the rows (of any leading shape), scaled to unit length."""
    out = vectors.astype(np.float64)
    norms = np.linalg.norm(out, axis=-1, keepdims=True)
    norms[norms == 0] = 1
    result: NDArray[np.float64] = out / norms
    return result


def vote_weights(similarity: NDArray[np.float64], weights: str) -> NDArray[np.float64]:
    """One weight per neighbour (rows: queries).

    ``similarity``: the cosine similarity, negatives counted as 0 (a row of zeros votes
    uniformly). ``distance``: 1 / cosine distance, as scikit-learn's ``weights="distance"``; a
    neighbour at distance 0 outvotes all others. ``uniform``: one vote each."""
    sim = similarity
    if weights == "uniform":
        return np.ones_like(sim)
    if weights == "similarity":
        w = np.clip(sim, 0.0, None)
        empty = w.sum(axis=1) == 0
        w[empty] = 1.0
        return w
    distance = np.clip(1.0 - sim, 0.0, None)
    with np.errstate(divide="ignore"):
        w = 1.0 / distance
    exact = np.isinf(w)
    has_exact = exact.any(axis=1)
    w[has_exact] = exact[has_exact].astype(np.float64)
    return w


def stack(
    vectors: Sequence[NDArray[np.float32]], what: str, dim: int | None
) -> NDArray[np.float32]:
    """The vectors as rows of one float32 matrix; all of one length (``dim`` when given)."""
    dims = {int(np.asarray(v).size) for v in vectors}
    if dim is not None:
        dims.add(dim)
    if len(dims) > 1:
        shown = ", ".join(map(str, sorted(dims)))
        raise BackendError(
            f"the {what}' vectors have different lengths ({shown}): were they made by "
            "different embedders?",
            field=what,
            rule="vector_dimension",
        )
    return np.vstack([np.asarray(v, dtype=np.float32).reshape(1, -1) for v in vectors])


class KnnClassifier:
    """Config: ``k`` (default 10), ``weights`` (``"similarity"`` default, ``"distance"``,
    ``"uniform"``), ``exact_limit`` (labelled items searched exactly; beyond: approximately,
    when usearch is installed)."""

    kind = "knn"
    trainable = True
    needs_vectors = True

    def __init__(self, spec: BackendSpec) -> None:
        require_single_choice(spec, self.kind)
        options = Options(spec.config, ("k", "weights", "exact_limit"))
        self.k = options.integer("k", 10, at_most=1000)
        self.weights: str = options.choice("weights", "similarity", WEIGHTS)
        self.exact_limit = options.integer("exact_limit", EXACT_LIMIT, at_least=0)
        self.spec = spec
        self._version = ""
        self._vectors: NDArray[np.float32] | None = None
        self._codes: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._index: VectorIndex | None = None

    @property
    def version(self) -> str:
        return self._version

    @property
    def search(self) -> str:
        """How neighbours are found: ``"exact"``, or ``"usearch"`` (approximate)."""
        return "usearch" if self._index is not None else "exact"

    def fit(self, examples: Sequence[Example]) -> str:
        """Keeps the vectors and labels of the examples that have both."""
        position = {label: i for i, label in enumerate(self.spec.labels)}
        rows = sorted(
            (
                (e.item_id, label, e.vector)
                for e in examples
                if e.vector is not None and (label := single_label(self.spec, e.result)) is not None
            ),
            key=lambda row: (row[0], row[1]),
        )
        if not rows:
            raise BackendError(
                f"a knn backend needs labelled examples of {self.spec.control!r} with vectors; "
                "none were given (embed the project's items first)",
                field="examples",
                rule="no_vectors",
            )
        vectors = stack([v for _, _, v in rows], "examples", None)
        self._vectors = normalise(vectors)
        self._codes = np.array([position[label] for _, label, _ in rows], dtype=np.int64)
        self._index = None
        if len(rows) > self.exact_limit:
            index = VectorIndex(
                np.arange(len(rows), dtype=np.int64), self._vectors, exact_limit=self.exact_limit
            )
            if index.backend == "usearch":  # else usearch is not installed: stay exact
                self._index, self._vectors = index, index.vectors
        digest = hashlib.sha1(json.dumps({"k": self.k, "weights": self.weights}).encode())
        digest.update(json.dumps([[item_id, label] for item_id, label, _ in rows]).encode())
        digest.update(np.ascontiguousarray(vectors).tobytes())
        if self._index is not None:
            digest.update(b"usearch")  # approximate answers: another model than exact search
        self._version = "knn-" + digest.hexdigest()[:12]
        return self._version

    def predict(self, tasks: Sequence[Task]) -> list[ModelPrediction]:
        """Tasks without a vector are skipped."""
        if self._vectors is None:
            raise BackendError(
                "the knn backend is not trained: fit it on labelled examples first",
                field="version",
                rule="not_trained",
            )
        with_vector = [t for t in tasks if t.vector is not None]
        if not with_vector:
            return []
        dim = self._vectors.shape[1]
        queries = normalise(
            stack([t.vector for t in with_vector if t.vector is not None], "tasks", dim)
        )
        return label_predictions(self.spec, [t.item_id for t in with_vector], self.probas(queries))

    def neighbours(
        self, queries: NDArray[np.float32]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """For each (unit) query the indices of its k most similar examples and their cosine
        similarities, most similar first (ties: lower index first).

        The candidates are chosen with float32 products (exact search) or by the usearch index
        (beyond ``exact_limit`` examples); their similarities are then recomputed in float64,
        so weights such as 1 / distance are not dominated by float32 rounding (two identical
        vectors are at distance 0, not 1e-7)."""
        assert self._vectors is not None
        train = self._vectors
        n, dim = train.shape
        k = min(self.k, n)
        block = max(1, BLOCK_CELLS // (2 * k * max(dim, 1)))
        if self._index is None:  # the similarity matrix of a block must fit too
            block = max(1, min(BLOCK_CELLS // n, block))
        index = np.empty((len(queries), k), dtype=np.int64)
        sims = np.empty((len(queries), k), dtype=np.float64)
        for start in range(0, len(queries), block):
            chunk = queries[start : start + block]
            top = self._candidates(chunk, k)
            top_sim = np.einsum("qd,qkd->qk", unit64(chunk), unit64(train[top]))
            order = np.lexsort((top, -top_sim), axis=1)
            index[start : start + block] = np.take_along_axis(top, order, axis=1)
            sims[start : start + block] = np.take_along_axis(top_sim, order, axis=1)
        return index, sims

    def _candidates(self, chunk: NDArray[np.float32], k: int) -> NDArray[np.int64]:
        """The indices of k examples near each query: the k most similar (exact search), or
        those the approximate index finds, exactly searched for a query it finds fewer for."""
        assert self._vectors is not None
        if self._index is None:
            return top_k(chunk @ self._vectors.T, k)
        found, _ = self._index.search(chunk, k)
        short = (found < 0).any(axis=1)
        if short.any():
            found[short] = top_k(chunk[short] @ self._vectors.T, k)
        return found

    def probas(self, queries: NDArray[np.float32]) -> NDArray[np.float64]:
        """(n, labels) vote shares of each query's neighbours."""
        index, sims = self.neighbours(queries)
        weights = vote_weights(sims, self.weights)
        codes = self._codes[index]
        n_labels = len(self.spec.labels)
        totals = np.zeros((len(queries), n_labels), dtype=np.float64)
        rows = np.repeat(np.arange(len(queries)), codes.shape[1])
        np.add.at(totals, (rows, codes.ravel()), weights.ravel())
        out: NDArray[np.float64] = totals / totals.sum(axis=1, keepdims=True)
        return out
