"""One schema with every field and control type, an item for it, and a valid result."""

from __future__ import annotations

from typing import Any

import pytest

from accord.errors import InvalidResult
from accord.schema import ItemContext, LabelingSchema, MediaInfo, parse_schema, validate_result

TEXT = "Ada Lovelace met Charles Babbage in London."
WIDTH, HEIGHT = 640, 480
DURATION, FPS, FRAMES = 10.0, 25.0, 250

SCHEMA_DOC: dict[str, Any] = {
    "title": "Everything",
    "fields": [
        {"name": "text", "type": "text"},
        {"name": "image", "type": "image"},
        {"name": "audio", "type": "audio"},
        {"name": "video", "type": "video"},
        {"name": "page", "type": "html"},
        {"name": "series", "type": "timeseries"},
        {"name": "chat", "type": "dialogue"},
        {"name": "options", "type": "text"},
        {"name": "a", "type": "text"},
        {"name": "b", "type": "text"},
    ],
    "controls": [
        {
            "name": "sentiment",
            "type": "choices",
            "field": "text",
            "labels": [{"value": "pos", "hotkey": "p"}, {"value": "neg", "hotkey": "n"}],
        },
        {
            "name": "topics",
            "type": "choices",
            "field": "text",
            "multiple": True,
            "min_selected": 1,
            "max_selected": 2,
            "labels": [
                {"value": "science", "children": ["maths", "physics"]},
                "history",
                "art",
            ],
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
        {"name": "note", "type": "text", "field": "text", "max_length": 10, "pattern": "[a-z ]*"},
        {"name": "ents", "type": "spans", "field": "text", "labels": ["PER", "LOC"]},
        {"name": "rels", "type": "relations", "field": "text", "spans": "ents", "labels": ["met"]},
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
        {"name": "page_ok", "type": "choices", "field": "page", "labels": ["yes", "no"]},
        {"name": "peaks", "type": "segments", "field": "series", "labels": ["peak"]},
        {"name": "chat_quality", "type": "rating", "field": "chat", "max": 3},
    ],
}
SCHEMA: LabelingSchema = parse_schema(SCHEMA_DOC)
ITEM_ID = 7
ITEM = ItemContext(
    id=ITEM_ID,
    data={
        "text": TEXT,
        "image": "local:cells.jpg",
        "audio": "local:digit.wav",
        "video": "local:clip.mp4",
        "page": "<p>Hello</p>",
        "series": [1, 5, 2, 8],
        "chat": [{"speaker": "a", "text": "hi"}],
        "options": ["x", "y", "z"],
        "a": "one",
        "b": "two",
    },
    media=MediaInfo(width=WIDTH, height=HEIGHT, duration=DURATION, frame_count=FRAMES, fps=FPS),
)


def span(label: str, word: str, sid: str) -> dict[str, Any]:
    start = TEXT.index(word)
    return {"id": sid, "label": label, "start": start, "end": start + len(word), "text": word}


def box(x: float, y: float, w: float, h: float, **extra: Any) -> dict[str, Any]:
    return {"id": "b1", "label": "cell", "x": x, "y": y, "width": w, "height": h, **extra}


def full_mask(fg_start: int = 1000, fg_len: int = 20) -> dict[str, Any]:
    rest = WIDTH * HEIGHT - fg_start - fg_len
    return {"size": [HEIGHT, WIDTH], "counts": [fg_start, fg_len, rest]}


VALID: dict[str, Any] = {
    "sentiment": "pos",
    "topics": ["science/maths", "history"],
    "stars": 4,
    "year": 1843,
    "note": "nice text",
    "ents": [span("PER", "Ada Lovelace", "s1"), span("PER", "Charles Babbage", "s2")],
    "rels": [{"id": "r1", "label": "met", "from": "s1", "to": "s2"}],
    "boxes": [box(10, 20, 100.5, 50)],
    "rboxes": [box(100, 100, 50, 20, rotation=30)],
    "polys": [{"id": "p1", "label": "cell", "points": [[1, 1], [50, 1], [25, 40]]}],
    "pose": [{"id": "k1", "points": {"head": {"x": 5, "y": 5}, "tail": {"x": 60, "y": 9}}}],
    "masks": [{"id": "m1", "label": "cell", "rle": full_mask()}],
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
    "page_ok": "yes",
    "peaks": [{"id": "q1", "label": "peak", "start": 1, "end": 2}],
    "chat_quality": 3,
}


Found = list[tuple[str | None, str, str]]


def problems(result: Any, schema: LabelingSchema = SCHEMA, item: ItemContext = ITEM) -> Found:
    """(control, rule, path) of every problem; fails the test if the result is accepted."""
    with pytest.raises(InvalidResult) as caught:
        validate_result(schema, result, item)
    assert caught.value.item_id == item.id
    return [(p.control, p.rule, p.path) for p in caught.value.problems]


def messages(result: Any, schema: LabelingSchema = SCHEMA, item: ItemContext = ITEM) -> list[str]:
    with pytest.raises(InvalidResult) as caught:
        validate_result(schema, result, item)
    return [p.message for p in caught.value.problems]


def with_(control: str, value: Any) -> dict[str, Any]:
    return {**VALID, control: value}
