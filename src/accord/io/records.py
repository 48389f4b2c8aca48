"""Import records: what every reader yields, whatever the file format.

Mapping rules (the same for JSON, JSONL and lists of objects from the API or SDK):
- an object with a key ``data`` whose value is an object is in Label Studio's task form: ``data``
  is the item's data, ``meta`` (object) its metadata, ``media`` (string) its media reference,
  ``media_info`` (object) the media's ``width``/``height`` in pixels, ``duration`` in seconds,
  ``frame_count`` and ``fps``; other keys are ignored;
- any other object is the data itself.
Tables (CSV, TSV, Parquet): every column is a data key, except ``meta.<key>`` columns (metadata)
and a ``media`` column (the media reference). Empty CSV cells are left out of the row.
Row numbers are 1-based positions of the record: the line for JSONL, the element for a JSON array,
the data row for tables (the first row after the header is row 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from accord.errors import ImportRowError


@dataclass(slots=True)
class ImportRecord:
    row: int
    data: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    media: str | None = None
    media_info: dict[str, Any] | None = None
    gold: dict[str, Any] | None = None
    """The item's known answer, making it a gold item (``gold`` key, or ``gold.<control>``
    columns)."""


def record_from_object(row: int, obj: Any) -> ImportRecord:
    if not isinstance(obj, Mapping):
        raise ImportRowError(row, f"expected an object, got {_kind(obj)}")
    data = obj.get("data")
    if isinstance(data, Mapping):
        meta = obj.get("meta") or {}
        media = obj.get("media")
        if not isinstance(meta, Mapping):
            raise ImportRowError(row, f"'meta' must be an object, got {_kind(meta)}")
        if media is not None and not isinstance(media, str):
            raise ImportRowError(row, f"'media' must be a string, got {_kind(media)}")
        gold = obj.get("gold")
        if gold is not None and not isinstance(gold, Mapping):
            raise ImportRowError(row, f"'gold' must be an object, got {_kind(gold)}")
        record = ImportRecord(
            row,
            dict(data),
            dict(meta),
            media,
            _media_info(row, obj),
            dict(gold) if gold else None,
        )
    else:
        record = ImportRecord(row, dict(obj))
    if not record.data:
        raise ImportRowError(row, "the item has no data")
    return record


MEDIA_INFO_KEYS = {
    "width": float,
    "height": float,
    "duration": float,
    "frame_count": int,
    "fps": float,
}


def _media_info(row: int, obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The optional ``media_info`` of a task: sizes that result validation checks regions against
    (folder imports read them from the files themselves)."""
    info = obj.get("media_info")
    if info is None:
        return None
    if not isinstance(info, Mapping):
        raise ImportRowError(row, f"'media_info' must be an object, got {_kind(info)}")
    out: dict[str, Any] = {}
    for key, value in info.items():
        kind = MEDIA_INFO_KEYS.get(key)
        if kind is None:
            continue  # other facts (codec, sample rate, ...) are kept out of validation
        whole = isinstance(value, int) and not isinstance(value, bool)
        number = whole or (isinstance(value, float) and kind is float and value == value)
        if not number or value <= 0 or value == float("inf"):
            what = "a positive whole number" if kind is int else "a positive number"
            raise ImportRowError(row, f"'media_info.{key}' must be {what}, got {value!r}")
        out[key] = value
    return out or None


def record_from_columns(row: int, values: Mapping[str, Any]) -> ImportRecord:
    data: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    gold: dict[str, Any] = {}
    media = None
    for key, value in values.items():
        if value is None:
            continue
        if key.startswith("meta."):
            meta[key[5:]] = value
        elif key.startswith("gold."):
            gold[key[5:]] = value
        elif key == "media":
            media = str(value)
        else:
            data[key] = value
    if not data and media is None:
        raise ImportRowError(row, "the row has no data")
    return ImportRecord(row, data, meta, media, gold=gold or None)


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def iter_chunks(records: Iterator[ImportRecord], size: int) -> Iterator[list[ImportRecord]]:
    while chunk := list(islice(records, size)):
        yield chunk
