"""Streaming import readers on real-looking files: what each row becomes, and the row number and
reason of the first malformed row."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accord.errors import ImportRowError, InvalidInput
from accord.io import (
    ImportRecord,
    detect_format,
    iter_chunks,
    read_records,
    read_records_from_objects,
)
from tests.conftest import DATASETS

SST2 = DATASETS / "text" / "sst2.csv"

Row = tuple[int, dict[str, Any], dict[str, Any], str | None]


def rows(records: Any) -> list[Row]:
    return [(r.row, r.data, r.meta, r.media) for r in records]


def row_error(path: Path | io.BytesIO, fmt: str | None = None) -> ImportRowError:
    with pytest.raises(ImportRowError) as caught:
        list(read_records(path, fmt))
    return caught.value


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def sst2_sentences(n: int) -> list[dict[str, str]]:
    if not SST2.exists():
        pytest.skip("the shared SST-2 sample is not present")
    with SST2.open(newline="", encoding="utf-8") as f:
        out = []
        for row in csv.DictReader(f):
            out.append(row)
            if len(out) == n:
                break
    return out


# JSONL


def test_jsonl_plain_objects_and_task_form(tmp_path: Path) -> None:
    lines = [
        {"text": "plain object", "n": 1},
        {"data": {"text": "task form"}, "meta": {"split": "dev"}, "media": "https://x/y.png"},
        {"data": {"text": "extra keys are ignored"}, "id": 9, "annotations": []},
        {"text": "café ☕ 日本語", "nested": {"a": [1, 2.5, None, True]}},
    ]
    path = write(tmp_path, "items.jsonl", "".join(json.dumps(x) + "\n" for x in lines))
    assert rows(read_records(path)) == [
        (1, {"text": "plain object", "n": 1}, {}, None),
        (2, {"text": "task form"}, {"split": "dev"}, "https://x/y.png"),
        (3, {"text": "extra keys are ignored"}, {}, None),
        (4, {"text": "café ☕ 日本語", "nested": {"a": [1, 2.5, None, True]}}, {}, None),
    ]


def test_jsonl_of_real_sentences_keeps_every_character(tmp_path: Path) -> None:
    sentences = sst2_sentences(300)
    body = "".join(
        json.dumps({"data": {"text": s["text"]}, "meta": {"label": s["label"]}}, ensure_ascii=False)
        + "\n"
        for s in sentences
    )
    records = list(read_records(write(tmp_path, "sst2.jsonl", body)))
    assert [r.data["text"] for r in records] == [s["text"] for s in sentences]
    assert [r.meta["label"] for r in records] == [s["label"] for s in sentences]
    assert [r.row for r in records] == list(range(1, 301))


def test_jsonl_row_numbers_are_line_numbers_counting_blank_lines(tmp_path: Path) -> None:
    body = '\ufeff{"a": 1}\n\n   \n{"a": 2}\r\n{"a": 3}'  # BOM, blank lines, CRLF, no final newline
    assert rows(read_records(write(tmp_path, "x.jsonl", body))) == [
        (1, {"a": 1}, {}, None),
        (4, {"a": 2}, {}, None),
        (5, {"a": 3}, {}, None),
    ]


def test_bad_json_on_line_7_is_row_7(tmp_path: Path) -> None:
    lines = [json.dumps({"text": f"row {i}"}) for i in range(1, 7)] + ['{"text": "oops",}']
    lines += [json.dumps({"text": "never read"})]
    error = row_error(write(tmp_path, "x.jsonl", "\n".join(lines)))
    assert error.row == 7
    assert error.reason.startswith("invalid JSON: ")
    assert error.message == f"row 7: {error.reason}"
    assert error.details == [{"row": 7, "reason": error.reason}]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[1, 2]", "expected an object, got a list"),
        ('"text"', "expected an object, got a string"),
        ("42", "expected an object, got a number"),
        ("null", "expected an object, got null"),
        ("{}", "the item has no data"),
        ('{"data": {}}', "the item has no data"),
        ('{"data": {"t": "x"}, "meta": [1]}', "'meta' must be an object, got a list"),
        ('{"data": {"t": "x"}, "media": 5}', "'media' must be a string, got a number"),
    ],
)
def test_jsonl_rows_that_are_not_items(tmp_path: Path, line: str, reason: str) -> None:
    error = row_error(write(tmp_path, "x.jsonl", '{"ok": 1}\n{"ok": 2}\n' + line + "\n"))
    assert (error.row, error.reason) == (3, reason)


def test_invalid_utf8_in_jsonl_names_its_line(tmp_path: Path) -> None:
    error = row_error(write(tmp_path, "x.jsonl", b'{"a": "ok"}\n{"a": "\xff\xfe"}\n'))
    assert error.row == 2 and error.reason.startswith("invalid JSON")


# JSON arrays


def test_json_array_with_utf8_bom_and_whitespace(tmp_path: Path) -> None:
    items = [{"text": "first", "score": 0.25}, {"data": {"text": "second"}, "meta": {"k": "v"}}]
    body = b"\xef\xbb\xbf \n\t" + json.dumps(items, indent=2, ensure_ascii=False).encode()
    assert rows(read_records(write(tmp_path, "items.json", body))) == [
        (1, {"text": "first", "score": 0.25}, {}, None),
        (2, {"text": "second"}, {"k": "v"}, None),
    ]


def test_json_array_numbers_are_python_numbers(tmp_path: Path) -> None:
    body = '[{"i": 3, "f": 1.5, "e": 1e3, "neg": -2, "u": "naïve"}]'
    (record,) = read_records(write(tmp_path, "x.json", body))
    assert record.data == {"i": 3, "f": 1.5, "e": 1000.0, "neg": -2, "u": "naïve"}
    assert type(record.data["f"]) is float and type(record.data["i"]) is int


def test_json_array_element_that_is_not_an_object(tmp_path: Path) -> None:
    error = row_error(write(tmp_path, "x.json", '[{"a": 1}, {"a": 2}, ["not", "an", "object"]]'))
    assert (error.row, error.reason) == (3, "expected an object, got a list")


def test_json_array_broken_after_two_elements_is_row_3(tmp_path: Path) -> None:
    error = row_error(write(tmp_path, "x.json", '[{"a": 1}, {"a": 2}, {"a": 3,, }]'))
    assert error.row == 3 and error.reason.startswith("invalid JSON")
    truncated = row_error(write(tmp_path, "y.json", '[{"a": 1}, {"a": '))
    assert truncated.row == 2 and truncated.reason.startswith("invalid JSON")


def test_a_json_file_that_is_not_an_array_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        list(read_records(write(tmp_path, "x.json", '  {"data": {"text": "one"}}')))
    assert not isinstance(caught.value, ImportRowError)
    assert caught.value.message.startswith("a .json file must hold an array of objects")
    assert list(read_records(write(tmp_path, "empty.json", " \n"))) == []
    assert list(read_records(write(tmp_path, "none.json", "[]"))) == []


# CSV and TSV


def test_csv_columns_meta_and_media(tmp_path: Path) -> None:
    body = (
        "text,label,meta.split,meta.source,media\r\n"
        "plain,pos,train,sst,https://x/1.png\r\n"
        '"with, comma and ""quotes""",neg,dev,,\r\n'
        '"two\nlines",pos,,,\r\n'
        "café ☕,,test,web,local:a.jpg\r\n"
    )
    assert rows(read_records(write(tmp_path, "items.csv", body))) == [
        (
            1,
            {"text": "plain", "label": "pos"},
            {"split": "train", "source": "sst"},
            "https://x/1.png",
        ),
        (2, {"text": 'with, comma and "quotes"', "label": "neg"}, {"split": "dev"}, None),
        (3, {"text": "two\nlines", "label": "pos"}, {}, None),
        (4, {"text": "café ☕"}, {"split": "test", "source": "web"}, "local:a.jpg"),
    ]


def test_csv_with_bom_and_quoted_header(tmp_path: Path) -> None:
    body = '\ufeff"text","meta.id"\n"hello",17\n'.encode()
    assert rows(read_records(write(tmp_path, "x.csv", body))) == [
        (1, {"text": "hello"}, {"id": "17"}, None)
    ]


def test_csv_of_real_sentences_round_trips_through_the_csv_module(tmp_path: Path) -> None:
    sentences = sst2_sentences(500)
    path = tmp_path / "sst2.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["text", "label", "meta.split"])
        writer.writeheader()
        for s in sentences:
            writer.writerow({"text": s["text"], "label": s["label"], "meta.split": s["split"]})
    records = list(read_records(path))
    assert [r.data for r in records] == [
        {"text": s["text"], "label": s["label"]} for s in sentences
    ]
    assert [r.meta for r in records] == [{"split": s["split"]} for s in sentences]


def test_csv_row_with_too_many_fields(tmp_path: Path) -> None:
    body = 'text,label\na,pos\nb,neg\n"c, quoted",pos\nd,neg,EXTRA\ne,pos\n'
    error = row_error(write(tmp_path, "x.csv", body))
    assert (error.row, error.reason) == (4, "expected 2 cells as in the header, found 3")


def test_csv_row_with_too_few_fields(tmp_path: Path) -> None:
    error = row_error(write(tmp_path, "x.csv", "a,b,c\n1,2,3\n4,5\n"))
    assert (error.row, error.reason) == (2, "expected 3 cells as in the header, found 2")


def test_csv_blank_lines_are_skipped_but_keep_their_numbers(tmp_path: Path) -> None:
    body = "text\nfirst\n\nsecond\n"
    assert [(r.row, r.data) for r in read_records(write(tmp_path, "x.csv", body))] == [
        (1, {"text": "first"}),
        (3, {"text": "second"}),
    ]


def test_csv_invalid_utf8_names_its_own_row_even_in_a_small_file(tmp_path: Path) -> None:
    body = b"text,label\n" + b"fine,pos\n" * 5 + b"caf\xe9,neg\n" + b"after,pos\n"
    error = row_error(write(tmp_path, "latin1.csv", body))
    assert error.row == 6
    assert error.reason == "not UTF-8 text: invalid continuation byte at byte 3"


def test_csv_with_old_mac_line_ends(tmp_path: Path) -> None:
    body = 'a,b\r1,"x\ry"\r3,4\r'
    assert rows(read_records(write(tmp_path, "x.csv", body))) == [
        (1, {"a": "1", "b": "x\ry"}, {}, None),
        (2, {"a": "3", "b": "4"}, {}, None),
    ]


def test_csv_header_must_name_each_column_once(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        list(read_records(write(tmp_path, "x.csv", "text,text\n1,2\n")))
    assert caught.value.message == "the header must name every column once"
    with pytest.raises(InvalidInput):
        list(read_records(write(tmp_path, "y.csv", "text,\n1,2\n")))


def test_csv_row_with_only_metadata_has_no_data(tmp_path: Path) -> None:
    error = row_error(write(tmp_path, "x.csv", "text,meta.k\nhello,1\n,2\n"))
    assert (error.row, error.reason) == (2, "the row has no data")


def test_empty_csv_yields_nothing(tmp_path: Path) -> None:
    assert list(read_records(write(tmp_path, "x.csv", ""))) == []
    assert list(read_records(write(tmp_path, "y.csv", "text\n"))) == []


def test_tsv_uses_tabs_and_keeps_commas(tmp_path: Path) -> None:
    body = 'text\tmeta.lang\tmedia\nhello, world\ten\t\n"tab\tinside"\tfr\tlocal:x.wav\n'
    assert rows(read_records(write(tmp_path, "items.tsv", body))) == [
        (1, {"text": "hello, world"}, {"lang": "en"}, None),
        (2, {"text": "tab\tinside"}, {"lang": "fr"}, "local:x.wav"),
    ]
    error = row_error(write(tmp_path, "bad.tsv", "a\tb\n1\t2\t3\n"))
    assert (error.row, error.reason) == (1, "expected 2 cells as in the header, found 3")


# Parquet


def test_parquet_columns_types_and_nulls(tmp_path: Path) -> None:
    table = pa.table(
        {
            "text": ["first", "second ☕", None],
            "score": [0.5, None, 2.0],
            "tags": [["a", "b"], [], ["c"]],
            "meta.split": ["train", "dev", None],
            "media": [None, "local:x.png", None],
        }
    )
    path = tmp_path / "items.parquet"
    pq.write_table(table, path)
    assert rows(read_records(path)) == [
        (1, {"text": "first", "score": 0.5, "tags": ["a", "b"]}, {"split": "train"}, None),
        (2, {"text": "second ☕", "tags": []}, {"split": "dev"}, "local:x.png"),
        (3, {"score": 2.0, "tags": ["c"]}, {}, None),
    ]


def test_parquet_read_in_batches_keeps_row_numbers(tmp_path: Path) -> None:
    n = 25_003  # more than two record batches
    path = tmp_path / "many.pq"
    pq.write_table(pa.table({"i": list(range(n))}), path, row_group_size=7_000)
    records = list(read_records(path))
    assert len(records) == n
    assert all(r.row == r.data["i"] + 1 for r in records)


def test_parquet_row_without_data(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"text": ["a", None, "c"], "meta.k": ["1", "2", "3"]}), path)
    error = row_error(path)
    assert (error.row, error.reason) == (2, "the row has no data")


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        list(read_records(write(tmp_path, "x.parquet", b"PAR1 not really")))
    assert caught.value.message.startswith("not a readable Parquet file")


# formats and sources


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("items.jsonl", "jsonl"),
        ("ITEMS.NDJSON", "jsonl"),
        ("a.b.json", "json"),
        ("data.csv", "csv"),
        ("data.TSV", "tsv"),
        ("x.parquet", "parquet"),
        ("x.pq", "parquet"),
    ],
)
def test_format_is_detected_from_the_extension(name: str, fmt: str) -> None:
    assert detect_format(name) == fmt


def test_a_folder_is_a_media_folder_and_other_extensions_are_refused(tmp_path: Path) -> None:
    assert detect_format(str(tmp_path)) == "folder"
    with pytest.raises(InvalidInput) as caught:
        detect_format("sheet.xlsx")
    assert caught.value.message.startswith("cannot tell the format of 'sheet.xlsx'")
    assert caught.value.details == [{"field": "format", "rule": "known_format"}]


def test_streams_need_a_named_format() -> None:
    stream = io.BytesIO(b'{"a": 1}\n')
    with pytest.raises(InvalidInput, match="name the format of a stream"):
        read_records(stream)
    assert rows(read_records(stream, "jsonl")) == [(1, {"a": 1}, {}, None)]
    with pytest.raises(InvalidInput, match="unknown format 'xml'"):
        read_records(io.BytesIO(b""), "xml")
    with pytest.raises(InvalidInput, match="needs the folder's path"):
        read_records(io.BytesIO(b""), "folder")


def test_the_named_format_wins_over_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "export.txt", "text\nhello\n")
    assert rows(read_records(path, "csv")) == [(1, {"text": "hello"}, {}, None)]
    with pytest.raises(InvalidInput, match="is not a file"):
        list(read_records(tmp_path / "missing.csv", "csv"))


def test_objects_from_the_api_follow_the_same_rules() -> None:
    objects = [{"text": "a"}, {"data": {"text": "b"}, "meta": {"m": 1}}, "bad"]
    records = read_records_from_objects(objects)
    assert rows([next(records), next(records)]) == [
        (1, {"text": "a"}, {}, None),
        (2, {"text": "b"}, {"m": 1}, None),
    ]
    with pytest.raises(ImportRowError) as caught:
        next(records)
    assert (caught.value.row, caught.value.reason) == (3, "expected an object, got a string")


def test_chunks_hold_at_most_the_chunk_size() -> None:
    records = iter(ImportRecord(i, {"i": i}) for i in range(1, 12))
    chunks = list(iter_chunks(records, 5))
    assert [[r.row for r in c] for c in chunks] == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11]]


def test_task_form_may_give_media_sizes_for_result_validation(tmp_path: Path) -> None:
    lines = [
        {"data": {"image": "https://x/1.jpg"}, "media_info": {"width": 640, "height": 480.0}},
        {
            "data": {"video": "https://x/v.mp4"},
            "media_info": {"frame_count": 35, "fps": 29.97, "codec": "h264"},
        },
        {"data": {"text": "no sizes"}, "media_info": {}},
        {"data": {"text": "plain"}},
    ]
    path = write(tmp_path, "x.jsonl", "".join(json.dumps(x) + "\n" for x in lines))
    assert [r.media_info for r in read_records(path)] == [
        {"width": 640, "height": 480.0},
        {"frame_count": 35, "fps": 29.97},
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        ([640, 480], "'media_info' must be an object, got a list"),
        ({"width": "640"}, "'media_info.width' must be a positive number, got '640'"),
        ({"height": 0}, "'media_info.height' must be a positive number, got 0"),
        ({"frame_count": 2.5}, "'media_info.frame_count' must be a positive whole number, got 2.5"),
        ({"duration": True}, "'media_info.duration' must be a positive number, got True"),
    ],
)
def test_bad_media_sizes_name_their_row(tmp_path: Path, info: Any, reason: str) -> None:
    body = json.dumps({"text": "ok"}) + "\n" + json.dumps({"data": {"t": 1}, "media_info": info})
    error = row_error(write(tmp_path, "x.jsonl", body))
    assert (error.row, error.reason) == (2, reason)
