"""The queue's next and submit: what they ask the database, and a lease one annotator asks for
twice at once.

Runs on the session's database: SQLite by default, the real PostgreSQL when
ACCORD_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from accord.core import annotations, assignment, projects
from accord.core.policies import ProjectPolicy, authorize
from accord.db.engine import Database
from accord.db.models import Assignment, Item, Project, User, utcnow
from tests.api.helpers import add_items
from tests.conftest import Factory, sentiment_schema


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(" ".join(args[2].split()))

    event.listen(db.write_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.write_engine, "before_cursor_execute", record)


def _setup(db: Database, factory: Factory, items: int) -> tuple[int, int]:
    admin = factory.user(admin=True)
    annotator = factory.user()
    project = factory.project(
        admin, schema=sentiment_schema(), overlap=3, members={"annotator": annotator}
    )
    add_items(db, project, admin.user, [f"queue statements {k}" for k in range(items)])
    return project.id, annotator.user.id


def test_next_and_submit_read_the_membership_and_the_schema_version_once(
    db: Database, factory: Factory
) -> None:
    project_id, user_id = _setup(db, factory, 3)
    with db.transaction() as session, statements(db) as seen:
        project, user = session.get(Project, project_id), session.get(User, user_id)
        assert project is not None and user is not None
        authorize(session, user, ProjectPolicy.annotate(project))  # as the handler does
        lease = assignment.next_item(session, project, user.id)
        assert lease is not None
        projects.current_schema(session, project)  # the handler's response asks again
        item_id = lease.item.id
    memberships = [s for s in seen if "FROM memberships" in s]
    versions = [s for s in seen if "FROM schema_versions WHERE schema_versions.id =" in s]
    assert (len(memberships), len(versions)) == (1, 1), seen

    with db.transaction() as session, statements(db) as seen:
        project, user = session.get(Project, project_id), session.get(User, user_id)
        assert project is not None and user is not None
        authorize(session, user, ProjectPolicy.annotate(project))
        stored = annotations.submit(session, project, user, item_id, {"sentiment": "positive"})
        assert stored.item_id == item_id
    memberships = [s for s in seen if "FROM memberships" in s]
    versions = [s for s in seen if "FROM schema_versions WHERE schema_versions.id =" in s]
    assert (len(memberships), len(versions)) == (1, 1), seen
    with db.transaction(write=False) as session:
        counters = session.execute(
            select(Item.n_assigned, Item.n_done).where(Item.id == item_id)
        ).one()
    assert tuple(counters) == (1, 1)


def test_a_second_lease_of_one_item_to_one_annotator_gives_the_slot_back(
    db: Database, factory: Factory
) -> None:
    project_id, user_id = _setup(db, factory, 2)
    with db.transaction() as session:
        project = session.get(Project, project_id)
        assert project is not None
        lease = assignment.next_item(session, project, user_id)
        assert lease is not None
        item_id = lease.item.id
        assert lease.item.n_assigned == 1  # the item as the slot's UPDATE returned it
    with db.transaction() as session:
        project = session.get(Project, project_id)
        assert project is not None
        # What a second, simultaneous request of the same annotator that picked the same
        # item does once the first one's lease is in (PostgreSQL lets both pick it).
        again = assignment._take_slot(session, project, item_id, user_id, utcnow())
        assert again is None
    with db.transaction(write=False) as session:
        n_assigned = session.scalar(select(Item.n_assigned).where(Item.id == item_id))
        leases = session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.item_id == item_id, Assignment.user_id == user_id)
        )
    assert (n_assigned, leases) == (1, 1)


def test_a_session_reads_the_membership_again_in_its_next_transaction(
    db: Database, factory: Factory
) -> None:
    project_id, user_id = _setup(db, factory, 1)
    session = db.session()
    try:
        with statements(db) as seen:
            for _ in range(2):
                project, user = session.get(Project, project_id), session.get(User, user_id)
                assert project is not None and user is not None
                authorize(session, user, ProjectPolicy.annotate(project))
                assignment.check_not_paused(session, project, user.id)
                session.commit()  # a pause committed meanwhile must be seen: nothing is kept
    finally:
        session.close()
    assert len([s for s in seen if "FROM memberships" in s]) == 2
