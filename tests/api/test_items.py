from __future__ import annotations

import csv
import io
import json

from tests.api.helpers import add_items
from tests.conftest import Actor, Factory


def _items(client, pid: int, actor: Actor, **params):
    r = client.get(f"/api/v1/projects/{pid}/items", params=params, headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_keyset_pagination_walks_every_item_once(
    client, db, admin: Actor, factory: Factory
) -> None:
    project = factory.project(admin)
    add_items(db, project, admin.user, [f"item {i}" for i in range(95)])
    seen, after = [], None
    while True:
        page = _items(client, project.id, admin, limit=20, **({"after": after} if after else {}))
        seen += [i["data"]["text"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == [f"item {i}" for i in range(95)]
    last_ids = [i["id"] for i in _items(client, project.id, admin, limit=95)["items"]]
    back = _items(client, project.id, admin, before=last_ids[50], limit=10)["items"]
    assert [i["id"] for i in back] == last_ids[40:50]


def _annotate(client, pid, actor, sentiment):
    item = client.post(f"/api/v1/projects/{pid}/next", headers=actor.headers).json()["item"]
    r = client.post(
        f"/api/v1/projects/{pid}/items/{item['id']}/annotations",
        json={"result": {"sentiment": sentiment}},
        headers=actor.headers,
    )
    assert r.status_code == 201
    return item["id"]


def test_filters_by_status_label_annotator_meta_batch_and_text(
    client, db, admin: Actor, factory: Factory
) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(
        db,
        project,
        admin.user,
        ["the cat sat", "a dog barked", "cats and dogs", "nothing here"],
        meta=[{"lang": "en"}, {"lang": "fr"}, {"lang": "en"}, {"lang": "de"}],
    )
    first = _annotate(client, project.id, ann, "positive")
    second = _annotate(client, project.id, ann, "negative")
    ids = lambda page: [i["id"] for i in page["items"]]  # noqa: E731
    assert ids(_items(client, project.id, admin, status="done")) == [first, second]
    assert len(_items(client, project.id, admin, status="open")["items"]) == 2
    assert ids(_items(client, project.id, admin, label="negative")) == [second]
    assert ids(_items(client, project.id, admin, label="negative", control="sentiment")) == [second]
    assert ids(_items(client, project.id, admin, annotated_by=ann.user.username)) == [first, second]
    assert [
        i["data"]["text"]
        for i in _items(client, project.id, admin, meta_key="lang", meta_value="en")["items"]
    ] == ["the cat sat", "cats and dogs"]
    assert [i["data"]["text"] for i in _items(client, project.id, admin, q="cat")["items"]] == [
        "the cat sat",
        "cats and dogs",
    ]
    assert [
        i["data"]["text"] for i in _items(client, project.id, admin, q="dog barked")["items"]
    ] == ["a dog barked"]
    assert _items(client, project.id, admin, q='"; DROP TABLE items; --')["items"] == []
    batch = _items(client, project.id, admin)["items"][0]["batch_id"]
    assert len(_items(client, project.id, admin, batch=batch)["items"]) == 4
    bad = client.get(
        f"/api/v1/projects/{project.id}/items", params={"status": "weird"}, headers=admin.headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_export_formats_carry_items_and_annotations(
    client, db, admin: Actor, factory: Factory
) -> None:
    ann = factory.user()
    project = factory.project(admin, members={"annotator": ann})
    add_items(db, project, admin.user, ['good, "quoted"\nmovie', "bad movie", "unlabeled"])
    first = _annotate(client, project.id, ann, "positive")
    _annotate(client, project.id, ann, "negative")
    r = client.get(
        f"/api/v1/projects/{project.id}/export", params={"format": "jsonl"}, headers=admin.headers
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert [row["data"]["text"] for row in rows] == [
        'good, "quoted"\nmovie',
        "bad movie",
        "unlabeled",
    ]
    assert rows[0]["id"] == first
    assert rows[0]["annotations"][0]["result"] == {"sentiment": "positive"}
    assert rows[0]["annotations"][0]["annotator"] == ann.user.username
    assert rows[0]["annotations"][0]["schema_version"] == 1
    assert rows[2]["annotations"] == []
    only = client.get(
        f"/api/v1/projects/{project.id}/export",
        params={"format": "json", "only_annotated": True},
        headers=admin.headers,
    )
    assert [row["data"]["text"] for row in json.loads(only.text)] == [
        'good, "quoted"\nmovie',
        "bad movie",
    ]
    filtered = client.get(
        f"/api/v1/projects/{project.id}/export",
        params={"format": "json", "label": "negative"},
        headers=admin.headers,
    )
    assert [row["data"]["text"] for row in json.loads(filtered.text)] == ["bad movie"]
    as_csv = client.get(
        f"/api/v1/projects/{project.id}/export", params={"format": "csv"}, headers=admin.headers
    )
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [t["data.text"] for t in table] == ['good, "quoted"\nmovie', "bad movie", "unlabeled"]
    assert [t["result.sentiment"] for t in table] == ["positive", "negative", ""]
    assert (
        client.get(f"/api/v1/projects/{project.id}/export", headers=ann.headers).status_code == 403
    )


def test_search_pages_walk_every_match_once_in_both_directions(
    client, db, admin: Actor, factory: Factory
) -> None:
    project = factory.project(admin)
    other = factory.project(admin)
    # Matches of another project sit between this project's: the search index is shared.
    add_items(db, other, admin.user, [f"zebra crossing {i}" for i in range(700)])
    texts = [f"zebra {i}" if i % 3 == 0 else f"horse {i}" for i in range(900)]
    meta = [{"half": "a" if i < 450 else "b"} for i in range(900)]
    add_items(db, project, admin.user, texts, meta)
    add_items(db, other, admin.user, [f"zebra late {i}" for i in range(300)])
    expected = [t for t in texts if t.startswith("zebra")]
    seen, after = [], None
    while True:
        params = {"q": "zebra", "limit": 37, **({"after": after} if after else {})}
        page = _items(client, project.id, admin, **params)
        seen += [i["data"]["text"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == expected
    everything = _items(client, project.id, admin, q="zebra", limit=1000)["items"]
    ids = [i["id"] for i in everything]
    back = _items(client, project.id, admin, q="zebra", before=ids[200], limit=25)["items"]
    assert [i["id"] for i in back] == ids[175:200]
    half_b = _items(client, project.id, admin, q="zeb", meta_key="half", meta_value="b", limit=5)
    assert [i["data"]["text"] for i in half_b["items"]] == [
        t for i, t in enumerate(texts) if i >= 450 and t.startswith("zebra")
    ][:5]
