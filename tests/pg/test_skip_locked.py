"""PostgreSQL only: a slot being taken in one open transaction is skipped, not waited on."""

from __future__ import annotations

import threading
import time

import pytest

from accord.core import assignment
from accord.db.models import Project
from tests.api.helpers import add_items
from tests.conftest import Factory

pytestmark = pytest.mark.pg


def test_concurrent_next_skips_a_locked_item_instead_of_waiting(db, factory: Factory) -> None:
    admin = factory.user(admin=True)
    a, b = factory.user(), factory.user()
    project = factory.project(admin, members={"annotator1": a, "annotator2": b})
    add_items(db, project, admin.user, ["first", "second"])
    first_session = db.session()
    p1 = first_session.get(Project, project.id)
    assert p1 is not None
    lease_a = assignment.next_item(first_session, p1, a.user.id)  # transaction stays open
    assert lease_a is not None
    got: dict[str, object] = {}

    def other() -> None:
        started = time.monotonic()
        with db.transaction() as s:
            p2 = s.get(Project, project.id)
            assert p2 is not None
            lease_b = assignment.next_item(s, p2, b.user.id)
            got["item"] = lease_b.item.id if lease_b else None
        got["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the second request waited on the first one's lock"
    first_session.commit()
    first_session.close()
    assert got["item"] is not None and got["item"] != lease_a.item.id
