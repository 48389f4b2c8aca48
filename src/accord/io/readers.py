"""Streaming readers: JSONL, JSON arrays, CSV/TSV, Parquet, and lists of objects.

Each reads one record at a time (Parquet: one record batch), so memory stays flat however large
the file, and raises ImportRowError with the row number at the first malformed record.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson

from accord.errors import ImportRowError, InvalidInput
from accord.io.records import ImportRecord, record_from_columns, record_from_object

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
Source = str | Path | IO[bytes]
Reader = Callable[[IO[bytes]], Iterator[ImportRecord]]


def detect_format(name: str) -> str:
    path = Path(name)
    if path.is_dir():
        return "folder"
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(set(FORMATS)))
        raise InvalidInput(
            f"cannot tell the format of {path.name!r}: "
            f"use one of {known}, a folder, or name the format",
            [{"field": "format", "rule": "known_format"}],
        )
    return fmt


def read_records_from_objects(objects: Iterable[Any]) -> Iterator[ImportRecord]:
    for row, obj in enumerate(objects, start=1):
        yield record_from_object(row, obj)


def _jsonl(stream: IO[bytes]) -> Iterator[ImportRecord]:
    loads = orjson.loads
    for row, line in enumerate(stream, start=1):
        if row == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[3:]
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except ValueError as exc:
            raise ImportRowError(row, f"invalid JSON: {exc}") from None
        yield record_from_object(row, obj)


def _json_array(stream: IO[bytes]) -> Iterator[ImportRecord]:
    import ijson

    head = stream.read(3)
    if head == codecs.BOM_UTF8:
        head = b""
    # The first byte that is not white space says whether this is an array at all.
    while head.strip() == b"":
        more = stream.read(1)
        if not more:
            return
        head += more
    if not head.lstrip().startswith(b"["):
        raise InvalidInput(
            "a .json file must hold an array of objects ([{...}, {...}]);"
            " use .jsonl for one object per line",
            [{"field": "file", "rule": "json_array"}],
        )
    source = cast(IO[bytes], _Prefixed(head, stream))
    row = 0
    try:
        for row, obj in enumerate(ijson.items(source, "item", use_float=True), start=1):
            yield record_from_object(row, obj)
    except ijson.JSONError as exc:
        raise ImportRowError(row + 1, f"invalid JSON: {exc}") from None


class _Prefixed(io.RawIOBase):
    """A stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        chunk = self.rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _text_lines(stream: IO[bytes]) -> Iterator[str]:
    """Lines decoded one at a time, so that a decoding error surfaces at its own row.

    Line ends are kept (as ``newline=""`` would), and a lone carriage return ends a line too."""
    for number, raw in enumerate(stream, start=1):
        chunk = raw[3:] if number == 1 and raw.startswith(codecs.BOM_UTF8) else raw
        line = chunk.decode("utf-8")
        if "\r" in line.rstrip("\r\n"):
            yield from _CR_SPLIT.split(line)
        else:
            yield line


_CR_SPLIT = re.compile(r"(?<=\r)(?!\n)")


def _table(stream: IO[bytes], delimiter: str) -> Iterator[ImportRecord]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(_text_lines(stream), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ImportRowError(0, f"unreadable header: {exc}") from None
    if len(set(header)) != len(header) or not all(h.strip() for h in header):
        raise InvalidInput("the header must name every column once", [{"row": 0, "rule": "header"}])
    width = len(header)
    row = 0
    try:
        for row, cells in enumerate(reader, start=1):
            if len(cells) != width:
                if not any(cells):
                    continue
                raise ImportRowError(
                    row, f"expected {width} cells as in the header, found {len(cells)}"
                )
            yield record_from_columns(
                row, {k: v for k, v in zip(header, cells, strict=True) if v != ""}
            )
    except UnicodeDecodeError as exc:
        raise ImportRowError(row + 1, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except csv.Error as exc:
        raise ImportRowError(row + 1, f"unreadable row: {exc}") from None


def _parquet(stream: IO[bytes]) -> Iterator[ImportRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Without pre-buffering and with a read buffer, pages are read as they are decoded;
        # by default whole row groups (often the whole file) are read into memory first.
        table = pq.ParquetFile(stream, pre_buffer=False, buffer_size=1 << 20)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"not a readable Parquet file: {exc}") from None
    row = 0
    for batch in table.iter_batches(batch_size=10_000):
        for values in batch.to_pylist():
            row += 1
            yield record_from_columns(row, values)


def read_records(source: Source, format: str | None = None) -> Iterator[ImportRecord]:
    """Records of a file path, a binary stream or (format "folder") a media folder."""
    if format is None:
        if not isinstance(source, str | Path):
            raise InvalidInput("name the format of a stream")
        format = detect_format(str(source))
    if format == "folder":
        from accord.io.media_folder import read_folder

        if not isinstance(source, str | Path):
            raise InvalidInput("a folder import needs the folder's path, not a stream")
        return read_folder(Path(source))
    readers: dict[str, Reader] = {
        "jsonl": _jsonl,
        "json": _json_array,
        "parquet": _parquet,
        "csv": lambda s: _table(s, ","),
        "tsv": lambda s: _table(s, "\t"),
    }
    reader = readers.get(format)
    if reader is None:
        raise InvalidInput(
            f"unknown format {format!r}; use one of {', '.join(sorted(readers))} or folder",
            [{"field": "format", "rule": "known_format"}],
        )
    if isinstance(source, str | Path):
        return _from_path(Path(source), reader)
    return reader(source)


def _from_path(path: Path, reader: Reader) -> Iterator[ImportRecord]:
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    with path.open("rb") as stream:
        yield from reader(stream)
