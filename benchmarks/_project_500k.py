"""The project of the large benchmarks (leaderboard.py, export.py, pages_500k.py,
deletes_500k.py): a month of work on one
SQLite project of 500,000 text items, 30 annotators, 3 answers an item.

Every item is answered by 3 of 30 annotators over the last 30 days (working hours, UTC), lead
times recorded on 90% of the answers, 1% of the items also skipped by a fourth annotator, a
tenth of the answers reviewed (a fifth of those rejected and answered again), one item in a
thousand gold (answered by everyone, scored) and a finished quality run: the annotators' skills
and the consensus of every item (the majority of its current answers). The rows are written
straight into the tables the way submissions, reviews and quality runs leave them, so that a
benchmark's figures are those of what it measures alone.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import git_commit, machine
from sqlalchemy import func, insert, inspect, select

from accord.config import Settings
from accord.core import projects, users
from accord.db.engine import Database, open_database
from accord.db.migrate import upgrade
from accord.db.models import (
    Annotation,
    AnnotatorSkill,
    Consensus,
    GoldAnswer,
    GoldScore,
    Item,
    Project,
    QualityRun,
    Review,
    SchemaVersion,
)

PROJECT = "leaderboard"
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


@contextmanager
def data_dir(given: Path | None) -> Iterator[Path]:
    """``given`` (created if need be, kept), or a temporary directory removed afterwards."""
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp) / "data"


def arguments(*, repeats: int | None = None) -> argparse.ArgumentParser:
    """The options every benchmark of the project takes (and ``--repeats`` when it repeats)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=500_000)
    if repeats is not None:
        parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--data-dir", type=Path, help="build the project here once, reuse it")
    parser.add_argument("--no-write", action="store_true")
    return parser


def header(script: str, args: argparse.Namespace, options: str = "") -> str:
    """The first line of a benchmark's section: the machine, the command that ran it (``options``
    are the script's own, as given) and the commit."""
    items = "" if args.items == 500_000 else f" --items {args.items}"
    command = f"python benchmarks/{script}{items}{options}"
    return f"Machine: {machine()}. Command: `{command}` (commit {git_commit()})."


@contextmanager
def opened(args: argparse.Namespace) -> Iterator[tuple[Path, Database, int, dict[str, int]]]:
    """The data directory of ``args``, its database, the project's id and row counts (the
    project built first if need be); the database is closed afterwards."""
    with data_dir(args.data_dir) as path:
        db, found, _ = open_project(path, args.items)
        try:
            counts = sizes(db, found)
            print(f"project: {counts}", file=sys.stderr)
            yield path, db, found, counts
        finally:
            db.dispose()


def open_project(path: Path, n_items: int) -> tuple[Database, int, float | None]:
    """The database of the data directory and the project's id, the project built first if the
    directory holds none (then also the seconds the build took)."""
    db = open_database(Settings(data_dir=path, database_url=None))
    upgrade(db.url)  # a directory an older revision built gets the newer tables and columns
    built = None
    if project_id(db) is None:
        started = time.perf_counter()
        counts = build(db, n_items, np.random.default_rng(5))
        built = time.perf_counter() - started
        print(f"built in {built:.0f} s: {counts}", file=sys.stderr)
    found = project_id(db)
    assert found is not None
    return db, found, built


def project_id(db: Database) -> int | None:
    if not inspect(db.read_engine).has_table(Project.__tablename__):
        return None
    with db.transaction(write=False) as session:
        return session.scalar(select(Project.id).where(Project.name == PROJECT))


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
            session, admin, PROJECT, SCHEMA, overlap=OVERLAP, gold_rate=0.0
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
    reviewed = np.zeros(len(frame), dtype=bool)
    reviewed[judged] = True
    # every answer requires review (the policy "all"); those without a verdict wait for one
    frame["awaiting"] = ~superseded & ~reviewed & ~frame["skipped"].to_numpy(dtype=bool)
    frame = frame.iloc[order].reset_index(drop=True)

    item_ids = np.arange(1, n_items + 1)
    user_ids = annotator_ids[frame["user"].to_numpy()]
    results = [{"sentiment": label} for label in LABELS]
    answer_label = rng.integers(0, len(LABELS), len(frame))
    frame["label"] = answer_label

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
            frame["awaiting"].tolist(),
            strict=True,
        )
        rows: list[dict[str, Any]] = []
        for a, i, u, parent, version, latest, skipped, lead_time, created, label, waits in columns:
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
                    "awaiting_review": waits,
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

        # a finished quality run of the control, the skills and the consensus it stored
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
        n_consensus = _write_consensus(session, project_id, item_ids, labelled)
    return {
        "items": n_items,
        "annotations": len(frame),
        "reviews": len(verdicts),
        "gold items": n_gold,
        "consensus": n_consensus,
    }


def _write_consensus(
    session: Any, project_id: int, item_ids: np.ndarray, labelled: pd.DataFrame
) -> int:
    """One row per labelled item: the most frequent label of its current answers (the first
    label on a tie), its share as the confidence."""
    counts = (
        labelled.groupby(["item", "label"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=range(len(LABELS)), fill_value=0)
    )
    table = counts.to_numpy()
    winner = table.argmax(axis=1)
    n_labels = table.sum(axis=1)
    confidence = table[np.arange(len(table)), winner] / n_labels
    rows = [
        {
            "project_id": project_id,
            "item_id": int(item_ids[i]),
            "control": "sentiment",
            "label": LABELS[w],
            "confidence": c,
            "n_labels": n,
            "method": "dawid_skene",
            "params": {},
        }
        for i, w, c, n in zip(
            counts.index.tolist(),
            winner.tolist(),
            confidence.tolist(),
            n_labels.tolist(),
            strict=True,
        )
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(Consensus), rows[start : start + CHUNK])
    return len(rows)


def _distinct(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` rows of OVERLAP + 1 distinct annotator indexes, in random order."""
    out = np.empty((n, OVERLAP + 1), dtype=np.int64)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        out[start:stop] = np.argsort(rng.random((stop - start, N_ANNOTATORS)), axis=1)[
            :, : OVERLAP + 1
        ]
    return out


def sizes(db: Database, project_id: int) -> dict[str, int]:
    """Row counts of the project: items, answers, verdicts, gold scores, consensus."""

    def count(model: Any) -> int:
        query = select(func.count()).select_from(model).where(model.project_id == project_id)
        return session.scalar(query) or 0

    with db.transaction(write=False) as session:
        return {
            "items": count(Item),
            "annotations": count(Annotation),
            "reviews": count(Review),
            "gold scores": count(GoldScore),
            "consensus": count(Consensus),
        }
