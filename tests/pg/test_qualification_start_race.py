"""PostgreSQL only: a qualification start that races another one's open transaction waits on the
unique index of the attempt in progress, then returns the attempt the other one opened."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from accord.core import gold, training
from accord.db.engine import Database
from accord.db.models import AuditEvent, Item, Project, Qualification, User
from tests.api.helpers import add_items
from tests.conftest import Factory

pytestmark = pytest.mark.pg


def test_the_start_that_loses_the_race_returns_the_winners_attempt(
    db: Database, factory: Factory
) -> None:
    admin, annotator = factory.user(admin=True), factory.user()
    project = factory.project(admin, qualification_items=2, members={"annotator": annotator})
    add_items(db, project, admin.user, ["gold a", "gold b", "gold c"])
    with db.transaction() as s:
        p, u = s.get(Project, project.id), s.get(User, admin.user.id)
        assert p is not None and u is not None
        for item_id in s.scalars(select(Item.id).where(Item.project_id == project.id)):
            gold.set_gold(s, p, item_id, {"sentiment": "negative"}, u)

    first = db.session()
    p1, u1 = first.get(Project, project.id), first.get(User, annotator.user.id)
    assert p1 is not None and u1 is not None
    opened = training.start(first, p1, u1)  # inserted, not committed yet
    got: dict[str, int] = {}

    def other() -> None:
        with db.transaction() as s:
            p2, u2 = s.get(Project, project.id), s.get(User, annotator.user.id)
            assert p2 is not None and u2 is not None
            got["id"] = training.start(s, p2, u2).id

    thread = threading.Thread(target=other)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the second start did not wait for the first one's attempt"
    winner = opened.id
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert got["id"] == winner
    with db.transaction(write=False) as s:
        stored = s.execute(
            select(Qualification.id, Qualification.status).where(
                Qualification.project_id == project.id
            )
        ).all()
        starts = s.scalars(
            select(AuditEvent.entity_id).where(
                AuditEvent.project_id == project.id, AuditEvent.action == "qualification.start"
            )
        ).all()
    assert [tuple(row) for row in stored] == [(winner, "in_progress")]
    assert list(starts) == [winner]
