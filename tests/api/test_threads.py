"""Questions and flags over the API: who may ask on which item, answers, resolve and reopen,
visibility (an annotator sees only their own threads), search with keyset pages, the audit log,
and turning a thread into a guideline example."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.db.models import AuditEvent
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory


def _lease(client: TestClient, project_id: int, actor: Actor) -> int:
    lease = client.post(f"/api/v1/projects/{project_id}/next", headers=actor.headers)
    assert lease.status_code == 200, lease.text
    return int(lease.json()["item"]["id"])


def _ask(
    client: TestClient, project_id: int, actor: Actor, title: str, body: str, **extra: Any
) -> Any:
    return client.post(
        f"/api/v1/projects/{project_id}/threads",
        json={"title": title, "body": body, **extra},
        headers=actor.headers,
    )


def test_ask_answer_resolve_reopen_and_visibility(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    ann, other, reviewer = factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin, members={"annotator": ann, "annotator2": other, "reviewer": reviewer}
    )
    add_items(db, project, admin.user, ["first text", "second text", "third text"])
    base = f"/api/v1/projects/{project.id}/threads"
    held = _lease(client, project.id, ann)
    others_item = _lease(client, project.id, other)
    # an item the annotator never held does not exist for them
    refused = _ask(client, project.id, ann, "Is this sarcasm?", "?", item_id=others_item)
    assert refused.status_code == 404
    asked = _ask(
        client, project.id, ann, "Is this sarcasm?", "The text reads ironic.", item_id=held
    )
    assert asked.status_code == 201, asked.text
    thread = asked.json()
    assert (thread["kind"], thread["status"], thread["item_id"]) == ("question", "open", held)
    assert thread["author"] == ann.user.username and thread["n_messages"] == 1
    flag = _ask(
        client,
        project.id,
        other,
        "Broken text",
        "Encoding garbage",
        kind="flag",
        item_id=others_item,
    )
    assert flag.status_code == 201
    project_wide = _ask(client, project.id, other, "What counts as neutral?", "In general")
    assert project_wide.status_code == 201 and project_wide.json()["item_id"] is None
    bad_kind = _ask(client, project.id, ann, "x", "y", kind="rant")
    assert bad_kind.status_code == 422

    # the annotator sees their own threads only; the reviewer sees all
    own = client.get(base, headers=ann.headers).json()["threads"]
    assert [t["id"] for t in own] == [thread["id"]]
    assert client.get(f"{base}/{flag.json()['id']}", headers=ann.headers).status_code == 404
    everything = client.get(base, headers=reviewer.headers).json()["threads"]
    assert [t["id"] for t in everything] == [
        project_wide.json()["id"],
        flag.json()["id"],
        thread["id"],
    ]

    # a reviewer answers; a stranger to the thread may not reply
    answered = client.post(
        f"{base}/{thread['id']}/messages",
        json={"body": "No: mark it positive."},
        headers=reviewer.headers,
    )
    assert answered.status_code == 201 and answered.json()["staff"] is True
    assert (
        client.post(
            f"{base}/{thread['id']}/messages", json={"body": "me too"}, headers=other.headers
        ).status_code
        == 404
    )
    detail = client.get(f"{base}/{thread['id']}", headers=ann.headers).json()
    assert [(m["author"], m["staff"], m["body"]) for m in detail["messages"]] == [
        (ann.user.username, False, "The text reads ironic."),
        (reviewer.user.username, True, "No: mark it positive."),
    ]

    resolved = client.post(f"{base}/{thread['id']}/resolve", headers=reviewer.headers)
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    again = client.post(f"{base}/{thread['id']}/resolve", headers=reviewer.headers)
    assert again.status_code == 409
    reopened = client.post(f"{base}/{thread['id']}/reopen", headers=ann.headers)
    assert reopened.json()["status"] == "open" and reopened.json()["resolved_at"] is None

    with db.transaction(write=False) as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(
                    AuditEvent.project_id == project.id,
                    AuditEvent.entity == "thread",
                    AuditEvent.entity_id == thread["id"],
                )
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["thread.question", "thread.reply", "thread.resolve", "thread.reopen"]


def test_search_by_words_status_item_author_and_keyset_pages(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    ann, other = factory.user(), factory.user()
    project = factory.project(admin, members={"annotator": ann, "annotator2": other})
    add_items(db, project, admin.user, [f"text {k}" for k in range(4)])
    base = f"/api/v1/projects/{project.id}/threads"
    item_a = _lease(client, project.id, ann)
    item_b = _lease(client, project.id, other)
    ids = {}
    ids["sarcasm"] = _ask(
        client, project.id, ann, "Sarcasm?", "Is irony negative?", item_id=item_a
    ).json()["id"]
    ids["emoji"] = _ask(client, project.id, other, "Emoji only", "No words", item_id=item_b).json()[
        "id"
    ]
    ids["percent"] = _ask(client, project.id, other, "100% sure?", "about 50_50 cases").json()["id"]
    client.post(
        f"{base}/{ids['emoji']}/messages",
        json={"body": "Treat IRONY like sarcasm here"},
        headers=admin.headers,
    ).raise_for_status()
    client.post(f"{base}/{ids['emoji']}/resolve", headers=admin.headers).raise_for_status()

    def found(**params: Any) -> list[int]:
        response = client.get(base, params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["threads"]]

    # words in the title or any message, case-insensitive, every word must match
    assert found(q="irony") == [ids["emoji"], ids["sarcasm"]]
    assert found(q="irony sarcasm") == [ids["emoji"], ids["sarcasm"]]
    assert found(q="irony negative") == [ids["sarcasm"]]
    assert found(q="%") == [ids["percent"]]  # LIKE wildcards are searched as text
    assert found(q="50_50") == [ids["percent"]]
    assert found(q="nothing-like-this") == []
    assert found(status="resolved") == [ids["emoji"]]
    assert found(status="open") == [ids["percent"], ids["sarcasm"]]
    assert found(item_id=item_a) == [ids["sarcasm"]]
    assert found(author=other.user.username) == [ids["percent"], ids["emoji"]]
    assert found(author=other.user.username, q="irony") == [ids["emoji"]]
    # the annotator's search stays within their own threads
    mine = client.get(base, params={"q": "irony"}, headers=ann.headers).json()["threads"]
    assert [t["id"] for t in mine] == [ids["sarcasm"]]

    first = client.get(base, params={"limit": 2}, headers=admin.headers).json()
    assert [t["id"] for t in first["threads"]] == [ids["percent"], ids["emoji"]]
    assert first["next_before"] == ids["emoji"]
    second = client.get(
        base, params={"limit": 2, "before": first["next_before"]}, headers=admin.headers
    ).json()
    assert [t["id"] for t in second["threads"]] == [ids["sarcasm"]]
    assert second["next_before"] is None


def test_a_manager_turns_a_thread_into_a_guideline_example(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    ann, reviewer = factory.user(), factory.user()
    project = factory.project(admin, members={"annotator": ann, "reviewer": reviewer})
    add_items(db, project, admin.user, ["Great, another Monday."])
    item = _lease(client, project.id, ann)
    thread = _ask(client, project.id, ann, "Sarcasm?", "Positive words", item_id=item).json()
    base = f"/api/v1/projects/{project.id}/threads/{thread['id']}"
    client.post(
        f"{base}/messages", json={"body": "Sarcasm is negative."}, headers=admin.headers
    ).raise_for_status()
    body = {"kind": "example", "section": "Sarcasm", "result": {"sentiment": "negative"}}
    assert client.post(f"{base}/example", json=body, headers=reviewer.headers).status_code == 403
    made = client.post(f"{base}/example", json=body, headers=admin.headers)
    assert made.status_code == 201, made.text
    example = made.json()
    assert example["item_id"] == item and example["source"] == "question"
    assert example["result"] == {"sentiment": "negative"}
    assert example["note"] == "Sarcasm is negative."  # the answer, when no note is given
    assert example["item"]["data"] == {"text": "Great, another Monday."}
    bad = client.post(
        f"{base}/example",
        json={"kind": "example", "result": {"sentiment": "sarcastic"}},
        headers=admin.headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "unknown_label"
    listed = client.get(
        f"/api/v1/projects/{project.id}/guideline-examples", headers=ann.headers
    ).json()
    assert [(e["id"], e["section"]) for e in listed] == [(example["id"], "Sarcasm")]
