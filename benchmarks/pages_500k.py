"""Every page and read endpoint of a 500,000-item project, timed over HTTP as its users see it.

    python benchmarks/pages_500k.py [--items 500000] [--repeats 3] [--data-dir DIR] [--no-write]

The project is the one of leaderboard.py and export.py (``_project_500k.py``: 30 annotators,
3 answers an item, every answer under the review policy "all", a tenth of them reviewed, gold
items, a finished quality run); ``--data-dir`` builds it once and shares it with them. Against
`accord serve`, a manager (the administrator), a reviewer and an annotator log in like the
browser (session cookie) and GET each page and read endpoint their work uses: median and
maximum of ``--repeats`` requests after one warm-up request each. The export (streamed, its own
benchmark) and the media endpoints (no media in a text project) are left out.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
from _common import server_process, write_section
from _project_500k import arguments, header, opened
from sqlalchemy import func, select

from accord.core import users
from accord.db.engine import Database
from accord.db.models import Annotation, Item, User

PASSWORD = "benchmark-password"

# API paths under /api/v1/, then pages
MANAGER_API = """auth/me users projects P P/schema P/schema/versions P/members P/items
P/items?status=done P/items?annotated_by=annotator03 P/items?q=item P/items/{i}
P/items/{i}/predictions P/annotations P/annotations/{a} P/annotations/{a}/history P/audit
P/review/next P/adjudication/next P/adjudications P/quality/agreement P/quality/consensus
P/quality/runs P/quality/skills P/quality/suspects P/gold P/gold/accuracy P/pauses
P/notifications P/imports P/threads P/guideline-examples P/performance P/qualifications
P/duplicates P/duplicates/groups P/items/{i}/duplicates P/pii P/models P/models/acceptance
P/vectors P/labeling-functions"""
MANAGER_PAGES = """/ /P /P/settings /P/import /P/export /P/items /P/items?status=done /P/items/{i}
/P/review /P/adjudicate /P/quality /P/questions /P/performance /P/models /P/weak-supervision
/P/duplicates"""
REVIEWER = "/api/v1/P/review/next /P/review /P"
ANNOTATOR = "/ /P /P/label /P/practice /api/v1/P/performance/me /api/v1/P/threads"
WHO = {"admin": "manager", "reviewer0": "reviewer", "annotator00": "annotator"}


def paths(person: str) -> list[str]:
    if person == "admin":
        listed = [f"/api/v1/{p}" for p in MANAGER_API.split()] + MANAGER_PAGES.split()
    else:
        listed = (REVIEWER if person == "reviewer0" else ANNOTATOR).split()
    return [p.replace("P", "projects/{p}") for p in listed]


def main() -> None:
    args = arguments(repeats=3).parse_args()
    with opened(args) as (path, db, project_id, sizes):
        ids, waiting = prepare(db, project_id)
        rows = measure(path, ids, args.repeats)
    body = report(args, sizes, waiting, rows)
    print(body)
    if not args.no_write:
        write_section(f"Pages and read endpoints, {sizes['items']:,} items", body)


def prepare(db: Database, project_id: int) -> tuple[dict[str, int], int]:
    """Passwords for the three people, the ids the paths name, and the review queue's size."""
    with db.transaction() as session:
        for name in WHO:
            person = session.scalar(select(User).where(User.username == name))
            assert person is not None
            users.set_password(session, person, PASSWORD, actor_id=None)
        item = session.scalar(select(func.max(Item.id)).where(Item.project_id == project_id))
        answer = session.scalar(
            select(func.max(Annotation.id)).where(Annotation.project_id == project_id)
        )
        waiting = session.scalar(
            select(func.count()).where(
                Annotation.project_id == project_id, Annotation.awaiting_review.is_(True)
            )
        )
    return {"p": project_id, "i": int(item or 0), "a": int(answer or 0)}, int(waiting or 0)


def measure(
    path: Path, ids: dict[str, int], repeats: int
) -> list[tuple[str, str, int, list[float], int]]:
    rows = []
    with server_process(path) as (base, _server):
        root = base.removesuffix("/api/v1")
        for role in WHO:
            with httpx.Client(base_url=root, timeout=600) as http:
                http.post(
                    "/api/v1/auth/login", json={"username": role, "password": PASSWORD}
                ).raise_for_status()
                for template in paths(role):
                    url = template.format(**ids)
                    http.get(url)  # warm-up
                    times = []
                    for _ in range(repeats):
                        started = time.perf_counter()
                        response = http.get(url)
                        times.append(time.perf_counter() - started)
                    rows.append(
                        (role, template, response.status_code, times, len(response.content))
                    )
                    print(f"{role} {url} {response.status_code} {min(times):.3f}", file=sys.stderr)
    return rows


def report(
    args: argparse.Namespace,
    sizes: dict[str, int],
    waiting: int,
    rows: list[tuple[str, str, int, list[float], int]],
) -> str:
    lines = [
        header("pages_500k.py", args),
        "",
        f"The project of the leaderboard and export benchmarks: {sizes['items']:,} items, "
        f"{sizes['annotations']:,} answer rows, {sizes['reviews']:,} verdicts, "
        f'{waiting:,} answers waiting for review (the policy "all"). `accord serve` on SQLite; '
        "each person logs in like the browser; median and maximum of "
        f"{args.repeats} requests after a warm-up request. `{{p}}` is the project, `{{i}}` its "
        "last item, `{a}` its last answer.",
        "",
        "| who | GET | status | median ms | max ms | bytes |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for role, template, status, times, size in rows:
        lines.append(
            f"| {WHO[role]} | `{template}` | {status} | {statistics.median(times) * 1000:,.0f} "
            f"| {max(times) * 1000:,.0f} | {size:,} |"
        )
    slow = [r for r in rows if statistics.median(r[3]) >= 1.0]
    lines += [
        "",
        f"{len(rows)} requests; {len(slow)} with a median of a second or more"
        + (": " + ", ".join(f"`{r[1]}`" for r in slow) if slow else "")
        + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
