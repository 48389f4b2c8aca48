"""Readers stream: memory stays flat however large the file. Measured with tracemalloc (peak of
Python allocations while every record is read and dropped), never with a clock."""

from __future__ import annotations

import csv
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accord.io import read_records

MB = 1024 * 1024
LIMIT = 50 * MB
FILLER = "lorem ipsum dolor sit amet " * 10  # 270 characters per row


def consume_with_peak(path: Path) -> tuple[int, int, int]:
    """(records, last row number, peak bytes allocated) for reading every record of the file."""
    tracemalloc.start()
    try:
        count = last = 0
        for record in read_records(path):
            count += 1
            last = record.row
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, last, peak


def jsonl(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"data": {"text": f"{i} {FILLER}"}, "meta": {"i": i}}) + "\n")


def json_array(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("[\n")
        for i in range(n):
            f.write(("," if i else "") + json.dumps({"text": f"{i} {FILLER}", "i": i}) + "\n")
        f.write("]\n")


def table(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "meta.i"])
        for i in range(n):
            writer.writerow([f"{i}, {FILLER}", i])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "write", "rows"),
    [("big.jsonl", jsonl, 300_000), ("big.json", json_array, 200_000), ("big.csv", table, 200_000)],
)
def test_reading_a_large_file_keeps_memory_small(
    tmp_path: Path, name: str, write: Callable[[Path, int], None], rows: int
) -> None:
    path = tmp_path / name
    write(path, rows)
    size = path.stat().st_size
    assert size > LIMIT  # holding the file, let alone its records, would break the limit
    count, last, peak = consume_with_peak(path)
    assert (count, last) == (rows, rows)
    assert peak < LIMIT, f"peak {peak / MB:.1f} MB reading {size / MB:.0f} MB"
    assert peak < 10 * MB  # in practice a few buffers and one record at a time


@pytest.mark.slow
def test_parquet_is_read_one_batch_at_a_time(tmp_path: Path) -> None:
    rows = 200_000
    path = tmp_path / "big.parquet"
    texts = pa.array([f"{i} {FILLER}" for i in range(rows)])
    pq.write_table(pa.table({"text": texts}), path, row_group_size=20_000, compression="none")
    whole = pa.table({"text": texts}).nbytes
    assert whole > 30 * MB
    count, last, peak = consume_with_peak(path)
    assert (count, last) == (rows, rows)
    assert peak < LIMIT, f"peak {peak / MB:.1f} MB"
