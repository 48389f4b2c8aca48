"""Near-duplicates: exact hashes, MinHash estimates against exact Jaccard, LSH recall against a
brute force (crafted corpus and an SST-2 sample), image hashes on BCCD, cosine pairs, clusters."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from accord.automation.near_duplicates import (
    ShingleSets,
    SimilarPairs,
    candidate_probability,
    cluster_labels,
    content_hash,
    cosine_pairs,
    estimate_jaccard,
    exact_duplicate_pairs,
    hamming_pairs,
    image_hashes,
    jaccard_of_pairs,
    lsh_parameters,
    minhash_signatures,
    normalise_text,
    redundancy_report,
    shingle_sets,
    text_near_duplicate_pairs,
    tokenize,
)

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
BCCD = DATASETS / "detection" / "bccd" / "BCCD" / "JPEGImages"


def pair_set(pairs: SimilarPairs) -> set[tuple[int, int]]:
    return set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True))


def brute_force_jaccard(sets: ShingleSets, threshold: float) -> SimilarPairs:
    """Every pair of non-empty sets with exact Jaccard >= threshold, from one sparse product."""
    matrix = sets.matrix()
    common = (matrix @ matrix.T).tocoo()
    upper = common.row < common.col
    i, j, inter = common.row[upper], common.col[upper], common.data[upper]
    jaccard = inter / (sets.sizes[i] + sets.sizes[j] - inter)
    keep = jaccard >= threshold
    return SimilarPairs.of(i[keep].astype(np.int64), j[keep].astype(np.int64), jaccard[keep])


# -- exact duplicates --------------------------------------------------------------------------


def test_normalisation_folds_case_width_and_whitespace_only() -> None:
    full_width_good = "\uff27\uff2f\uff2f\uff24"
    assert normalise_text(f"  The\tFILM\n is  {full_width_good} ") == "the film is good"
    assert normalise_text("Good.") != normalise_text("Good")
    assert content_hash("A  b") == content_hash("a b")
    assert content_hash(b"A  b") != content_hash(b"a b")


def test_exact_duplicates_pair_each_repeat_with_the_first() -> None:
    pairs = exact_duplicate_pairs(["a b", "c", "A  B", "c", "d", " a b "])
    assert pair_set(pairs) == {(0, 2), (1, 3), (0, 5)}
    assert pairs.score.tolist() == [1.0, 1.0, 1.0]


# -- shingles and MinHash ----------------------------------------------------------------------


def test_shingles_are_word_kgrams_and_short_texts_are_one_shingle() -> None:
    tokens = [tokenize(t) for t in ["the film , the film", "film", "", "the film"]]
    assert tokens[0] == ["the", "film", "the", "film"]
    sets = shingle_sets(tokens, k=2)
    # "the film", "film the" for the first; the lone word; nothing; "the film" again.
    assert sets.sizes.tolist() == [2, 1, 0, 1]
    first, fourth = sets.indices[0:2], sets.indices[3:4]
    assert set(fourth.tolist()) <= set(first.tolist())
    both = jaccard_of_pairs(sets, np.array([0, 0, 2]), np.array([3, 1, 2]))
    assert both.tolist() == [0.5, 0.0, 0.0]


def test_texts_without_words_give_empty_sets_and_no_pairs() -> None:
    sets = shingle_sets([[], []], k=2)
    assert sets.sizes.tolist() == [0, 0]
    assert len(text_near_duplicate_pairs(["", "!!", "..."])) == 0


@pytest.mark.parametrize("target", [0.0, 0.1, 0.25, 0.5, 0.8, 0.95, 1.0])
def test_minhash_estimates_exact_jaccard_within_0_1(target: float) -> None:
    # Sets of 400 elements sharing `shared` of them: Jaccard = shared / (800 - shared).
    rng = np.random.default_rng(3)
    estimates, exacts = [], []
    for trial in range(10):
        shared = round(800 * target / (1 + target))
        pool = rng.choice(10**6, size=800, replace=False) + trial * 10**6
        a, b = pool[:400], np.concatenate([pool[:shared], pool[400 : 800 - shared]])
        sets = ShingleSets.from_sets([a.tolist(), b.tolist()])
        exact = float(jaccard_of_pairs(sets, np.array([0]), np.array([1]))[0])
        signatures = minhash_signatures(sets, num_perm=256, seed=trial)
        estimates.append(estimate_jaccard(signatures[0], signatures[1]))
        exacts.append(exact)
    errors = np.abs(np.array(estimates) - np.array(exacts))
    # Standard error sqrt(J (1 - J) / 256) <= 0.031: 0.1 is over three of them.
    assert errors.max() <= 0.1
    assert errors.mean() <= 0.04
    if target in (0.0, 1.0):
        assert errors.max() <= 0.01


def test_band_layout_reaches_the_recall_at_the_threshold() -> None:
    for threshold in (0.5, 0.8, 0.9):
        bands, rows = lsh_parameters(threshold, 128)
        assert bands * rows <= 128
        assert float(candidate_probability(threshold, bands, rows)) >= 0.99
        # The S-curve keeps unrelated sets (Jaccard 0.1) out of the candidates.
        assert float(candidate_probability(0.1, bands, rows)) < 0.05
    assert lsh_parameters(0.8, 128) == (21, 6)


# -- LSH against brute force -------------------------------------------------------------------


def crafted_corpus(rng: np.random.Generator) -> list[str]:
    """60 base sentences of 12-30 words and 4 edits of each (a word replaced, dropped or
    appended), so that Jaccard values spread across 0.5-1.0 around the thresholds."""
    vocabulary = [f"w{i}" for i in range(3000)]
    texts: set[str] = set()
    for _ in range(60):
        base = list(rng.choice(vocabulary, size=int(rng.integers(12, 30))))
        texts.add(" ".join(base))
        for _ in range(4):
            words = list(base)
            for _ in range(int(rng.integers(1, 4))):
                where = int(rng.integers(len(words)))
                action = rng.integers(3)
                if action == 0:
                    words[where] = str(rng.choice(vocabulary))
                elif action == 1 and len(words) > 3:
                    del words[where]
                else:
                    words.append(str(rng.choice(vocabulary)))
            texts.add(" ".join(words))
    return sorted(texts)


@pytest.mark.parametrize("threshold", [0.7, 0.8, 0.9])
def test_lsh_finds_every_pair_above_the_threshold(threshold: float) -> None:
    texts = crafted_corpus(np.random.default_rng(11))
    truth = brute_force_jaccard(shingle_sets([tokenize(t) for t in texts], 2), threshold)
    found = text_near_duplicate_pairs(texts, threshold, k=2, num_perm=128, seed=5)
    assert len(truth) > 25  # the corpus does exercise the threshold
    assert pair_set(found) == pair_set(truth)  # recall 1.0 and nothing extra
    assert found.score.min() >= threshold
    np.testing.assert_allclose(found.score, truth.score)


def test_lsh_with_a_weak_band_layout_still_never_returns_a_pair_below_the_threshold() -> None:
    texts = crafted_corpus(np.random.default_rng(12))
    found = text_near_duplicate_pairs(texts, 0.8, bands=2, rows=16)
    truth = brute_force_jaccard(shingle_sets([tokenize(t) for t in texts], 2), 0.8)
    assert pair_set(found) < pair_set(truth)  # this layout misses pairs...
    assert found.score.min() >= 0.8  # ...but what it returns is verified


@pytest.fixture(scope="module")
def sst2_sample() -> list[str]:
    frame = pd.read_csv(DATASETS / "text" / "sst2.csv")
    return frame["text"].sample(6000, random_state=0).tolist()


@pytest.mark.parametrize("threshold", [0.8, 0.9])
def test_sst2_redundancy_equals_brute_force_on_a_sample(
    sst2_sample: list[str], threshold: float
) -> None:
    n = len(sst2_sample)
    exact = exact_duplicate_pairs(sst2_sample)
    found = text_near_duplicate_pairs(sst2_sample, threshold)
    tokens = [tokenize(t) for t in sst2_sample]
    truth = brute_force_jaccard(shingle_sets(tokens, 2), threshold)
    expected = cluster_labels(n, truth, exact)
    labels = cluster_labels(n, found, exact)
    np.testing.assert_array_equal(labels, expected)
    report, reference = redundancy_report(labels), redundancy_report(expected)
    assert report.n_redundant == reference.n_redundant > len(exact)
    assert report.redundancy_rate == reference.redundancy_rate
    np.testing.assert_array_equal(report.cluster_sizes, reference.cluster_sizes)
    # Every returned pair is a brute-force pair (repeats of one word sequence included).
    assert pair_set(found) <= pair_set(truth)


# -- images ------------------------------------------------------------------------------------


def degraded(path: Path) -> Image.Image:
    """Half size and JPEG quality 60."""
    buffer = io.BytesIO()
    Image.open(path).resize((320, 240)).save(buffer, "JPEG", quality=60)
    buffer.seek(0)
    return Image.open(buffer)


@pytest.mark.parametrize("method", ["dhash", "phash"])
def test_image_hash_survives_resize_and_compression_but_separates_images(method: str) -> None:
    paths = sorted(BCCD.glob("*.jpg"))[:12]
    originals = image_hashes(paths, method)
    copies = image_hashes([degraded(p) for p in paths], method)
    assert originals.shape == (12, 64)
    copy_distance = (originals != copies).sum(axis=1)
    assert copy_distance.max() <= 3
    both = np.concatenate([originals, copies])
    pairs = hamming_pairs(both, max_distance=10, chunk=5)
    assert pair_set(pairs) == {(i, i + 12) for i in range(12)}
    np.testing.assert_array_equal(pairs.score, copy_distance)


def test_bccd_holds_one_near_duplicate_image_pair() -> None:
    paths = sorted(BCCD.glob("*.jpg"))
    assert len(paths) == 364
    for method in ("dhash", "phash"):
        pairs = hamming_pairs(image_hashes(paths, method), max_distance=10)
        named = {(paths[i].stem, paths[j].stem) for i, j in pair_set(pairs)}
        assert named == {("BloodImage_00037", "BloodImage_00038")}


def test_hamming_pairs_on_crafted_hashes() -> None:
    hashes = np.zeros((4, 64), dtype=bool)
    hashes[1, :3] = True
    hashes[2, :20] = True
    hashes[3, 9:20] = True  # 11 from hash 0, 9 from hash 2
    pairs = hamming_pairs(hashes, max_distance=10)
    assert pair_set(pairs) == {(0, 1), (2, 3)}
    assert pairs.score.tolist() == [3.0, 9.0]
    assert len(hamming_pairs(hashes, max_distance=11)) == 3


# -- embeddings --------------------------------------------------------------------------------


def test_cosine_pairs_equal_brute_force() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=(150, 32))
    vectors = np.concatenate([base, base[:40] * 3 + rng.normal(scale=0.3, size=(40, 32))])
    vectors[7] = 0.0
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-300)
    similarity = unit @ unit.T
    i, j = np.nonzero(np.triu(similarity >= 0.9, k=1))
    pairs = cosine_pairs(vectors, 0.9, chunk=17)
    assert len(i) > 30
    assert pair_set(pairs) == set(zip(i.tolist(), j.tolist(), strict=True))
    np.testing.assert_allclose(pairs.score, similarity[i, j])
    assert 7 not in pairs.left.tolist() + pairs.right.tolist()


# -- clusters ----------------------------------------------------------------------------------


def test_clusters_and_redundancy_report() -> None:
    pairs = SimilarPairs.of(np.array([2, 1, 4]), np.array([1, 0, 5]), np.ones(3))
    labels = cluster_labels(7, pairs)
    assert labels.tolist() == [0, 0, 0, 3, 4, 4, 6]
    report = redundancy_report(labels)
    assert (report.n_items, report.n_clusters, report.n_redundant) == (7, 4, 3)
    assert report.redundancy_rate == pytest.approx(3 / 7)
    assert report.largest() == [(3, 0), (2, 4)]
    assert redundancy_report(cluster_labels(3)).redundancy_rate == 0.0
