"""Structured annotations: boxes (real BCCD boxes), spans (real WNUT-17 entities), text,
rankings, ratings, masks and keypoints — against scipy references and brute force."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from accord.quality import (
    BoxAggregator,
    BradleyTerry,
    RatingAggregator,
    SpanAggregator,
    TextAggregator,
    box_f1,
    box_iou,
    cer,
    edit_distance,
    kendall_tau,
    keypoint_oks,
    mask_iou,
    match_boxes,
    pairs_from_rankings,
    pairwise_kendall_tau,
    rle_area,
    rle_decode,
    rle_encode,
    rover,
    span_f1,
    wer,
)
from tests.quality.conftest import DATASETS

COORDS = ["x_min", "y_min", "x_max", "y_max"]


def bccd_boxes(n_images: int = 12) -> pd.DataFrame:
    coco = json.loads((DATASETS / "detection" / "bccd" / "instances.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    rows = [
        {
            "item": a["image_id"],
            "label": names[a["category_id"]],
            "x_min": a["bbox"][0],
            "y_min": a["bbox"][1],
            "x_max": a["bbox"][0] + a["bbox"][2],
            "y_max": a["bbox"][1] + a["bbox"][3],
        }
        for a in coco["annotations"]
        if a["image_id"] <= n_images
    ]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------- boxes
def test_box_iou_known_values() -> None:
    iou = box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]])
    assert iou.tolist() == [[pytest.approx(1 / 7), 1.0, 0.0]]
    with pytest.raises(ValueError):
        box_iou([[2, 0, 0, 2]], [[0, 0, 1, 1]])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_hungarian_matching_is_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 10, (4, 2))
    b = a[rng.permutation(4)] + rng.normal(0, 0.8, (4, 2))
    ref = np.hstack([a, a + 3])
    pred = np.hstack([b, b + 3])
    rows, cols, _ = match_boxes(ref, pred, iou_threshold=0.0)
    matrix = box_iou(ref, pred)
    best = max(sum(matrix[i, p[i]] for i in range(4)) for p in itertools.permutations(range(4)))
    assert matrix[rows, cols].sum() == pytest.approx(best)
    assert len(set(cols.tolist())) == len(cols)


def test_box_aggregation_recovers_real_boxes() -> None:
    truth = bccd_boxes()
    rng = np.random.default_rng(0)
    annotators = []
    for k in range(5):
        drawn = truth.sample(frac=0.9, random_state=k).copy()  # each annotator misses ~10%
        jitter = rng.normal(0, 2.0, (len(drawn), 4))
        drawn[COORDS] = drawn[COORDS].to_numpy() + jitter
        drawn["annotator"] = f"w{k}"
        spurious = drawn.iloc[:1].copy()
        spurious[COORDS] = [[600, 440, 630, 470]]  # a box nobody else draws
        annotators += [drawn, spurious]
    data = pd.concat(annotators, ignore_index=True)
    consensus = BoxAggregator(iou_threshold=0.5).fit_predict(data)
    score = box_f1(truth, consensus, iou_threshold=0.75)
    assert score.f1 > 0.97
    assert score.mean_iou > 0.9
    assert consensus["support"].between(0.5, 1.0).all()
    noisy_one = box_f1(truth, data[data["annotator"] == "w0"], iou_threshold=0.75)
    assert score.f1 > noisy_one.f1
    assert box_f1(truth, truth).f1 == 1.0


def test_box_f1_counts_and_labels() -> None:
    ref = pd.DataFrame(
        {
            "item": [1, 1, 2],
            "label": ["a", "b", "a"],
            "x_min": [0, 0, 0],
            "y_min": [0, 0, 0],
            "x_max": [10, 10, 10],
            "y_max": [10, 10, 10],
        }
    )
    pred = ref.iloc[[0, 2]].copy()
    pred.loc[pred.index[1], "x_max"] = 4  # IoU 0.4 < 0.5
    score = box_f1(ref, pred)
    assert (score.true_positives, score.false_positives, score.false_negatives) == (1, 1, 2)
    assert score.f1 == pytest.approx(2 * 1 / (2 + 3))
    assert score.mean_iou == 1.0
    relabelled = pred.assign(label="b")
    assert box_f1(ref, relabelled).true_positives == 1


# ------------------------------------------------------------------------------------- spans
def wnut_spans(limit: int = 300) -> pd.DataFrame:
    rows, item, token, start, kind = [], 0, 0, None, None
    lines = (DATASETS / "ner" / "wnut17" / "wnut17train.conll").read_text().splitlines()
    for line in [*lines, ""]:
        parts = line.split("\t")
        tag = parts[1] if len(parts) == 2 else "O"
        if start is not None and not tag.startswith("I-"):
            rows.append((item, start, token, kind))
            start = None
        if len(parts) != 2:
            if token:
                item, token = item + 1, 0
                if item >= limit:
                    break
            continue
        if tag.startswith("B-"):
            start, kind = token, tag[2:]
        token += 1
    return pd.DataFrame(rows, columns=["item", "start", "end", "label"])


def test_span_vote_recovers_real_entities() -> None:
    truth = wnut_spans()
    assert len(truth) > 50
    rng = np.random.default_rng(0)
    items = pd.DataFrame({"item": np.arange(300)})
    frames = []
    for k in range(5):
        spans = truth.copy()
        drop = rng.random(len(spans)) < 0.2  # each annotator misses 20% of entities
        spans = spans[~drop]
        shift = rng.random(len(spans)) < 0.1
        spans.loc[shift, "end"] += 1  # and overshoots some by a token
        seen = items.assign(start=np.nan, end=np.nan, label=None)  # saw every sentence
        frames.append(pd.concat([spans, seen]).assign(annotator=f"w{k}"))
    consensus = SpanAggregator().fit_predict(pd.concat(frames, ignore_index=True))
    exact = span_f1(truth, consensus, mode="exact")
    assert exact.f1 > 0.95
    single = span_f1(truth, frames[0].dropna(subset=["start"]), mode="exact")
    assert exact.f1 > single.f1
    assert consensus["support"].gt(0.5).all()


def test_span_f1_exact_and_overlap() -> None:
    ref = pd.DataFrame(
        {"item": [1, 1, 2], "start": [0, 10, 0], "end": [5, 15, 3], "label": ["PER", "LOC", "PER"]}
    )
    pred = pd.DataFrame(
        {"item": [1, 1, 2], "start": [0, 12, 5], "end": [5, 20, 8], "label": ["PER", "LOC", "PER"]}
    )
    exact = span_f1(ref, pred, mode="exact")
    assert (exact.precision, exact.recall) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    overlap = span_f1(ref, pred, mode="overlap")
    assert (overlap.precision, overlap.recall) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert overlap.f1 == pytest.approx(2 / 3)


def test_span_vote_by_hand() -> None:
    data = pd.DataFrame(
        {
            "item": [1, 1, 1],
            "annotator": ["a", "b", "c"],
            "start": [0, 2, np.nan],
            "end": [6, 8, np.nan],
            "label": ["X", "X", None],
        }
    )
    # positions 2..5 have 2 of 3 votes; the rest 1 of 3
    assert SpanAggregator().fit_predict(data)[["start", "end"]].values.tolist() == [[2, 6]]
    weighted = SpanAggregator(skills={"a": 3, "b": 1, "c": 1}).fit_predict(data)
    assert weighted[["start", "end"]].values.tolist() == [[0, 6]]


# -------------------------------------------------------------------------------------- text
def brute_distance(a: list[str], b: list[str]) -> int:
    table = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    table[:, 0] = range(len(a) + 1)
    table[0, :] = range(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i, j] = min(
                table[i - 1, j] + 1,
                table[i, j - 1] + 1,
                table[i - 1, j - 1] + (a[i - 1] != b[j - 1]),
            )
    return int(table[-1, -1])


@settings(max_examples=100, deadline=None)
@given(st.text("abc", max_size=15), st.text("abc", max_size=15))
def test_edit_distance_matches_brute_force(a: str, b: str) -> None:
    assert edit_distance(list(a), list(b)) == brute_distance(list(a), list(b))


def test_cer_wer_known_values() -> None:
    assert wer("the cat sat on the mat", "the cat sit on mat") == pytest.approx(2 / 6)
    assert cer("kitten", "sitting") == pytest.approx(3 / 6)
    assert wer(["a b", "c d e"], ["a b", "c e"]) == pytest.approx(1 / 5)
    with pytest.raises(ValueError):
        wer("", "a")


def test_rover_votes_words() -> None:
    texts = ["the quick brown fox", "the quick brown box", "a quick brown fox jumps"]
    assert rover(texts) == "the quick brown fox"
    assert rover(["the fox", "the red fox", "the red fox"]) == "the red fox"
    assert rover(texts, [0.1, 0.1, 5.0]) == "a quick brown fox jumps"
    frame = pd.DataFrame(
        {"item": [1, 1, 1, 2], "annotator": list("abca"), "text": [*texts, "solo"]}
    )
    assert TextAggregator().fit_predict(frame).to_dict() == {1: "the quick brown fox", 2: "solo"}


# ---------------------------------------------------------------------------------- rankings
def test_bradley_terry_matches_scipy_optimum() -> None:
    rng = np.random.default_rng(4)
    strength = rng.normal(0, 1, 8)
    pairs = rng.integers(0, 8, (600, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    p_first = 1 / (1 + np.exp(strength[pairs[:, 1]] - strength[pairs[:, 0]]))
    first_wins = rng.random(len(pairs)) < p_first
    winner = np.where(first_wins, pairs[:, 0], pairs[:, 1])
    loser = np.where(first_wins, pairs[:, 1], pairs[:, 0])
    model = BradleyTerry(prior=0.5).fit(pd.DataFrame({"winner": winner, "loser": loser}))

    def negative_log_posterior(theta: np.ndarray) -> float:
        d = theta[winner] - theta[loser]
        virtual = 0.5 * (np.logaddexp(0, -theta) + np.logaddexp(0, theta)).sum()
        return float(np.logaddexp(0, -d).sum() + virtual)

    best = optimize.minimize(negative_log_posterior, np.zeros(8), method="BFGS", tol=1e-12).x
    assert np.allclose(model.scores_.to_numpy(), best, atol=1e-5)
    assert stats.spearmanr(model.scores_.to_numpy(), strength).statistic > 0.8
    assert model.probability(0, 1) == pytest.approx(1 / (1 + np.exp(best[1] - best[0])), abs=1e-6)
    assert list(model.ranking_) == list(np.argsort(-best))


def test_pairs_from_rankings_and_pairwise_tau() -> None:
    rankings = pd.DataFrame(
        {"annotator": list("aaabbb"), "item": list("xyzxyz"), "rank": [1, 2, 3, 1, 3, 2]}
    )
    pairs = pairs_from_rankings(rankings)
    assert len(pairs) == 6
    assert set(map(tuple, pairs[pairs["annotator"] == "a"][["winner", "loser"]].values)) == {
        ("x", "y"),
        ("x", "z"),
        ("y", "z"),
    }
    taus = pairwise_kendall_tau(rankings)
    assert taus.loc["a", "b"] == pytest.approx(stats.kendalltau([1, 2, 3], [1, 3, 2]).statistic)
    assert taus.loc["a", "a"] == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=3, max_size=40))
def test_kendall_tau_matches_scipy(pairs: list[tuple[int, int]]) -> None:
    x, y = zip(*pairs, strict=True)
    expected = stats.kendalltau(x, y).statistic
    ours = kendall_tau(x, y)
    assert (np.isnan(expected) and np.isnan(ours)) or ours == pytest.approx(expected, abs=1e-12)


# ----------------------------------------------------------------------------------- ratings
def rating_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(i, a, float(rng.integers(1, 6))) for i in range(30) for a in range(rng.integers(1, 9))]
    return pd.DataFrame(rows, columns=["item", "annotator", "rating"])


def test_rating_mean_interval_matches_scipy() -> None:
    data = rating_frame()
    result = RatingAggregator("mean", confidence=0.9).fit(data).ratings_
    for item, group in data.groupby("item"):
        x = group["rating"].to_numpy()
        assert result.loc[item, "estimate"] == pytest.approx(x.mean())
        if len(x) > 1 and x.std() > 0:
            low, high = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
            assert (result.loc[item, "low"], result.loc[item, "high"]) == pytest.approx((low, high))


def test_rating_median_and_trimmed_mean() -> None:
    data = rating_frame(1)
    median = RatingAggregator("median").fit(data).ratings_
    trimmed = RatingAggregator("trimmed_mean", trim=0.2).fit(data).ratings_
    for item, group in data.groupby("item"):
        x = np.sort(group["rating"].to_numpy())
        assert median.loc[item, "estimate"] == np.median(x)
        assert trimmed.loc[item, "estimate"] == pytest.approx(stats.trim_mean(x, 0.2))
        if len(x) >= 2:
            assert (
                median.loc[item, "low"] <= median.loc[item, "estimate"] <= median.loc[item, "high"]
            )
            assert median.loc[item, "low"] in x and median.loc[item, "high"] in x
    big = pd.DataFrame({"item": 0, "rating": np.arange(100.0)})
    row = RatingAggregator("median").fit(big).ratings_.loc[0]
    # distribution-free 95% interval for n=100: order statistics 40 and 61 (1-based)
    assert (row["low"], row["high"]) == (39.0, 60.0)
    with pytest.raises(ValueError):
        RatingAggregator("mode").fit(big)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- masks
masks = st.integers(1, 12).flatmap(
    lambda h: st.integers(1, 12).flatmap(
        lambda w: st.lists(st.booleans(), min_size=h * w, max_size=h * w).map(
            lambda v: np.array(v).reshape(h, w)
        )
    )
)


@settings(max_examples=100, deadline=None)
@given(masks, st.integers(0, 1000))
def test_rle_round_trip_and_iou(mask: np.ndarray, seed: int) -> None:
    rle = rle_encode(mask)
    assert rle["counts"][0] >= 0 and sum(rle["counts"]) == mask.size
    assert np.array_equal(rle_decode(rle), mask)
    assert rle_area(rle) == int(mask.sum())
    other = np.random.default_rng(seed).random(mask.shape) < 0.5
    inter, union = (mask & other).sum(), (mask | other).sum()
    expected = 1.0 if union == 0 else inter / union
    assert mask_iou(rle, rle_encode(other)) == pytest.approx(expected)
    column = rle_encode(mask, order="F")
    assert np.array_equal(rle_decode(column, order="F"), mask)


def test_rle_format_is_row_major_starting_with_zeros() -> None:
    mask = np.array([[1, 1, 0], [0, 0, 1]], dtype=bool)
    assert rle_encode(mask) == {"size": [2, 3], "counts": [0, 2, 3, 1]}
    assert rle_encode(mask, order="F")["counts"] == [0, 1, 1, 1, 2, 1]  # columns first
    with pytest.raises(ValueError):
        mask_iou(rle_encode(mask), rle_encode(np.zeros((3, 2), dtype=bool)))
    with pytest.raises(ValueError):
        rle_decode({"size": [2, 3], "counts": [1, 2]})


# --------------------------------------------------------------------------------- keypoints
def test_keypoint_oks() -> None:
    ref = np.array([[[10, 10, 2], [20, 20, 2], [0, 0, 0]]], dtype=float)
    sigmas = np.array([0.1, 0.2, 0.3])
    assert keypoint_oks(ref, ref[:, :, :2], [100.0], sigmas)[0, 0] == pytest.approx(1.0)
    moved = ref[:, :, :2] + np.array([[[3, 4], [0, 0], [50, 50]]])
    expected = (np.exp(-25 / (2 * 100 * (2 * 0.1) ** 2)) + 1.0) / 2  # third point invisible
    assert keypoint_oks(ref, moved, [100.0], sigmas)[0, 0] == pytest.approx(expected)
    coco = keypoint_oks(
        np.zeros((2, 17, 3)) + np.array([0, 0, 1]), np.zeros((3, 17, 2)), [50.0, 60.0]
    )
    assert coco.shape == (2, 3) and np.allclose(coco, 1.0)
    with pytest.raises(ValueError, match="sigmas"):
        keypoint_oks(ref, ref, [1.0])
