from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from accord.db.models import ImportBatch, Item
from tests.conftest import DATASETS, Actor, Factory

SST2 = DATASETS / "text" / "sst2.csv"


def sst2_rows(n: int) -> list[dict[str, str]]:
    if not SST2.exists():
        pytest.skip("shared datasets not present")
    with SST2.open(newline="") as f:
        rows = []
        for row in csv.DictReader(f):
            rows.append(row)
            if len(rows) == n:
                return rows
    return rows


def _count(db, project_id: int) -> int:
    with db.transaction(write=False) as s:
        return int(
            s.scalar(select(func.count()).select_from(Item).where(Item.project_id == project_id))
            or 0
        )


def _upload(client, pid: int, actor: Actor, name: str, payload: bytes, fmt: str | None = None):
    data = {"format": fmt} if fmt else {}
    return client.post(
        f"/api/v1/projects/{pid}/imports",
        files={"file": (name, payload)},
        data=data,
        headers=actor.headers,
    )


def test_jsonl_import_of_real_sentences(client, db, admin: Actor, factory: Factory) -> None:
    project = factory.project(admin)
    rows = sst2_rows(500)
    payload = "".join(
        json.dumps({"data": {"text": r["text"]}, "meta": {"split": r["split"]}}) + "\n"
        for r in rows
    ).encode()
    r = _upload(client, project.id, admin, "sst2.jsonl", payload)
    assert r.status_code == 201, r.text
    batch = r.json()
    distinct = len({r["text"] for r in rows})
    assert batch["status"] == "completed"
    assert batch["n_items"] == distinct and batch["n_duplicates"] == 500 - distinct
    assert _count(db, project.id) == distinct
    page = client.get(
        f"/api/v1/projects/{project.id}/items", params={"limit": 1}, headers=admin.headers
    ).json()
    assert page["items"][0]["data"] == {"text": rows[0]["text"]}
    assert page["items"][0]["meta"] == {"split": "train"}
    assert page["items"][0]["batch_id"] == batch["id"]


def test_csv_and_parquet_imports(client, db, admin: Actor, factory: Factory) -> None:
    project = factory.project(admin)
    frame = pd.DataFrame({"text": ["one", "two", "three"], "meta.source": ["a", "b", "c"]})
    r = _upload(client, project.id, admin, "x.csv", frame.to_csv(index=False).encode())
    assert r.status_code == 201 and r.json()["n_items"] == 3
    buffer = io.BytesIO()
    pd.DataFrame({"text": ["four", "five", "one"], "meta.source": ["d", "e", "a"]}).to_parquet(
        buffer, index=False
    )
    r = _upload(client, project.id, admin, "x.parquet", buffer.getvalue())
    assert r.status_code == 201
    assert (r.json()["n_items"], r.json()["n_duplicates"]) == (2, 1)
    assert r.json()["duplicate_rows"]["rows"] == [3]
    items = client.get(f"/api/v1/projects/{project.id}/items", headers=admin.headers).json()[
        "items"
    ]
    assert [i["data"]["text"] for i in items] == ["one", "two", "three", "four", "five"]
    assert items[3]["meta"] == {"source": "d"}


def test_a_bad_row_aborts_the_whole_import_and_says_where(
    client, db, admin: Actor, factory: Factory
) -> None:
    project = factory.project(admin)
    good = [json.dumps({"text": f"row {i}"}) for i in range(12000)]
    lines = [*good[:10500], "{not json", *good[10500:]]
    r = _upload(client, project.id, admin, "bad.jsonl", ("\n".join(lines) + "\n").encode())
    assert r.status_code == 422
    body = r.json()
    assert body["type"] == "invalid_import_row"
    assert body["errors"][0]["row"] == 10501
    assert "10501" in body["detail"]
    assert _count(db, project.id) == 0  # the first two chunks were rolled back too
    batches = client.get(f"/api/v1/projects/{project.id}/imports", headers=admin.headers).json()
    assert batches[-1]["status"] == "failed" and batches[-1]["error"]["row"] == 10501
    assert batches[-1]["n_items"] == 0


def test_duplicates_against_existing_items_are_skipped(
    client, db, admin: Actor, factory: Factory
) -> None:
    project = factory.project(admin)
    first = client.post(
        f"/api/v1/projects/{project.id}/items",
        json={"items": [{"text": "a"}, {"text": "b"}]},
        headers=admin.headers,
    )
    assert first.status_code == 201
    second = client.post(
        f"/api/v1/projects/{project.id}/items",
        json={"items": [{"text": "b"}, {"text": "c"}, {"text": "c"}]},
        headers=admin.headers,
    )
    assert (second.json()["n_items"], second.json()["n_duplicates"]) == (1, 2)
    assert second.json()["duplicate_rows"]["rows"] == [1, 3]
    assert _count(db, project.id) == 3


def test_media_folder_import_reads_image_sizes(client, db, admin: Actor, factory: Factory) -> None:
    folder = DATASETS / "detection" / "bccd"
    if not folder.exists():
        pytest.skip("shared datasets not present")
    images = next(p for p in folder.rglob("*") if p.is_dir() and any(p.glob("*.jpg")))
    schema = {
        "fields": [{"name": "image", "type": "image"}],
        "controls": [
            {
                "name": "cells",
                "type": "boxes",
                "field": "image",
                "labels": ["RBC", "WBC", "Platelets"],
            }
        ],
    }
    project = factory.project(admin, schema=schema)
    r = client.post(
        f"/api/v1/projects/{project.id}/imports/folder",
        json={"path": str(images)},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    n = len(list(images.glob("*.jpg")))
    assert r.json()["n_items"] == n
    item = client.get(
        f"/api/v1/projects/{project.id}/items", params={"limit": 1}, headers=admin.headers
    ).json()["items"][0]
    assert item["media_info"]["width"] == 640 and item["media_info"]["height"] == 480
    # a box outside the 640x480 image is refused
    lease = client.post(f"/api/v1/projects/{project.id}/next", headers=admin.headers).json()["item"]
    bad = client.post(
        f"/api/v1/projects/{project.id}/items/{lease['id']}/annotations",
        json={
            "result": {"cells": [{"x": 600, "y": 10, "width": 80, "height": 20, "label": "RBC"}]}
        },
        headers=admin.headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "outside_image"


def test_import_rejects_unknown_format(client, admin: Actor, factory: Factory) -> None:
    project = factory.project(admin)
    r = _upload(client, project.id, admin, "data.xlsx", b"PK..")
    assert r.status_code == 422
    assert "xlsx" in r.json()["detail"] or "format" in r.json()["detail"]


def test_batches_are_recorded(db, client, admin: Actor, factory: Factory) -> None:
    project = factory.project(admin)
    client.post(
        f"/api/v1/projects/{project.id}/items",
        json={"items": [{"text": "z"}]},
        headers=admin.headers,
    )
    with db.transaction(write=False) as s:
        batch = s.scalar(select(ImportBatch).where(ImportBatch.project_id == project.id))
    assert (
        batch is not None
        and batch.status == "completed"
        and batch.n_items == 1
        and batch.created_by == admin.user.id
    )


def test_empty_path_is_not_a_folder(client, admin: Actor, factory: Factory, tmp_path: Path) -> None:
    project = factory.project(admin)
    r = client.post(
        f"/api/v1/projects/{project.id}/imports/folder",
        json={"path": str(tmp_path / "missing")},
        headers=admin.headers,
    )
    assert r.status_code == 422
