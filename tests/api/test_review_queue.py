"""The review queue is read through ``annotations.awaiting_review``: every write that changes
whether an answer waits for review (a submission, a verdict, a redo after a rejection, an edit,
a reviewer's fix, a skip) keeps that column equal to its definition — review required, the
current version, not a skip, no verdict — and the migration that added it fills it from the
same definition."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import exists, select

from accord.config import Settings
from accord.core import annotations, projects, reviews, users
from accord.db.engine import Database, open_database
from accord.db.migrate import alembic_config, upgrade
from accord.db.models import Annotation, Item, Project, Review
from tests.api.helpers import add_items, label_next, post_ok, walk_review_queue
from tests.conftest import TEXT_SCHEMA, Actor, Factory


def queued(db: Database, project_id: int) -> set[int]:
    with db.transaction(write=False) as session:
        return set(
            session.scalars(
                select(Annotation.id).where(
                    Annotation.project_id == project_id, Annotation.awaiting_review.is_(True)
                )
            )
        )


def by_definition(db: Database, project_id: int) -> set[int]:
    with db.transaction(write=False) as session:
        return set(
            session.scalars(
                select(Annotation.id).where(
                    Annotation.project_id == project_id,
                    Annotation.review_required.is_(True),
                    Annotation.is_latest.is_(True),
                    Annotation.skipped.is_(False),
                    ~exists().where(Review.annotation_id == Annotation.id),
                )
            )
        )


def test_every_write_keeps_the_queue_equal_to_its_definition(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    first, second, reviewer = factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin,
        members={"annotator": first, "annotator2": second, "reviewer": reviewer},
        overlap=2,
    )
    pid = project.id
    add_items(db, project, admin.user, ["one", "two", "three", "four"])
    with db.transaction(write=False) as session:
        i1, i2, i3, i4 = session.scalars(
            select(Item.id).where(Item.project_id == pid).order_by(Item.id)
        )
    a1 = [label_next(client, first, pid, "positive") for _ in range(4)]
    assert [a["item_id"] for a in a1] == [i1, i2, i3, i4]
    b1 = label_next(client, second, pid, "negative")
    b2 = label_next(client, second, pid, "negative")
    assert queued(db, pid) == by_definition(db, pid) == {a["id"] for a in a1} | {b1["id"], b2["id"]}

    post_ok(client, second, f"/projects/{pid}/next")
    skip = post_ok(client, second, f"/projects/{pid}/items/{i3}/skip", {"reason": "unsure"})
    review = f"/projects/{pid}/annotations/{{}}/review"
    post_ok(client, reviewer, review.format(a1[0]["id"]), {"verdict": "accepted"})
    post_ok(client, reviewer, review.format(a1[1]["id"]), {"verdict": "rejected", "reason": "no"})
    fix = post_ok(
        client,
        reviewer,
        review.format(b1["id"]),
        {"verdict": "fixed", "result": {"sentiment": "positive"}},
    )
    assert queued(db, pid) == by_definition(db, pid) == {a1[2]["id"], a1[3]["id"], b2["id"]}

    redo = label_next(client, first, pid, "negative")  # the rejected item comes back first
    assert (redo["item_id"], redo["parent_id"]) == (i2, a1[1]["id"])
    edit = client.put(
        f"/api/v1/projects/{pid}/annotations/{a1[0]['id']}",
        json={"result": {"sentiment": "negative"}},
        headers=first.headers,
    ).json()
    expected = {edit["id"], redo["id"], b2["id"], a1[2]["id"], a1[3]["id"]}
    assert queued(db, pid) == by_definition(db, pid) == expected
    assert skip["id"] not in expected and fix["fixed_annotation_id"] not in expected

    assert walk_review_queue(client, reviewer, pid) == [
        (i1, [edit["id"]], 4),
        (i2, sorted([b2["id"], redo["id"]]), 4),
        (i3, [a1[2]["id"]], 4),
        (i4, [a1[3]["id"]], 4),
    ]
    for answer in expected:
        post_ok(client, reviewer, review.format(answer), {"verdict": "accepted"})
    assert queued(db, pid) == by_definition(db, pid) == set()
    assert walk_review_queue(client, reviewer, pid) == []


def test_new_annotators_are_reviewed_until_they_reach_the_accepted_count(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator, reviewer = factory.user(), factory.user()
    project = factory.project(
        admin,
        members={"annotator": annotator, "reviewer": reviewer},
        overlap=1,
        review_policy="new_annotators",
        review_new_until=2,
    )
    pid = project.id
    add_items(db, project, admin.user, ["a", "b", "c", "d", "e"])
    first = [label_next(client, annotator, pid, "positive") for _ in range(3)]
    assert queued(db, pid) == {a["id"] for a in first}
    post_ok(
        client,
        reviewer,
        f"/projects/{pid}/annotations/{first[0]['id']}/review",
        {"verdict": "accepted"},
    )
    fourth = label_next(client, annotator, pid, "positive")  # one accepted: still reviewed
    post_ok(
        client,
        reviewer,
        f"/projects/{pid}/annotations/{first[1]['id']}/review",
        {"verdict": "accepted"},
    )
    post_ok(
        client,
        reviewer,
        f"/projects/{pid}/annotations/{first[2]['id']}/review",
        {"verdict": "accepted"},
    )
    fifth = label_next(client, annotator, pid, "positive")  # three accepted, more than 2
    assert queued(db, pid) == by_definition(db, pid) == {fourth["id"]}
    assert fifth["id"] not in queued(db, pid)
    with db.transaction(write=False) as session:
        stored = session.get(Project, pid)
        assert stored is not None
        assert reviews.accepted_reviews(session, stored, annotator.user.id) == 3
        assert reviews.accepted_reviews(session, stored, annotator.user.id, up_to=2) == 2


def test_the_migration_fills_the_queue_from_the_history(tmp_path: Path) -> None:
    """Answers written at the head revision, the column dropped by going back to the revision
    before it, then upgraded again: the backfill finds the same queue the writes kept."""
    db = open_database(Settings(data_dir=tmp_path, quality_check_seconds=0))
    upgrade(db.url)
    with db.transaction() as session:
        owner = users.create_user(session, "owner", "password123", is_admin=True)
        workers = [users.create_user(session, f"worker{k}", "password123") for k in range(3)]
        project = projects.create_project(session, owner, "backfill", TEXT_SCHEMA, overlap=3)
        for worker in workers:
            projects.set_member(session, project, worker, "annotator", actor_id=owner.id)
    add_items(db, project, owner, [f"text {k}" for k in range(6)])
    with db.transaction() as session:
        project = session.merge(project)
        owner, workers = session.merge(owner), [session.merge(w) for w in workers]
        item_ids = list(session.scalars(select(Item.id).order_by(Item.id)))
        answers = []
        for item_id in item_ids:
            for worker in workers:
                answers.append(
                    annotations.submit(session, project, worker, item_id, {"sentiment": "positive"})
                )
        reviews.review(session, project, owner, answers[0], "accepted")
        reviews.review(session, project, owner, answers[1], "rejected", reason="wrong")
        reviews.review(
            session, project, owner, answers[2], "fixed", result={"sentiment": "negative"}
        )
        annotations.revise(session, project, workers[0], answers[3], {"sentiment": "negative"})
        project_id = project.id
    kept = queued(db, project_id)
    assert kept == by_definition(db, project_id)
    assert len(kept) == len(answers) - 4 + 1  # three verdicts, one edit: its new version waits
    db.dispose()

    config = alembic_config(db.url)
    command.downgrade(config, "0011")
    command.upgrade(config, "head")
    db = open_database(Settings(data_dir=tmp_path, quality_check_seconds=0))
    try:
        assert queued(db, project_id) == kept
    finally:
        db.dispose()
