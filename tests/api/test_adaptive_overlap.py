"""Adaptive overlap in the queue: items settle after k agreeing answers, unsettled ones ask for
one more up to N, and the platform collects exactly the labels the library's replay says."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from accord.core import annotations as annotation_ops
from accord.db.models import Project, User
from accord.errors import Conflict
from accord.quality import AdaptiveOverlap
from tests.api.crowd_project import add_crowd_items, schema
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory


def _item(client: TestClient, project_id: int, item_id: int, admin: Actor) -> dict[str, Any]:
    found: dict[str, Any] = client.get(
        f"/api/v1/projects/{project_id}/items/{item_id}", headers=admin.headers
    ).json()
    return found


def test_agreeing_items_stop_at_k_and_split_ones_ask_for_more(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    people = [factory.user() for _ in range(5)]
    project = factory.project(
        admin,
        overlap=5,
        adaptive_overlap=True,
        adaptive_start=3,
        adaptive_threshold=0.8,
        members={f"annotator{k}": p for k, p in enumerate(people)},
    )
    add_items(db, project, admin.user, ["agreed", "split"])
    ids = {
        i["data"]["text"]: i["id"]
        for i in client.get(f"/api/v1/projects/{project.id}/items", headers=admin.headers).json()[
            "items"
        ]
    }
    answers = {
        "agreed": ["positive"] * 5,
        "split": ["positive", "negative", "positive", "positive", "positive"],
    }
    served: dict[str, int] = {"agreed": 0, "split": 0}
    for person in people:
        while True:
            lease = client.post(f"/api/v1/projects/{project.id}/next", headers=person.headers)
            if lease.status_code == 204:
                break
            text = lease.json()["item"]["data"]["text"]
            client.post(
                f"/api/v1/projects/{project.id}/items/{lease.json()['item']['id']}/annotations",
                json={"result": {"sentiment": answers[text][served[text]]}},
                headers=person.headers,
            ).raise_for_status()
            served[text] += 1
    # agreed: 3 of 3 settle it; split: 2 of 3 (0.67) asks for a 4th, 3 of 4 (0.75) a 5th, N=5
    assert served == {"agreed": 3, "split": 5}
    assert _item(client, project.id, ids["agreed"], admin)["status"] == "done"
    assert _item(client, project.id, ids["split"], admin)["status"] == "done"
    view = client.get(f"/api/v1/projects/{project.id}", headers=admin.headers).json()
    assert view["labels_saved"] == 2


def test_the_platform_collects_what_the_library_replay_collects(
    db: Any, factory: Factory, admin: Actor, crowd: pd.DataFrame
) -> None:
    """Real zheng_dog labels submitted in their recorded order: an answer the rule no longer
    needs is refused (the item's slots are full), and the accepted ones are exactly the rows
    AdaptiveOverlap.replay keeps."""
    values = sorted(crowd["label"].unique())
    n_max = int(crowd.groupby("task").size().median())
    project = factory.project(
        admin, schema=schema(values), overlap=n_max, adaptive_overlap=True, adaptive_start=3
    )
    item_of = add_crowd_items(db, project, admin, crowd)
    workers = {w: factory.user() for w in sorted(crowd["worker"].unique())}
    accepted = []
    with db.transaction() as session:
        p = session.get(Project, project.id)
        assert p is not None
        for row in crowd.itertuples():
            user = session.get(User, workers[row.worker].user.id)
            assert user is not None
            try:
                with session.begin_nested():
                    annotation_ops.submit(session, p, user, item_of[row.task], {"breed": row.label})
                accepted.append(True)
            except Conflict:
                accepted.append(False)
    expected = AdaptiveOverlap(max_labels=n_max, min_labels=3, threshold=0.8).replay(
        crowd.rename(columns={"task": "item", "worker": "annotator"})
    )
    assert accepted == expected.tolist()
    assert 0 < sum(accepted) < len(crowd)


def test_turning_adaptive_overlap_on_settles_items_already_labelled(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    people = [factory.user() for _ in range(3)]
    project = factory.project(
        admin, overlap=5, members={f"annotator{k}": p for k, p in enumerate(people)}
    )
    add_items(db, project, admin.user, ["unanimous", "split"])
    votes = {"unanimous": "ppp", "split": "ppn"}
    for k, person in enumerate(people):
        for _ in range(2):
            lease = client.post(f"/api/v1/projects/{project.id}/next", headers=person.headers)
            text = lease.json()["item"]["data"]["text"]
            label = "positive" if votes[text][k] == "p" else "negative"
            client.post(
                f"/api/v1/projects/{project.id}/items/{lease.json()['item']['id']}/annotations",
                json={"result": {"sentiment": label}},
                headers=person.headers,
            ).raise_for_status()
    counts = client.get(f"/api/v1/projects/{project.id}", headers=admin.headers).json()["counts"]
    assert counts.get("done", 0) == 0  # fixed overlap 5: nothing done with 3 answers
    changed = client.patch(
        f"/api/v1/projects/{project.id}",
        json={"adaptive_overlap": True, "adaptive_start": 3},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    counts = client.get(f"/api/v1/projects/{project.id}", headers=admin.headers).json()["counts"]
    assert (counts["done"], counts["open"]) == (1, 1)
    back = client.patch(
        f"/api/v1/projects/{project.id}", json={"adaptive_overlap": False}, headers=admin.headers
    )
    assert back.status_code == 200
    counts = client.get(f"/api/v1/projects/{project.id}", headers=admin.headers).json()["counts"]
    assert counts.get("done", 0) == 0 and counts["open"] == 2


def test_adaptive_overlap_needs_a_single_choice_control(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    spans_only = {
        "fields": [{"name": "text", "type": "text"}],
        "controls": [{"name": "ents", "type": "spans", "field": "text", "labels": ["PER"]}],
    }
    project = factory.project(admin, schema=spans_only)
    refused = client.patch(
        f"/api/v1/projects/{project.id}", json={"adaptive_overlap": True}, headers=admin.headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "needs_single_choice"
