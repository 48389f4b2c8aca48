"""Active learning: uncertainty measures on hand-computed probabilities, k-center greedy against
known farthest-first orders and a plain reference, its properties (permutation equivariance,
labelled rows never chosen, the budget), hybrid selection, information density against
hand-computed values and a pairwise reference, and the queue scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray

from accord.automation.active_learning import (
    STRATEGIES,
    density_weighted,
    hybrid,
    information_density,
    k_center_greedy,
    queue_scores,
    uncertainty,
)
from accord.automation.embeddings import TfidfSvdEmbedder
from accord.errors import InvalidInput

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"

PROBAS = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.4, 0.4, 0.2],
        [1.0, 0.0, 0.0],
        [1 / 3, 1 / 3, 1 / 3],
        [0.1, 0.6, 0.3],
    ]
)


# -- uncertainty ---------------------------------------------------------------------------------


def test_least_confidence_is_one_minus_the_top_probability() -> None:
    assert np.allclose(uncertainty(PROBAS, "least_confidence"), [0.3, 0.6, 0.0, 2 / 3, 0.4])


def test_margin_is_one_minus_the_gap_between_the_two_best() -> None:
    assert np.allclose(uncertainty(PROBAS, "margin"), [0.5, 1.0, 0.0, 1.0, 0.7])


def test_entropy_is_normalised_by_log_of_the_class_count() -> None:
    # -(0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1) / ln 3 = 0.801819 / 1.098612
    expected = [0.7298467, 0.9602297, 0.0, 1.0, 0.8173454]
    assert np.allclose(uncertainty(PROBAS, "entropy"), expected, atol=1e-6)
    binary = np.array([[0.9, 0.1], [0.5, 0.5]])
    assert np.allclose(uncertainty(binary, "entropy"), [0.4689956, 1.0], atol=1e-6)
    four = np.array([[0.5, 0.3, 0.15, 0.05]])
    assert np.allclose(uncertainty(four, "entropy"), [0.8238655], atol=1e-6)


def test_binary_measures_rank_rows_alike_and_missing_rows_are_most_uncertain() -> None:
    p1 = np.array([0.95, 0.6, 0.5, 0.2, np.nan])
    probas = np.column_stack([p1, 1 - p1])
    lc = uncertainty(probas, "least_confidence")
    assert np.allclose(lc[:4], [0.05, 0.4, 0.5, 0.2])
    assert np.allclose(uncertainty(probas, "margin")[:4], [0.1, 0.8, 1.0, 0.4])
    for method in ("least_confidence", "margin", "entropy"):
        scores = uncertainty(probas, method)
        assert scores[4] == 1.0
        assert np.argsort(scores[:4]).tolist() == [0, 3, 1, 2]


def test_uncertainty_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        uncertainty(PROBAS, "variance")
    assert caught.value.details == [{"field": "method", "rule": "choice"}]
    with pytest.raises(InvalidInput):
        uncertainty(np.array([0.2, 0.8]), "margin")


# -- k-center greedy -----------------------------------------------------------------------------


def test_k_center_euclidean_follows_the_known_farthest_first_order() -> None:
    points = np.array(
        [[0, 0], [1, 0], [10, 0], [5, 5], [0, 8], [9, 1]], dtype=np.float32
    )  # A labelled, B, C, D, E, F
    labeled = np.array([True, False, False, False, False, False])
    # from A: C 10 is farthest; then E 8 (C brought F to 1.41); then D 5.83; then F 1.41, B 1
    picks = k_center_greedy(points, labeled, 5, metric="euclidean")
    assert picks.tolist() == [2, 4, 3, 5, 1]
    assert k_center_greedy(points, labeled, 2, metric="euclidean").tolist() == [2, 4]


def test_k_center_cosine_follows_angles_whatever_the_lengths() -> None:
    angles = np.radians([0, 20, 60, 90, 180, 130])
    lengths = np.array([1.0, 3.0, 0.5, 7.0, 2.0, 0.1])
    points = (np.column_stack([np.cos(angles), np.sin(angles)]) * lengths[:, None]).astype(
        np.float32
    )
    labeled = np.zeros(6, dtype=bool)
    labeled[0] = True
    # angular distances from 0 deg: 180 first; then 90 (90 from both); then 130 (40 from 90);
    # then 60 (30 from 90); then 20
    assert k_center_greedy(points, labeled, 5).tolist() == [4, 3, 5, 2, 1]


def reference_k_center(
    x: NDArray[np.float32], labeled: NDArray[np.bool_], budget: int
) -> list[int]:
    """The textbook algorithm: recompute every distance to every center at each step."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    centers = list(np.flatnonzero(labeled))
    if not centers:
        mean = x.mean(axis=0)
        centers = [int(np.argmax(x @ (mean / np.linalg.norm(mean))))]
    picks = [] if labeled.any() else [centers[0]]
    while len(picks) < budget:
        distance = (1.0 - x @ x[centers].T).min(axis=1)
        distance[centers] = -np.inf
        best = int(np.argmax(distance))
        picks.append(best)
        centers.append(best)
    return picks


@pytest.mark.parametrize("n_labeled", [0, 1, 40])
def test_k_center_equals_the_textbook_algorithm(n_labeled: int) -> None:
    rng = np.random.default_rng(n_labeled)
    x = rng.standard_normal((400, 8)).astype(np.float32)
    labeled = np.zeros(400, dtype=bool)
    labeled[rng.choice(400, n_labeled, replace=False)] = True
    picks = k_center_greedy(x, labeled, 30)
    assert picks.tolist() == reference_k_center(x, labeled, 30)


def test_k_center_without_labels_starts_nearest_the_mean() -> None:
    points = np.array([[0, 0], [4, 0], [2, 1], [2, 9], [3, 0]], dtype=np.float32)
    # mean (2.2, 2): row 2 is nearest; row 3 is farthest from it; then row 0
    picks = k_center_greedy(points, np.zeros(5, dtype=bool), 3, metric="euclidean")
    assert picks.tolist() == [2, 3, 0]


def test_k_center_is_permutation_equivariant() -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((300, 16)).astype(np.float32)
    for n_labeled in (0, 25):
        labeled = np.zeros(300, dtype=bool)
        labeled[rng.choice(300, n_labeled, replace=False)] = True
        perm = rng.permutation(300)
        picks = k_center_greedy(x, labeled, 20)
        permuted = k_center_greedy(x[perm], labeled[perm], 20)
        assert perm[permuted].tolist() == picks.tolist()


def test_k_center_respects_the_budget_and_the_labelled_rows() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((200, 4)).astype(np.float32)
    labeled = rng.random(200) < 0.3
    picks = k_center_greedy(x, labeled, 50)
    assert len(picks) == 50
    assert len(set(picks.tolist())) == 50
    assert not labeled[picks].any()
    everything = k_center_greedy(x, labeled, 10_000)
    assert sorted(everything.tolist()) == np.flatnonzero(~labeled).tolist()
    assert k_center_greedy(x, labeled, 0).tolist() == []
    assert k_center_greedy(x, np.ones(200, dtype=bool), 5).tolist() == []
    with pytest.raises(InvalidInput):
        k_center_greedy(x, labeled, -1)
    with pytest.raises(InvalidInput):
        k_center_greedy(x, labeled[:10], 5)
    with pytest.raises(InvalidInput):
        k_center_greedy(x, labeled, 5, metric="manhattan")


@pytest.fixture(scope="module")
def sst2_vectors() -> NDArray[np.float32]:
    texts = pd.read_csv(DATASETS / "text" / "sst2.csv")["text"].tolist()[:8000]
    embedder = TfidfSvdEmbedder(dim=64)
    embedder.fit(texts)
    vectors = embedder.embed(texts)
    return vectors[np.linalg.norm(vectors, axis=1) > 0]  # texts with a known word


def coverage_radius(x: NDArray[np.float32], centers: NDArray[np.int64]) -> float:
    """The cosine distance from the least covered row to its nearest center."""
    return float((1.0 - x @ x[centers].T).min(axis=1).max())


def test_k_center_covers_sst2_sentences_better_than_random(
    sst2_vectors: NDArray[np.float32],
) -> None:
    labeled = np.zeros(len(sst2_vectors), dtype=bool)
    labeled[:50] = True
    picks = k_center_greedy(sst2_vectors, labeled, 200)
    chosen = np.concatenate([np.arange(50), picks])
    random = np.concatenate(
        [np.arange(50), np.random.default_rng(0).choice(np.arange(50, 8000), 200, replace=False)]
    )
    # the farthest sentence from the chosen ones is much nearer than with a random choice
    assert coverage_radius(sst2_vectors, chosen) < coverage_radius(sst2_vectors, random) - 0.1


def test_k_center_scales_to_200_000_by_128() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200_000, 128)).astype(np.float32)
    labeled = np.zeros(200_000, dtype=bool)
    labeled[rng.choice(200_000, 500, replace=False)] = True
    picks = k_center_greedy(x, labeled, 30)
    assert len(set(picks.tolist())) == 30
    assert not labeled[picks].any()


# -- hybrid --------------------------------------------------------------------------------------


def test_hybrid_spreads_the_most_uncertain_rows() -> None:
    rng = np.random.default_rng(2)
    n = 500
    x = rng.standard_normal((n, 8)).astype(np.float32)
    p1 = rng.random(n)
    probas = np.column_stack([p1, 1 - p1])
    labeled = rng.random(n) < 0.2
    margin = uncertainty(probas, "margin")
    margin[labeled] = -np.inf
    top_40 = set(np.argsort(-margin)[:40].tolist())

    picks = hybrid(probas, x, labeled, 10, candidates_factor=4)
    assert len(picks) == 10
    assert set(picks.tolist()) <= top_40
    assert not labeled[picks].any()
    # = k-center among the candidates, counting distances to the labelled rows
    subset = np.flatnonzero(labeled | np.isin(np.arange(n), list(top_40)))
    expected = subset[k_center_greedy(x[subset], labeled[subset], 10)]
    assert picks.tolist() == expected.tolist()
    # with one candidate per pick it is plain uncertainty sampling
    only = hybrid(probas, x, labeled, 10, candidates_factor=1)
    assert set(only.tolist()) == set(np.argsort(-margin)[:10].tolist())
    with pytest.raises(InvalidInput):
        hybrid(probas, x[:10], labeled, 5)


# -- information density ---------------------------------------------------------------------------

# (2, 0), (0, 3) and (1, 1) are unlabelled; (-1, 0), labelled, points away from all of them.
SQUARE = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [-1.0, 0.0]], dtype=np.float32)
SQUARE_LABELED = np.array([False, False, False, True])
SQUARE_PROBAS = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.5, 0.5]])
R = 2**-0.5  # cos 45°


def test_information_density_on_hand_computed_angles() -> None:
    density = information_density(SQUARE, SQUARE_LABELED)
    # row 0 to the three unlabelled rows: cos 0°, cos 90°, cos 45°; row 2: cos 45° twice and 1;
    # row 3: -1, 0, -cos 45°, a negative mean, counted as 0
    assert np.allclose(density, [(1 + R) / 3, (1 + R) / 3, (1 + 2 * R) / 3, 0.0], atol=1e-6)
    # the pool is only the unlabelled rows: with row 2 labelled too, row 0 sees cos 0° and 90°
    fewer = information_density(SQUARE, np.array([False, False, True, True]))
    assert np.allclose(fewer, [0.5, 0.5, R, 0.0], atol=1e-6)
    assert np.array_equal(information_density(SQUARE, np.ones(4, dtype=bool)), np.zeros(4))


def test_density_weighted_multiplies_the_margin_by_the_density_to_the_power_beta() -> None:
    # margins 1 - |p1 - p2|: 0.2, 0.8, 1, 1
    d0, d2 = (1 + R) / 3, (1 + 2 * R) / 3
    scores = density_weighted(SQUARE_PROBAS, SQUARE, SQUARE_LABELED)
    assert np.allclose(scores, [0.2 * d0, 0.8 * d0, d2, 0.0], atol=1e-6)
    squared = density_weighted(SQUARE_PROBAS, SQUARE, SQUARE_LABELED, beta=2.0)
    assert np.allclose(squared, [0.2 * d0**2, 0.8 * d0**2, d2**2, 0.0], atol=1e-6)
    plain = density_weighted(SQUARE_PROBAS, SQUARE, SQUARE_LABELED, beta=0.0)
    assert np.allclose(plain, uncertainty(SQUARE_PROBAS, "margin"))
    entropy = density_weighted(SQUARE_PROBAS, SQUARE, SQUARE_LABELED, method="entropy")
    assert np.allclose(entropy, uncertainty(SQUARE_PROBAS, "entropy") * [d0, d0, d2, 0.0])


def reference_density(x: NDArray[np.float64], labeled: NDArray[np.bool_]) -> list[float]:
    """Mean cosine similarity to the unlabelled rows, pair by pair, clipped at 0."""
    out = []
    pool = [j for j in range(len(x)) if not labeled[j]]
    for i in range(len(x)):
        total = 0.0
        for j in pool:
            norms = float(np.linalg.norm(x[i]) * np.linalg.norm(x[j]))
            total += float(x[i] @ x[j]) / norms if norms > 0 else 0.0
        out.append(max(0.0, total / len(pool)))
    return out


def test_information_density_equals_the_pairwise_mean() -> None:
    rng = np.random.default_rng(5)
    # lengths from 0.1 to 10, a shared direction so most means are positive, one all-zero row
    x = rng.standard_normal((120, 7)) + 0.4
    x *= rng.uniform(0.1, 10.0, size=(120, 1))
    x[17] = 0.0
    x[23] = -5.0 * x[:60].mean(axis=0)  # points away from the pool: clipped to 0
    labeled = rng.random(120) < 0.3
    expected = reference_density(x, labeled)
    density = information_density(x.astype(np.float32), labeled)
    assert np.allclose(density, expected, atol=1e-6)
    assert density[17] == 0.0 and density[23] == 0.0
    assert 0.05 < float(np.median(density)) < 1.0  # not a degenerate case
    probas = np.column_stack([p := rng.random(120), 1 - p])
    lc = 1.0 - np.maximum(p, 1 - p)
    scores = density_weighted(probas, x.astype(np.float32), labeled, method="least_confidence")
    assert np.allclose(scores, lc * np.array(expected), atol=1e-6)


def test_information_density_on_sst2_vectors_matches_sklearn(
    sst2_vectors: NDArray[np.float32],
) -> None:
    from sklearn.metrics.pairwise import cosine_similarity

    x = sst2_vectors[:2000]
    labeled = np.zeros(2000, dtype=bool)
    labeled[::3] = True
    expected = np.maximum(cosine_similarity(x, x[~labeled]).mean(axis=1), 0.0)
    assert np.allclose(information_density(x, labeled), expected, atol=1e-6)


def test_density_weighting_puts_typical_rows_before_equally_uncertain_outliers() -> None:
    rng = np.random.default_rng(9)
    # a tight cluster around (1, 1, 0, ...) and a few scattered outliers
    cluster = np.array([1.0, 1.0] + [0.0] * 6) + 0.05 * rng.standard_normal((200, 8))
    outliers = rng.standard_normal((10, 8))
    x = np.vstack([cluster, outliers]).astype(np.float32)
    probas = np.full((210, 2), 0.5)
    probas[:200, 0] = 0.55  # the cluster is a little less uncertain than the outliers
    probas[:200, 1] = 0.45
    labeled = np.zeros(210, dtype=bool)
    plain = queue_scores("margin", probas=probas, vectors=None, labeled=labeled)
    weighted = queue_scores("density_weighted", probas=probas, vectors=x, labeled=labeled)
    assert set(np.argsort(-plain, kind="stable")[:10].tolist()) == set(range(200, 210))
    assert set(np.argsort(-weighted, kind="stable")[:10].tolist()) <= set(range(200))


def test_density_weighted_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        density_weighted(SQUARE_PROBAS, SQUARE, SQUARE_LABELED, beta=-1.0)
    assert caught.value.details == [{"field": "beta", "rule": "range"}]
    with pytest.raises(InvalidInput):
        density_weighted(SQUARE_PROBAS, SQUARE, SQUARE_LABELED, beta=float("nan"))
    with pytest.raises(InvalidInput) as caught:
        density_weighted(SQUARE_PROBAS, SQUARE[:3], SQUARE_LABELED)
    assert caught.value.details == [{"field": "vectors", "rule": "shape"}]
    with pytest.raises(InvalidInput):
        information_density(SQUARE, SQUARE_LABELED[:3])


# -- queue scores --------------------------------------------------------------------------------


def test_queue_scores_for_uncertainty_strategies() -> None:
    labeled = np.array([False, True, False, False, False])
    for method in ("least_confidence", "margin", "entropy"):
        scores = queue_scores(method, probas=PROBAS, vectors=None, labeled=labeled)
        expected = uncertainty(PROBAS, method)
        expected[1] = -np.inf
        assert scores.dtype == np.float64
        assert np.array_equal(scores, expected)
    # the margin queue asks about row 3, then 4, then 0, then 2
    scores = queue_scores("margin", probas=PROBAS, vectors=None, labeled=labeled)
    assert np.argsort(-scores, kind="stable").tolist() == [3, 4, 0, 2, 1]


def test_queue_scores_put_the_k_center_batch_first_in_pick_order() -> None:
    rng = np.random.default_rng(4)
    n = 300
    x = rng.standard_normal((n, 6)).astype(np.float32)
    p1 = rng.random(n)
    probas = np.column_stack([p1, 1 - p1])
    labeled = rng.random(n) < 0.1
    picks = k_center_greedy(x, labeled, 12)

    scores = queue_scores("k_center", probas=None, vectors=x, labeled=labeled, budget=12)
    assert np.argsort(-scores)[:12].tolist() == picks.tolist()
    assert scores[picks].tolist() == list(range(13, 1, -1))
    rest = ~labeled & ~np.isin(np.arange(n), picks)
    assert np.all(scores[rest] == 0.0)
    assert np.all(np.isneginf(scores[labeled]))

    # with probabilities the rest of the queue follows the uncertainty
    scores = queue_scores("k_center", probas=probas, vectors=x, labeled=labeled, budget=12)
    assert np.argsort(-scores)[:12].tolist() == picks.tolist()
    assert np.array_equal(scores[rest], uncertainty(probas, "margin")[rest])
    assert scores[picks].min() > scores[rest].max()

    scores = queue_scores("hybrid", probas=probas, vectors=x, labeled=labeled, budget=12)
    chosen = hybrid(probas, x, labeled, 12)
    assert np.argsort(-scores)[:12].tolist() == chosen.tolist()
    assert np.all(np.isneginf(scores[labeled]))
    # the default batch is 100
    default = queue_scores("k_center", probas=None, vectors=x, labeled=labeled)
    assert int((default > 1.0).sum()) == 100


def test_queue_scores_refuse_what_the_strategy_cannot_use() -> None:
    labeled = np.zeros(5, dtype=bool)
    x = np.eye(5, dtype=np.float32)
    assert STRATEGIES == (
        "least_confidence",
        "margin",
        "entropy",
        "k_center",
        "hybrid",
        "density_weighted",
    )
    with pytest.raises(InvalidInput) as caught:
        queue_scores("random", probas=PROBAS, vectors=x, labeled=labeled)
    assert caught.value.details == [{"field": "strategy", "rule": "choice"}]
    with pytest.raises(InvalidInput) as caught:
        queue_scores("entropy", probas=None, vectors=x, labeled=labeled)
    assert caught.value.details == [{"field": "probas", "rule": "required"}]
    with pytest.raises(InvalidInput) as caught:
        queue_scores("hybrid", probas=PROBAS, vectors=None, labeled=labeled)
    assert caught.value.details == [{"field": "vectors", "rule": "required"}]
    with pytest.raises(InvalidInput):
        queue_scores("margin", probas=PROBAS[:3], vectors=None, labeled=labeled)
    for missing in ({"probas": None, "vectors": x}, {"probas": PROBAS, "vectors": None}):
        with pytest.raises(InvalidInput):
            queue_scores("density_weighted", labeled=labeled, **missing)


def test_queue_scores_for_density_weighted() -> None:
    scores = queue_scores(
        "density_weighted", probas=SQUARE_PROBAS, vectors=SQUARE, labeled=SQUARE_LABELED
    )
    d0, d2 = (1 + R) / 3, (1 + 2 * R) / 3
    assert np.allclose(scores[:3], [0.2 * d0, 0.8 * d0, d2], atol=1e-6)
    assert np.isneginf(scores[3])
    squared = queue_scores(
        "density_weighted",
        probas=SQUARE_PROBAS,
        vectors=SQUARE,
        labeled=SQUARE_LABELED,
        beta=2.0,
        method="least_confidence",
    )
    # least confidence 0.1, 0.4, 0.5
    assert np.allclose(squared[:3], [0.1 * d0**2, 0.4 * d0**2, 0.5 * d2**2], atol=1e-6)
