"""Exports of a 500,000-item project (1.5 million answers) in every format.

    python benchmarks/export.py [--items 500000] [--data-dir DIR] [--no-write]

The project is the one of benchmarks/leaderboard.py (``_project_500k.py``): 500,000 short text
items, 3 of 30 annotators an item, skips, redos after rejections, gold items and a finished
quality run with the consensus of every item; with ``--data-dir`` it is built there once and
reused (the directory can be shared with leaderboard.py). Each format (json, jsonl, csv) of the
whole project is timed twice: in the process, reading every chunk of `export_stream` over
`export_rows` the way `accord export` does, and over HTTP, streaming `GET /projects/{p}/export`
of `accord serve` to /dev/null with httpx. Measured: seconds, items/s, the CPU time of the
process that exports (this one in the process, the server over HTTP; less sensitive than the
seconds to other work on the machine), MB of output and that process's peak RSS (reset before
each export through /proc/PID/clear_refs). The database file is read once first, so that every
export finds it in the page cache. The machine's 1-minute load average is recorded before and
after every figure, and the outputs of both ways must be the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
from _common import server_process, write_section
from _project_500k import N_ANNOTATORS, OVERLAP, arguments, header, opened
from sqlalchemy import select, text

from accord.core import exports, projects, users
from accord.core.items import ItemFilter
from accord.db.engine import Database
from accord.db.models import User
from accord.io import export_stream

FORMATS = ("json", "jsonl", "csv")


def main() -> None:
    args = arguments().parse_args()
    with opened(args) as (path, db, project_id, sizes):
        if not sizes["consensus"]:
            raise SystemExit(f"{path} holds a project without consensus: build it again")
        _warm(db)
        figures = measure(db, path, project_id)
    body = report(args, sizes, figures)
    print(body)
    if not args.no_write:
        write_section(f"Export, {sizes['items']:,} items", body)


def _warm(db: Database) -> None:
    """Read every table an export reads once, so that no export pays for the disk."""
    with db.transaction(write=False) as session:
        for table, column in (
            ("items", "data"),
            ("annotations", "result"),
            ("consensus", "label"),
            ("adjudications", "result"),
        ):
            session.execute(text(f"SELECT sum(length({column})) FROM {table}"))


def _load() -> str:
    """The 1-minute load average."""
    return Path("/proc/loadavg").read_text().split()[0]


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1)) / 1024


def _drain(chunks: Iterable[bytes]) -> tuple[int, str]:
    """Bytes and sha256 of a stream, each chunk written to /dev/null."""
    digest = hashlib.sha256()
    size = 0
    with open(os.devnull, "wb") as sink:
        for chunk in chunks:
            sink.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _in_process(db: Database, project_id: int, fmt: str) -> tuple[int, str]:
    with db.transaction(write=False) as session:
        project = projects.get_project(session, project_id)
        rows = exports.export_rows(session, project, ItemFilter())
        return _drain(export_stream(rows, fmt, **exports.export_columns(session, project)))


def _over_http(http: httpx.Client, url: str, fmt: str) -> tuple[int, str]:
    with http.stream("GET", url, params={"format": fmt}) as response:
        response.raise_for_status()
        return _drain(response.iter_raw())


def _timed(pid: int, call: Any) -> dict[str, Any]:
    load = _load()
    _reset_peak(pid)
    cpu = _cpu_seconds(pid)
    started = time.perf_counter()
    size, digest = call()
    seconds = time.perf_counter() - started
    figure = {
        "seconds": seconds,
        "cpu": _cpu_seconds(pid) - cpu,
        "bytes": size,
        "sha256": digest,
        "peak_mb": _peak_mb(pid),
        "load": f"{load} / {_load()}",
    }
    print(f"{figure}", file=sys.stderr)
    return figure


def measure(db: Database, path: Path, project_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    with db.transaction() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        _, token = users.create_token(session, admin, "benchmark", actor_id=None)
    figures: dict[tuple[str, str], dict[str, Any]] = {}
    for fmt in FORMATS:
        print(f"in the process: {fmt}", file=sys.stderr)
        figures["process", fmt] = _timed(
            os.getpid(), lambda fmt=fmt: _in_process(db, project_id, fmt)
        )
    with (
        server_process(path) as (base, server),
        httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=600) as http,
    ):
        url = f"{base}/projects/{project_id}/export"
        for fmt in FORMATS:
            print(f"over HTTP: {fmt}", file=sys.stderr)
            figures["http", fmt] = _timed(server.pid, lambda fmt=fmt: _over_http(http, url, fmt))
    for fmt in FORMATS:
        if figures["process", fmt]["sha256"] != figures["http", fmt]["sha256"]:
            raise SystemExit(f"the {fmt} export over HTTP differs from the one in the process")
    return figures


def report(
    args: argparse.Namespace,
    sizes: dict[str, int],
    figures: dict[tuple[str, str], dict[str, Any]],
) -> str:
    lines = [
        header("export.py", args),
        "",
        f"One SQLite project: {sizes['items']:,} items, {N_ANNOTATORS} annotators, overlap "
        f"{OVERLAP}, {sizes['annotations']:,} answer rows (skips and redos after a rejection "
        f"included), {sizes['consensus']:,} consensus rows of a finished quality run. Every "
        "item of the project is exported, with its current answers (skips left out, as by "
        "default) and its consensus. In the process: `export_stream` over `export_rows`, as "
        "`accord export` writes a file; over HTTP: `GET /projects/{p}/export` of `accord serve` "
        "streamed to /dev/null by httpx. Peak RSS of the process that exports (this one, or the "
        "server), reset before each export. One run each, the database file in the page cache; "
        "the machine's 1-minute load average before and after each export (2 cores).",
        "",
        "| format | where | seconds | items/s | CPU s | MB written | peak RSS MB "
        "| load before / after |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    where = {"process": "in the process", "http": "HTTP"}
    for place in ("process", "http"):
        for fmt in FORMATS:
            f = figures[place, fmt]
            lines.append(
                f"| {fmt} | {where[place]} | {f['seconds']:.1f} | "
                f"{sizes['items'] / f['seconds']:,.0f} | {f['cpu']:.1f} | "
                f"{f['bytes'] / 1e6:,.0f} | {f['peak_mb']:,.0f} | {f['load']} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
