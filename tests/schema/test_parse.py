"""Parsing schema documents: YAML, JSON and mappings, and errors that say exactly where."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from accord.errors import SchemaError
from accord.schema import LabelingSchema, parse_schema
from accord.schema.model import Choices, Keypoints, Label, Pairwise, Spans
from tests.schema.common import SCHEMA, SCHEMA_DOC

YAML_SCHEMA = """\
title: Reviews
fields:
  - {name: text, type: text}
  - name: photo
    type: image
    source: image_url
controls:
  - name: sentiment
    type: choices
    field: text
    required: true
    labels:
      - {value: positive, hotkey: "1", color: "#2ca02c"}
      - {value: negative, hotkey: "2"}
      - 3
  - name: cells
    type: boxes
    field: photo
    labels: [RBC, WBC]
"""


def parse_error(document: Any) -> SchemaError:
    with pytest.raises(SchemaError) as caught:
        parse_schema(document)
    return caught.value


def locs(document: Any) -> list[tuple[str, str]]:
    return [(d["loc"], d["msg"]) for d in parse_error(document).details]


def doc(*controls: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "fields": fields
        or [
            {"name": "text", "type": "text"},
            {"name": "image", "type": "image"},
            {"name": "audio", "type": "audio"},
        ],
        "controls": list(controls),
    }


def test_yaml_and_json_texts_and_mappings_give_the_same_schema() -> None:
    from_yaml = parse_schema(YAML_SCHEMA)
    mapping = yaml.safe_load(YAML_SCHEMA)
    assert parse_schema(mapping) == from_yaml
    assert parse_schema(json.dumps(mapping)) == from_yaml
    assert parse_schema(json.dumps(mapping, indent="\t")) == from_yaml  # tabs are not YAML
    assert parse_schema(json.dumps(mapping).encode()) == from_yaml
    assert parse_schema(b"\xef\xbb\xbf" + YAML_SCHEMA.encode()) == from_yaml
    assert parse_schema("\ufeff" + json.dumps(mapping, indent=2)) == from_yaml


def test_parsed_yaml_reads_as_written() -> None:
    schema = parse_schema(YAML_SCHEMA)
    assert schema.document.title == "Reviews"
    assert schema.fields["photo"].key == "image_url"
    assert schema.fields["text"].key == "text"
    sentiment = schema.control("sentiment")
    assert isinstance(sentiment, Choices)
    assert sentiment.required is True and sentiment.multiple is False
    assert sentiment.labels[0] == Label(value="positive", hotkey="1", color="#2ca02c")
    assert sentiment.labels[2].value == "3"  # a number label becomes text
    assert schema.labels("sentiment") == ["3", "negative", "positive"]
    assert schema.field_of(schema.control("cells")).name == "photo"


def test_to_dict_round_trips_every_control_type() -> None:
    document = SCHEMA.to_dict()
    assert parse_schema(document) == SCHEMA
    assert hash(parse_schema(document)) == hash(SCHEMA)
    assert parse_schema(json.dumps(document)).to_dict() == document
    assert parse_schema(yaml.safe_dump(document)).to_dict() == document
    # defaults are left out, what was written is kept
    topics = next(c for c in document["controls"] if c["name"] == "topics")
    assert topics == {
        "name": "topics",
        "type": "choices",
        "field": "text",
        "multiple": True,
        "min_selected": 1,
        "max_selected": 2,
        "labels": [
            {"value": "science", "children": [{"value": "maths"}, {"value": "physics"}]},
            {"value": "history"},
            {"value": "art"},
        ],
    }
    better = next(c for c in document["controls"] if c["name"] == "better")
    assert better == {"name": "better", "type": "pairwise", "left": "a", "right": "b"}


def test_every_option_of_every_control_is_read() -> None:
    schema = SCHEMA
    ents = schema.control("ents")
    assert isinstance(ents, Spans) and ents.overlap is False
    pose = schema.control("pose")
    assert isinstance(pose, Keypoints)
    assert pose.points == ("head", "tail") and pose.skeleton == (("head", "tail"),)
    better = schema.control("better")
    assert isinstance(better, Pairwise) and (better.left, better.right) == ("a", "b")
    assert better.allow_tie is False
    assert SCHEMA_DOC["controls"][0]["labels"][0]["hotkey"] == "p"


def test_two_schemas_differ_when_a_label_differs() -> None:
    changed = copy.deepcopy(SCHEMA_DOC)
    changed["controls"][0]["labels"][1]["value"] = "negative"
    assert parse_schema(changed) != SCHEMA
    assert SCHEMA != SCHEMA_DOC  # a schema only equals a schema


CHOICE = {"name": "mood", "type": "choices", "field": "text", "labels": ["a", "b"]}

ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "duplicate control names",
        doc(CHOICE, {**CHOICE, "labels": ["c"]}),
        "controls[1].name",
        "the control name 'mood' is used twice",
    ),
    (
        "duplicate field names",
        doc(CHOICE, fields=[{"name": "text", "type": "text"}, {"name": "text", "type": "html"}]),
        "fields[1].name",
        "the field name 'text' is used twice",
    ),
    (
        "a control named like a field",
        doc({**CHOICE, "name": "image"}),
        "controls.image.name",
        "'image' is already the name of a field",
    ),
    (
        "unknown field",
        doc({**CHOICE, "field": "body"}),
        "controls.mood.field",
        "control 'mood' refers to unknown field 'body'",
    ),
    (
        "field of the wrong type",
        doc({"name": "cells", "type": "boxes", "field": "text", "labels": ["x"]}),
        "controls.cells.field",
        "boxes control 'cells' needs a field of type image, but 'text' is text",
    ),
    (
        "segments on an image",
        doc({"name": "seg", "type": "segments", "field": "image", "labels": ["x"]}),
        "controls.seg.field",
        "segments control 'seg' needs a field of type audio or video or timeseries,"
        " but 'image' is image",
    ),
    (
        "spans on audio",
        doc({"name": "ents", "type": "spans", "field": "audio", "labels": ["x"]}),
        "controls.ents.field",
        "spans control 'ents' needs a field of type text, but 'audio' is audio",
    ),
    (
        "pairwise side unknown",
        doc({"name": "pick", "type": "pairwise", "left": "text", "right": "other"}),
        "controls.pick.right",
        "control 'pick' refers to unknown field 'other'",
    ),
    (
        "duplicate labels",
        doc({**CHOICE, "labels": ["a", "b", "a"]}),
        "controls.mood.labels[2]",
        "label 'a' appears twice in 'mood'",
    ),
    (
        "duplicate nested labels",
        doc({**CHOICE, "labels": [{"value": "a", "children": ["x", "y", "x"]}]}),
        "controls.mood.labels[0].children[2]",
        "label 'a/x' appears twice in 'mood'",
    ),
    (
        "duplicate hotkeys in one control",
        doc({**CHOICE, "labels": [{"value": "a", "hotkey": "1"}, {"value": "b", "hotkey": "1"}]}),
        "controls.mood.labels[1].hotkey",
        "hotkey '1' of mood:b is already used by mood:a",
    ),
    (
        "duplicate hotkeys across controls, any case",
        doc(
            {**CHOICE, "labels": [{"value": "a", "hotkey": "q"}]},
            {
                "name": "ents",
                "type": "spans",
                "field": "text",
                "labels": [{"value": "PER", "hotkey": "Q"}],
            },
        ),
        "controls.ents.labels[0].hotkey",
        "hotkey 'Q' of ents:PER is already used by mood:a",
    ),
    (
        "bad regex",
        doc({"name": "note", "type": "text", "field": "text", "pattern": "[a-"}),
        "controls.note.pattern",
        "not a regular expression: unterminated character set at position 0",
    ),
    (
        "number min above max",
        doc({"name": "n", "type": "number", "field": "text", "min": 5, "max": 1.5}),
        "controls.n.min",
        "min (5) is larger than max (1.5)",
    ),
    (
        "min_selected above max_selected",
        doc({**CHOICE, "multiple": True, "min_selected": 3, "max_selected": 2}),
        "controls.mood.min_selected",
        "min_selected (3) is larger than max_selected (2)",
    ),
    (
        "max_selected without multiple",
        doc({**CHOICE, "max_selected": 2}),
        "controls.mood.max_selected",
        "max_selected needs multiple: true",
    ),
    (
        "label with a slash",
        doc({**CHOICE, "labels": ["a", {"value": "b", "children": ["c", "d/e"]}]}),
        "controls.mood.labels[1].children[1].value",
        "a label may not contain '/', which separates hierarchy levels",
    ),
    (
        "empty label",
        doc({**CHOICE, "labels": ["a", ""]}),
        "controls.mood.labels[1].value",
        "String should have at least 1 character",
    ),
    (
        "bad colour",
        doc({**CHOICE, "labels": ["a", {"value": "b", "color": "red"}]}),
        "controls.mood.labels[1].color",
        "colour 'red' must be a hex colour such as #1f77b4",
    ),
    (
        "two-letter hotkey",
        doc({**CHOICE, "labels": [{"value": "a", "hotkey": "ab"}]}),
        "controls.mood.labels[0].hotkey",
        "String should have at most 1 character",
    ),
    (
        "no labels",
        doc({**CHOICE, "labels": []}),
        "controls.mood.labels",
        "Tuple should have at least 1 item after validation, not 0",
    ),
    (
        "unknown option",
        doc({"name": "stars", "type": "rating", "field": "text", "maximum": 3}),
        "controls.stars.maximum",
        "Extra inputs are not permitted",
    ),
    (
        "rating of one",
        doc({"name": "stars", "type": "rating", "field": "text", "max": 1}),
        "controls.stars.max",
        "Input should be greater than or equal to 2",
    ),
    (
        "bad control name",
        doc({**CHOICE, "name": "my mood"}),
        "controls.my mood.name",
        "String should match pattern '^[A-Za-z_][A-Za-z0-9_]{0,63}$'",
    ),
    (
        "relations over a control that is not spans",
        doc(
            CHOICE,
            {"name": "r", "type": "relations", "field": "text", "spans": "mood", "labels": ["x"]},
        ),
        "controls.r.spans",
        "'mood' is not a spans control",
    ),
    (
        "relations on another field than their spans",
        doc(
            {"name": "e", "type": "spans", "field": "text", "labels": ["x"]},
            {"name": "r", "type": "relations", "field": "t2", "spans": "e", "labels": ["y"]},
            fields=[{"name": "text", "type": "text"}, {"name": "t2", "type": "text"}],
        ),
        "controls.r.field",
        "relations must be on the field of 'e' ('text')",
    ),
    (
        "duplicate keypoint names",
        doc({"name": "pose", "type": "keypoints", "field": "image", "points": ["a", "b", "a"]}),
        "controls.pose.points[2]",
        "point name 'a' is used twice",
    ),
    (
        "skeleton with an unknown point",
        doc(
            {
                "name": "pose",
                "type": "keypoints",
                "field": "image",
                "points": ["a", "b"],
                "skeleton": [["a", "b"], ["b", "c"]],
            }
        ),
        "controls.pose.skeleton[1][1]",
        "the skeleton names unknown point 'c'",
    ),
    (
        "duplicate ranking options",
        doc({"name": "rank", "type": "ranking", "field": "text", "options": ["x", "y", "x"]}),
        "controls.rank.options",
        "ranking options must be unique",
    ),
    (
        "unknown control type",
        doc({"name": "slide", "type": "slider", "field": "text"}),
        "controls.slide",
        "Input tag 'slider' found using 'type' does not match any of the expected tags:"
        " 'choices', 'rating', 'number', 'text', 'spans', 'relations', 'boxes',"
        " 'rotated_boxes', 'polygons', 'keypoints', 'masks', 'segments', 'video_tracks',"
        " 'ranking', 'pairwise'",
    ),
    (
        "unknown field type",
        doc(CHOICE, fields=[{"name": "text", "type": "pdf"}]),
        "fields.text.type",
        "Input should be 'text', 'image', 'audio', 'video', 'html', 'timeseries' or 'dialogue'",
    ),
    (
        "no controls",
        {"fields": [{"name": "text", "type": "text"}], "controls": []},
        "controls",
        "Tuple should have at least 1 item after validation, not 0",
    ),
    (
        "no fields key",
        {"controls": [CHOICE]},
        "fields",
        "Field required",
    ),
]


@pytest.mark.parametrize(
    ("document", "loc", "msg"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_each_schema_error_says_where(document: dict[str, Any], loc: str, msg: str) -> None:
    error = parse_error(document)
    assert error.details == [{"loc": loc, "msg": msg}]
    assert error.message == f"{loc}: {msg}"


def test_every_problem_is_listed_not_only_the_first() -> None:
    found = locs(
        doc(
            {**CHOICE, "labels": ["a", "a"], "field": "nope"},
            {"name": "n", "type": "number", "field": "text", "min": 2, "max": 1},
        )
    )
    assert [loc for loc, _ in found] == [
        "controls.mood.field",
        "controls.mood.labels[1]",
        "controls.n.min",
    ]
    many = locs(doc({**CHOICE, "labels": ["a", ""]}, {"name": "x", "type": "rating"}))
    assert [loc for loc, _ in many] == ["controls.mood.labels[1].value", "controls.x.field"]


def test_yaml_booleans_as_labels_get_a_hint() -> None:
    found = locs(
        "fields: [{name: t, type: text}]\n"
        "controls: [{name: ok, type: choices, field: t, labels: [yes, no, maybe]}]\n"
    )
    assert [loc for loc, _ in found] == ["controls.ok.labels[0]", "controls.ok.labels[1]"]
    assert found[0][1].startswith("a label must be text, not true:")
    assert "put such a label in quotes" in found[0][1]
    quoted = parse_schema(
        "fields: [{name: t, type: text}]\n"
        "controls: [{name: ok, type: choices, field: t, labels: ['yes', 'no', maybe]}]\n"
    )
    assert quoted.labels("ok") == ["maybe", "no", "yes"]


def test_a_yaml_syntax_error_gives_line_and_column() -> None:
    error = parse_error("fields:\n  - {name: text, type: text\ncontrols: []\n")
    assert error.message == (
        "the schema is not valid YAML or JSON at line 3, column 9: expected ',' or '}', but got ':'"
    )
    assert error.details == [{"loc": "", "msg": "expected ',' or '}', but got ':'"}]


def test_a_json_syntax_error_gives_the_json_position() -> None:
    error = parse_error('{\n  "fields": [}\n')
    assert (
        error.message
        == "the schema is not valid YAML or JSON at line 2, column 14: Expecting value"
    )
    assert error.details == [{"loc": "", "msg": "Expecting value"}]


def test_a_key_given_twice_is_refused_rather_than_silently_overwritten() -> None:
    yaml_text = (
        "fields: [{name: t, type: text}]\n"
        "controls:\n"
        "  - {name: stars, type: rating, field: t, max: 3, max: 10}\n"
    )
    assert parse_error(yaml_text).message == (
        "the schema is not valid YAML or JSON at line 3, column 51: the key 'max' appears twice"
    )
    json_text = '{"fields": [{"name": "t", "type": "text", "type": "html"}], "controls": []}'
    assert parse_error(json_text).details == [
        {"loc": "", "msg": "the key 'type' appears twice in one object"}
    ]


def test_yaml_aliases_are_refused() -> None:
    # a few lines of aliases can stand for billions of nodes
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    error = parse_error(bomb + "fields: [{name: t, type: text}]\n")
    assert error.message == (
        "the schema is not valid YAML or JSON at line 2, column 8:"
        " anchors and aliases (&name, *name) are not supported"
    )


def test_bytes_that_are_not_utf8_are_refused() -> None:
    error = parse_error(b"fields: [{name: caf\xe9, type: text}]")
    assert error.message == "the schema is not UTF-8 text (byte 19)"


@pytest.mark.parametrize("text", ["- a\n- b\n", "just words", "42", ""])
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    error = parse_error(text)
    assert error.message == "the schema must be a mapping with 'fields' and 'controls'"


def test_label_paths_include_inner_nodes() -> None:
    schema = parse_schema(
        doc(
            {
                **CHOICE,
                "labels": [
                    {
                        "value": "animal",
                        "children": [{"value": "dog", "children": ["puppy"]}, "cat"],
                    }
                ],
            }
        )
    )
    assert isinstance(schema, LabelingSchema)
    assert schema.labels("mood") == ["animal", "animal/cat", "animal/dog", "animal/dog/puppy"]
    assert schema.label_set("mood") == frozenset(schema.labels("mood"))
