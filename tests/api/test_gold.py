"""Gold items over the API: set and validated by managers, served to annotators at the gold rate
without anything that tells them apart, scored on every answer, the pause rule, and answers
that never reach annotators."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from statsmodels.stats.proportion import proportion_confint

from accord.core.gold import compare
from accord.db.models import Annotation, Assignment, AuditEvent, Item
from accord.schema import parse_schema
from tests.api.helpers import add_items
from tests.conftest import TEXT_SCHEMA, Actor, Factory


def _items(client: TestClient, project_id: int, admin: Actor) -> dict[str, int]:
    page = client.get(
        f"/api/v1/projects/{project_id}/items", params={"limit": 1000}, headers=admin.headers
    ).json()
    return {i["data"]["text"]: i["id"] for i in page["items"]}


def _make_gold(client: TestClient, project_id: int, item_id: int, admin: Actor, label: str) -> None:
    done = client.put(
        f"/api/v1/projects/{project_id}/items/{item_id}/gold",
        json={"result": {"sentiment": label}},
        headers=admin.headers,
    )
    assert done.status_code == 200, done.text


def test_gold_answers_are_validated_and_never_reach_annotators(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project = factory.project(admin, gold_rate=0.5, members={"annotator": annotator}, overlap=1)
    add_items(db, project, admin.user, [f"text {k}" for k in range(6)])
    ids = _items(client, project.id, admin)
    bad = client.put(
        f"/api/v1/projects/{project.id}/items/{ids['text 0']}/gold",
        json={"result": {"sentiment": "neutral"}},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["rule"] == "unknown_label"
    assert bad.json()["errors"][0]["control"] == "sentiment"
    for k in range(3):
        _make_gold(client, project.id, ids[f"text {k}"], admin, "positive")
    assert (
        client.get(f"/api/v1/projects/{project.id}/gold", headers=annotator.headers).status_code
        == 403
    )
    listed = client.get(f"/api/v1/projects/{project.id}/gold", headers=admin.headers).json()
    assert [g["item_id"] for g in listed] == [ids[f"text {k}"] for k in range(3)]
    seen: list[dict[str, Any]] = []
    while True:
        lease = client.post(f"/api/v1/projects/{project.id}/next", headers=annotator.headers)
        if lease.status_code == 204:
            break
        body = lease.json()
        seen.append(body)
        item_id = body["item"]["id"]
        own_view = client.get(
            f"/api/v1/projects/{project.id}/items/{item_id}", headers=annotator.headers
        ).json()
        assert set(own_view) == {"id", "data", "meta", "media", "media_info"}
        client.post(
            f"/api/v1/projects/{project.id}/items/{item_id}/annotations",
            json={"result": {"sentiment": "positive"}},
            headers=annotator.headers,
        ).raise_for_status()
    # every ordinary item once; gold items at most once each; the payloads look the same
    served = [s["item"]["id"] for s in seen]
    assert len(served) == len(set(served))
    assert {ids[f"text {k}"] for k in range(3, 6)} <= set(served)
    assert {tuple(sorted(s["item"])) for s in seen} == {
        ("data", "id", "media", "media_info", "meta")
    }
    project_view = client.get(f"/api/v1/projects/{project.id}", headers=annotator.headers).json()
    assert "gold" not in project_view["counts"] and project_view["counts"]["total"] == 3
    manager_view = client.get(f"/api/v1/projects/{project.id}", headers=admin.headers).json()
    assert manager_view["counts"]["gold"] == 3 and manager_view["counts"]["done"] == 3


def test_accuracy_per_annotator_with_wilson_intervals_and_the_pause_rule(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    good, poor = factory.user(), factory.user()
    project = factory.project(
        admin,
        gold_rate=0.5,
        gold_min_answers=4,
        gold_pause_below=0.6,
        members={"annotator": good, "annotator2": poor},
        overlap=2,
    )
    add_items(db, project, admin.user, [f"sentence {k}" for k in range(30)])
    ids = _items(client, project.id, admin)
    answers = {ids[f"sentence {k}"]: ("positive" if k % 2 else "negative") for k in range(8)}
    for item_id, label in answers.items():
        _make_gold(client, project.id, item_id, admin, label)

    def work(actor: Actor, right: bool) -> list[bool]:
        """Answer until paused or done; gold answers right (or wrong), the rest 'positive'."""
        outcomes = []
        while True:
            lease = client.post(f"/api/v1/projects/{project.id}/next", headers=actor.headers)
            if lease.status_code != 200:
                return outcomes
            item_id = lease.json()["item"]["id"]
            label = "positive"
            if item_id in answers:
                truth = answers[item_id]
                label = truth if right else ("negative" if truth == "positive" else "positive")
                outcomes.append(right)
            client.post(
                f"/api/v1/projects/{project.id}/items/{item_id}/annotations",
                json={"result": {"sentiment": label}},
                headers=actor.headers,
            ).raise_for_status()

    good_outcomes = work(good, right=True)
    poor_outcomes = work(poor, right=False)
    assert len(poor_outcomes) == 4  # paused right after the 4th wrong gold answer
    refused = client.post(f"/api/v1/projects/{project.id}/next", headers=poor.headers)
    assert refused.status_code == 403 and "paused" in refused.json()["detail"]
    table = {
        row["username"]: row
        for row in client.get(
            f"/api/v1/projects/{project.id}/gold/accuracy", headers=admin.headers
        ).json()
    }
    for actor, outcomes in ((good, good_outcomes), (poor, poor_outcomes)):
        row = table[actor.user.username]
        n, k = len(outcomes), sum(outcomes)
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (row["n_answers"], row["n_correct"]) == (n, k)
        assert row["accuracy"] == pytest.approx(k / n)
        assert (row["low"], row["high"]) == pytest.approx((low, high), abs=1e-9)
    assert table[poor.user.username]["paused"] and not table[good.user.username]["paused"]
    own = client.get(f"/api/v1/projects/{project.id}/gold/accuracy", headers=good.headers).json()
    assert [r["username"] for r in own] == [good.user.username]
    notes = client.get(f"/api/v1/projects/{project.id}/notifications", headers=admin.headers).json()
    assert notes[0]["kind"] == "annotator.paused" and poor.user.username in notes[0]["message"]
    pauses = client.get(f"/api/v1/projects/{project.id}/pauses", headers=admin.headers).json()
    assert [p["user_id"] for p in pauses] == [poor.user.id]
    client.post(
        f"/api/v1/projects/{project.id}/members/{poor.user.username}/resume",
        headers=admin.headers,
    ).raise_for_status()
    assert client.post(f"/api/v1/projects/{project.id}/next", headers=poor.headers).status_code in (
        200,
        204,
    )


def test_a_paused_annotator_cannot_submit_and_their_lease_goes_to_someone_else(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    paused, other, reviewer = factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin,
        gold_rate=0.0,  # `next` serves the ordinary item; the gold item is answered by its id
        gold_min_answers=1,
        gold_pause_below=0.5,
        members={"annotator": paused, "annotator2": other, "reviewer": reviewer},
        overlap=1,
    )
    add_items(db, project, admin.user, ["held", "known"])
    ids = _items(client, project.id, admin)
    _make_gold(client, project.id, ids["known"], admin, "positive")
    url = f"/api/v1/projects/{project.id}"
    lease = client.post(f"{url}/next", headers=paused.headers)
    assert lease.status_code == 200 and lease.json()["item"]["id"] == ids["held"]
    wrong = client.post(
        f"{url}/items/{ids['known']}/annotations",
        json={"result": {"sentiment": "negative"}},
        headers=paused.headers,
    )
    assert wrong.status_code == 201, wrong.text  # the answer that pauses them is stored
    pauses = client.get(f"{url}/pauses", headers=admin.headers).json()
    assert [p["user_id"] for p in pauses] == [paused.user.id]

    refused_next = client.post(f"{url}/next", headers=paused.headers)
    refused = client.post(
        f"{url}/items/{ids['held']}/annotations",
        json={"result": {"sentiment": "positive"}, "lead_time": 3.0},
        headers=paused.headers,
    )
    assert refused.status_code == refused_next.status_code == 403
    assert refused.json() == refused_next.json()  # the same reason as `next` gives
    assert refused.json()["detail"] == (
        "you are paused on this project: gold accuracy 0% (0 of 1) is under the project's 50%; "
        "a manager can let you continue"
    )
    skipped = client.post(
        f"{url}/items/{ids['held']}/skip", json={"reason": "unsure"}, headers=paused.headers
    )
    assert skipped.status_code == 403 and skipped.json() == refused_next.json()
    with db.transaction(write=False) as session:
        held = session.get(Item, ids["held"])
        assert held is not None and (held.status, held.n_assigned, held.n_done) == ("open", 0, 0)
        mine = session.execute(
            select(Assignment.item_id, Assignment.state).where(Assignment.user_id == paused.user.id)
        ).all()
        assert mine == [(ids["known"], "submitted")]  # the lease on "held" was given back
        assert session.scalars(
            select(Annotation.item_id).where(Annotation.user_id == paused.user.id)
        ).all() == [ids["known"]]
        pause_event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.project_id == project.id, AuditEvent.action == "member.pause"
            )
        ).one()
        assert pause_event.details["released_items"] == [ids["held"]]
        submits = session.scalars(
            select(AuditEvent.entity_id).where(
                AuditEvent.project_id == project.id, AuditEvent.action == "annotation.submit"
            )
        ).all()
        assert len(submits) == 1

    # The slot is free at once: another annotator gets the item and answers it.
    taken = client.post(f"{url}/next", headers=other.headers)
    assert taken.status_code == 200 and taken.json()["item"]["id"] == ids["held"]
    client.post(
        f"{url}/items/{ids['held']}/annotations",
        json={"result": {"sentiment": "positive"}},
        headers=other.headers,
    ).raise_for_status()
    # Reviewers still fix answers, the paused annotator's included.
    answer = wrong.json()["id"]
    fixed = client.put(
        f"{url}/annotations/{answer}",
        json={"result": {"sentiment": "positive"}},
        headers=reviewer.headers,
    )
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["user_id"] == reviewer.user.id
    # Resumed, the annotator is served again (nothing is left for them here).
    client.post(
        f"{url}/members/{paused.user.username}/resume", headers=admin.headers
    ).raise_for_status()
    assert client.post(f"{url}/next", headers=paused.headers).status_code == 204


def test_work_sent_back_to_a_paused_annotator_goes_to_someone_else(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    """Work a reviewer returned would wait for its author until a manager resumes them: the
    pause hands it over, and a rejection of a paused annotator's answer does so at once."""
    paused, other, reviewer = factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin,
        gold_rate=0.0,
        gold_min_answers=1,
        gold_pause_below=0.5,
        members={"annotator": paused, "annotator2": other, "reviewer": reviewer},
        overlap=1,
    )
    add_items(db, project, admin.user, ["first", "second", "known"])
    ids = _items(client, project.id, admin)
    _make_gold(client, project.id, ids["known"], admin, "positive")
    url = f"/api/v1/projects/{project.id}"
    answers = {}
    for name in ("first", "second"):
        lease = client.post(f"{url}/next", headers=paused.headers)
        assert lease.status_code == 200 and lease.json()["item"]["id"] == ids[name]
        done = client.post(
            f"{url}/items/{ids[name]}/annotations",
            json={"result": {"sentiment": "positive"}},
            headers=paused.headers,
        )
        assert done.status_code == 201, done.text
        answers[name] = done.json()["id"]

    def reject(name: str) -> None:
        client.post(
            f"{url}/annotations/{answers[name]}/review",
            json={"verdict": "rejected", "reason": "read the guideline on irony"},
            headers=reviewer.headers,
        ).raise_for_status()

    def slots() -> dict[int, tuple[str, int, int, str | None]]:
        with db.transaction(write=False) as session:
            states = dict(
                session.execute(
                    select(Assignment.item_id, Assignment.state).where(
                        Assignment.user_id == paused.user.id
                    )
                ).all()
            )
            return {
                i: (item.status, item.n_assigned, item.n_done, states.get(i))
                for i in (ids["first"], ids["second"])
                if (item := session.get(Item, i)) is not None
            }

    reject("first")
    assert slots()[ids["first"]] == ("open", 1, 0, "returned")  # still theirs to redo
    assert client.post(f"{url}/next", headers=other.headers).status_code == 204

    wrong = client.post(
        f"{url}/items/{ids['known']}/annotations",
        json={"result": {"sentiment": "negative"}},
        headers=paused.headers,
    )
    assert wrong.status_code == 201, wrong.text  # gold accuracy 0 of 1: paused
    assert slots()[ids["first"]] == ("open", 0, 0, "released")
    reject("second")  # the author is paused already: handed over at once
    assert slots() == {
        ids["first"]: ("open", 0, 0, "released"),
        ids["second"]: ("open", 0, 0, "released"),
    }
    with db.transaction(write=False) as session:
        pause_event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.project_id == project.id, AuditEvent.action == "member.pause"
            )
        ).one()
        assert pause_event.details["released_returned_items"] == [ids["first"]]
        assert pause_event.details["released_items"] == []

    served = []
    for _ in range(2):
        lease = client.post(f"{url}/next", headers=other.headers)
        assert lease.status_code == 200, lease.text
        served.append(lease.json()["item"]["id"])
        client.post(
            f"{url}/items/{served[-1]}/annotations",
            json={"result": {"sentiment": "negative"}},
            headers=other.headers,
        ).raise_for_status()
    assert served == [ids["first"], ids["second"]]
    # resumed, the annotator neither gets the items again nor can answer them
    client.post(
        f"{url}/members/{paused.user.username}/resume", headers=admin.headers
    ).raise_for_status()
    assert client.post(f"{url}/next", headers=paused.headers).status_code == 204
    again = client.post(
        f"{url}/items/{ids['first']}/annotations",
        json={"result": {"sentiment": "positive"}},
        headers=paused.headers,
    )
    assert again.status_code == 409, again.text
    assert "handed to other annotators while you were paused" in again.json()["detail"]
    with db.transaction(write=False) as session:
        for name in ("first", "second"):
            item = session.get(Item, ids[name])
            assert item is not None and (item.status, item.n_assigned, item.n_done) == (
                "done",
                1,
                1,
            )


def test_answers_are_compared_per_control() -> None:
    schema = parse_schema(TEXT_SCHEMA)
    gold = {
        "sentiment": "positive",
        "entities": [
            {"label": "PER", "start": 0, "end": 3},
            {"label": "ORG", "start": 10, "end": 14},
        ],
    }
    half = {"sentiment": "positive", "entities": [{"label": "PER", "start": 0, "end": 3}]}
    assert compare(schema, gold, gold) == {"sentiment": 1.0, "entities": 1.0}
    assert compare(schema, gold, half) == {"sentiment": 1.0, "entities": pytest.approx(2 / 3)}
    assert compare(schema, gold, {"sentiment": "negative"})["sentiment"] == 0.0


def _upload(client: TestClient, project_id: int, admin: Actor, name: str, payload: bytes) -> Any:
    return client.post(
        f"/api/v1/projects/{project_id}/imports",
        files={"file": (name, payload)},
        headers=admin.headers,
    )


def test_gold_answers_come_in_with_an_import_and_a_bad_one_aborts_it(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    rows = [
        {"data": {"text": "plain"}},
        {"data": {"text": "known good"}, "gold": {"sentiment": "positive"}},
    ]
    jsonl = "".join(json.dumps(r) + "\n" for r in rows).encode()
    assert _upload(client, project.id, admin, "a.jsonl", jsonl).status_code == 201
    csv = b"text,gold.sentiment\nanother plain,\nknown bad,negative\n"
    assert _upload(client, project.id, admin, "b.csv", csv).status_code == 201
    ids = _items(client, project.id, admin)
    listed = client.get(f"/api/v1/projects/{project.id}/gold", headers=admin.headers).json()
    assert {g["item_id"]: g["result"] for g in listed} == {
        ids["known good"]: {"sentiment": "positive"},
        ids["known bad"]: {"sentiment": "negative"},
    }
    counts = client.get(f"/api/v1/projects/{project.id}", headers=admin.headers).json()["counts"]
    assert (counts["gold"], counts["open"]) == (2, 2)
    broken = b"text,gold.sentiment\nfine,positive\nwrong,neutral\n"
    refused = _upload(client, project.id, admin, "c.csv", broken)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["row"] == 2
    assert "gold answer" in refused.json()["detail"]
    assert "fine" not in _items(client, project.id, admin)


def test_a_rejected_answer_to_a_gold_item_leaves_it_gold_and_its_score_stands(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    """A reviewer's rejection sends a gold answer back like any other, but the item stays a
    honeypot (never served as ordinary work) and the redo, made after being told the first
    answer was wrong, does not replace the first answer's score."""
    author, other, reviewer = factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin,
        gold_rate=0.0,
        members={"annotator": author, "annotator2": other, "reviewer": reviewer},
        overlap=1,
    )
    add_items(db, project, admin.user, ["plain", "known"])
    ids = _items(client, project.id, admin)
    _make_gold(client, project.id, ids["known"], admin, "positive")
    url = f"/api/v1/projects/{project.id}"

    def answer(label: str) -> Any:
        return client.post(
            f"{url}/items/{ids['known']}/annotations",
            json={"result": {"sentiment": label}},
            headers=author.headers,
        )

    def accuracy() -> tuple[int, int]:
        rows = client.get(f"{url}/gold/accuracy", headers=admin.headers).json()
        row = next(r for r in rows if r["username"] == author.user.username)
        return row["n_answers"], row["n_correct"]

    first = answer("negative")
    assert first.status_code == 201, first.text
    assert accuracy() == (1, 0)
    client.post(
        f"{url}/annotations/{first.json()['id']}/review",
        json={"verdict": "rejected", "reason": "the reviewer reads it as positive"},
        headers=reviewer.headers,
    ).raise_for_status()
    with db.transaction(write=False) as session:
        item = session.get(Item, ids["known"])
        assert item is not None and (item.status, item.n_done) == ("gold", 0)
    served = client.post(f"{url}/next", headers=other.headers)
    assert served.status_code == 200 and served.json()["item"]["id"] == ids["plain"]
    client.post(
        f"{url}/items/{ids['plain']}/annotations",
        json={"result": {"sentiment": "negative"}},
        headers=other.headers,
    ).raise_for_status()
    assert client.post(f"{url}/next", headers=other.headers).status_code == 204

    redo = answer("positive")
    assert redo.status_code == 201, redo.text
    assert redo.json()["version"] == 2
    assert accuracy() == (1, 0)
    with db.transaction(write=False) as session:
        item = session.get(Item, ids["known"])
        assert item is not None and item.status == "gold"
