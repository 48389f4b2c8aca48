"""The examples of docs/schema.md are real: each schema parses, each result is accepted, each
error body is what the server answers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from accord.api.errors import _body
from accord.errors import InvalidResult, SchemaError
from accord.io import read_records_from_objects
from accord.schema import ItemContext, MediaInfo, parse_schema, validate_result

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)
FULL_TEXT = next(text for lang, text in BLOCKS if lang == "yaml" and "Everything at once" in text)
FULL = parse_schema(FULL_TEXT)
ITEM_JSON = next(
    json.loads(text) for lang, text in BLOCKS if lang == "json" and '"answers"' in text
)
(RECORD,) = read_records_from_objects([ITEM_JSON])
assert RECORD.media_info is not None
ITEM = ItemContext(17, RECORD.data, MediaInfo(**RECORD.media_info))


def json_blocks(kind: str) -> list[Any]:
    out = []
    for lang, text in BLOCKS:
        if lang != "json":
            continue
        value = json.loads(text)
        if classify(value) == kind:
            out.append(value)
    return out


def classify(value: Any) -> str:
    if not isinstance(value, dict):
        return "other"
    if "detail" in value:
        return str(value["type"])
    if "fields" in value:
        return "schema"
    if "data" in value:
        return "item"
    if set(value) == {"size", "counts"}:
        return "rle"
    if value and set(value) <= set(FULL.controls):
        return "result"
    return "other"


def test_every_example_block_is_recognised() -> None:
    kinds = [classify(json.loads(text)) for lang, text in BLOCKS if lang == "json"]
    assert "other" not in kinds
    assert kinds.count("result") >= 15
    assert {"schema", "item", "rle", "invalid_result", "invalid_schema"} <= set(kinds)
    assert {lang for lang, _ in BLOCKS} == {"yaml", "json"}


def test_the_complete_example_has_every_field_and_control_type() -> None:
    assert {f.type for f in FULL.fields.values()} == {
        "text",
        "html",
        "image",
        "audio",
        "video",
        "timeseries",
        "dialogue",
    }
    assert len({c.type for c in FULL.controls.values()}) == 15


@pytest.mark.parametrize("text", [t for lang, t in BLOCKS if lang == "yaml"])
def test_every_yaml_example_parses_and_agrees_with_the_complete_example(text: str) -> None:
    loaded = yaml.safe_load(text)
    if isinstance(loaded, dict):
        assert parse_schema(text).to_dict() == parse_schema(loaded).to_dict()
        return
    # a snippet of controls, read in place of the same controls of the complete example
    full = yaml.safe_load(FULL_TEXT)
    names = {c["name"] for c in loaded}
    others = [c for c in full["controls"] if c["name"] not in names]
    snippet = parse_schema({"fields": full["fields"], "controls": loaded + others})
    for name in names:
        assert snippet.control(name) == FULL.control(name)


@pytest.mark.parametrize("schema", json_blocks("schema"))
def test_every_json_schema_example_parses(schema: dict[str, Any]) -> None:
    assert parse_schema(json.dumps(schema)).to_dict()["controls"][0]["name"] == "sentiment"


@pytest.mark.parametrize("result", json_blocks("result"))
def test_every_result_example_is_accepted_unchanged(result: dict[str, Any]) -> None:
    assert validate_result(FULL, result, ITEM) == result


def test_the_rle_example_is_a_valid_mask_of_the_example_image() -> None:
    (rle,) = json_blocks("rle")
    result = {"regions": [{"label": "WBC", "rle": rle}]}
    assert validate_result(FULL, result, ITEM) == result
    row, column = divmod(rle["counts"][0], rle["size"][1])
    assert (row, column) == (1, 360)


def test_the_invalid_result_body_is_what_the_server_answers() -> None:
    (documented,) = json_blocks("invalid_result")
    result = {
        "sentiment": "positive",
        "entities": [{"label": "ORG", "start": 0, "end": 3}],
        "cells": [{"label": "RBC", "x": 600, "y": 20, "width": 100, "height": 50}],
    }
    with pytest.raises(InvalidResult) as caught:
        validate_result(FULL, result, ITEM)
    assert _body(caught.value) == (422, documented)


def test_the_invalid_schema_body_is_what_the_server_answers() -> None:
    (documented,) = json_blocks("invalid_schema")
    broken = yaml.safe_load(FULL_TEXT)
    sentiment = broken["controls"][0]
    sentiment["labels"][1]["hotkey"] = "1"
    sentiment["labels"].append({"value": "positive"})
    year = next(c for c in broken["controls"] if c["name"] == "year")
    year["min"], year["max"] = 1900, 1800
    with pytest.raises(SchemaError) as caught:
        parse_schema(broken)
    assert _body(caught.value) == (422, documented)
