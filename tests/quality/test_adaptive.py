"""Adaptive overlap: the stopping rule by hand, the vectorised helpers against the per-item rule
on real crowd data, and the replay figures of benchmarks/RESULTS.md ("Adaptive overlap")."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.quality import AdaptiveOverlap, DawidSkene, MajorityVote, OneCoinDawidSkene
from tests.quality.conftest import accuracy

Data = tuple[pd.DataFrame, pd.DataFrame, pd.Series]


# -- the rule on hand-made cases --------------------------------------------------------------


def test_unanimous_pair_stops_and_split_pair_continues() -> None:
    policy = AdaptiveOverlap(max_labels=5, min_labels=2, threshold=0.8)
    assert policy.needs_more(["pos", "pos"]) is False
    assert policy.needs_more(["pos", "neg"]) is True
    assert policy.needs_more(["pos", "neg", "pos"]) is True  # 2/3 < 0.8
    assert policy.needs_more(["pos", "neg", "pos", "pos", "pos"]) is False  # N reached


def test_fewer_than_k_labels_always_need_more() -> None:
    policy = AdaptiveOverlap(max_labels=10)  # k = 3
    assert policy.needs_more([]) is True
    assert policy.needs_more(["a"]) is True
    assert policy.needs_more(["a", "a"]) is True
    assert policy.needs_more(["a", "a", "a"]) is False


def test_k_above_n_is_fixed_overlap() -> None:
    policy = AdaptiveOverlap(max_labels=2)  # default k = 3
    assert policy.needs_more(["a"]) is True
    assert policy.needs_more(["a", "b"]) is False
    assert policy.needs_more(["a", "a"]) is False


def test_reaching_n_stops_whatever_the_labels_say() -> None:
    policy = AdaptiveOverlap(max_labels=4, min_labels=2, threshold=1.0)
    assert policy.needs_more(["a", "b", "c"]) is True
    assert policy.needs_more(["a", "b", "c", "d"]) is False
    assert policy.needs_more(["a", "b", "a", "b"]) is False  # a tie, but N is reached
    assert policy.needs_more(["a", "b", "a", "b", "a"]) is False  # more than N: still stop


@pytest.mark.parametrize(
    ("counts", "needs_more"),
    [
        ((3, 0), False),
        ((2, 1), True),
        ((3, 1), True),  # 0.75 < 0.8
        ((4, 1), False),  # exactly 0.8
        ((4, 2), True),
        ((7, 2), True),  # 0.777...
        ((8, 2), False),  # exactly 0.8, and N
        ((2, 1, 1), True),
        ((4, 0, 1), False),
    ],
)
def test_default_policy_sequence(counts: tuple[int, ...], needs_more: bool) -> None:
    labels = [label for label, n in zip("xyz", counts, strict=False) for _ in range(n)]
    assert AdaptiveOverlap(max_labels=10).needs_more(labels) is needs_more


def test_threshold_edge_is_inclusive() -> None:
    three_of_four = ["a", "a", "b", "a"]
    assert AdaptiveOverlap(max_labels=9, threshold=0.75).needs_more(three_of_four) is False
    assert AdaptiveOverlap(max_labels=9, threshold=0.7500001).needs_more(three_of_four) is True
    two_of_three = ["a", "b", "a"]
    assert AdaptiveOverlap(max_labels=9, threshold=2 / 3).needs_more(two_of_three) is False
    assert AdaptiveOverlap(max_labels=9, threshold=0.67).needs_more(two_of_three) is True
    seven_of_ten = ["a"] * 7 + ["b"] * 3
    assert AdaptiveOverlap(max_labels=11, threshold=0.7).needs_more(seven_of_ten) is False


def test_a_tie_for_the_lead_never_stops_before_n() -> None:
    policy = AdaptiveOverlap(max_labels=6, min_labels=2, threshold=0.5)
    assert policy.confidence(["a", "b"]) == 0.5
    assert policy.needs_more(["a", "b"]) is True
    assert policy.needs_more(["a", "b", "c", "c"]) is False  # share 0.5, a unique leader
    assert policy.needs_more(["a", "a", "b", "b", "c"]) is True


def test_posterior_from_reliabilities_by_hand() -> None:
    policy = AdaptiveOverlap(
        max_labels=5,
        min_labels=2,
        threshold=0.9,
        reliabilities={"x": 0.9, "y": 0.6},
        n_classes=2,
    )
    # odds 9 * 1.5 = 13.5 when they agree, 9 / 1.5 = 6 when they do not
    assert policy.confidence(["a", "a"], ["x", "y"]) == pytest.approx(13.5 / 14.5)
    assert policy.confidence(["a", "b"], ["x", "y"]) == pytest.approx(6 / 7)
    assert policy.needs_more(["a", "a"], ["x", "y"]) is False
    assert policy.needs_more(["a", "b"], ["x", "y"]) is True
    # an unknown annotator gets default_reliability 0.7: odds (0.7 / 0.3) ** 2 = 5.44
    assert policy.confidence(["a", "a"], ["u", "v"]) == pytest.approx(49 / 58)
    assert policy.needs_more(["a", "a"], ["u", "v"]) is True


def test_posterior_counts_the_labels_nobody_gave() -> None:
    # three classes, reliability 0.8: each answer multiplies its label's odds by 0.8 * 2 / 0.2
    policy = AdaptiveOverlap(
        max_labels=5,
        min_labels=2,
        threshold=0.95,
        reliabilities={},
        default_reliability=0.8,
        n_classes=3,
    )
    assert policy.confidence(["a", "a"], ["p", "q"]) == pytest.approx(64 / 66)
    assert policy.confidence(["a", "b"], ["p", "q"]) == pytest.approx(8 / 17)
    assert policy.needs_more(["a", "b"], ["p", "q"]) is True  # tie between a and b
    # weak annotators (below 1/3): their answer is evidence against its label, so the label
    # nobody gave leads
    weak = AdaptiveOverlap(
        max_labels=5, min_labels=2, threshold=0.5, reliabilities={"w": 0.1}, n_classes=3
    )
    odds = 0.1 * 2 / 0.9
    assert weak.confidence(["a", "b"], ["w", "w"]) == pytest.approx(1 / (1 + 2 * odds))


def test_a_missing_reliability_counts_as_unknown() -> None:
    policy = AdaptiveOverlap(max_labels=5, reliabilities={"a": math.nan, "b": 0.9}, n_classes=2)
    unknown = AdaptiveOverlap(max_labels=5, reliabilities={"b": 0.9}, n_classes=2)
    assert policy.confidence(["x", "x"], ["a", "b"]) == unknown.confidence(["x", "x"], ["c", "b"])
    assert policy.confidence(["x", "y"], ["a", "b"]) == pytest.approx(
        27 / 34
    )  # b (9) against a (7 / 3)


def test_reliabilities_as_series_or_mapping_agree() -> None:
    skills = pd.Series({"x": 0.95, "y": 0.55, "z": 0.8})
    a = AdaptiveOverlap(max_labels=7, reliabilities=skills, n_classes=4)
    b = AdaptiveOverlap(max_labels=7, reliabilities=skills.to_dict(), n_classes=4)
    labels, annotators = ["c", "c", "d"], ["x", "y", "z"]
    assert a.confidence(labels, annotators) == b.confidence(labels, annotators)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_labels": 0}, "max_labels"),
        ({"max_labels": 3, "threshold": 0.0}, "threshold"),
        ({"max_labels": 3, "threshold": 1.2}, "threshold"),
        ({"max_labels": 3, "reliabilities": {"a": 0.9}}, "n_classes"),
        ({"max_labels": 3, "n_classes": 1}, "n_classes"),
        ({"max_labels": 3, "default_reliability": 1.0}, "default_reliability"),
    ],
)
def test_bad_parameters_raise(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AdaptiveOverlap(**kwargs)  # type: ignore[arg-type]


def test_bad_calls_raise() -> None:
    weighted = AdaptiveOverlap(max_labels=5, reliabilities={"a": 0.9}, n_classes=2)
    with pytest.raises(ValueError, match="annotators are needed"):
        weighted.needs_more(["x", "y", "x"])
    with pytest.raises(ValueError, match="align"):
        weighted.needs_more(["x", "y", "x"], ["a", "b"])
    with pytest.raises(ValueError, match="n_classes"):
        weighted.needs_more(["x", "y", "z"], ["a", "b", "c"])
    with pytest.raises(ValueError, match="column"):
        AdaptiveOverlap(max_labels=3).needs_more_frame(pd.DataFrame({"item": [1]}))


# -- permutations -----------------------------------------------------------------------------


@given(
    labels=st.lists(st.sampled_from("abc"), min_size=0, max_size=12),
    k=st.integers(1, 4),
    extra=st.integers(0, 8),
    threshold=st.sampled_from([0.5, 0.6, 2 / 3, 0.75, 0.8, 0.9, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_order_and_annotators_do_not_matter_without_reliabilities(
    labels: list[str], k: int, extra: int, threshold: float, seed: int
) -> None:
    policy = AdaptiveOverlap(max_labels=k + extra, min_labels=k, threshold=threshold)
    rng = np.random.default_rng(seed)
    annotators = [f"ann{i}" for i in range(len(labels))]
    order = rng.permutation(len(labels))
    shuffled = [labels[i] for i in order]
    renamed = [annotators[i] for i in rng.permutation(len(labels))]
    decision = policy.needs_more(labels, annotators)
    assert policy.needs_more(shuffled) is decision
    assert policy.needs_more(labels, renamed) is decision
    assert policy.needs_more(shuffled, renamed) is decision


def test_permuting_annotators_on_real_items(zheng_dog: Data) -> None:
    _, frame, _ = zheng_dog
    rng = np.random.default_rng(3)
    short = frame[frame.groupby("item").cumcount() < rng.integers(1, 11, len(frame))]
    names = short["annotator"].unique()
    renamed = short.assign(
        annotator=short["annotator"].map(dict(zip(names, rng.permutation(names), strict=True)))
    )
    shuffled = short.sample(frac=1.0, random_state=1)
    policy = AdaptiveOverlap(max_labels=10)
    expected = policy.needs_more_frame(short).sort_index()
    assert expected.any() and not expected.all()
    pd.testing.assert_series_equal(policy.needs_more_frame(renamed).sort_index(), expected)
    pd.testing.assert_series_equal(policy.needs_more_frame(shuffled).sort_index(), expected)


# -- the vectorised helpers equal the per-item rule on real data ----------------------------


def _policies(frame: pd.DataFrame) -> list[AdaptiveOverlap]:
    skills = OneCoinDawidSkene().fit(frame).skills_
    n_classes = int(frame["label"].nunique())
    return [
        AdaptiveOverlap(max_labels=10),
        AdaptiveOverlap(max_labels=6, min_labels=2, threshold=0.7),
        AdaptiveOverlap(max_labels=10, threshold=0.99, reliabilities=skills, n_classes=n_classes),
        AdaptiveOverlap(
            max_labels=8, min_labels=2, threshold=0.9, reliabilities={}, n_classes=n_classes
        ),
        # thresholds at or below one half, where only the tie rule keeps a split item open
        AdaptiveOverlap(max_labels=7, min_labels=2, threshold=0.5),
        AdaptiveOverlap(
            max_labels=7, min_labels=2, threshold=0.4, reliabilities={}, n_classes=n_classes
        ),
    ]


@pytest.mark.parametrize("name", ["zheng_dog", "gal_adult2"])
def test_needs_more_frame_equals_the_per_item_rule(
    name: str, request: pytest.FixtureRequest
) -> None:
    _, frame, _ = request.getfixturevalue(name)
    rng = np.random.default_rng(0)
    # every item cut at a random length, so that all kinds of partial states occur
    prefix = frame[frame.groupby("item").cumcount() < rng.integers(1, 12, len(frame))]
    for policy in _policies(frame):
        vectorised = policy.needs_more_frame(prefix)
        per_item = {
            item: policy.needs_more(list(rows["label"]), list(rows["annotator"]))
            for item, rows in prefix.groupby("item", sort=False)
        }
        assert vectorised.to_dict() == per_item
        assert 0.05 < vectorised.mean() < 0.95, policy


@pytest.mark.parametrize("name", ["zheng_dog", "gal_adult2"])
def test_replay_equals_asking_after_every_label(name: str, request: pytest.FixtureRequest) -> None:
    _, frame, _ = request.getfixturevalue(name)
    ordered = frame.sample(frac=1.0, random_state=7)
    for policy in _policies(frame):
        kept = policy.replay(ordered)
        expected = pd.Series(False, index=ordered.index, name="collected")
        for _, rows in ordered.groupby("item", sort=False):
            labels: list[object] = []
            annotators: list[object] = []
            for row, label, annotator in zip(
                rows.index, rows["label"], rows["annotator"], strict=True
            ):
                if not policy.needs_more(labels, annotators):
                    break
                expected[row] = True
                labels.append(label)
                annotators.append(annotator)
        pd.testing.assert_series_equal(kept, expected)
        assert 0.2 < kept.mean() < 0.95, policy


def test_frame_helpers_on_empty_and_single_rows() -> None:
    policy = AdaptiveOverlap(max_labels=3, min_labels=1, threshold=1.0)
    empty = pd.DataFrame({"item": [], "annotator": [], "label": []})
    assert policy.needs_more_frame(empty).empty
    assert policy.replay(empty).empty
    one = pd.DataFrame({"item": ["i"], "annotator": ["a"], "label": ["x"]})
    assert policy.needs_more_frame(one).to_dict() == {"i": False}
    assert policy.replay(one).tolist() == [True]


# -- the replay of benchmarks/adaptive_overlap.py on zheng_dog, seed 0 -------------------------


def test_replay_on_zheng_dog_saves_labels_at_fixed_overlap_accuracy(zheng_dog: Data) -> None:
    _, frame, truth = zheng_dog
    n = 10  # every zheng_dog item has 10 labels
    ordered = frame.sample(frac=1.0, random_state=0)
    fixed = ordered[ordered.groupby("item").cumcount().to_numpy() < n]
    adaptive = ordered[AdaptiveOverlap(max_labels=n).replay(ordered).to_numpy()]
    assert len(fixed) == 8_070
    assert len(adaptive) == 4_481  # 44.5% fewer labels
    assert adaptive.groupby("item").size().between(3, n).all()

    mv_fixed = accuracy(MajorityVote().fit_predict(fixed), truth)
    mv_adaptive = accuracy(MajorityVote().fit_predict(adaptive), truth)
    ds_fixed = accuracy(DawidSkene().fit_predict(fixed), truth)
    ds_adaptive = accuracy(DawidSkene().fit_predict(adaptive), truth)
    # one gold item of 807 is 0.0012
    assert mv_fixed == pytest.approx(0.8116, abs=0.0006)
    assert mv_adaptive == pytest.approx(0.8129, abs=0.0006)
    assert ds_fixed == pytest.approx(0.8426, abs=0.0006)
    assert ds_adaptive == pytest.approx(0.8216, abs=0.0006)
    assert mv_adaptive >= mv_fixed - 0.005  # the project's target, majority vote
    assert ds_adaptive < ds_fixed - 0.005  # and the documented Dawid–Skene loss
