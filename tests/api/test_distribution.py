"""Distribution: the stratified order labels a minority group early, batch priorities decide
which import is given out first, and a daily quota stops an annotator for the day."""

from __future__ import annotations

import random
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.db.models import Item
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory


def _take(client: TestClient, project_id: int, actor: Actor, n: int) -> list[dict[str, Any]]:
    """Up to ``n`` items, each answered at once."""
    taken = []
    for _ in range(n):
        lease = client.post(f"/api/v1/projects/{project_id}/next", headers=actor.headers)
        if lease.status_code != 200:
            break
        item = lease.json()["item"]
        taken.append(item)
        client.post(
            f"/api/v1/projects/{project_id}/items/{item['id']}/annotations",
            json={"result": {"sentiment": "positive"}},
            headers=actor.headers,
        ).raise_for_status()
    return taken


def test_the_stratified_order_labels_a_minority_group_early(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project = factory.project(admin, members={"annotator": annotator})
    texts = [f"sentence {k}" for k in range(100)]
    groups = ["en"] * 90 + ["fr"] * 10  # the minority group comes last in import order
    add_items(db, project, admin.user, texts, meta=[{"lang": g} for g in groups])
    refused = client.patch(
        f"/api/v1/projects/{project.id}", json={"strategy": "stratified"}, headers=admin.headers
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "stratify_by"
    # set after the import: the items already there are grouped
    changed = client.patch(
        f"/api/v1/projects/{project.id}",
        json={"strategy": "stratified", "stratify_by": "lang"},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    random.seed(5)
    served = [item["meta"]["lang"] for item in _take(client, project.id, annotator, 100)]
    assert len(served) == 100
    last_fr = max(k for k, g in enumerate(served) if g == "fr")
    # one pick in two goes to each group while both have items: all of "fr" is done within
    # about the first 20 picks, not at positions 91-100 as in import order
    assert last_fr < 35, served
    assert served.count("fr") == 10
    add_items(db, project, admin.user, ["later one", "later two"], meta=[{"lang": "de"}, {}])
    with db.transaction(write=False) as session:
        strata = dict(
            session.execute(
                select(Item.data["text"].as_string(), Item.stratum).where(
                    Item.project_id == project.id
                )
            ).all()
        )
    assert (strata["later one"], strata["later two"], strata["sentence 95"]) == ("de", None, "fr")


def test_items_of_a_higher_priority_batch_go_first(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project = factory.project(admin, members={"annotator": annotator}, strategy="random")
    add_items(db, project, admin.user, [f"first batch {k}" for k in range(10)])
    add_items(db, project, admin.user, [f"urgent batch {k}" for k in range(5)])
    batches = client.get(f"/api/v1/projects/{project.id}/imports", headers=admin.headers).json()
    urgent = batches[-1]["id"]
    done = client.patch(
        f"/api/v1/projects/{project.id}/imports/{urgent}",
        json={"priority": 5},
        headers=admin.headers,
    )
    assert done.status_code == 200 and done.json()["priority"] == 5
    served = [i["data"]["text"] for i in _take(client, project.id, annotator, 15)]
    assert all(t.startswith("urgent") for t in served[:5])
    assert all(t.startswith("first") for t in served[5:])


def test_a_daily_quota_stops_new_work_for_the_day(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project = factory.project(admin, members={"annotator": annotator}, daily_quota=3)
    add_items(db, project, admin.user, [f"text {k}" for k in range(6)])
    assert len(_take(client, project.id, annotator, 3)) == 3
    refused = client.post(f"/api/v1/projects/{project.id}/next", headers=annotator.headers)
    assert refused.status_code == 429
    assert refused.json()["type"] == "quota_reached"
    assert "quota of 3 answers" in refused.json()["detail"]
    client.patch(
        f"/api/v1/projects/{project.id}", json={"daily_quota": 4}, headers=admin.headers
    ).raise_for_status()
    held = client.post(f"/api/v1/projects/{project.id}/next", headers=annotator.headers)
    assert held.status_code == 200
    again = client.post(f"/api/v1/projects/{project.id}/next", headers=annotator.headers)
    assert again.json()["item"]["id"] == held.json()["item"]["id"]  # a held lease is still served
