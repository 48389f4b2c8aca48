"""The annotator leaderboard of a 500,000-item project: 30 annotators, 3 answers an item.

    python benchmarks/leaderboard.py [--items 500000] [--repeats 5] [--data-dir DIR] [--no-write]

The project (``_project_500k.py``) is the way a month of work leaves it: every item answered by 3
of 30 annotators over the last 30 days, lead times on 90% of the answers (the others count the
gap since the annotator's previous answer), skips, a tenth of the answers reviewed (a fifth of
those rejected and answered again), gold items with their scores and a finished quality run, its
rows written straight into the tables, so that the figures are the leaderboard's alone. Then
times (median of ``--repeats`` runs after one warm-up run) the leaderboard in the process
(`core.performance.performance`), one annotator's own figures (`my_performance`) and both
endpoints over HTTP against `accord serve`. With ``--data-dir`` the project is built there once
and reused by later runs (its trend days then move on from the day it was built);
benchmarks/export.py uses the same project and can share the directory.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _common import served, write_section
from _project_500k import DAYS, N_ANNOTATORS, OVERLAP, arguments, header, opened
from sqlalchemy import select

from accord.core import performance, users
from accord.db.engine import Database
from accord.db.models import Project, User


def main() -> None:
    args = arguments(repeats=5).parse_args()
    with opened(args) as (path, db, project_id, sizes):
        figures = measure(db, path, project_id, args.repeats)
    body = report(args, sizes, figures)
    print(body)
    if not args.no_write:
        write_section(f"Annotator leaderboard, {sizes['items']:,} items", body)


def _timed(call: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    result = call()  # warm-up: the database file in the page cache
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return times, result


def measure(db: Database, data_dir: Path, project_id: int, repeats: int) -> dict[str, Any]:
    with db.transaction() as session:
        one = session.scalar(select(User).where(User.username == "annotator00"))
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert one is not None and admin is not None
        _, admin_token = users.create_token(session, admin, "benchmark", actor_id=None)
        _, own_token = users.create_token(session, one, "benchmark", actor_id=None)
        one_id = one.id

    def board() -> list[performance.Performance]:
        with db.transaction(write=False) as session:
            project = session.get(Project, project_id)
            assert project is not None
            return performance.performance(session, project)

    def mine() -> performance.Performance:
        with db.transaction(write=False) as session:
            project, user = session.get(Project, project_id), session.get(User, one_id)
            assert project is not None and user is not None
            return performance.my_performance(session, project, user)

    figures: dict[str, Any] = {}
    figures["board"], rows = _timed(board, repeats)
    figures["mine"], _ = _timed(mine, repeats)
    figures["rows"] = rows
    with served(data_dir) as base:
        url = f"{base}/projects/{project_id}/performance"
        with (
            httpx.Client(headers={"Authorization": f"Bearer {admin_token}"}, timeout=600) as http,
            httpx.Client(headers={"Authorization": f"Bearer {own_token}"}, timeout=600) as own,
        ):
            figures["http board"], response = _timed(
                lambda: http.get(url).raise_for_status(), repeats
            )
            figures["http board bytes"] = len(response.content)
            figures["http mine"], _ = _timed(
                lambda: own.get(f"{url}/me").raise_for_status(), repeats
            )
    return figures


def report(args: argparse.Namespace, sizes: dict[str, int], figures: dict[str, Any]) -> str:
    rows: list[performance.Performance] = figures["rows"]
    answers = sum(p.answers for p in rows)
    top = rows[0]
    lines = [
        header("leaderboard.py", args),
        "",
        f"One SQLite project: {sizes['items']:,} items, {N_ANNOTATORS} annotators, overlap "
        f"{OVERLAP}, {sizes['annotations']:,} answer rows (skips and redos after a rejection "
        f"included) spread over {DAYS} days, {sizes['reviews']:,} verdicts, "
        f"{sizes['gold scores']:,} gold scores, one quality run with the annotators' skills. "
        f"Median of {args.repeats} runs after a warm-up run; HTTP: `accord serve`, one "
        "keep-alive client.",
        "",
        "| call | median s | min s | max s |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "board": "`performance()`: the leaderboard, in the process",
        "http board": "`GET /projects/{p}/performance` (reviewer, manager)",
        "mine": "`my_performance()`: one annotator's figures, in the process",
        "http mine": "`GET /projects/{p}/performance/me` (annotator)",
    }
    for key, name in names.items():
        t = figures[key]
        lines.append(f"| {name} | {statistics.median(t):.3f} | {min(t):.3f} | {max(t):.3f} |")
    lines += [
        "",
        f"The leaderboard lists {len(rows)} annotators and {answers:,} answers "
        f"({figures['http board bytes']:,} bytes of JSON with the 30-day trends); the first, "
        f"{top.username}: {top.items_done:,} items, {top.active_seconds / 3600:.1f} h active, "
        f"{top.throughput_per_hour or 0:.0f} answers/h, median lead time "
        f"{top.median_lead_time or 0:.2f} s, rejection rate {top.rejection_rate or 0:.3f}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
