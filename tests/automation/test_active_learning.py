"""Active learning: uncertainty measures on hand-computed probabilities, k-center greedy against
known farthest-first orders and a plain reference, its properties (permutation equivariance,
labelled rows never chosen, the budget), hybrid selection and the queue scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray

from accord.automation.active_learning import (
    STRATEGIES,
    hybrid,
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
    assert STRATEGIES == ("least_confidence", "margin", "entropy", "k_center", "hybrid")
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
