"""Many annotators at once over real HTTP: exactly N annotations per item, none lost, none doubled;
simultaneous qualification starts open one attempt.

Runs on the session's database: SQLite by default, the real PostgreSQL when
ACCORD_TEST_DATABASE_URL is set (as CI does in its second pass).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select

from accord.core import gold, imports
from accord.db.models import Annotation, AuditEvent, Item, Project, Qualification, User
from accord.io import read_records_from_objects
from tests.api.helpers import add_items
from tests.conftest import Factory

ANNOTATORS = 30
ITEMS = 1000
OVERLAP = 3


def test_thirty_annotators_on_a_thousand_items_with_overlap_three(
    live_server: str, db, factory: Factory
) -> None:
    admin = factory.user(admin=True)
    team = {f"annotator{i}": factory.user() for i in range(ANNOTATORS)}
    project = factory.project(admin, overlap=OVERLAP, members=team)
    with db.transaction() as s:
        p, u = s.get(Project, project.id), s.get(User, admin.user.id)
        assert p is not None and u is not None
        objs = [{"text": f"concurrent item {i}"} for i in range(ITEMS)]
        imports.import_records(s, p, u, read_records_from_objects(objs), source="t", format="json")

    acknowledged: list[tuple[int, int]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(token: str, user_id: int) -> None:
        with httpx.Client(
            base_url=live_server, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            while True:
                r = http.post(f"/api/v1/projects/{project.id}/next")
                if r.status_code == 204:
                    return
                if r.status_code != 200:
                    errors.append(f"next {r.status_code} {r.text}")
                    return
                item_id = r.json()["item"]["id"]
                s = http.post(
                    f"/api/v1/projects/{project.id}/items/{item_id}/annotations",
                    json={"result": {"sentiment": "positive"}, "lead_time": 1.0},
                )
                if s.status_code != 201:
                    errors.append(f"submit {s.status_code} {s.text}")
                    return
                with lock:
                    acknowledged.append((item_id, user_id))

    threads = [threading.Thread(target=work, args=(a.token, a.user.id)) for a in team.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:3]
    assert len(acknowledged) == ITEMS * OVERLAP
    assert len(set(acknowledged)) == len(acknowledged)  # nobody twice on one item
    per_item = Counter(item for item, _ in acknowledged)
    assert set(per_item.values()) == {OVERLAP}
    with db.transaction(write=False) as s:
        stored = s.execute(
            select(Annotation.item_id, Annotation.user_id).where(
                Annotation.project_id == project.id
            )
        ).all()
        assert sorted((i, u) for i, u in stored) == sorted(
            acknowledged
        )  # no acknowledged write lost
        done = s.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.project_id == project.id, Item.status == "done")
        )
        assert done == ITEMS
        counters = s.execute(
            select(Item.n_assigned, Item.n_done).where(Item.project_id == project.id)
        ).all()
        assert set(counters) == {(OVERLAP, OVERLAP)}


STARTERS = 5
STARTS_EACH = 8


def test_simultaneous_qualification_starts_open_one_attempt(
    live_server: str, db, factory: Factory
) -> None:
    admin = factory.user(admin=True)
    team = {f"annotator{i}": factory.user() for i in range(STARTERS)}
    project = factory.project(admin, qualification_items=2, members=team)
    add_items(db, project, admin.user, [f"gold {k}" for k in range(3)])
    with db.transaction() as s:
        p, u = s.get(Project, project.id), s.get(User, admin.user.id)
        assert p is not None and u is not None
        for item_id in s.scalars(select(Item.id).where(Item.project_id == project.id)):
            gold.set_gold(s, p, item_id, {"sentiment": "positive"}, u)

    barrier = threading.Barrier(STARTERS * STARTS_EACH)
    answers: list[tuple[int, int, Any]] = []
    lock = threading.Lock()

    def start(token: str, user_id: int) -> None:
        with httpx.Client(
            base_url=live_server, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            barrier.wait(timeout=60)
            r = http.post(f"/api/v1/projects/{project.id}/qualification/start")
            with lock:
                answers.append((user_id, r.status_code, r.json()))

    threads = [
        threading.Thread(target=start, args=(a.token, a.user.id))
        for a in team.values()
        for _ in range(STARTS_EACH)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(answers) == STARTERS * STARTS_EACH
    assert {code for _, code, _ in answers} == {200}, [b for _, c, b in answers if c != 200][:3]
    returned = {(user, body["id"]) for user, _, body in answers}
    assert len(returned) == STARTERS  # every request of one annotator got the same attempt
    assert {body["status"] for _, _, body in answers} == {"in_progress"}
    with db.transaction(write=False) as s:
        stored = s.execute(
            select(Qualification.user_id, Qualification.id, Qualification.status).where(
                Qualification.project_id == project.id
            )
        ).all()
        starts = s.scalars(
            select(AuditEvent.actor_id).where(
                AuditEvent.project_id == project.id, AuditEvent.action == "qualification.start"
            )
        ).all()
    assert sorted((user, q) for user, q, _ in stored) == sorted(returned)
    assert {status for *_, status in stored} == {"in_progress"}
    assert sorted(starts) == sorted(a.user.id for a in team.values())  # one start each
