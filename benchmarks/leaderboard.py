"""The annotator leaderboard of a 500,000-item project: 30 annotators, 3 answers an item.

    python benchmarks/leaderboard.py [--items 500000] [--repeats 5] [--data-dir DIR] [--no-write]

Builds a SQLite project the way a month of work leaves it: every item answered by 3 of 30
annotators over the last 30 days (working hours, UTC), lead times recorded on 90% of the
answers (the others count the gap since the annotator's previous answer), 1% of the items also
skipped by a fourth annotator, a tenth of the answers reviewed (a fifth of those rejected and
answered again), one item in a thousand gold (answered by everyone, scored) and a finished
quality run with the annotators' skills. The rows are written straight into the tables the way
submissions, reviews and quality runs leave them, so that the figures are the leaderboard's
alone. Then times (median of ``--repeats`` runs after one warm-up run) the leaderboard in the
process (`core.performance.performance`), one annotator's own figures (`my_performance`) and
both endpoints over HTTP against `accord serve`. With ``--data-dir`` the project is built
there once and reused by later runs (its trend days then move on from the day it was built).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from _common import git_commit, machine, served, write_section
from sqlalchemy import func, insert, inspect, select

from accord.config import Settings
from accord.core import performance, projects, users
from accord.db.engine import Database, open_database
from accord.db.migrate import upgrade
from accord.db.models import (
    Annotation,
    AnnotatorSkill,
    GoldAnswer,
    GoldScore,
    Item,
    Project,
    QualityRun,
    Review,
    SchemaVersion,
    User,
)

N_ANNOTATORS = 30
N_REVIEWERS = 2
OVERLAP = 3
DAYS = 30
CHUNK = 50_000
SCHEMA = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {"name": "sentiment", "type": "choices", "field": "text", "labels": ["pos", "neg"]}
    ],
}
LABELS = ["pos", "neg"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="build the project here once, reuse it")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with _data_dir(args.data_dir) as data_dir:
        db = open_database(Settings(data_dir=data_dir, database_url=None))
        try:
            built = None
            if _project_id(db) is None:
                started = time.perf_counter()
                upgrade(db.url)
                counts = build(db, args.items, np.random.default_rng(5))
                built = time.perf_counter() - started
                print(f"built in {built:.0f} s: {counts}", file=sys.stderr)
            project_id = _project_id(db)
            assert project_id is not None
            sizes = _sizes(db, project_id)
            print(f"project: {sizes}", file=sys.stderr)
            figures = measure(db, data_dir, project_id, args.repeats)
        finally:
            db.dispose()
    body = report(args, sizes, figures)
    print(body)
    if not args.no_write:
        write_section(f"Annotator leaderboard, {sizes['items']:,} items", body)


@contextmanager
def _data_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp) / "data"


def _project_id(db: Database) -> int | None:
    if not inspect(db.read_engine).has_table(Project.__tablename__):
        return None
    with db.transaction(write=False) as session:
        return session.scalar(select(Project.id).where(Project.name == "leaderboard"))


def build(db: Database, n_items: int, rng: np.random.Generator) -> dict[str, int]:
    now = datetime.now(UTC).replace(microsecond=0)
    first_day = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=DAYS - 1)
    with db.transaction() as session:
        admin = users.create_user(session, "admin", "benchmark-pass", is_admin=True)
        annotators = [
            users.create_user(session, f"annotator{k:02d}", None) for k in range(N_ANNOTATORS)
        ]
        reviewers = [users.create_user(session, f"reviewer{k}", None) for k in range(N_REVIEWERS)]
        project = projects.create_project(
            session, admin, "leaderboard", SCHEMA, overlap=OVERLAP, gold_rate=0.0
        )
        for person in annotators:
            projects.set_member(session, project, person, "annotator", actor_id=admin.id)
        for person in reviewers:
            projects.set_member(session, project, person, "reviewer", actor_id=admin.id)
        project_id, admin_id = project.id, admin.id
        annotator_ids = np.asarray([a.id for a in annotators])
        reviewer_ids = np.asarray([r.id for r in reviewers])
        version_id = session.scalar(
            select(SchemaVersion.id).where(SchemaVersion.project_id == project_id)
        )

    n_gold = max(1, n_items // 1000)
    is_gold = np.zeros(n_items, dtype=bool)
    is_gold[rng.choice(n_items, n_gold, replace=False)] = True
    ordinary = np.flatnonzero(~is_gold)
    gold = np.flatnonzero(is_gold)

    # answers: 3 distinct annotators per ordinary item, everyone on every gold item, and a
    # skip by a fourth annotator on 1% of the items
    who = _distinct(rng, len(ordinary))
    skipped_items = rng.random(len(ordinary)) < 0.01
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "item": np.repeat(ordinary, OVERLAP),
                    "user": who[:, :OVERLAP].ravel(),
                    "skipped": False,
                }
            ),
            pd.DataFrame(
                {
                    "item": np.repeat(gold, N_ANNOTATORS),
                    "user": np.tile(np.arange(N_ANNOTATORS), len(gold)),
                    "skipped": False,
                }
            ),
            pd.DataFrame(
                {
                    "item": ordinary[skipped_items],
                    "user": who[skipped_items, OVERLAP],
                    "skipped": True,
                }
            ),
        ],
        ignore_index=True,
    )
    n = len(frame)
    # during working hours (08:00-17:00 UTC) of one of the last 30 days, never in the future
    day = rng.integers(0, DAYS, n)
    seconds = rng.uniform(8 * 3600, 17 * 3600, n)
    start = np.datetime64(first_day.replace(tzinfo=None), "us")
    offset = (seconds * 1e6).astype(np.int64)
    late = start + (day * 86_400_000_000 + offset).astype("timedelta64[us]") >= np.datetime64(
        now.replace(tzinfo=None), "us"
    )
    day[late] -= rng.integers(1, DAYS, int(late.sum()))  # today's hours still to come
    at = start + (day * 86_400_000_000 + offset).astype("timedelta64[us]")
    frame["at"] = at
    lead = np.round(rng.lognormal(np.log(15.0), 0.6, n), 2)
    frame["lead"] = np.where(rng.random(n) < 0.9, lead, np.nan)
    frame["version"] = 1
    frame["parent"] = -1

    # a tenth of the (ordinary, non-skipped) answers reviewed within a day, a fifth rejected;
    # each rejected answer is answered again (version 2) within the hour after the verdict
    answerable = np.flatnonzero(~frame["skipped"].to_numpy() & ~is_gold[frame["item"].to_numpy()])
    judged = np.sort(rng.choice(answerable, len(answerable) // 10, replace=False))
    verdict_at = frame["at"].to_numpy()[judged] + (
        rng.uniform(600, 86_400, len(judged)) * 1e6
    ).astype("timedelta64[us]")
    verdict_at = np.minimum(verdict_at, np.datetime64(now.replace(tzinfo=None), "us"))
    rejected = rng.random(len(judged)) < 0.2
    redo = pd.DataFrame(
        {
            "item": frame["item"].to_numpy()[judged[rejected]],
            "user": frame["user"].to_numpy()[judged[rejected]],
            "skipped": False,
            "at": np.minimum(
                verdict_at[rejected]
                + (rng.uniform(60, 3600, int(rejected.sum())) * 1e6).astype("timedelta64[us]"),
                np.datetime64(now.replace(tzinfo=None), "us"),
            ),
            "lead": np.round(rng.lognormal(np.log(20.0), 0.6, int(rejected.sum())), 2),
            "version": 2,
            "parent": judged[rejected],
        }
    )
    frame = pd.concat([frame, redo], ignore_index=True)
    # ids in order of submission, as the server gives them
    order = np.argsort(frame["at"].to_numpy(), kind="stable")
    ids = np.empty(len(frame), dtype=np.int64)
    ids[order] = np.arange(1, len(frame) + 1)
    frame["id"] = ids
    frame["parent_id"] = np.where(
        frame["parent"].to_numpy() >= 0, ids[np.maximum(frame["parent"].to_numpy(), 0)], -1
    )
    superseded = np.zeros(len(frame), dtype=bool)
    superseded[judged[rejected]] = True
    frame["is_latest"] = ~superseded
    frame = frame.iloc[order].reset_index(drop=True)

    item_ids = np.arange(1, n_items + 1)
    user_ids = annotator_ids[frame["user"].to_numpy()]
    results = [{"sentiment": label} for label in LABELS]
    answer_label = rng.integers(0, len(LABELS), len(frame))

    with db.bulk_transaction() as session:
        for start in range(0, n_items, CHUNK):
            stop = min(n_items, start + CHUNK)
            session.execute(
                insert(Item),
                [
                    {
                        "id": int(item_ids[k]),
                        "project_id": project_id,
                        "data": {"text": f"item {k}"},
                        "meta": {},
                        "content_hash": hashlib.md5(f"item {k}".encode()).hexdigest(),
                        "status": "gold" if is_gold[k] else "done",
                        "n_assigned": OVERLAP,
                        "n_done": OVERLAP,
                    }
                    for k in range(start, stop)
                ],
            )
        columns = zip(
            frame["id"].tolist(),
            item_ids[frame["item"].to_numpy()].tolist(),
            user_ids.tolist(),
            frame["parent_id"].tolist(),
            frame["version"].tolist(),
            frame["is_latest"].tolist(),
            frame["skipped"].tolist(),
            frame["lead"].tolist(),
            pd.to_datetime(frame["at"]).dt.tz_localize(UTC).dt.to_pydatetime().tolist(),
            answer_label.tolist(),
            strict=True,
        )
        rows: list[dict[str, Any]] = []
        for a, i, u, parent, version, latest, skipped, lead_time, created, label in columns:
            rows.append(
                {
                    "id": a,
                    "project_id": project_id,
                    "item_id": i,
                    "user_id": u,
                    "parent_id": parent if parent > 0 else None,
                    "version": version,
                    "is_latest": latest,
                    "result": {} if skipped else results[label],
                    "skipped": skipped,
                    "skip_reason": "unclear" if skipped else None,
                    "lead_time": None if lead_time != lead_time else lead_time,
                    "review_required": True,
                    "schema_version_id": version_id,
                    "created_at": created,
                }
            )
            if len(rows) == CHUNK:
                session.execute(insert(Annotation), rows)
                rows = []
        if rows:
            session.execute(insert(Annotation), rows)

        # verdicts in the order they were given (ids grow with time)
        verdicts = [
            {
                "project_id": project_id,
                "annotation_id": int(ids[k]),
                "reviewer_id": int(reviewer_ids[k % N_REVIEWERS]),
                "verdict": "rejected" if bad else "accepted",
                "reason": "wrong label" if bad else None,
                "created_at": pd.Timestamp(t).tz_localize(UTC).to_pydatetime(),
            }
            for k, t, bad in sorted(
                zip(judged.tolist(), verdict_at, rejected.tolist(), strict=True),
                key=lambda row: row[1],
            )
        ]
        for start in range(0, len(verdicts), CHUNK):
            session.execute(insert(Review), verdicts[start : start + CHUNK])

        # gold answers and the scores of everyone's answers to them
        session.execute(
            insert(GoldAnswer),
            [
                {
                    "item_id": int(item_ids[k]),
                    "project_id": project_id,
                    "result": results[0],
                    "created_by": admin_id,
                }
                for k in gold.tolist()
            ],
        )
        on_gold = frame[is_gold[frame["item"].to_numpy()]]
        accuracy = np.linspace(0.70, 0.98, N_ANNOTATORS)
        correct = rng.random(len(on_gold)) < accuracy[on_gold["user"].to_numpy()]
        session.execute(
            insert(GoldScore),
            [
                {
                    "project_id": project_id,
                    "item_id": int(item_ids[i]),
                    "user_id": int(annotator_ids[u]),
                    "annotation_id": a,
                    "correct": ok,
                    "score": 1.0 if ok else 0.0,
                    "details": {"sentiment": 1.0 if ok else 0.0},
                }
                for i, u, a, ok in zip(
                    on_gold["item"].tolist(),
                    on_gold["user"].tolist(),
                    on_gold["id"].tolist(),
                    correct.tolist(),
                    strict=True,
                )
            ],
        )

        # a finished quality run of the control and the skills it stored
        labelled = frame[~frame["skipped"].to_numpy() & frame["is_latest"].to_numpy()]
        per_user = labelled.groupby("user").size()
        session.execute(
            insert(QualityRun),
            [
                {
                    "project_id": project_id,
                    "control": "sentiment",
                    "method": "dawid_skene",
                    "params": {},
                    "n_items": n_items,
                    "n_labels": len(labelled),
                    "n_annotators": N_ANNOTATORS,
                    "n_suspects": 0,
                    "last_annotation_id": int(frame["id"].max()),
                    "report": {},
                    "seconds": 10.0,
                }
            ],
        )
        session.execute(
            insert(AnnotatorSkill),
            [
                {
                    "project_id": project_id,
                    "user_id": int(annotator_ids[u]),
                    "control": "sentiment",
                    "method": "dawid_skene",
                    "skill": float(accuracy[u]),
                    "agreement": float(accuracy[u] - 0.05),
                    "n_labels": int(count),
                }
                for u, count in per_user.items()
            ],
        )
    return {
        "items": n_items,
        "annotations": len(frame),
        "reviews": len(verdicts),
        "gold items": n_gold,
    }


def _distinct(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` rows of OVERLAP + 1 distinct annotator indexes, in random order."""
    out = np.empty((n, OVERLAP + 1), dtype=np.int64)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        out[start:stop] = np.argsort(rng.random((stop - start, N_ANNOTATORS)), axis=1)[
            :, : OVERLAP + 1
        ]
    return out


def _sizes(db: Database, project_id: int) -> dict[str, int]:
    with db.transaction(write=False) as session:
        return {
            "items": session.scalar(
                select(func.count()).select_from(Item).where(Item.project_id == project_id)
            )
            or 0,
            "annotations": session.scalar(
                select(func.count())
                .select_from(Annotation)
                .where(Annotation.project_id == project_id)
            )
            or 0,
            "reviews": session.scalar(
                select(func.count()).select_from(Review).where(Review.project_id == project_id)
            )
            or 0,
            "gold scores": session.scalar(
                select(func.count())
                .select_from(GoldScore)
                .where(GoldScore.project_id == project_id)
            )
            or 0,
        }


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
    command = "python benchmarks/leaderboard.py" + (
        "" if args.items == 500_000 else f" --items {args.items}"
    )
    lines = [
        f"Machine: {machine()}. Command: `{command}` (commit {git_commit()}).",
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
