"""Duplicates checks of one project that run at the same time: the stored groups are those of
the newest check (highest job id), computed from what that check read, never a mix; an older
check that ends after a newer one stored its groups stores nothing and names the newer one
(``superseded_by``). The checks run as recorded jobs on real threads, and in two worker
processes, against the session's database: a SQLite file, or PostgreSQL in the second pass.

The orchestrated tests hold a check at one of its progress reports (after reading, after
storing) until the other has reached a given point, so each interleaving is certain."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import select

from accord.automation import near_duplicates as nd
from accord.config import Settings
from accord.core import duplicates
from accord.db.engine import Database
from accord.db.models import AuditEvent, Item, Job
from accord.jobs.registry import JobContext, execute
from tests.api.helpers import SST2, add_items
from tests.api.test_duplicates import (
    DUPLICATED,
    groups_of,
    project_with_texts,
    stored_groups,
)
from tests.conftest import Actor, Factory

WAIT = 120  # seconds a held check waits for the other before it gives up (and fails)
LATER = [  # items added between the two checks' reads: only the newer check sees them
    "THE MOVIE WAS A PURE DELIGHT FROM THE FIRST SCENE TO THE VERY LAST ONE",
    "an original story with a heart !",
    "nothing here repeats anything else , really",
    "nothing here repeats anything else really",
]
STAGES = duplicates.stages(duplicates.CheckParams())


def queue_checks(
    db: Database, project_id: int, user_id: int, params: list[dict[str, Any]]
) -> list[int]:
    """Recorded duplicates jobs, oldest first, each committed before the next (as runners do)."""
    ids = []
    for p in params:
        with db.transaction() as session:
            job = Job(kind="duplicates", project_id=project_id, created_by=user_id, params=p)
            session.add(job)
            session.flush()
            ids.append(job.id)
    return ids


def start(
    db: Database, settings: Settings, job_id: int, hold: Callable[[int], None] | None = None
) -> threading.Thread:
    """Run the job as a runner's worker thread does; ``hold`` gets its progress reports."""
    context = JobContext(db, settings, hold or (lambda _: None))
    thread = threading.Thread(target=execute, args=(context, job_id), daemon=True)
    thread.start()
    return thread


def wait_for(event: threading.Event) -> None:
    if not event.wait(WAIT):
        raise RuntimeError("the other check never got there")


def jobs(db: Database, ids: list[int]) -> list[Job]:
    with db.transaction(write=False) as session:
        found = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(ids)))}
    return [found[i] for i in ids]


def expected_groups(db: Database, project_id: int, threshold: float = 0.8) -> dict[int, set[int]]:
    """What the library finds among the project's items now (exact and near-duplicate texts)."""
    with db.transaction(write=False) as session:
        rows = session.execute(
            select(Item.id, Item.data).where(Item.project_id == project_id).order_by(Item.id)
        ).all()
    ids = [i for i, _ in rows]
    texts = [d["text"] for _, d in rows]
    pairs = nd.text_near_duplicate_pairs(texts, threshold).concat(nd.exact_duplicate_pairs(texts))
    return groups_of(nd.cluster_labels(len(ids), pairs), ids)


def check_events(db: Database, project_id: int) -> list[int | None]:
    """The job ids of the project's ``duplicates.check`` audit events, in order."""
    with db.transaction(write=False) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.project_id == project_id, AuditEvent.action == "duplicates.check")
            .order_by(AuditEvent.id)
        )
        return [e.details.get("job_id") for e in events]


def test_an_older_check_ending_last_keeps_the_newer_checks_groups(
    db: Database, settings: Settings, factory: Factory, admin: Actor
) -> None:
    """The older check reads; items are added; the newer check reads them, stores its groups
    and is held before its job is marked finished; the older check then ends: it must see the
    newer groups (from the transaction that stored them) and leave them."""
    project = project_with_texts(factory, db, admin, DUPLICATED)
    before = expected_groups(db, project.id)
    older, newer = queue_checks(db, project.id, admin.user.id, [{}, {}])
    older_read, newer_stored, older_done = threading.Event(), threading.Event(), threading.Event()

    def hold_older(n: int) -> None:
        if n == 1:  # read, not computed yet
            older_read.set()
            wait_for(newer_stored)

    def hold_newer(n: int) -> None:
        if n == STAGES:  # stored; its job is still running
            newer_stored.set()
            wait_for(older_done)

    first = start(db, settings, older, hold_older)
    wait_for(older_read)
    add_items(db, project, admin.user, LATER)
    after = expected_groups(db, project.id)
    assert after != before
    second = start(db, settings, newer, hold_newer)
    first.join(WAIT)
    older_done.set()
    second.join(WAIT)

    old_job, new_job = jobs(db, [older, newer])
    assert (old_job.status, new_job.status) == ("finished", "finished"), (
        old_job.error,
        new_job.error,
    )
    assert old_job.result is not None and new_job.result is not None
    assert old_job.result["superseded_by"] == newer
    assert old_job.result["n_rows"] == 0
    assert old_job.result["pairs"]["exact"] > 0  # it did compute, from its older view
    assert new_job.result["superseded_by"] is None
    assert new_job.result["n_rows"] == sum(len(m) for m in after.values())
    assert stored_groups(db, project.id) == after
    assert old_job.result["n_groups"] == new_job.result["n_groups"] == len(after)
    assert check_events(db, project.id) == [newer]


def test_a_newer_check_ending_last_replaces_the_older_checks_groups(
    db: Database, settings: Settings, factory: Factory, admin: Actor
) -> None:
    """Both read (the newer one after items were added); the older stores first, then the
    newer one: its groups replace the older ones entirely."""
    project = project_with_texts(factory, db, admin, DUPLICATED)
    before = expected_groups(db, project.id)
    older, newer = queue_checks(db, project.id, admin.user.id, [{}, {}])
    older_read, newer_read, older_done = threading.Event(), threading.Event(), threading.Event()

    def hold_older(n: int) -> None:
        if n == 1:
            older_read.set()
            wait_for(newer_read)

    def hold_newer(n: int) -> None:
        if n == 1:
            newer_read.set()
            wait_for(older_done)

    first = start(db, settings, older, hold_older)
    wait_for(older_read)
    add_items(db, project, admin.user, LATER)
    after = expected_groups(db, project.id)
    second = start(db, settings, newer, hold_newer)
    first.join(WAIT)
    assert stored_groups(db, project.id) == before  # the older check's view, stored
    older_done.set()
    second.join(WAIT)

    old_job, new_job = jobs(db, [older, newer])
    assert old_job.result is not None and new_job.result is not None, (
        old_job.error,
        new_job.error,
    )
    assert old_job.result["superseded_by"] is None
    assert old_job.result["n_groups"] == len(before)
    assert new_job.result["superseded_by"] is None
    assert new_job.result["n_groups"] == len(after)
    assert stored_groups(db, project.id) == after
    assert check_events(db, project.id) == [older, newer]


def test_an_older_check_started_after_a_newer_one_stored_does_no_work(
    db: Database, settings: Settings, factory: Factory, admin: Actor
) -> None:
    project = project_with_texts(factory, db, admin, DUPLICATED)
    older, newer = queue_checks(
        db, project.id, admin.user.id, [{"threshold": 0.5}, {"threshold": 0.95}]
    )
    start(db, settings, newer).join(WAIT)
    newest = expected_groups(db, project.id, 0.95)
    add_items(db, project, admin.user, LATER)  # the older check would find these
    assert expected_groups(db, project.id, 0.5) != newest
    reports: list[int] = []
    start(db, settings, older, reports.append).join(WAIT)

    old_job, new_job = jobs(db, [older, newer])
    assert old_job.status == "finished" and old_job.result is not None, old_job.error
    assert old_job.result["superseded_by"] == newer
    assert (old_job.result["pairs"], old_job.result["n_rows"]) == ({}, 0)
    assert reports == list(range(1, STAGES + 1))  # its progress still reaches the end
    assert new_job.result is not None and new_job.result["superseded_by"] is None
    assert new_job.result["params"]["threshold"] == 0.95
    assert stored_groups(db, project.id) == newest
    assert check_events(db, project.id) == [newer]


THRESHOLDS = [0.9, 0.6, 1.0, 0.7, 0.5, 0.8]  # one check each, in this order; the last is newest
N_TEXTS = 3000


def sst2_project(db: Database, factory: Factory, admin: Actor) -> tuple[int, dict[float, Any]]:
    """A project of SST-2 sentences, and the groups the library finds at each threshold (each
    threshold's differ from the newest check's, so a stored mix or an older check's groups
    cannot pass for the newest)."""
    texts = pd.read_csv(SST2)["text"].tolist()[:N_TEXTS]
    project = project_with_texts(factory, db, admin, texts)
    expected = {t: expected_groups(db, project.id, t) for t in THRESHOLDS}
    newest = expected[THRESHOLDS[-1]]
    assert all(expected[t] != newest for t in THRESHOLDS[:-1])
    return project.id, expected


def assert_newest_groups_stored(
    db: Database, project_id: int, ids: list[int], expected: dict[float, Any]
) -> None:
    done = jobs(db, ids)
    assert [j.status for j in done] == ["finished"] * len(ids), [j.error for j in done]
    results = [j.result or {} for j in done]
    assert results[-1]["superseded_by"] is None
    for job_id, result in zip(ids, results, strict=True):
        assert result["superseded_by"] is None or result["superseded_by"] > job_id
    stored_by = [i for i, r in zip(ids, results, strict=True) if r["superseded_by"] is None]
    assert sorted(check_events(db, project_id)) == stored_by
    assert check_events(db, project_id)[-1] == ids[-1]
    assert stored_groups(db, project_id) == expected[THRESHOLDS[-1]]


def test_checks_on_the_runners_threads_keep_the_newest_groups(
    db: Database, settings: Settings, factory: Factory, admin: Actor
) -> None:
    from accord.jobs.runners import InProcessRunner

    project_id, expected = sst2_project(db, factory, admin)
    params = [{"methods": ["exact", "text"], "threshold": t} for t in THRESHOLDS]
    ids = queue_checks(db, project_id, admin.user.id, params)
    runner = InProcessRunner(db, settings, workers=3)
    try:
        for job_id in reversed(ids):  # as workers elsewhere may take them: newest first
            runner.submit(job_id)
        for job_id in ids:
            runner.wait(job_id, timeout=WAIT)
    finally:
        runner.shutdown()
    assert_newest_groups_stored(db, project_id, ids, expected)


_WORKER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from accord.config import Settings
from accord.db.engine import open_database
from accord.jobs import kinds  # registers the job kinds
from accord.jobs.registry import JobContext, execute

settings = Settings(data_dir=sys.argv[1], database_url=sys.argv[2])
db = open_database(settings)
context = JobContext(db, settings, lambda n: None)
with ThreadPoolExecutor(max_workers=2) as pool:
    list(pool.map(lambda job_id: execute(context, job_id), [int(a) for a in sys.argv[3:]]))
db.dispose()
"""


def test_checks_in_two_worker_processes_keep_the_newest_groups(
    db: Database, settings: Settings, factory: Factory, admin: Actor
) -> None:
    project_id, expected = sst2_project(db, factory, admin)
    params = [{"methods": ["exact", "text"], "threshold": t} for t in THRESHOLDS]
    ids = queue_checks(db, project_id, admin.user.id, params)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(settings.data_dir), db.url, *map(str, share)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for share in (ids[::-2], ids[-2::-2])  # each takes the newest of its share first
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=WAIT)
        assert worker.returncode == 0, errors
    assert_newest_groups_stored(db, project_id, ids, expected)
