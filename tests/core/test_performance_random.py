"""Annotator performance on random answer histories, checked against a plain recomputation
from the stored rows: times out of id order, equal times, missing lead times, skips, revisions,
several verdicts on one answer (some on skips or on answers whose author was deleted), answers
of another project, times on either side of midnight UTC; on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from accord.core import performance
from accord.db.engine import Database
from accord.db.models import Annotation, Item, Project, Review
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def _random_time(rng: random.Random, previous: datetime | None) -> datetime:
    """Mostly a little after the previous answer; sometimes the same time, a time before it,
    a long pause, a time long ago or one just around midnight UTC."""
    kind = rng.random()
    if previous is None or kind < 0.05:
        return NOW - timedelta(days=rng.uniform(0, 40))
    if kind < 0.12:
        return previous
    if kind < 0.2:
        return previous - timedelta(seconds=rng.uniform(0, 900))
    if kind < 0.27:
        midnight = datetime(previous.year, previous.month, previous.day, tzinfo=UTC)
        return midnight + timedelta(days=1, microseconds=rng.choice([-1, 0, 1]))
    if kind < 0.32:
        return previous + timedelta(seconds=rng.uniform(600, 7200))
    return previous + timedelta(seconds=rng.uniform(0, 700), microseconds=rng.randrange(10**6))


def _history(
    db: Database,
    project: Project,
    other: Project,
    reviewer: Actor,
    people: list[int | None],
    rng: random.Random,
    *,
    in_order: bool,
) -> None:
    """Random answers and verdicts written straight into the tables; with ``in_order`` the
    times grow with the ids, as the server writes them."""
    items = {project.id: _ids(db, project), other.id: _ids(db, other)}
    rows: list[dict[str, Any]] = []
    previous: dict[int | None, datetime | None] = {}
    for _ in range(rng.randrange(40, 160)):
        user = rng.choice(people)
        pid = other.id if rng.random() < 0.1 else project.id
        at = _random_time(rng, previous.get(user))
        previous[user] = at
        lead = None if rng.random() < 0.4 else round(rng.uniform(0.5, 90), rng.choice([0, 2, 6]))
        rows.append(
            {
                "project_id": pid,
                "item_id": rng.choice(items[pid]),
                "user_id": user,
                "version": rng.choice([1, 1, 1, 2, 3]),
                "is_latest": True,
                "result": {"sentiment": "positive"},
                "skipped": rng.random() < 0.12,
                "lead_time": lead,
                "created_at": at,
            }
        )
    if in_order:
        rows.sort(key=lambda r: r["created_at"])
    with db.transaction() as session:
        ids = [
            session.execute(insert(Annotation).returning(Annotation.id), [r]).scalar_one()
            for r in rows
        ]
        verdicts = []
        for annotation_id, row in zip(ids, rows, strict=True):
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                verdicts.append(
                    {
                        "project_id": row["project_id"],
                        "annotation_id": annotation_id,
                        "reviewer_id": reviewer.user.id,
                        "verdict": rng.choice(["accepted", "rejected", "rejected", "fixed"]),
                        "created_at": rng.choice(
                            [
                                row["created_at"] + timedelta(hours=rng.uniform(0, 72)),
                                NOW - timedelta(days=rng.uniform(0, 35)),
                            ]
                        ),
                    }
                )
        if verdicts:
            session.execute(insert(Review), verdicts)


def _ids(db: Database, project: Project) -> list[int]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(Item.id).where(Item.project_id == project.id)))


def _expected(db: Database, project: Project, user_id: int) -> dict[str, Any]:
    """The figures of one annotator, one stored row at a time."""
    with db.transaction(write=False) as session:
        answers = session.execute(
            select(
                Annotation.id,
                Annotation.item_id,
                Annotation.version,
                Annotation.lead_time,
                Annotation.created_at,
            ).where(
                Annotation.project_id == project.id,
                Annotation.user_id == user_id,
                Annotation.skipped.is_(False),
            )
        ).all()
        verdicts = session.execute(
            select(Review.annotation_id, Review.verdict, Review.created_at)
            .join(Annotation, Annotation.id == Review.annotation_id)
            .where(Review.project_id == project.id, Annotation.user_id == user_id)
        ).all()
    answers = sorted(answers, key=lambda r: (r.created_at, r.id))
    active, previous = 0.0, None
    for row in answers:
        if row.lead_time is not None:
            active += row.lead_time
        elif previous is not None:
            active += min((row.created_at - previous).total_seconds(), 600.0)
        previous = row.created_at
    leads = [r.lead_time for r in answers if r.lead_time is not None]
    days = [NOW.date() - timedelta(days=k) for k in range(29, -1, -1)]
    per_day = Counter(r.created_at.astimezone(UTC).date() for r in answers)
    judged = Counter(at.astimezone(UTC).date() for _, _, at in verdicts)
    turned = Counter(at.astimezone(UTC).date() for _, v, at in verdicts if v == "rejected")
    reviewed = {a for a, _, _ in verdicts}
    rejected = {a for a, v, _ in verdicts if v == "rejected"}
    return {
        "items_done": len({r.item_id for r in answers if r.version == 1}),
        "answers": len(answers),
        "active_seconds": active,
        "median_lead_time": statistics.median(leads) if leads else None,
        "reviewed": len(reviewed),
        "rejected": len(rejected),
        "trend": [(d, per_day[d], judged[d], turned[d]) for d in days],
    }


def _trend(days: list[performance.Day]) -> list[tuple[date, int, int, int]]:
    for d in days:
        assert d.rejection_rate == (d.rejected / d.reviewed if d.reviewed else None)
    return [(d.day, d.answers, d.reviewed, d.rejected) for d in days]


@pytest.mark.parametrize(("seed", "in_order"), [(1, True), (2, False), (3, False), (4, True)])
def test_random_histories_equal_a_plain_recomputation(
    db: Database, factory: Factory, admin: Actor, seed: int, in_order: bool
) -> None:
    rng = random.Random(seed)
    annotators = [factory.user() for _ in range(4)]
    outsider, stranger, reviewer = factory.user(), factory.user(), factory.user()
    members: dict[str, Actor] = {f"annotator{k}": a for k, a in enumerate(annotators)}
    project = factory.project(admin, members={**members, "reviewer": reviewer})
    other = factory.project(admin, members=members)
    add_items(db, project, admin.user, [f"text {k}" for k in range(15)])
    add_items(db, other, admin.user, [f"text {k}" for k in range(5)])
    # the outsider answers without being a member; the last annotator never answers;
    # answers of a deleted user keep no author
    people: list[int | None] = [a.user.id for a in annotators[:3]] + [outsider.user.id, None]
    _history(db, project, other, reviewer, people, rng, in_order=in_order)

    with db.transaction(write=False) as session:
        p = session.get(Project, project.id)
        assert p is not None
        board = performance.performance(session, p, now=NOW)
        own = {}
        for actor in [*annotators, outsider, stranger]:
            (own[actor.user.id],) = performance.performance(
                session, p, user_id=actor.user.id, now=NOW
            )

    seen = _expected(db, project, outsider.user.id)
    assert {row.user_id for row in board} == {a.user.id for a in annotators} | (
        {outsider.user.id} if seen["answers"] or seen["reviewed"] else set()
    )
    assert [r.user_id for r in board] == [
        r.user_id for r in sorted(board, key=lambda r: (-r.items_done, r.username))
    ]
    nothing = own[stranger.user.id]
    assert (nothing.answers, nothing.active_seconds, nothing.median_lead_time) == (0, 0.0, None)
    assert (nothing.reviewed, nothing.rejection_rate, len(nothing.trend)) == (0, None, 30)
    for row in board:
        expected = _expected(db, project, row.user_id)
        assert own[row.user_id] == row  # one's own figures are the leaderboard's
        assert row.items_done == expected["items_done"]
        assert row.answers == expected["answers"]
        assert row.active_seconds == pytest.approx(expected["active_seconds"], rel=1e-12)
        assert row.median_lead_time == expected["median_lead_time"]
        assert row.throughput_per_hour == (
            pytest.approx(row.answers * 3600 / expected["active_seconds"], rel=1e-12)
            if row.active_seconds > 0
            else None
        )
        assert (row.reviewed, row.rejected) == (expected["reviewed"], expected["rejected"])
        assert _trend(row.trend) == expected["trend"]
    assert sum(r.answers for r in board) > 20 and sum(r.reviewed for r in board) > 5
