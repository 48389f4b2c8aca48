"""Exporters: what goes out reads back the same, in every format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from accord.errors import InvalidInput
from accord.io import export_stream, read_records

ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "data": {"text": 'comma, "quote"\nnew line', "extra": {"deep": [1, 2]}},
        "meta": {"split": "train"},
        "annotations": [
            {
                "id": 10,
                "annotator": "ann",
                "created_at": "2026-01-01T00:00:00+00:00",
                "lead_time": 2.5,
                "skipped": False,
                "result": {"sentiment": "pos", "ents": [{"start": 0, "end": 5}]},
            },
            {
                "id": 11,
                "annotator": "bob",
                "created_at": "2026-01-02T00:00:00+00:00",
                "lead_time": None,
                "skipped": True,
                "result": {},
            },
        ],
    },
    {"id": 2, "data": {"text": "ünïcödé ✓"}, "meta": {}, "annotations": []},
]


def joined(chunks: Any) -> str:
    return b"".join(chunks).decode("utf-8")


def test_jsonl_and_json_round_trip() -> None:
    lines = joined(export_stream(iter(ROWS), "jsonl")).splitlines()
    assert [json.loads(line) for line in lines] == ROWS
    assert json.loads(joined(export_stream(iter(ROWS), "json"))) == ROWS
    assert json.loads(joined(export_stream(iter([]), "json"))) == []


def test_csv_has_a_line_per_annotation_and_keeps_every_value() -> None:
    text = joined(
        export_stream(
            iter(ROWS),
            "csv",
            data_keys=["text"],
            meta_keys=["split"],
            controls=["sentiment", "ents"],
        )
    )
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["item_id"], r["annotation_id"]) for r in table] == [
        ("1", "10"),
        ("1", "11"),
        ("2", ""),
    ]
    first = table[0]
    assert first["data.text"] == 'comma, "quote"\nnew line'
    assert json.loads(first["data._other"]) == {"extra": {"deep": [1, 2]}}
    assert first["meta.split"] == "train"
    assert first["result.sentiment"] == "pos"
    assert json.loads(first["result.ents"]) == [{"start": 0, "end": 5}]
    assert table[1]["skipped"] == "True" and table[1]["result.sentiment"] == ""
    assert table[2]["data.text"] == "ünïcödé ✓"


def test_large_exports_come_in_chunks() -> None:
    rows = (
        {"id": i, "data": {"text": "x" * 100}, "meta": {}, "annotations": []} for i in range(10_000)
    )
    chunks = list(export_stream(rows, "jsonl"))
    assert len(chunks) > 10
    assert all(len(c) < 70 * 1024 for c in chunks)
    assert sum(c.count(b"\n") for c in chunks) == 10_000


def test_an_unknown_format_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        export_stream(iter(ROWS), "xlsx")
    assert "unknown export format 'xlsx'" in caught.value.message


def csv_table(rows: list[dict[str, Any]], **columns: list[str]) -> list[dict[str, str]]:
    text = joined(export_stream(iter(rows), "csv", **columns))
    return list(csv.DictReader(io.StringIO(text, newline="")))


TRICKY = [
    'comma, "double quotes", and a\nnewline',
    "carriage\r\nreturn",
    "tab\there",
    "emoji 👩\u200d🔬, accents é, CJK 日本語, RTL עברית",
    "=SUM(A1:A2)",
    "",
    " leading and trailing spaces ",
]


def test_exports_are_read_back_by_the_importers(tmp_path: Path) -> None:
    rows = [
        {"id": i, "data": {"text": t, "n": i}, "meta": {"source": t}, "media": None}
        for i, t in enumerate(TRICKY, start=1)
    ]
    for fmt in ("jsonl", "json"):
        path = tmp_path / f"export.{fmt}"
        path.write_bytes(b"".join(export_stream(iter(rows), fmt)))
        back = list(read_records(path))
        assert [(r.row, r.data, r.meta) for r in back] == [
            (i, {"text": t, "n": i}, {"source": t}) for i, t in enumerate(TRICKY, start=1)
        ]


def test_csv_cells_keep_commas_quotes_newlines_and_unicode() -> None:
    rows = [
        {
            "id": i,
            "data": {"text": t},
            "meta": {},
            "annotations": [{"id": 100 + i, "result": {"note": t, "tags": [t, "x"]}}],
        }
        for i, t in enumerate(TRICKY, start=1)
    ]
    table = csv_table(rows, data_keys=["text"], meta_keys=[], controls=["note", "tags"])
    assert [r["data.text"] for r in table] == TRICKY
    assert [r["result.note"] for r in table] == TRICKY
    assert [json.loads(r["result.tags"]) for r in table] == [[t, "x"] for t in TRICKY]
    assert [int(r["annotation_id"]) for r in table] == [101, 102, 103, 104, 105, 106, 107]


def test_csv_header_is_fixed_and_values_are_typed_as_json() -> None:
    rows = [
        {
            "id": 5,
            "data": {"text": "t", "count": 3, "ratio": 0.5, "flag": True, "none": None},
            "meta": {"batch": 2, "tags": ["a"]},
            "annotations": [
                {
                    "id": 9,
                    "annotator": "ann",
                    "created_at": "2026-01-01T10:00:00+00:00",
                    "lead_time": 1.25,
                    "skipped": False,
                    "result": {"stars": 4},
                }
            ],
        }
    ]
    text = joined(
        export_stream(
            iter(rows),
            "csv",
            data_keys=["text", "count", "ratio", "flag", "none"],
            meta_keys=["batch", "tags"],
            controls=["stars", "missing"],
        )
    )
    header, line = text.splitlines()
    assert header.split(",") == [
        "item_id",
        "data.text",
        "data.count",
        "data.ratio",
        "data.flag",
        "data.none",
        "data._other",
        "meta.batch",
        "meta.tags",
        "annotation_id",
        "annotator",
        "created_at",
        "lead_time",
        "skipped",
        "result.stars",
        "result.missing",
    ]
    assert line == '5,t,3,0.5,true,,,2,"[""a""]",9,ann,2026-01-01T10:00:00+00:00,1.25,False,4,'


def test_json_export_writes_unicode_as_text_and_other_values_as_strings() -> None:
    import datetime

    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    rows = [{"id": 1, "data": {"text": "naïve ☕"}, "created_at": when}]
    raw = b"".join(export_stream(iter(rows), "jsonl"))
    assert "naïve ☕".encode() in raw  # not \u escapes
    assert json.loads(raw) == {
        "id": 1,
        "data": {"text": "naïve ☕"},
        "created_at": "2026-01-02 03:04:05+00:00",
    }


def test_exports_are_lazy_until_read() -> None:
    consumed: list[int] = []

    def rows() -> Any:
        for i in range(3):
            consumed.append(i)
            yield {"id": i, "data": {}, "meta": {}, "annotations": []}

    stream = export_stream(rows(), "jsonl")
    assert consumed == []
    assert b"".join(stream).count(b"\n") == 3 and consumed == [0, 1, 2]
