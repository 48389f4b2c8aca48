from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from accord.db.models import Assignment, Item, utcnow
from tests.api.helpers import add_items, label
from tests.conftest import Actor, Factory


def _next(client, pid: int, actor: Actor):
    return client.post(f"/api/v1/projects/{pid}/next", headers=actor.headers)


def _submit(client, pid: int, item_id: int, actor: Actor, result=None):
    return client.post(
        f"/api/v1/projects/{pid}/items/{item_id}/annotations",
        json={"result": result or label("positive"), "lead_time": 2.5},
        headers=actor.headers,
    )


def test_overlap_is_honoured_and_nobody_gets_an_item_twice(
    client, db, admin: Actor, factory: Factory
) -> None:
    team = {f"annotator{i}": factory.user() for i in range(4)}
    project = factory.project(admin, overlap=2, members=team)
    add_items(db, project, admin.user, [f"sentence {i}" for i in range(5)])
    seen: dict[int, list[str]] = {}
    for _round in range(5):
        for actor in team.values():
            r = _next(client, project.id, actor)
            if r.status_code == 204:
                continue
            item_id = r.json()["item"]["id"]
            assert _submit(client, project.id, item_id, actor).status_code == 201
            seen.setdefault(item_id, []).append(actor.user.username)
    assert len(seen) == 5
    for names in seen.values():
        assert len(names) == 2 and len(set(names)) == 2
    with db.transaction(write=False) as s:
        statuses = s.scalars(select(Item.status).where(Item.project_id == project.id)).all()
        assert statuses == ["done"] * 5
    for actor in team.values():
        assert _next(client, project.id, actor).status_code == 204


def test_sequential_order_and_idempotent_next(client, db, admin: Actor, factory: Factory) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ["first", "second", "third"])
    a = _next(client, project.id, ann).json()
    b = _next(client, project.id, ann).json()
    assert a["item"]["id"] == b["item"]["id"]
    assert a["item"]["data"] == {"text": "first"}
    assert a["schema_version"] == 1
    _submit(client, project.id, a["item"]["id"], ann)
    assert _next(client, project.id, ann).json()["item"]["data"] == {"text": "second"}


def test_expired_lease_returns_to_the_pool(client, db, admin: Actor, factory: Factory) -> None:
    first, second = factory.user(), factory.user()
    project = factory.project(admin, members={"annotator1": first, "annotator2": second})
    add_items(db, project, admin.user, ["only one"])
    item_id = _next(client, project.id, first).json()["item"]["id"]
    assert _next(client, project.id, second).status_code == 204  # the only slot is leased
    with db.transaction() as s:
        s.execute(
            update(Assignment)
            .where(Assignment.item_id == item_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    r = _next(client, project.id, second)
    assert r.status_code == 200 and r.json()["item"]["id"] == item_id
    # the first annotator's late submission finds the slot taken
    late = _submit(client, project.id, item_id, first)
    assert late.status_code == 409
    assert "expired" in late.json()["detail"]
    assert _submit(client, project.id, item_id, second).status_code == 201


def test_skip_frees_the_slot_for_someone_else(client, db, admin: Actor, factory: Factory) -> None:
    first, second = factory.user(), factory.user()
    project = factory.project(admin, members={"annotator1": first, "annotator2": second})
    add_items(db, project, admin.user, ["hard sentence"])
    item_id = _next(client, project.id, first).json()["item"]["id"]
    r = client.post(
        f"/api/v1/projects/{project.id}/items/{item_id}/skip",
        json={"reason": "unclear"},
        headers=first.headers,
    )
    assert (
        r.status_code == 201
        and r.json()["skipped"] is True
        and r.json()["skip_reason"] == "unclear"
    )
    assert _next(client, project.id, first).status_code == 204  # never again to the skipper
    assert _next(client, project.id, second).json()["item"]["id"] == item_id


def test_release_gives_the_item_back(client, db, admin: Actor, factory: Factory) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ["a", "b"])
    item_id = _next(client, project.id, ann).json()["item"]["id"]
    assert (
        client.post(
            f"/api/v1/projects/{project.id}/items/{item_id}/release", headers=ann.headers
        ).status_code
        == 204
    )
    with db.transaction(write=False) as s:
        assert s.scalar(select(Item.n_assigned).where(Item.id == item_id)) == 0


def test_double_submit_conflicts(client, db, admin: Actor, factory: Factory) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ["x"])
    item_id = _next(client, project.id, ann).json()["item"]["id"]
    assert _submit(client, project.id, item_id, ann).status_code == 201
    again = _submit(client, project.id, item_id, ann)
    assert again.status_code == 409


def test_random_strategy_serves_every_item_once(client, db, admin: Actor, factory: Factory) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann}, strategy="random")
    add_items(db, project, admin.user, [f"r{i}" for i in range(30)])
    served = []
    while (r := _next(client, project.id, ann)).status_code == 200:
        served.append(r.json()["item"]["id"])
        assert _submit(client, project.id, served[-1], ann).status_code == 201
    assert len(served) == 30 == len(set(served))
    assert served != sorted(served)  # 1/30! chance of a false failure


def test_non_members_cannot_take_work(client, db, admin: Actor, factory: Factory) -> None:
    outsider = factory.user()
    project = factory.project(admin)
    add_items(db, project, admin.user, ["private"])
    assert _next(client, project.id, outsider).status_code == 404
