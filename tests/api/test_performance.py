"""Annotator performance over the API: every figure checked against a direct computation from
the stored answers, verdicts, gold scores and skills; the leaderboard for reviewers and
managers only, one's own figures for everyone."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from accord.core import annotations as annotation_ops
from accord.core import reviews
from accord.db.models import Annotation, AnnotatorSkill, Item, Project, Review, User
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory

CAP = 600.0


def _ids(db: Any, project_id: int) -> dict[str, int]:
    with db.transaction(write=False) as session:
        rows = session.execute(select(Item.id, Item.data).where(Item.project_id == project_id))
        return {data["text"]: item_id for item_id, data in rows}


def _submit(
    db: Any,
    project: Project,
    actor: Actor,
    item_id: int,
    label: str,
    lead: float | None,
    at: datetime,
) -> int:
    with db.transaction() as session:
        p, user = session.get(Project, project.id), session.get(User, actor.user.id)
        assert p is not None and user is not None
        a = annotation_ops.submit(session, p, user, item_id, {"sentiment": label}, lead_time=lead)
        a.created_at = at
        return a.id


def _review(
    db: Any, project: Project, reviewer: Actor, annotation_id: int, verdict: str, at: datetime
) -> None:
    with db.transaction() as session:
        p, user = session.get(Project, project.id), session.get(User, reviewer.user.id)
        annotation = session.get(Annotation, annotation_id)
        assert p is not None and user is not None and annotation is not None
        row = reviews.review(
            session, p, user, annotation, verdict, reason="wrong" if verdict == "rejected" else None
        )
        row.created_at = at


def _direct(db: Any, project: Project, actor: Actor) -> dict[str, Any]:
    """The figures computed the plain way, one answer at a time."""
    with db.transaction(write=False) as session:
        rows = session.execute(
            select(
                Annotation.item_id, Annotation.version, Annotation.lead_time, Annotation.created_at
            )
            .where(
                Annotation.project_id == project.id,
                Annotation.user_id == actor.user.id,
                Annotation.skipped.is_(False),
            )
            .order_by(Annotation.created_at, Annotation.id)
        ).all()
        verdicts = session.execute(
            select(Review.annotation_id, Review.verdict)
            .join(Annotation, Annotation.id == Review.annotation_id)
            .where(Annotation.user_id == actor.user.id, Review.project_id == project.id)
        ).all()
    active, previous = 0.0, None
    for _, _, lead, at in rows:
        if lead is not None:
            active += lead
        elif previous is not None:
            active += min((at - previous).total_seconds(), CAP)
        previous = at
    leads = [lead for _, _, lead, _ in rows if lead is not None]
    reviewed = {a for a, _ in verdicts}
    rejected = {a for a, v in verdicts if v == "rejected"}
    return {
        "items_done": len({item for item, version, _, _ in rows if version == 1}),
        "answers": len(rows),
        "active_seconds": active,
        "throughput_per_hour": len(rows) / (active / 3600) if active else None,
        "median_lead_time": statistics.median(leads) if leads else None,
        "reviewed": len(reviewed),
        "rejected": len(rejected),
        "rejection_rate": len(rejected) / len(reviewed) if reviewed else None,
    }


def test_figures_equal_direct_computations_and_visibility(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    ann, other, idle, reviewer = factory.user(), factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin,
        overlap=2,
        members={"annotator": ann, "annotator2": other, "annotator3": idle, "reviewer": reviewer},
    )
    add_items(db, project, admin.user, [f"text {k}" for k in range(8)] + ["gold a", "gold b"])
    ids = _ids(db, project.id)
    for name, label in (("gold a", "positive"), ("gold b", "negative")):
        client.put(
            f"/api/v1/projects/{project.id}/items/{ids[name]}/gold",
            json={"result": {"sentiment": label}},
            headers=admin.headers,
        ).raise_for_status()
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=3)
    # lead times, some missing: a missing one counts the gap since the previous answer,
    # capped at 10 minutes (text 3 comes 880 s after text 2)
    plan = [
        ("text 0", 10.0, 0),
        ("text 1", 20.0, 60),
        ("text 2", None, 120),
        ("text 3", None, 1000),
        ("text 4", 30.0, 1100),
        ("text 5", 40.0, 1200),
        ("gold a", 5.0, 1300),
        ("gold b", None, 1330),
    ]
    made = {}
    for name, lead, offset in plan:
        label = "positive"
        made[name] = _submit(
            db, project, ann, ids[name], label, lead, start + timedelta(seconds=offset)
        )
    _review(db, project, reviewer, made["text 0"], "accepted", now)
    _review(db, project, reviewer, made["text 1"], "rejected", now)
    _review(db, project, reviewer, made["text 2"], "accepted", now - timedelta(days=1))
    # the redo after the rejection is a new answer (version 2), not a new item done
    _submit(db, project, ann, ids["text 1"], "negative", 12.0, now - timedelta(minutes=5))
    for k, offset in enumerate((0, 30, 90)):
        _submit(
            db,
            project,
            other,
            ids[f"text {k}"],
            "negative",
            None,
            now - timedelta(seconds=100 - offset),
        )
    with db.transaction() as session:
        for control, agreement, n in (("sentiment", 0.8, 10), ("topic", 0.5, 30)):
            session.add(
                AnnotatorSkill(
                    project_id=project.id,
                    user_id=ann.user.id,
                    control=control,
                    method="dawid_skene",
                    skill=None,
                    agreement=agreement,
                    n_labels=n,
                )
            )

    base = f"/api/v1/projects/{project.id}/performance"
    assert client.get(base, headers=ann.headers).status_code == 403
    board = client.get(base, headers=reviewer.headers)
    assert board.status_code == 200, board.text
    rows = {r["username"]: r for r in board.json()}
    assert list(rows)[:2] == [ann.user.username, other.user.username]  # most items done first
    assert idle.user.username in rows and rows[idle.user.username]["answers"] == 0
    assert reviewer.user.username not in rows

    mine = rows[ann.user.username]
    expected = _direct(db, project, ann)
    for key, value in expected.items():
        assert mine[key] == pytest.approx(value), key
    # the same by hand: 10+20 + 60 + 600 (capped) + 30+40 + 5 + 30 (gap) + 12 (the redo)
    assert mine["active_seconds"] == pytest.approx(807.0)
    assert (mine["items_done"], mine["answers"]) == (8, 9)
    assert mine["throughput_per_hour"] == pytest.approx(9 * 3600 / 807)
    assert mine["median_lead_time"] == pytest.approx(statistics.median([10, 20, 30, 40, 5, 12]))
    assert mine["rejection_rate"] == pytest.approx(1 / 3)
    assert (mine["gold_answers"], mine["gold_accuracy"]) == (2, pytest.approx(0.5))
    assert mine["agreement"] == pytest.approx((0.8 * 10 + 0.5 * 30) / 40)

    theirs = rows[other.user.username]
    assert theirs["active_seconds"] == pytest.approx(90.0)  # first answer: nothing to measure
    assert theirs["median_lead_time"] is None and theirs["gold_accuracy"] is None
    assert theirs["rejection_rate"] is None and theirs["agreement"] is None

    trend = {d["day"]: d for d in mine["trend"]}
    assert len(mine["trend"]) == 30 and mine["trend"][-1]["day"] == now.date().isoformat()
    three_days_ago = (now - timedelta(days=3)).date().isoformat()
    yesterday = (now - timedelta(days=1)).date().isoformat()
    with db.transaction(write=False) as session:
        per_day: dict[str, int] = {}
        for (at,) in session.execute(
            select(Annotation.created_at).where(
                Annotation.user_id == ann.user.id, Annotation.skipped.is_(False)
            )
        ):
            per_day[at.date().isoformat()] = per_day.get(at.date().isoformat(), 0) + 1
    assert {d: t["answers"] for d, t in trend.items() if t["answers"]} == per_day
    assert sum(per_day.values()) == 9 and three_days_ago in per_day
    assert (trend[yesterday]["reviewed"], trend[yesterday]["rejection_rate"]) == (1, 0.0)
    today = trend[now.date().isoformat()]
    assert (today["reviewed"], today["rejected"], today["rejection_rate"]) == (2, 1, 0.5)

    own = client.get(f"{base}/me", headers=ann.headers)
    assert own.status_code == 200
    assert own.json() == mine
    assert client.get(f"{base}/me", headers=idle.headers).json()["answers"] == 0
    outsider = factory.user()
    assert client.get(f"{base}/me", headers=outsider.headers).status_code == 404


def test_old_answers_leave_the_trend_but_count_in_the_totals(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ["a", "b"])
    ids = _ids(db, project.id)
    old = datetime.now(UTC) - timedelta(days=45)
    _submit(db, project, ann, ids["a"], "positive", 4.0, old)
    _submit(db, project, ann, ids["b"], "positive", 6.0, old + timedelta(seconds=10))
    with db.transaction() as session:
        session.execute(
            update(Annotation).where(Annotation.project_id == project.id).values(lead_time=None)
        )
    got = client.get(f"/api/v1/projects/{project.id}/performance/me", headers=ann.headers).json()
    assert (got["answers"], got["active_seconds"], got["median_lead_time"]) == (2, 10.0, None)
    assert got["throughput_per_hour"] == pytest.approx(2 * 3600 / 10)
    assert sum(d["answers"] for d in got["trend"]) == 0
