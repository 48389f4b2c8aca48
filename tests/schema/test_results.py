"""Result validation: every control type accepts a valid value and names control, item and rule
for every way a value can be wrong."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.errors import InvalidResult
from accord.schema import ItemContext, MediaInfo, parse_schema, validate_result

TEXT = "Ada Lovelace met Charles Babbage in London."

SCHEMA = parse_schema(
    {
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "image", "type": "image"},
            {"name": "audio", "type": "audio"},
            {"name": "video", "type": "video"},
            {"name": "options", "type": "text"},
            {"name": "a", "type": "text"},
            {"name": "b", "type": "text"},
        ],
        "controls": [
            {"name": "sentiment", "type": "choices", "field": "text", "labels": ["pos", "neg"]},
            {
                "name": "topics",
                "type": "choices",
                "field": "text",
                "multiple": True,
                "max_selected": 2,
                "labels": [{"value": "science", "children": [{"value": "maths"}]}, "history"],
            },
            {"name": "stars", "type": "rating", "field": "text", "max": 5},
            {
                "name": "year",
                "type": "number",
                "field": "text",
                "min": 1800,
                "max": 1900,
                "integer": True,
            },
            {
                "name": "note",
                "type": "text",
                "field": "text",
                "max_length": 10,
                "pattern": "[a-z ]*",
            },
            {"name": "ents", "type": "spans", "field": "text", "labels": ["PER", "LOC"]},
            {
                "name": "rels",
                "type": "relations",
                "field": "text",
                "spans": "ents",
                "labels": ["met"],
            },
            {"name": "boxes", "type": "boxes", "field": "image", "labels": ["cell"]},
            {"name": "rboxes", "type": "rotated_boxes", "field": "image", "labels": ["cell"]},
            {"name": "polys", "type": "polygons", "field": "image", "labels": ["cell"]},
            {
                "name": "pose",
                "type": "keypoints",
                "field": "image",
                "points": ["head", "tail"],
                "skeleton": [["head", "tail"]],
            },
            {"name": "masks", "type": "masks", "field": "image", "labels": ["cell"]},
            {
                "name": "speech",
                "type": "segments",
                "field": "audio",
                "labels": ["voice"],
                "overlap": False,
            },
            {"name": "tracks", "type": "video_tracks", "field": "video", "labels": ["car"]},
            {"name": "order", "type": "ranking", "field": "options"},
            {"name": "better", "type": "pairwise", "left": "a", "right": "b"},
        ],
    }
)
ITEM = ItemContext(
    id=7,
    data={"text": TEXT, "options": ["x", "y", "z"], "a": "one", "b": "two"},
    media=MediaInfo(width=640, height=480, duration=10.0, frame_count=100, fps=25.0),
)


def span(label: str, word: str, sid: str) -> dict[str, Any]:
    start = TEXT.index(word)
    return {"id": sid, "label": label, "start": start, "end": start + len(word), "text": word}


VALID: dict[str, Any] = {
    "sentiment": "pos",
    "topics": ["science/maths", "history"],
    "stars": 4,
    "year": 1843,
    "note": "nice text",
    "ents": [span("PER", "Ada Lovelace", "s1"), span("PER", "Charles Babbage", "s2")],
    "rels": [{"id": "r1", "label": "met", "from": "s1", "to": "s2"}],
    "boxes": [{"id": "b1", "label": "cell", "x": 10, "y": 20, "width": 100.5, "height": 50}],
    "rboxes": [
        {"id": "b1", "label": "cell", "x": 100, "y": 100, "width": 50, "height": 20, "rotation": 30}
    ],
    "polys": [{"id": "p1", "label": "cell", "points": [[1, 1], [50, 1], [25, 40]]}],
    "pose": [{"id": "k1", "points": {"head": {"x": 5, "y": 5}, "tail": {"x": 60, "y": 9}}}],
    "masks": [
        {
            "id": "m1",
            "label": "cell",
            "rle": {"size": [480, 640], "counts": [1000, 20, 640 * 480 - 1020]},
        }
    ],
    "speech": [
        {"id": "g1", "label": "voice", "start": 0.5, "end": 2.0},
        {"id": "g2", "label": "voice", "start": 3.0, "end": 4.0},
    ],
    "tracks": [
        {
            "id": "t1",
            "label": "car",
            "frames": [
                {"frame": 0, "x": 1, "y": 1, "width": 10, "height": 10, "keyframe": True},
                {"frame": 10, "x": 5, "y": 1, "width": 10, "height": 10, "keyframe": True},
            ],
        }
    ],
    "order": [2, 0, 1],
    "better": "left",
}


def problems(result: dict[str, Any]) -> list[tuple[str | None, str]]:
    with pytest.raises(InvalidResult) as caught:
        validate_result(SCHEMA, result, ITEM)
    assert caught.value.item_id == 7
    return [(p.control, p.rule) for p in caught.value.problems]


def with_(control: str, value: Any) -> dict[str, Any]:
    result = {**VALID, control: value}
    if control == "ents":
        del result["rels"]  # relations point at the spans being replaced
    return result


def test_a_valid_value_for_every_control_passes_unchanged() -> None:
    assert validate_result(SCHEMA, VALID, ITEM) == VALID


@pytest.mark.parametrize(
    ("control", "value", "rule"),
    [
        ("sentiment", "ecstatic", "unknown_label"),
        ("sentiment", ["pos"], "type"),
        ("topics", ["history", "history"], "duplicate_label"),
        ("topics", ["science/maths", "history", "science"], "max_selected"),
        ("topics", ["maths"], "unknown_label"),  # a nested label is named by its path
        ("stars", 6, "out_of_range"),
        ("stars", 2.5, "not_integer"),
        ("year", 1950, "out_of_range"),
        ("year", 1843.5, "not_integer"),
        ("year", "1843", "type"),
        ("note", "far too long a note", "too_long"),
        ("note", "Capital", "pattern"),
        ("ents", [{**span("PER", "London", "s1"), "end": len(TEXT) + 1}], "span_out_of_range"),
        ("ents", [{**span("PER", "Ada", "s1"), "text": "Eve"}], "span_text_mismatch"),
        (
            "ents",
            [span("PER", "Ada Lovelace", "s1"), span("LOC", "Lovelace", "s2")],
            "span_overlap",
        ),
        ("ents", [span("ORG", "London", "s1")], "unknown_label"),
        ("ents", [{"id": "s1", "label": "PER", "start": "0", "end": 3}], "type"),
        ("rels", [{"id": "r1", "label": "met", "from": "s1", "to": "s9"}], "unknown_span"),
        (
            "boxes",
            [{"id": "b1", "label": "cell", "x": 600, "y": 20, "width": 100, "height": 50}],
            "outside_image",
        ),
        (
            "boxes",
            [{"id": "b1", "label": "cell", "x": 6, "y": 20, "width": 0, "height": 50}],
            "not_positive",
        ),
        (
            "rboxes",
            [
                {
                    "id": "b1",
                    "label": "cell",
                    "x": 630,
                    "y": 470,
                    "width": 50,
                    "height": 20,
                    "rotation": 45,
                }
            ],
            "outside_image",
        ),
        ("polys", [{"id": "p1", "label": "cell", "points": [[1, 1], [5, 5]]}], "too_few_points"),
        (
            "polys",
            [{"id": "p1", "label": "cell", "points": [[1, 1], [5, 5], [700, 5]]}],
            "outside_image",
        ),
        ("pose", [{"id": "k1", "points": {"nose": {"x": 1, "y": 1}}}], "unknown_point"),
        (
            "masks",
            [{"id": "m1", "label": "cell", "rle": {"size": [480, 640], "counts": [5, 5]}}],
            "mask_counts",
        ),
        (
            "masks",
            [{"id": "m1", "label": "cell", "rle": {"size": [10, 10], "counts": [100]}}],
            "mask_size",
        ),
        ("speech", [{"id": "g1", "label": "voice", "start": 2.0, "end": 1.0}], None),
        ("speech", [{"id": "g1", "label": "voice", "start": 9.0, "end": 12.0}], None),
        (
            "tracks",
            [
                {
                    "id": "t1",
                    "label": "car",
                    "frames": [{"frame": 200, "x": 1, "y": 1, "width": 10, "height": 10}],
                }
            ],
            None,
        ),
        ("order", [0, 1], "not_permutation"),
        ("order", [0, 1, 1], "not_permutation"),
        ("better", "both", "unknown_label"),
    ],
)
def test_each_broken_value_names_its_control_and_rule(
    control: str, value: Any, rule: str | None
) -> None:
    found = problems(with_(control, value))
    assert found, "the value should have been refused"
    assert {c for c, _ in found} == {control}
    if rule is not None:
        assert rule in {r for _, r in found}


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
            ],
        }
    )
    with pytest.raises(InvalidResult) as caught:
        validate_result(schema, {"labl": "a"}, ItemContext(3, {"text": "x"}))
    assert [(p.control, p.rule) for p in caught.value.problems] == [
        ("labl", "unknown_control"),
        ("label", "required"),
    ]
    assert caught.value.message == "labl: 'labl' is not a control of this schema (unknown_control)"


def test_empty_values_count_as_absent() -> None:
    assert validate_result(SCHEMA, {"sentiment": None, "ents": [], "note": ""}, ITEM) == {}


@given(st.data())
def test_any_span_inside_the_text_with_its_own_text_is_valid(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(TEXT) - 1))
    end = data.draw(st.integers(start + 1, len(TEXT)))
    value = [{"id": "s", "label": "PER", "start": start, "end": end, "text": TEXT[start:end]}]
    assert validate_result(SCHEMA, {"ents": value}, ITEM) == {"ents": value}


@given(st.integers(0, len(TEXT)), st.integers(1, 50))
def test_any_span_ending_past_the_text_is_refused(start: int, overshoot: int) -> None:
    value = [{"id": "s", "label": "PER", "start": start, "end": len(TEXT) + overshoot}]
    assert problems({"ents": value}) == [("ents", "span_out_of_range")]


def test_span_offsets_count_code_points_not_bytes_or_utf16_units() -> None:
    text = "Ana 👩‍🔬 López"
    item = ItemContext(1, {"text": text})
    start = text.index("López")
    value = [{"id": "s", "label": "PER", "start": start, "end": start + 5, "text": "López"}]
    assert validate_result(SCHEMA, {"ents": value}, item) == {"ents": value}
