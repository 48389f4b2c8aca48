from __future__ import annotations

from sqlalchemy import select

from accord.db.models import AnnotationLabel
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory


def _lease(client, pid: int, actor: Actor) -> dict:
    r = client.post(f"/api/v1/projects/{pid}/next", headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()["item"]


def _submit(client, pid: int, item_id: int, actor: Actor, result: dict):
    return client.post(
        f"/api/v1/projects/{pid}/items/{item_id}/annotations",
        json={"result": result},
        headers=actor.headers,
    )


def test_invalid_result_is_a_422_naming_control_item_and_rule(
    client, db, admin: Actor, factory: Factory
) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ["Barack Obama visited Paris"])
    item = _lease(client, project.id, ann)
    cases = [
        ({"sentiment": "ecstatic"}, "sentiment", "unknown_label"),
        ({}, "sentiment", "required"),
        (
            {"sentiment": "positive", "entities": [{"start": 20, "end": 40, "label": "LOC"}]},
            "entities",
            "span_out_of_range",
        ),
        (
            {
                "sentiment": "positive",
                "entities": [{"start": 0, "end": 5, "label": "PER", "text": "Obama"}],
            },
            "entities",
            "span_text_mismatch",
        ),
        ({"sentiment": "positive", "mood": "x"}, "mood", "unknown_control"),
    ]
    for result, control, rule in cases:
        r = _submit(client, project.id, item["id"], ann, result)
        assert r.status_code == 422, (result, r.text)
        body = r.json()
        assert body["type"] == "invalid_result"
        assert body["item_id"] == item["id"]
        assert {"control": control, "rule": rule} in [
            {"control": e["control"], "rule": e["rule"]} for e in body["errors"]
        ], body
    # none of the failures consumed the lease: a valid result is still accepted
    ok = _submit(
        client,
        project.id,
        item["id"],
        ann,
        {
            "sentiment": "positive",
            "entities": [{"start": 0, "end": 12, "label": "PER", "text": "Barack Obama"}],
        },
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["schema_version_id"] is not None


def test_edit_creates_a_new_version_and_keeps_the_old(
    client, db, admin: Actor, factory: Factory
) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ["it was fine"])
    item = _lease(client, project.id, ann)
    first = _submit(client, project.id, item["id"], ann, {"sentiment": "positive"}).json()
    r = client.put(
        f"/api/v1/projects/{project.id}/annotations/{first['id']}",
        json={"result": {"sentiment": "negative"}},
        headers=ann.headers,
    )
    assert r.status_code == 201
    second = r.json()
    assert second["parent_id"] == first["id"] and second["version"] == 2 and second["is_latest"]
    old = client.get(
        f"/api/v1/projects/{project.id}/annotations/{first['id']}", headers=ann.headers
    ).json()
    assert old["result"] == {"sentiment": "positive"} and old["is_latest"] is False
    history = client.get(
        f"/api/v1/projects/{project.id}/annotations/{second['id']}/history", headers=ann.headers
    ).json()
    assert [h["id"] for h in history] == [first["id"], second["id"]]
    stale = client.put(
        f"/api/v1/projects/{project.id}/annotations/{first['id']}",
        json={"result": {"sentiment": "positive"}},
        headers=ann.headers,
    )
    assert stale.status_code == 422
    # the label index follows the latest version only
    with db.transaction(write=False) as s:
        labels = s.scalars(
            select(AnnotationLabel.label).where(AnnotationLabel.item_id == item["id"])
        ).all()
    assert labels == ["negative"]
    audit = client.get(f"/api/v1/projects/{project.id}/audit", headers=admin.headers).json()
    revise = next(e for e in audit if e["action"] == "annotation.revise")
    assert (revise["before_id"], revise["after_id"]) == (first["id"], second["id"])


def test_blind_labeling(client, db, admin: Actor, factory: Factory) -> None:
    a, b, reviewer = factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin, overlap=2, members={"annotator1": a, "annotator2": b, "reviewer": reviewer}
    )
    add_items(db, project, admin.user, ["shared item"])
    item = _lease(client, project.id, a)
    assert _lease(client, project.id, b)["id"] == item["id"]
    ann_a = _submit(client, project.id, item["id"], a, {"sentiment": "positive"}).json()
    ann_b = _submit(client, project.id, item["id"], b, {"sentiment": "negative"}).json()
    mine = client.get(
        f"/api/v1/projects/{project.id}/annotations", params={"item": item["id"]}, headers=a.headers
    ).json()
    assert [x["id"] for x in mine] == [ann_a["id"]]
    # asking for someone else's is silently narrowed to one's own, and direct reads are hidden
    narrowed = client.get(
        f"/api/v1/projects/{project.id}/annotations",
        params={"annotator": b.user.username},
        headers=a.headers,
    ).json()
    assert [x["id"] for x in narrowed] == [ann_a["id"]]
    assert (
        client.get(
            f"/api/v1/projects/{project.id}/annotations/{ann_b['id']}", headers=a.headers
        ).status_code
        == 404
    )
    assert (
        client.put(
            f"/api/v1/projects/{project.id}/annotations/{ann_b['id']}",
            json={"result": {"sentiment": "positive"}},
            headers=a.headers,
        ).status_code
        == 404
    )
    everyone = client.get(
        f"/api/v1/projects/{project.id}/annotations",
        params={"item": item["id"]},
        headers=reviewer.headers,
    ).json()
    assert sorted(x["id"] for x in everyone) == sorted([ann_a["id"], ann_b["id"]])
    # annotators cannot browse all items either
    assert client.get(f"/api/v1/projects/{project.id}/items", headers=a.headers).status_code == 403


def test_predictions_are_validated_and_served_as_prelabels(
    client, db, admin: Actor, factory: Factory
) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ["great film"])
    item_id = client.get(f"/api/v1/projects/{project.id}/items", headers=admin.headers).json()[
        "items"
    ][0]["id"]
    bad = client.post(
        f"/api/v1/projects/{project.id}/predictions",
        json={
            "predictions": [{"item_id": item_id, "result": {"sentiment": "meh"}, "model_name": "m"}]
        },
        headers=admin.headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "unknown_label"
    good = client.post(
        f"/api/v1/projects/{project.id}/predictions",
        json={
            "predictions": [
                {
                    "item_id": item_id,
                    "result": {"sentiment": "positive"},
                    "model_name": "tfidf",
                    "model_version": "3",
                    "score": 0.91,
                }
            ]
        },
        headers=admin.headers,
    )
    assert good.status_code == 201 and good.json() == {"created": 1}
    lease = client.post(f"/api/v1/projects/{project.id}/next", headers=ann.headers).json()
    assert lease["predictions"][0]["result"] == {"sentiment": "positive"}
    assert lease["predictions"][0]["model_version"] == "3"
    # predictions never count as labels
    assert (
        client.get(f"/api/v1/projects/{project.id}/annotations", headers=admin.headers).json() == []
    )
