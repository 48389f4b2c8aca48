"""Adjudication: items whose answers agree less than the project's threshold when they are done
are decided by an adjudicator; the decision is the item's ground truth, with provenance."""

from __future__ import annotations

import csv
import io
import json
from itertools import combinations
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from accord.core import adjudication, imports
from accord.db.engine import Database
from accord.db.models import Project, User
from accord.io import read_records_from_objects
from accord.quality import box_f1, span_f1
from tests.api.helpers import wait_for_job
from tests.conftest import Actor, Factory

TEXT = "Alice met Bob in Paris"  # Alice 0-5, Bob 10-13, Paris 17-22
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "choices",
            "field": "text",
            "required": True,
            "labels": ["positive", "negative"],
        },
        {
            "name": "topics",
            "type": "choices",
            "field": "text",
            "multiple": True,
            "labels": ["travel", "people", "food"],
        },
        {"name": "entities", "type": "spans", "field": "text", "labels": ["PER", "ORG", "LOC"]},
    ],
}
BOX_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "image", "type": "image"}],
    "controls": [
        {"name": "cells", "type": "boxes", "field": "image", "labels": ["RBC", "WBC"]},
    ],
}


def span(label: str, start: int, end: int) -> dict[str, Any]:
    return {"label": label, "start": start, "end": end}


def box(label: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"label": label, "x": x, "y": y, "width": w, "height": h}


# Three answers to each of three items: (item index, answer per annotator).
ANSWERS: list[list[dict[str, Any]]] = [
    [  # disagree on everything: agreement well under the threshold
        {
            "sentiment": "positive",
            "topics": ["travel", "people"],
            "entities": [span("PER", 0, 5), span("PER", 10, 13), span("LOC", 17, 22)],
        },
        {
            "sentiment": "positive",
            "topics": ["people", "travel"],
            "entities": [span("PER", 0, 5), span("LOC", 17, 22)],
        },
        {"sentiment": "negative", "entities": [span("PER", 0, 5), span("ORG", 10, 13)]},
    ],
    [  # all the same: agreement 1
        {"sentiment": "negative", "entities": [span("PER", 0, 5)]},
        {"sentiment": "negative", "entities": [span("PER", 0, 5)]},
        {"sentiment": "negative", "entities": [span("PER", 0, 5)]},
    ],
    [  # one dissenter on the sentiment only
        {"sentiment": "positive", "entities": [span("LOC", 17, 22)]},
        {"sentiment": "positive", "entities": [span("LOC", 17, 22)]},
        {"sentiment": "negative", "entities": [span("LOC", 17, 22)]},
    ],
]
THRESHOLD = 0.75


def direct_pair(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """The agreement of two answers per control, computed here without the platform's code:
    exact match for choices (multi-choice as sets), span F1 from the quality library."""
    scores: dict[str, float] = {}
    for control in ("sentiment", "topics", "entities"):
        if control not in a and control not in b:
            continue
        if control == "entities":
            frames = [
                pd.DataFrame(
                    [(0, s["label"], s["start"], s["end"]) for s in x.get(control, [])],
                    columns=["item", "label", "start", "end"],
                )
                for x in (a, b)
            ]
            if frames[0].empty and frames[1].empty:
                scores[control] = 1.0
            elif frames[0].empty or frames[1].empty:
                scores[control] = 0.0
            else:
                scores[control] = span_f1(frames[0], frames[1]).f1
        elif control == "topics":
            scores[control] = float(set(a.get(control) or []) == set(b.get(control) or []))
        else:
            scores[control] = float(a.get(control) == b.get(control))
    return scores


def direct_agreement(answers: list[dict[str, Any]]) -> float:
    pairs = [direct_pair(a, b) for a, b in combinations(answers, 2)]
    return sum(sum(p.values()) / len(p) for p in pairs) / len(pairs)


def import_objects(db: Database, project: Project, owner: User, data: list[dict[str, Any]]) -> None:
    with db.transaction() as session:
        p = session.get(Project, project.id)
        u = session.get(User, owner.id)
        assert p is not None and u is not None
        records = read_records_from_objects([{"data": d} for d in data])
        imports.import_records(session, p, u, records, source="test", format="json")


def item_ids(client: TestClient, actor: Actor, pid: int) -> list[int]:
    page = client.get(f"/api/v1/projects/{pid}/items", headers=actor.headers).json()
    return [i["id"] for i in page["items"]]


def submit(client: TestClient, actor: Actor, pid: int, item_id: int, result: Any) -> Any:
    response = client.post(
        f"/api/v1/projects/{pid}/items/{item_id}/annotations",
        json={"result": result},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture()
def decided(client: TestClient, db: Database, factory: Factory, admin: Actor) -> dict[str, Any]:
    """Three items answered by three annotators with overlap 3 and threshold 0.75."""
    annotators = [factory.user() for _ in range(3)]
    reviewer = factory.user()
    members = {f"annotator{i}": a for i, a in enumerate(annotators)} | {"reviewer": reviewer}
    project = factory.project(
        admin, schema=SCHEMA, members=members, overlap=3, adjudication_below=THRESHOLD
    )
    import_objects(db, project, admin.user, [{"text": TEXT, "n": n} for n in range(3)])
    ids = item_ids(client, admin, project.id)
    annotations: list[list[Any]] = []
    for item_id, answers in zip(ids, ANSWERS, strict=True):
        annotations.append(
            [
                submit(client, a, project.id, item_id, r)
                for a, r in zip(annotators, answers, strict=True)
            ]
        )
    return {
        "pid": project.id,
        "ids": ids,
        "annotators": annotators,
        "reviewer": reviewer,
        "annotations": annotations,
    }


def test_agreement_matches_a_direct_computation_and_opens_only_under_the_threshold(
    client: TestClient, admin: Actor, decided: dict[str, Any]
) -> None:
    pid, ids, reviewer = decided["pid"], decided["ids"], decided["reviewer"]
    expected = [direct_agreement(answers) for answers in ANSWERS]
    # By hand, per pair the mean over sentiment, topics and entities: (1, 1, 0.8), (0, 0, 0.4)
    # (span F1 of 1 match among 3 and 2 spans) and (0, 0, 0.5).
    assert expected[0] == pytest.approx(((1 + 1 + 0.8) / 3 + (0 + 0 + 0.4) / 3 + 0.5 / 3) / 3)
    assert expected[1] == 1.0 and expected[2] == pytest.approx(2 / 3)

    listed = client.get(f"/api/v1/projects/{pid}/adjudications", headers=reviewer.headers).json()
    assert [a["item_id"] for a in listed] == [ids[0], ids[2]]  # not the item agreeing fully
    assert [a["status"] for a in listed] == ["open", "open"]
    assert [a["agreement"] for a in listed] == pytest.approx([expected[0], expected[2]])
    assert "least on" in listed[0]["reason"] and f"{THRESHOLD:.2f}" in listed[0]["reason"]

    case = client.get(f"/api/v1/projects/{pid}/adjudication/next", headers=reviewer.headers)
    assert case.status_code == 200, case.text
    body = case.json()
    assert body["item"]["id"] == ids[0]  # the lowest agreement first
    assert body["remaining"] == 2
    authors = [a.user.username for a in decided["annotators"]]
    assert [a["author"] for a in body["answers"]] == authors
    assert [a["annotation"]["result"] for a in body["answers"]] == ANSWERS[0]
    ids0 = [a["id"] for a in decided["annotations"][0]]
    assert [(p["a"], p["b"]) for p in body["pairs"]] == list(combinations(ids0, 2))
    for pair, (x, y) in zip(body["pairs"], combinations(ANSWERS[0], 2), strict=True):
        assert pair["controls"] == pytest.approx(direct_pair(x, y))
    assert body["agreement"] == pytest.approx(expected[0])

    passed = client.get(
        f"/api/v1/projects/{pid}/adjudication/next",
        params={"skip": [ids[0]]},
        headers=reviewer.headers,
    ).json()
    assert passed["item"]["id"] == ids[2]


def test_box_agreement_is_box_f1(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    a, b = factory.user(), factory.user()
    project = factory.project(
        admin,
        schema=BOX_SCHEMA,
        members={"annotator": a, "annotator2": b},
        overlap=2,
        adjudication_below=0.9,
    )
    import_objects(db, project, admin.user, [{"image": "https://example.org/cells.jpg"}])
    (item_id,) = item_ids(client, admin, project.id)
    first = [box("RBC", 10, 10, 100, 100), box("WBC", 300, 300, 50, 50), box("RBC", 500, 0, 20, 20)]
    second = [box("RBC", 20, 20, 100, 100), box("WBC", 400, 400, 50, 50)]
    submit(client, a, project.id, item_id, {"cells": first})
    submit(client, b, project.id, item_id, {"cells": second})

    def frame(boxes: list[dict[str, Any]]) -> pd.DataFrame:
        rows = [
            (0, x["label"], x["x"], x["y"], x["x"] + x["width"], x["y"] + x["height"])
            for x in boxes
        ]
        return pd.DataFrame(rows, columns=["item", "label", "x_min", "y_min", "x_max", "y_max"])

    expected = box_f1(frame(first), frame(second)).f1
    assert expected == pytest.approx(2 * 1 / 5)  # one RBC pair at IoU 0.68; the WBCs miss
    case = client.get(
        f"/api/v1/projects/{project.id}/adjudication/next", headers=admin.headers
    ).json()
    assert case["item"]["id"] == item_id
    assert case["agreement"] == pytest.approx(expected)
    assert case["pairs"][0]["controls"] == {"cells": pytest.approx(expected)}


def test_no_adjudication_when_the_threshold_is_off(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    a, b = factory.user(), factory.user()
    project = factory.project(
        admin, schema=SCHEMA, members={"annotator": a, "annotator2": b}, overlap=2
    )
    import_objects(db, project, admin.user, [{"text": TEXT}])
    (item_id,) = item_ids(client, admin, project.id)
    submit(client, a, project.id, item_id, {"sentiment": "positive"})
    submit(client, b, project.id, item_id, {"sentiment": "negative"})
    pid = project.id
    assert client.get(f"/api/v1/projects/{pid}/adjudications", headers=admin.headers).json() == []
    nothing = client.get(f"/api/v1/projects/{pid}/adjudication/next", headers=admin.headers)
    assert nothing.status_code == 204


def test_resolution_by_picking_and_by_editing_is_the_ground_truth_with_provenance(
    client: TestClient, admin: Actor, decided: dict[str, Any]
) -> None:
    pid, ids, reviewer = decided["pid"], decided["ids"], decided["reviewer"]
    annotators, annotations = decided["annotators"], decided["annotations"]
    url = f"/api/v1/projects/{pid}/adjudications"
    picked = annotations[0][1]
    response = client.post(
        f"{url}/{ids[0]}", json={"picked_annotation_id": picked["id"]}, headers=reviewer.headers
    )
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["status"], done["result"]) == ("resolved", ANSWERS[0][1])
    provenance = done["provenance"]
    assert provenance["source"] == "annotation"
    assert provenance["annotation_id"] == picked["id"]
    assert provenance["author"] == annotators[1].user.username
    assert provenance["adjudicator"] == reviewer.user.username
    assert provenance["agreement"] == pytest.approx(direct_agreement(ANSWERS[0]))
    assert [a["annotation_id"] for a in provenance["answers"]] == [a["id"] for a in annotations[0]]
    assert [a["result"] for a in provenance["answers"]] == ANSWERS[0]
    assert provenance["decided_at"] and done["resolved_by"] == reviewer.user.id

    edited = {"sentiment": "negative", "entities": [span("LOC", 17, 22)], "topics": ["travel"]}
    response = client.post(
        f"{url}/{ids[2]}",
        json={"result": edited, "picked_annotation_id": annotations[2][2]["id"]},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    provenance = response.json()["provenance"]
    assert (provenance["source"], provenance["annotation_id"]) == ("edited", None)
    assert provenance["edited_from"] == annotations[2][2]["id"]
    assert provenance["adjudicator"] == admin.user.username

    assert client.get(f"{url}?status=open", headers=reviewer.headers).json() == []
    resolved = client.get(f"{url}?status=resolved", headers=reviewer.headers).json()
    assert [r["item_id"] for r in resolved] == [ids[0], ids[2]]
    assert (
        client.get(
            f"/api/v1/projects/{pid}/adjudication/next", headers=reviewer.headers
        ).status_code
        == 204
    )

    lines = client.get(
        f"/api/v1/projects/{pid}/export", params={"format": "jsonl"}, headers=admin.headers
    ).text.splitlines()
    rows = {r["id"]: r for r in map(json.loads, lines)}
    assert rows[ids[0]]["ground_truth"]["result"] == ANSWERS[0][1]
    assert rows[ids[0]]["ground_truth"]["provenance"]["annotation_id"] == picked["id"]
    assert rows[ids[2]]["ground_truth"]["result"] == edited
    assert rows[ids[2]]["ground_truth"]["provenance"]["source"] == "edited"
    assert rows[ids[1]]["ground_truth"] is None

    table = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    f"/api/v1/projects/{pid}/export",
                    params={"format": "csv"},
                    headers=admin.headers,
                ).text
            )
        )
    )
    first = [r for r in table if int(r["item_id"]) == ids[0]]
    assert len(first) == 3  # one line per answer, each with the item's ground truth
    assert {r["ground_truth.sentiment"] for r in first} == {"positive"}
    assert {r["ground_truth.entities"] for r in first} == {json.dumps(ANSWERS[0][1]["entities"])}
    assert json.loads(first[0]["ground_truth.provenance"])["author"] == (
        annotators[1].user.username
    )
    third = [r for r in table if int(r["item_id"]) == ids[2]]
    assert {r["ground_truth.sentiment"] for r in third} == {"negative"}
    assert {r["ground_truth.provenance"] for r in table if int(r["item_id"]) == ids[1]} == {""}

    events = client.get(f"/api/v1/projects/{pid}/audit", headers=admin.headers).json()
    decisions = [e for e in events if e["action"] == "adjudication.resolve"]
    assert [(e["entity_id"], e["actor_id"]) for e in decisions] == [
        (ids[2], admin.user.id),
        (ids[0], reviewer.user.id),
    ]
    assert decisions[1]["details"]["after"] == ANSWERS[0][1]
    assert decisions[1]["details"]["source"] == "annotation"


def test_resolution_errors(client: TestClient, admin: Actor, decided: dict[str, Any]) -> None:
    pid, ids, reviewer = decided["pid"], decided["ids"], decided["reviewer"]
    url = f"/api/v1/projects/{pid}/adjudications"
    bad_label = client.post(
        f"{url}/{ids[0]}", json={"result": {"sentiment": "meh"}}, headers=reviewer.headers
    )
    assert bad_label.status_code == 422
    problem = bad_label.json()["errors"][0]
    assert (problem["control"], problem["rule"]) == ("sentiment", "unknown_label")
    out_of_text = client.post(
        f"{url}/{ids[0]}",
        json={"result": {"sentiment": "positive", "entities": [span("PER", 10, 99)]}},
        headers=reviewer.headers,
    )
    assert out_of_text.status_code == 422
    problem = out_of_text.json()["errors"][0]
    assert (problem["control"], problem["rule"]) == ("entities", "span_out_of_range")
    missing = client.post(f"{url}/{ids[0]}", json={"result": {}}, headers=reviewer.headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["control"] == "sentiment"
    nothing = client.post(f"{url}/{ids[0]}", json={}, headers=reviewer.headers)
    assert nothing.status_code == 422
    assert nothing.json()["errors"] == [{"field": "result", "rule": "required"}]
    elsewhere = decided["annotations"][2][0]["id"]  # an answer to another item
    wrong_pick = client.post(
        f"{url}/{ids[0]}", json={"picked_annotation_id": elsewhere}, headers=reviewer.headers
    )
    assert wrong_pick.status_code == 422
    assert wrong_pick.json()["errors"][0]["field"] == "picked_annotation_id"
    not_open = client.post(
        f"{url}/{ids[1]}", json={"result": {"sentiment": "negative"}}, headers=reviewer.headers
    )
    assert not_open.status_code == 404
    annotator = decided["annotators"][0]
    forbidden = client.post(
        f"{url}/{ids[0]}", json={"result": {"sentiment": "negative"}}, headers=annotator.headers
    )
    assert forbidden.status_code == 403
    assert (
        client.get(
            f"/api/v1/projects/{pid}/adjudication/next", headers=annotator.headers
        ).status_code
        == 403
    )
    # Nothing was decided by the failed attempts.
    still = client.get(f"{url}?status=open", headers=reviewer.headers).json()
    assert [a["item_id"] for a in still] == [ids[0], ids[2]]


def test_changing_the_threshold_judges_the_done_items_again(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    from tests.api.helpers import add_items

    people = [factory.user() for _ in range(2)]
    project = factory.project(
        admin, overlap=2, members={f"annotator{k}": p for k, p in enumerate(people)}
    )
    add_items(db, project, admin.user, ["split", "agreed"])
    for person, labels in zip(
        people, (("positive", "negative"), ("negative", "negative")), strict=True
    ):
        for _ in range(2):
            lease = client.post(f"/api/v1/projects/{project.id}/next", headers=person.headers)
            text = lease.json()["item"]["data"]["text"]
            label = labels[0] if text == "split" else labels[1]
            client.post(
                f"/api/v1/projects/{project.id}/items/{lease.json()['item']['id']}/annotations",
                json={"result": {"sentiment": label}},
                headers=person.headers,
            ).raise_for_status()

    def open_items() -> list[int]:
        rows = client.get(
            f"/api/v1/projects/{project.id}/adjudications",
            params={"status": "open"},
            headers=admin.headers,
        ).json()
        return [r["item_id"] for r in rows]

    assert open_items() == []  # no threshold while the items were done
    ids = {
        i["data"]["text"]: i["id"]
        for i in client.get(f"/api/v1/projects/{project.id}/items", headers=admin.headers).json()[
            "items"
        ]
    }

    def change(value: float) -> int | None:
        saved = client.patch(
            f"/api/v1/projects/{project.id}",
            json={"adjudication_below": value},
            headers=admin.headers,
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["adjudication_below"] == value
        return saved.json()["adjudication_job_id"]  # type: ignore[no-any-return]

    job_id = change(0.9)  # judged again in the background
    assert job_id is not None
    job = wait_for_job(client, job_id, admin.headers)
    assert (job["kind"], job["status"], job["project_id"]) == (
        "adjudication_recheck",
        "finished",
        project.id,
    )
    assert job["progress"] == 2  # both done items judged
    assert {k: job["result"][k] for k in ("n_items", "n_opened", "n_withdrawn", "n_open")} == {
        "n_items": 2,
        "n_opened": 1,
        "n_withdrawn": 0,
        "n_open": 1,
    }
    assert job["result"]["superseded"] is False
    assert open_items() == [ids["split"]]
    assert change(0.9) is None  # saving the same value judges nothing again
    events = client.get(f"/api/v1/projects/{project.id}/audit", headers=admin.headers).json()
    rechecks = [e for e in events if e["action"] == "adjudication.recheck"]
    assert len(rechecks) == 1 and rechecks[0]["details"]["job_id"] == job_id
    assert rechecks[0]["actor_id"] == admin.user.id
    assert change(0.0) is None  # turned off: the open cases are withdrawn at once
    assert open_items() == []


def test_a_recheck_goes_in_chunks_and_stops_when_the_threshold_changes_again(
    client: TestClient, db: Database, admin: Actor, decided: dict[str, Any]
) -> None:
    pid, ids = decided["pid"], decided["ids"]
    url = f"/api/v1/projects/{pid}/adjudications"
    resolved = client.post(
        f"{url}/{ids[2]}",
        json={"picked_annotation_id": decided["annotations"][2][0]["id"]},
        headers=admin.headers,
    )
    assert resolved.status_code == 200, resolved.text
    lower = 0.5  # item 0 (agreement 0.41) stays open, item 2 stays decided
    seen: list[int] = []
    with db.transaction() as session:
        project = session.get(Project, pid)
        assert project is not None
        project.adjudication_below = lower
    report = adjudication.run_recheck(db, pid, lower, progress=seen.append, chunk=1)
    assert seen == [1, 2, 3]  # one item per chunk
    assert (report["n_items"], report["n_opened"], report["n_updated"]) == (3, 0, 1)
    assert (report["n_withdrawn"], report["n_open"], report["superseded"]) == (0, 1, False)
    listed = client.get(url, headers=admin.headers).json()
    assert [(a["item_id"], a["status"]) for a in listed] == [(ids[0], "open"), (ids[2], "resolved")]
    assert f"{lower:.2f}" in listed[0]["reason"]
    # A run queued for an older value does nothing once the threshold changed again.
    stale = adjudication.run_recheck(db, pid, 0.99, progress=seen.append)
    assert (stale["superseded"], stale["n_items"], stale["n_opened"]) == (True, 0, 0)
    assert seen == [1, 2, 3]
    assert [a["item_id"] for a in client.get(url, headers=admin.headers).json()] == [
        ids[0],
        ids[2],
    ]
