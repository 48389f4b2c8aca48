"""Review: accept, reject (back to the author's queue with the reason), fix (a new version)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import add_items, label_next
from tests.conftest import Actor, Factory


def post(client: TestClient, actor: Actor, path: str, body: Any = None) -> Any:
    return client.post(f"/api/v1{path}", json=body, headers=actor.headers)


def test_reject_sends_the_item_back_to_its_author_first(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator, reviewer = factory.user(), factory.user()
    project = factory.project(
        admin, members={"annotator": annotator, "reviewer": reviewer}, overlap=1
    )
    add_items(db, project, admin.user, ["first", "second", "third"])
    pid = project.id
    first = label_next(client, annotator, pid, "positive")
    label_next(client, annotator, pid, "positive")

    queue = client.get(f"/api/v1/projects/{pid}/review/next", headers=reviewer.headers).json()
    assert queue["item"]["id"] == first["item_id"] and queue["remaining"] == 2
    assert [a["author"] for a in queue["annotations"]] == [annotator.user.username]

    missing_reason = post(
        client,
        reviewer,
        f"/projects/{pid}/annotations/{first['id']}/review",
        {"verdict": "rejected"},
    )
    assert missing_reason.status_code == 422
    assert missing_reason.json()["errors"] == [{"field": "reason", "rule": "required"}]
    rejected = post(
        client,
        reviewer,
        f"/projects/{pid}/annotations/{first['id']}/review",
        {"verdict": "rejected", "reason": "the film is called dull"},
    )
    assert rejected.status_code == 201 and rejected.json()["verdict"] == "rejected"
    item = client.get(f"/api/v1/projects/{pid}/items/{first['item_id']}", headers=admin.headers)
    assert (item.json()["status"], item.json()["n_done"]) == ("open", 0)

    # The annotator gets the rejected item back before any new one, with the reason.
    lease = post(client, annotator, f"/projects/{pid}/next").json()
    assert lease["item"]["id"] == first["item_id"]
    assert lease["rework"]["reason"] == "the film is called dull"
    assert lease["rework"]["annotation"]["result"] == {"sentiment": "positive"}
    # Nobody else can take its slot meanwhile.
    other = factory.user()
    client.put(
        f"/api/v1/projects/{pid}/members/{other.user.username}",
        json={"role": "annotator"},
        headers=admin.headers,
    )
    theirs = post(client, other, f"/projects/{pid}/next").json()
    assert theirs["item"]["id"] != first["item_id"]

    redo = post(
        client,
        annotator,
        f"/projects/{pid}/items/{first['item_id']}/annotations",
        {"result": {"sentiment": "negative"}},
    ).json()
    assert (redo["parent_id"], redo["version"]) == (first["id"], 2)
    history = client.get(
        f"/api/v1/projects/{pid}/annotations/{redo['id']}/history", headers=annotator.headers
    ).json()
    assert [h["result"]["sentiment"] for h in history] == ["positive", "negative"]
    item = client.get(f"/api/v1/projects/{pid}/items/{first['item_id']}", headers=admin.headers)
    assert (item.json()["status"], item.json()["n_done"]) == ("done", 1)
    # The new version waits for review again; nothing else is left for the annotator (the
    # third item went to the other annotator).
    queue = client.get(f"/api/v1/projects/{pid}/review/next", headers=reviewer.headers).json()
    assert [a["annotation"]["id"] for a in queue["annotations"]] == [redo["id"]]
    assert post(client, annotator, f"/projects/{pid}/next").status_code == 204


def test_accept_and_fix(client: TestClient, db: Any, factory: Factory, admin: Actor) -> None:
    annotator, reviewer = factory.user(), factory.user()
    project = factory.project(admin, members={"annotator": annotator, "reviewer": reviewer})
    add_items(db, project, admin.user, ["one", "two"])
    pid = project.id
    a = label_next(client, annotator, pid, "positive")
    b = label_next(client, annotator, pid, "positive")
    accepted = post(
        client, reviewer, f"/projects/{pid}/annotations/{a['id']}/review", {"verdict": "accepted"}
    )
    assert accepted.status_code == 201
    bad_fix = post(
        client,
        reviewer,
        f"/projects/{pid}/annotations/{b['id']}/review",
        {"verdict": "fixed", "result": {"sentiment": "meh"}},
    )
    assert bad_fix.status_code == 422 and bad_fix.json()["errors"][0]["control"] == "sentiment"
    fixed = post(
        client,
        reviewer,
        f"/projects/{pid}/annotations/{b['id']}/review",
        {"verdict": "fixed", "result": {"sentiment": "negative"}},
    ).json()
    new = client.get(
        f"/api/v1/projects/{pid}/annotations/{fixed['fixed_annotation_id']}",
        headers=reviewer.headers,
    ).json()
    assert (new["parent_id"], new["user_id"], new["result"]) == (
        b["id"],
        reviewer.user.id,
        {"sentiment": "negative"},
    )
    # Both reviewed, and the reviewer's own fix is not queued for review again.
    queue = client.get(f"/api/v1/projects/{pid}/review/next", headers=reviewer.headers)
    assert queue.status_code == 204
    again = post(
        client, reviewer, f"/projects/{pid}/annotations/{b['id']}/review", {"verdict": "accepted"}
    )
    assert again.status_code == 409  # b is no longer the current version


def test_annotators_may_not_review(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project = factory.project(admin, members={"annotator": annotator})
    add_items(db, project, admin.user, ["x"])
    mine = label_next(client, annotator, project.id, "positive")
    response = post(
        client,
        annotator,
        f"/projects/{project.id}/annotations/{mine['id']}/review",
        {"verdict": "accepted"},
    )
    assert response.status_code == 403
    assert (
        client.get(
            f"/api/v1/projects/{project.id}/review/next", headers=annotator.headers
        ).status_code
        == 403
    )
