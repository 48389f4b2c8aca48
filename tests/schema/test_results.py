"""Result validation: every control type accepts a valid value, and every way a value can be wrong
is reported with its control, item, rule and location."""

from __future__ import annotations

from typing import Any

import pytest

from accord.errors import InvalidResult, ResultProblem
from accord.schema import (
    ItemContext,
    MediaInfo,
    is_empty,
    labels_of,
    parse_schema,
    validate_result,
)
from tests.schema.common import (
    HEIGHT,
    ITEM,
    ITEM_ID,
    SCHEMA,
    TEXT,
    VALID,
    WIDTH,
    box,
    full_mask,
    messages,
    problems,
    span,
    with_,
)


def test_a_valid_value_for_every_control_passes_unchanged() -> None:
    assert set(VALID) == set(SCHEMA.controls)  # the fixture really covers every control
    assert validate_result(SCHEMA, VALID, ITEM) == VALID


@pytest.mark.parametrize("control", sorted(set(VALID) - {"rels"}))
def test_each_control_alone_is_a_valid_result(control: str) -> None:
    assert validate_result(SCHEMA, {control: VALID[control]}, ITEM) == {control: VALID[control]}


def test_the_schema_covers_every_field_and_control_type() -> None:
    assert {f.type for f in SCHEMA.fields.values()} == {
        "text",
        "image",
        "audio",
        "video",
        "html",
        "timeseries",
        "dialogue",
    }
    assert {c.type for c in SCHEMA.controls.values()} == {
        "choices",
        "rating",
        "number",
        "text",
        "spans",
        "relations",
        "boxes",
        "rotated_boxes",
        "polygons",
        "keypoints",
        "masks",
        "segments",
        "video_tracks",
        "ranking",
        "pairwise",
    }


# (control, broken value, every problem as (rule, path))
BROKEN: list[tuple[str, Any, list[tuple[str, str]]]] = [
    # choices
    ("sentiment", "ecstatic", [("unknown_label", "")]),
    ("sentiment", ["pos", "neg"], [("single_choice", "")]),
    ("sentiment", 1, [("type", "")]),
    ("topics", ["history", "history"], [("duplicate_label", "")]),
    ("topics", ["science/maths", "history", "art"], [("max_selected", "")]),
    ("topics", ["history", "poetry"], [("unknown_label", "[1]")]),
    ("topics", ["maths"], [("unknown_label", "[0]")]),
    ("topics", "history", [("type", "")]),
    # rating
    ("stars", 6, [("out_of_range", "")]),
    ("stars", 0, [("out_of_range", "")]),
    ("stars", 2.5, [("not_integer", "")]),
    ("stars", True, [("not_integer", "")]),
    # number
    ("year", 1950, [("out_of_range", "")]),
    ("year", 1799.0, [("out_of_range", "")]),
    ("year", 1843.5, [("not_integer", "")]),
    ("year", "1843", [("type", "")]),
    ("year", float("nan"), [("type", "")]),
    # free text
    ("note", "far too long", [("too_long", "")]),
    ("note", "Capital", [("pattern", "")]),
    ("note", 12, [("type", "")]),
    # spans
    (
        "ents",
        [{**span("LOC", "London", "s1"), "end": len(TEXT) + 1}],
        [("span_out_of_range", "[0]")],
    ),
    ("ents", [{"id": "s1", "label": "PER", "start": -1, "end": 3}], [("span_out_of_range", "[0]")]),
    ("ents", [{"id": "s1", "label": "PER", "start": 5, "end": 2}], [("end_before_start", "[0]")]),
    ("ents", [{**span("PER", "Ada", "s1"), "text": "Eve"}], [("span_text_mismatch", "[0].text")]),
    (
        "ents",
        [span("PER", "Ada Lovelace", "s1"), span("LOC", "Lovelace", "s2")],
        [("span_overlap", "[1]")],
    ),
    ("ents", [span("ORG", "London", "s1")], [("unknown_label", "[0].label")]),
    ("ents", [{"id": "s1", "label": "PER", "start": "0", "end": 3}], [("type", "[0]")]),
    ("ents", [span("PER", "Ada", "s1"), span("LOC", "London", "s1")], [("duplicate_id", "[1].id")]),
    ("ents", "Ada", [("type", "")]),
    # relations
    (
        "rels",
        [{"id": "r1", "label": "met", "from": "s1", "to": "s9"}],
        [("unknown_span", "[0].to")],
    ),
    (
        "rels",
        [{"id": "r1", "label": "knew", "from": "s1", "to": "s2"}],
        [("unknown_label", "[0].label")],
    ),
    (
        "rels",
        [
            {"id": "r1", "label": "met", "from": "s1", "to": "s2"},
            {"id": "r2", "label": "met", "from": "s1", "to": "s2"},
        ],
        [("duplicate_relation", "[1]")],
    ),
    # boxes
    ("boxes", [box(600, 20, 100, 50)], [("outside_image", "[0]")]),
    ("boxes", [box(-5, 20, 100, 50)], [("outside_image", "[0]")]),
    ("boxes", [box(6, 20, 0, 50)], [("not_positive", "[0]")]),
    ("boxes", [box(6, 20, "wide", 50)], [("type", "[0].width")]),
    ("boxes", [{**box(6, 20, 10, 10), "label": "RBC"}], [("unknown_label", "[0].label")]),
    # rotated boxes: turned 90 degrees clockwise about (x, y), the box swings left of x
    ("rboxes", [box(10, 100, 50, 20, rotation=90)], [("outside_image", "[0]")]),
    ("rboxes", [box(630, 470, 50, 20, rotation=45)], [("outside_image", "[0]")]),
    ("rboxes", [box(100, 100, 50, 20)], [("type", "[0].rotation")]),
    # polygons
    (
        "polys",
        [{"id": "p1", "label": "cell", "points": [[1, 1], [5, 5]]}],
        [("too_few_points", "[0].points")],
    ),
    (
        "polys",
        [{"id": "p1", "label": "cell", "points": [[1, 1], [5, 5], [700, 5]]}],
        [("outside_image", "[0].points")],
    ),
    (
        "polys",
        [{"id": "p1", "label": "cell", "points": [[1, 1], [5], [7, 5]]}],
        [("type", "[0].points")],
    ),
    # keypoints
    (
        "pose",
        [{"id": "k1", "points": {"nose": {"x": 1, "y": 1}}}],
        [("unknown_point", "[0].points.nose")],
    ),
    (
        "pose",
        [{"id": "k1", "points": {"head": {"x": 1, "y": 999}}}],
        [("outside_image", "[0].points.head")],
    ),
    ("pose", [{"id": "k1", "points": {"head": {"x": 1}}}], [("type", "[0].points.head.y")]),
    ("pose", [{"id": "k1", "label": "cat", "points": {}}], [("unknown_label", "[0].label")]),
    # masks
    (
        "masks",
        [{"id": "m1", "label": "cell", "rle": {"size": [HEIGHT, WIDTH], "counts": [5, 5]}}],
        [("mask_counts", "[0].rle.counts")],
    ),
    (
        "masks",
        [{"id": "m1", "label": "cell", "rle": {"size": [10, 10], "counts": [100]}}],
        [("mask_size", "[0].rle.size")],
    ),
    (
        "masks",
        [
            {
                "id": "m1",
                "label": "cell",
                "rle": {"size": [HEIGHT, WIDTH], "counts": [-1, WIDTH * HEIGHT + 1]},
            }
        ],
        [("mask_counts", "[0].rle.counts")],
    ),
    ("masks", [{"id": "m1", "label": "cell", "rle": "eNrt"}], [("type", "[0].rle")]),
    # segments
    (
        "speech",
        [{"id": "g1", "label": "voice", "start": 2.0, "end": 1.0}],
        [("end_before_start", "[0]")],
    ),
    (
        "speech",
        [{"id": "g1", "label": "voice", "start": 9.0, "end": 12.0}],
        [("segment_out_of_range", "[0]")],
    ),
    (
        "speech",
        [{"id": "g1", "label": "voice", "start": -1.0, "end": 1.0}],
        [("segment_out_of_range", "[0]")],
    ),
    (
        "speech",
        [
            {"id": "g1", "label": "voice", "start": 0.0, "end": 5.0},
            {"id": "g2", "label": "voice", "start": 1.0, "end": 2.0},
            {"id": "g3", "label": "voice", "start": 3.0, "end": 4.0},
        ],
        # g3 overlaps g1 although it does not overlap its neighbour g2
        [("segment_overlap", "[1]"), ("segment_overlap", "[2]")],
    ),
    # video tracks
    (
        "tracks",
        [
            {
                "id": "t1",
                "label": "car",
                "frames": [{"frame": 250, "x": 1, "y": 1, "width": 10, "height": 10}],
            }
        ],
        [("frame_out_of_range", "[0].frames[0]")],
    ),
    (
        "tracks",
        [
            {
                "id": "t1",
                "label": "car",
                "frames": [{"frame": -1, "x": 1, "y": 1, "width": 10, "height": 10}],
            }
        ],
        [("frame_out_of_range", "[0].frames[0]")],
    ),
    (
        "tracks",
        [
            {
                "id": "t1",
                "label": "car",
                "frames": [{"frame": 3, "x": 630, "y": 1, "width": 20, "height": 10}],
            }
        ],
        [("outside_image", "[0].frames[0]")],
    ),
    (
        "tracks",
        [
            {
                "id": "t1",
                "label": "car",
                "frames": [
                    {"frame": 5, "x": 1, "y": 1, "width": 10, "height": 10},
                    {"frame": 5, "x": 1, "y": 1, "width": 10, "height": 10},
                ],
            }
        ],
        [("frame_order", "[0].frames[1]")],
    ),
    (
        "tracks",
        [
            {
                "id": "t1",
                "label": "car",
                "frames": [{"frame": True, "x": 1, "y": 1, "width": 1, "height": 1}],
            }
        ],
        [("type", "[0].frames[0]")],
    ),
    (
        "tracks",
        [
            {
                "id": "t1",
                "label": "car",
                "frames": [
                    {"frame": 1, "x": 1, "y": 1, "width": 1, "height": 1, "keyframe": "yes"}
                ],
            }
        ],
        [("type", "[0].frames[0].keyframe")],
    ),
    ("tracks", [{"id": "t1", "label": "car", "frames": []}], [("type", "[0].frames")]),
    # ranking (the item lists three options; the value orders their positions)
    ("order", [0, 1], [("not_permutation", "")]),
    ("order", [0, 1, 1], [("not_permutation", "")]),
    ("order", [0, 1, 3], [("not_permutation", "")]),
    ("order", ["0", "1", "2"], [("type", "")]),
    # pairwise
    ("better", "both", [("unknown_label", "")]),
    ("better", "tie", [("unknown_label", "")]),
    ("better", 1, [("unknown_label", "")]),
]


@pytest.mark.parametrize(("control", "value", "expected"), BROKEN)
def test_each_broken_value_names_its_control_rule_and_location(
    control: str, value: Any, expected: list[tuple[str, str]]
) -> None:
    result = with_(control, value)
    if control == "ents":
        del result["rels"]  # the relations point at the valid spans
    assert problems(result) == [(control, rule, path) for rule, path in expected]


def test_every_problem_of_a_result_is_reported_at_once() -> None:
    result = with_("stars", 9) | {"note": "BAD", "boxes": [box(600, 20, 100, 50)]}
    assert problems(result) == [
        ("stars", "out_of_range", ""),
        ("note", "pattern", ""),
        ("boxes", "outside_image", "[0]"),
    ]


def test_the_error_names_control_rule_and_item() -> None:
    with pytest.raises(InvalidResult) as caught:
        validate_result(SCHEMA, {"sentiment": "ecstatic"}, ITEM)
    error = caught.value
    assert error.item_id == ITEM_ID
    assert error.message == "sentiment: 'ecstatic' is not a label of this control (unknown_label)"
    assert [p.as_dict() for p in error.problems] == [
        {
            "control": "sentiment",
            "rule": "unknown_label",
            "message": "'ecstatic' is not a label of this control",
            "path": "",
        }
    ]


def test_a_label_of_another_control_says_which_control_it_belongs_to() -> None:
    assert problems({"sentiment": "PER"}) == [("sentiment", "unknown_label", "")]
    assert messages({"sentiment": "PER"}) == [
        "'PER' is not a label of this control; it is a label of 'ents'"
    ]
    assert messages({"boxes": [{**box(1, 1, 5, 5), "label": "voice"}]}) == [
        "'voice' is not a label of this control; it is a label of 'speech'"
    ]


def test_hierarchical_labels_are_paths_and_inner_nodes_count() -> None:
    assert SCHEMA.labels("topics") == [
        "art",
        "history",
        "science",
        "science/maths",
        "science/physics",
    ]
    for value in (["science"], ["science/physics"], ["science", "science/maths"]):
        assert validate_result(SCHEMA, {"topics": value}, ITEM) == {"topics": value}
    assert messages({"topics": ["physics"]}) == [
        "'physics' is not a label of this control;"
        " nested labels are written as paths: 'science/physics'"
    ]
    assert problems({"topics": ["science/history"]}) == [("topics", "unknown_label", "[0]")]


def test_min_selected_counts_the_selected_labels() -> None:
    schema = parse_schema(
        {
            "fields": [{"name": "t", "type": "text"}],
            "controls": [
                {
                    "name": "tags",
                    "type": "choices",
                    "field": "t",
                    "multiple": True,
                    "min_selected": 2,
                    "labels": ["a", "b", "c"],
                }
            ],
        }
    )
    item = ItemContext(1, {"t": "x"})
    assert problems({"tags": ["a"]}, schema, item) == [("tags", "min_selected", "")]
    assert validate_result(schema, {"tags": ["a", "c"]}, item) == {"tags": ["a", "c"]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1950, "1950 is not between 1800 and 1900"),
        (1700, "1700 is not between 1800 and 1900"),
    ],
)
def test_number_range_message_states_the_bounds(value: float, message: str) -> None:
    assert messages({"year": value}) == [message]


def test_number_with_one_bound_and_floats() -> None:
    schema = parse_schema(
        {
            "fields": [{"name": "t", "type": "text"}],
            "controls": [
                {"name": "low", "type": "number", "field": "t", "min": 0.5},
                {"name": "high", "type": "number", "field": "t", "max": -1},
            ],
        }
    )
    item = ItemContext(2, {"t": "x"})
    assert validate_result(schema, {"low": 0.5, "high": -1.5}, item) == {"low": 0.5, "high": -1.5}
    assert messages({"low": 0.25, "high": 0}, schema, item) == [
        "0.25 is not at least 0.5",
        "0 is not at most -1",
    ]


def test_free_text_pattern_must_match_the_whole_text() -> None:
    assert problems({"note": "abc1"}) == [("note", "pattern", "")]
    assert validate_result(SCHEMA, {"note": "abc"}, ITEM) == {"note": "abc"}
    assert messages({"note": "x" * 11}) == ["at most 10 characters, got 11"]


def test_spans_are_checked_against_the_field_they_are_bound_to() -> None:
    schema = parse_schema(
        {
            "fields": [{"name": "body", "type": "text", "source": "review_text"}],
            "controls": [{"name": "ents", "type": "spans", "field": "body", "labels": ["X"]}],
        }
    )
    item = ItemContext(3, {"review_text": "short", "body": "a much longer decoy text"})
    ok = [{"label": "X", "start": 0, "end": 5, "text": "short"}]
    assert validate_result(schema, {"ents": ok}, item) == {"ents": ok}
    assert problems({"ents": [{"label": "X", "start": 0, "end": 7}]}, schema, item) == [
        ("ents", "span_out_of_range", "[0]")
    ]
    assert problems({"ents": ok}, schema, ItemContext(3, {"body": "short"})) == [
        ("ents", "type", "")
    ]


def test_span_text_mismatch_message_shows_what_stands_there() -> None:
    assert messages({"ents": [{**span("PER", "Ada", "s1"), "text": "Eve"}]}) == [
        "text 'Eve' is not what stands at 0-3 ('Ada')"
    ]


def test_nested_overlaps_are_all_found() -> None:
    value = [
        {"id": "a", "label": "PER", "start": 0, "end": 20},
        {"id": "b", "label": "PER", "start": 1, "end": 3},
        {"id": "c", "label": "LOC", "start": 5, "end": 8},
        {"id": "d", "label": "LOC", "start": 20, "end": 24},  # touches a: no overlap
    ]
    assert problems({"ents": value}) == [
        ("ents", "span_overlap", "[1]"),
        ("ents", "span_overlap", "[2]"),
    ]


def test_overlapping_spans_pass_where_the_control_allows_them() -> None:
    schema = parse_schema(
        {
            "fields": [{"name": "t", "type": "text"}],
            "controls": [
                {"name": "ents", "type": "spans", "field": "t", "overlap": True, "labels": ["A"]}
            ],
        }
    )
    value = [
        {"label": "A", "start": 0, "end": 5},
        {"label": "A", "start": 2, "end": 4},
        {"label": "A", "start": 0, "end": 5},
    ]
    assert validate_result(schema, {"ents": value}, ItemContext(1, {"t": "hello"})) == {
        "ents": value
    }


def test_relations_need_the_spans_of_the_same_result() -> None:
    rel = [{"id": "r1", "label": "met", "from": "s1", "to": "s2"}]
    assert problems({"rels": rel}) == [
        ("rels", "unknown_span", "[0].from"),
        ("rels", "unknown_span", "[0].to"),
    ]
    # integer ids are matched by their text
    ents = [span("PER", "Ada", "1"), {**span("PER", "Charles", "2"), "id": 2}]
    value = {"ents": ents, "rels": [{"label": "met", "from": 1, "to": "2"}]}
    assert validate_result(SCHEMA, value, ITEM) == value


def test_undirected_relations_are_duplicates_either_way_round() -> None:
    schema = parse_schema(
        {
            "fields": [{"name": "t", "type": "text"}],
            "controls": [
                {"name": "e", "type": "spans", "field": "t", "labels": ["A"]},
                {
                    "name": "r",
                    "type": "relations",
                    "field": "t",
                    "spans": "e",
                    "directed": False,
                    "labels": ["same"],
                },
            ],
        }
    )
    spans = [
        {"id": "x", "label": "A", "start": 0, "end": 1},
        {"id": "y", "label": "A", "start": 2, "end": 3},
    ]
    rels = [{"label": "same", "from": "x", "to": "y"}, {"label": "same", "from": "y", "to": "x"}]
    item = ItemContext(4, {"t": "a b"})
    assert problems({"e": spans, "r": rels}, schema, item) == [("r", "duplicate_relation", "[1]")]
    both_ways = {
        "ents": VALID["ents"],
        "rels": [
            {"label": "met", "from": "s1", "to": "s2"},
            {"label": "met", "from": "s2", "to": "s1"},
        ],
    }
    # directed relations: the reverse is another relation
    assert validate_result(SCHEMA, both_ways, ITEM) == both_ways


@pytest.mark.parametrize(
    ("x", "width", "ok"),
    [
        (540, 100, True),  # right edge exactly on the border
        (540.3, 100, True),  # 0.3 px over: within the tolerance
        (540.6, 100, False),  # 0.6 px over: outside
        (-0.4, 100, True),
        (-0.6, 100, False),
    ],
)
def test_boxes_may_touch_the_border_within_half_a_pixel(x: float, width: float, ok: bool) -> None:
    value = {"boxes": [box(x, 10, width, 10)]}
    if ok:
        assert validate_result(SCHEMA, value, ITEM) == value
    else:
        assert problems(value) == [("boxes", "outside_image", "[0]")]


def test_rotated_box_corners_are_turned_clockwise_about_the_top_left_corner() -> None:
    # 90 degrees: the width runs down from (x, y), the height to the left of x
    assert validate_result(SCHEMA, {"rboxes": [box(30, 0, 480, 30, rotation=90)]}, ITEM)
    assert problems({"rboxes": [box(29, 0, 480, 30, rotation=90)]}) == [
        ("rboxes", "outside_image", "[0]")
    ]
    assert problems({"rboxes": [box(30, 1, 480, 30, rotation=90)]}) == [
        ("rboxes", "outside_image", "[0]")
    ]
    # the same box unrotated lies inside; 180 degrees turns it up and left of (x, y)
    assert validate_result(SCHEMA, {"rboxes": [box(10, 10, 50, 20, rotation=0)]}, ITEM)
    assert problems({"rboxes": [box(10, 10, 50, 20, rotation=180)]}) == [
        ("rboxes", "outside_image", "[0]")
    ]
    assert validate_result(SCHEMA, {"rboxes": [box(60, 30, 50, 20, rotation=180)]}, ITEM)


def test_the_outside_message_names_the_point_and_the_image_size() -> None:
    assert messages({"boxes": [box(600, 20, 100, 50)]}) == [
        "point (700, 20) lies outside the 640x480 image"
    ]


def test_without_a_known_image_size_only_negative_coordinates_are_refused() -> None:
    item = ItemContext(9, {"text": TEXT}, media=None)
    far = {
        "boxes": [box(5000, 5000, 10, 10)],
        "masks": [{"label": "cell", "rle": {"size": [2, 2], "counts": [4]}}],
    }
    assert validate_result(SCHEMA, far, item) == far
    assert problems({"boxes": [box(-3, 5, 10, 10)]}, item=item) == [
        ("boxes", "outside_image", "[0]")
    ]


def test_keypoints_may_leave_points_out_or_mark_them_invisible() -> None:
    value = [{"id": "k", "points": {"head": {"x": 1, "y": 1}, "tail": None}}, {"points": {}}]
    assert validate_result(SCHEMA, {"pose": value}, ITEM) == {"pose": value}


def test_mask_counts_must_cover_the_image_exactly() -> None:
    one_short = {"size": [HEIGHT, WIDTH], "counts": [WIDTH * HEIGHT - 1]}
    assert messages({"masks": [{"label": "cell", "rle": one_short}]}) == [
        f"rle.counts add up to {WIDTH * HEIGHT - 1}, not height*width = {WIDTH * HEIGHT}"
    ]
    empty = {"size": [HEIGHT, WIDTH], "counts": [WIDTH * HEIGHT]}
    all_on = {"size": [HEIGHT, WIDTH], "counts": [0, WIDTH * HEIGHT]}
    for rle in (empty, all_on, full_mask(0, 5)):
        assert validate_result(SCHEMA, {"masks": [{"label": "cell", "rle": rle}]}, ITEM)


def test_segments_within_a_millisecond_of_the_end_pass() -> None:
    ok = [{"label": "voice", "start": 9.0, "end": 10.0005}]
    assert validate_result(SCHEMA, {"speech": ok}, ITEM) == {"speech": ok}
    assert messages({"speech": [{"label": "voice", "start": 9.0, "end": 10.5}]}) == [
        "segment 9-10.5 s is out of range (duration 10 s)"
    ]


def test_segments_may_overlap_unless_the_control_forbids_it() -> None:
    value = [
        {"label": "peak", "start": 0, "end": 2},
        {"label": "peak", "start": 1, "end": 3},
    ]
    assert validate_result(SCHEMA, {"peaks": value}, ITEM) == {"peaks": value}
    assert problems({"speech": [{**v, "label": "voice"} for v in value]}) == [
        ("speech", "segment_overlap", "[1]")
    ]


def test_video_frame_count_comes_from_duration_and_fps_when_not_given() -> None:
    media = MediaInfo(width=WIDTH, height=HEIGHT, duration=2.0, fps=30.0)
    item = ItemContext(5, {}, media=media)
    frames = [{"frame": n, "x": 0, "y": 0, "width": 5, "height": 5} for n in (0, 59)]
    value = {"tracks": [{"label": "car", "frames": frames}]}
    assert validate_result(SCHEMA, value, item) == value
    late = {"tracks": [{"label": "car", "frames": [{**frames[0], "frame": 60}]}]}
    assert problems(late, item=item) == [("tracks", "frame_out_of_range", "[0].frames[0]")]
    assert messages(late, item=item) == ["frame 60 is outside the video (frames 0 to 59)"]
    # nothing known about the video: any frame number from 0 is accepted
    unknown = ItemContext(6, {}, media=None)
    assert validate_result(SCHEMA, late, unknown) == late


def test_ranking_of_static_options() -> None:
    schema = parse_schema(
        {
            "fields": [{"name": "q", "type": "text"}],
            "controls": [
                {"name": "rank", "type": "ranking", "field": "q", "options": ["a", "b", "c"]}
            ],
        }
    )
    item = ItemContext(8, {"q": "which is best?"})
    assert validate_result(schema, {"rank": ["c", "a", "b"]}, item) == {"rank": ["c", "a", "b"]}
    assert problems({"rank": ["c", "a"]}, schema, item) == [("rank", "not_permutation", "")]
    assert problems({"rank": ["c", "a", "d"]}, schema, item) == [("rank", "not_permutation", "")]
    assert problems({"rank": [2, 0, 1]}, schema, item) == [("rank", "type", "")]


def test_ranking_needs_a_list_in_the_item() -> None:
    item = ItemContext(8, {"options": "not a list"})
    assert problems({"order": [0]}, item=item) == [("order", "type", "")]


def test_pairwise_allows_a_tie_only_when_asked() -> None:
    schema = parse_schema(
        {
            "fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "text"}],
            "controls": [
                {"name": "pick", "type": "pairwise", "left": "a", "right": "b", "allow_tie": True}
            ],
        }
    )
    item = ItemContext(1, {"a": "x", "b": "y"})
    for value in ("left", "right", "tie"):
        assert validate_result(schema, {"pick": value}, item) == {"pick": value}
    assert messages({"better": "tie"}) == ["'tie' is not a choice: expected 'left' or 'right'"]


def test_missing_required_and_unknown_controls_are_reported_together() -> None:
    schema = parse_schema(
        {
            "fields": [{"name": "text", "type": "text"}],
            "controls": [
                {
                    "name": "label",
                    "type": "choices",
                    "field": "text",
                    "required": True,
                    "labels": ["a"],
                },
                {
                    "name": "tags",
                    "type": "choices",
                    "field": "text",
                    "multiple": True,
                    "required": True,
                    "labels": ["a"],
                },
            ],
        }
    )
    item = ItemContext(3, {"text": "x"})
    assert problems({"labl": "a", "tags": []}, schema, item) == [
        ("labl", "unknown_control", ""),
        ("label", "required", ""),
        ("tags", "required", ""),
    ]
    with pytest.raises(InvalidResult) as caught:
        validate_result(schema, {"labl": "a"}, item)
    assert caught.value.message == "labl: 'labl' is not a control of this schema (unknown_control)"
    assert validate_result(schema, {"label": "a", "tags": ["a"]}, item) == {
        "label": "a",
        "tags": ["a"],
    }


def test_empty_values_count_as_absent_and_are_dropped() -> None:
    assert validate_result(SCHEMA, {"sentiment": None, "ents": [], "note": ""}, ITEM) == {}
    assert is_empty({"sentiment": None, "ents": [], "note": ""})
    assert not is_empty({"sentiment": None, "stars": 0})


def test_a_result_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidResult) as caught:
        validate_result(SCHEMA, ["pos"], ITEM)  # type: ignore[arg-type]
    assert caught.value.problems == [
        ResultProblem(None, "type", "the result must be an object of control: value")
    ]


def test_labels_of_lists_each_control_label_once() -> None:
    found = labels_of(SCHEMA, validate_result(SCHEMA, VALID, ITEM))
    assert sorted(found) == sorted(
        [
            ("sentiment", "pos"),
            ("topics", "science/maths"),
            ("topics", "history"),
            ("ents", "PER"),
            ("rels", "met"),
            ("boxes", "cell"),
            ("rboxes", "cell"),
            ("polys", "cell"),
            ("masks", "cell"),
            ("speech", "voice"),
            ("tracks", "car"),
            ("better", "left"),
            ("page_ok", "yes"),
            ("peaks", "peak"),
        ]
    )


def test_span_offsets_count_code_points_not_bytes_or_utf16_units() -> None:
    text = "Ana 👩‍🔬 López"
    item = ItemContext(1, {"text": text})
    start = text.index("López")
    value = [{"id": "s", "label": "PER", "start": start, "end": start + 5, "text": "López"}]
    assert start == 8  # 4 + the three code points of the emoji sequence + 1
    assert validate_result(SCHEMA, {"ents": value}, item) == {"ents": value}
    utf16_start = len(text[:start].encode("utf-16-le")) // 2
    assert utf16_start == 10  # offsets counted as in JavaScript would land elsewhere
    shifted = [{**value[0], "start": utf16_start, "end": utf16_start + 5}]
    assert problems({"ents": shifted}, item=item) == [("ents", "span_out_of_range", "[0]")]
