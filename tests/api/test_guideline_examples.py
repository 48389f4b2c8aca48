"""Guideline examples over the API: managers add and delete them, everyone on the project reads
them with the item's content, edge cases from the suspected errors in one step, and gold items
refused (their answer would reach annotators)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.db.models import AuditEvent, Item, SuspectedError
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory


def _ids(db: Any, project_id: int) -> dict[str, int]:
    with db.transaction(write=False) as session:
        rows = session.execute(select(Item.id, Item.data).where(Item.project_id == project_id))
        return {data["text"]: item_id for item_id, data in rows}


def test_managers_add_and_delete_examples_everyone_reads_them(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    ann, reviewer, outsider = factory.user(), factory.user(), factory.user()
    project = factory.project(admin, members={"annotator": ann, "reviewer": reviewer})
    add_items(db, project, admin.user, ["Great, another Monday.", "I love it", "Meh"])
    ids = _ids(db, project.id)
    base = f"/api/v1/projects/{project.id}/guideline-examples"
    body = {
        "item_id": ids["Great, another Monday."],
        "kind": "counter_example",
        "result": {"sentiment": "positive"},
        "note": "Sarcasm: not positive.",
        "section": "Sarcasm",
    }
    assert client.post(base, json=body, headers=reviewer.headers).status_code == 403
    assert client.post(base, json=body, headers=ann.headers).status_code == 403
    first = client.post(base, json=body, headers=admin.headers)
    assert first.status_code == 201, first.text
    second = client.post(
        base,
        json={"item_id": ids["I love it"], "kind": "example", "result": {"sentiment": "positive"}},
        headers=admin.headers,
    ).json()
    third = client.post(
        base,
        json={"kind": "example", "note": "Greetings alone are neutral.", "section": "Sarcasm"},
        headers=admin.headers,
    ).json()
    assert third["item"] is None and third["source"] == "manual"
    wrong = client.post(
        base,
        json={"item_id": ids["Meh"], "kind": "example", "result": {"mood": "x"}},
        headers=admin.headers,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["rule"] == "unknown_control"
    assert client.post(base, json={"kind": "example"}, headers=admin.headers).status_code == 422

    listed = client.get(base, headers=ann.headers)
    assert listed.status_code == 200
    # grouped by section (in the order sections first appeared), then oldest first
    rows = listed.json()
    assert [r["id"] for r in rows] == [first.json()["id"], third["id"], second["id"]]
    assert rows[0]["item"]["data"] == {"text": "Great, another Monday."}
    assert set(rows[0]["item"]) == {"id", "data", "meta", "media", "media_info"}
    assert rows[0]["created_by"] == admin.user.username
    assert client.get(base, headers=outsider.headers).status_code == 404
    # the annotator never held the item, but may open it as an example
    shown = client.get(
        f"/api/v1/projects/{project.id}/items/{ids['Great, another Monday.']}", headers=ann.headers
    )
    assert shown.status_code == 200
    hidden = client.get(f"/api/v1/projects/{project.id}/items/{ids['Meh']}", headers=ann.headers)
    assert hidden.status_code == 404

    assert client.delete(f"{base}/{second['id']}", headers=reviewer.headers).status_code == 403
    assert client.delete(f"{base}/{second['id']}", headers=admin.headers).status_code == 204
    assert client.delete(f"{base}/{second['id']}", headers=admin.headers).status_code == 404
    assert [r["id"] for r in client.get(base, headers=ann.headers).json()] == [
        first.json()["id"],
        third["id"],
    ]
    with db.transaction(write=False) as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(
                    AuditEvent.project_id == project.id, AuditEvent.entity == "guideline_example"
                )
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["guideline_example.create"] * 3 + ["guideline_example.delete"]


def test_gold_items_never_become_examples(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ["gold text", "later gold", "plain"])
    ids = _ids(db, project.id)
    base = f"/api/v1/projects/{project.id}/guideline-examples"
    client.put(
        f"/api/v1/projects/{project.id}/items/{ids['gold text']}/gold",
        json={"result": {"sentiment": "negative"}},
        headers=admin.headers,
    ).raise_for_status()
    refused = client.post(
        base,
        json={"item_id": ids["gold text"], "kind": "example", "result": {"sentiment": "negative"}},
        headers=admin.headers,
    )
    assert refused.status_code == 409
    assert "gold item" in refused.json()["detail"]
    assert "known answer" in refused.json()["detail"]
    # even without an answer: the item alone tells annotators it is gold
    no_answer = client.post(
        base, json={"item_id": ids["gold text"], "kind": "example"}, headers=admin.headers
    )
    assert no_answer.status_code == 409

    # a thread on a gold item is refused the same way
    thread = client.post(
        f"/api/v1/projects/{project.id}/threads",
        json={"title": "Odd one", "body": "?", "item_id": ids["gold text"]},
        headers=admin.headers,
    ).json()
    via_thread = client.post(
        f"/api/v1/projects/{project.id}/threads/{thread['id']}/example",
        json={"kind": "example"},
        headers=admin.headers,
    )
    assert via_thread.status_code == 409

    # an item made gold after it became an example disappears for annotators
    made = client.post(
        base,
        json={"item_id": ids["later gold"], "kind": "example", "result": {"sentiment": "positive"}},
        headers=admin.headers,
    ).json()
    assert [e["id"] for e in client.get(base, headers=ann.headers).json()] == [made["id"]]
    client.put(
        f"/api/v1/projects/{project.id}/items/{ids['later gold']}/gold",
        json={"result": {"sentiment": "positive"}},
        headers=admin.headers,
    ).raise_for_status()
    assert client.get(base, headers=ann.headers).json() == []
    assert (
        client.get(
            f"/api/v1/projects/{project.id}/items/{ids['later gold']}", headers=ann.headers
        ).status_code
        == 404
    )
    assert [e["id"] for e in client.get(base, headers=admin.headers).json()] == [made["id"]]


def test_an_edge_case_from_the_suspected_errors_in_one_step(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    add_items(db, project, admin.user, ["Not bad at all"])
    item_id = _ids(db, project.id)["Not bad at all"]
    with db.transaction() as session:
        session.add(
            SuspectedError(
                project_id=project.id,
                item_id=item_id,
                control="sentiment",
                label="negative",
                suggested_label="positive",
                score=0.9,
                sources="disagreement",
                reasons=["2 of 3 annotators disagree with the consensus"],
            )
        )
    base = f"/api/v1/projects/{project.id}/guideline-examples/from-suspect"
    example = client.post(
        base,
        json={"item_id": item_id, "control": "sentiment", "kind": "example", "section": "Negation"},
        headers=admin.headers,
    )
    assert example.status_code == 201, example.text
    got = example.json()
    assert got["result"] == {"sentiment": "positive"} and got["source"] == "disagreement"
    assert got["note"] == "2 of 3 annotators disagree with the consensus"
    counter = client.post(
        base,
        json={"item_id": item_id, "control": "sentiment", "kind": "counter_example", "note": "No"},
        headers=admin.headers,
    ).json()
    assert counter["result"] == {"sentiment": "negative"} and counter["note"] == "No"
    missing = client.post(
        base,
        json={"item_id": item_id, "control": "other", "kind": "example"},
        headers=admin.headers,
    )
    assert missing.status_code == 404
