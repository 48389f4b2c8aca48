"""Media files: folder imports referenced in place or copied into storage, served to the people
who may open the item."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import DATASETS, Actor, Factory

IMAGES = DATASETS / "detection" / "bccd" / "BCCD" / "JPEGImages"
IMAGE_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "image", "type": "image"}],
    "controls": [{"name": "cells", "type": "boxes", "field": "image", "labels": ["RBC", "WBC"]}],
}


def folder_of_three(tmp_path: Path) -> Path:
    folder = tmp_path / "cells"
    folder.mkdir()
    for path in sorted(IMAGES.glob("*.jpg"))[:3]:
        shutil.copy(path, folder / path.name)
    return folder


def import_folder(client: TestClient, admin: Actor, project_id: int, body: dict[str, Any]) -> Any:
    response = client.post(
        f"/api/v1/projects/{project_id}/imports/folder", headers=admin.headers, json=body
    )
    assert response.status_code == 201, response.text
    items = client.get(f"/api/v1/projects/{project_id}/items", headers=admin.headers).json()
    return items["items"]


def test_images_referenced_in_place_are_served_byte_for_byte(
    client: TestClient, factory: Factory, admin: Actor, tmp_path: Path
) -> None:
    project = factory.project(admin, schema=IMAGE_SCHEMA)
    folder = folder_of_three(tmp_path)
    items = import_folder(client, admin, project.id, {"path": str(folder)})
    assert len(items) == 3
    first = items[0]
    assert first["media_info"]["width"] == 640 and first["media_info"]["height"] == 480
    response = client.get(
        f"/api/v1/projects/{project.id}/items/{first['id']}/media", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    served_name = Path(first["media"].removeprefix("file://")).name
    assert response.content == (folder / served_name).read_bytes()


def test_copied_images_live_in_storage_and_survive_the_source_folder(
    client: TestClient, factory: Factory, admin: Actor, tmp_path: Path
) -> None:
    project = factory.project(admin, schema=IMAGE_SCHEMA)
    folder = folder_of_three(tmp_path)
    originals = {p.name: p.read_bytes() for p in folder.iterdir()}
    items = import_folder(client, admin, project.id, {"path": str(folder), "copy_media": True})
    shutil.rmtree(folder)
    for item in items:
        assert item["media"].startswith("local:imports/cells/")
        response = client.get(
            f"/api/v1/projects/{project.id}/items/{item['id']}/media", headers=admin.headers
        )
        assert response.content == originals[Path(item["media"]).name]


def test_an_annotator_gets_only_the_media_of_items_they_were_given(
    client: TestClient, factory: Factory, admin: Actor, tmp_path: Path
) -> None:
    annotator = factory.user()
    project = factory.project(admin, schema=IMAGE_SCHEMA, members={"annotator": annotator})
    items = import_folder(client, admin, project.id, {"path": str(folder_of_three(tmp_path))})
    served = client.post(f"/api/v1/projects/{project.id}/next", headers=annotator.headers).json()
    given = served["item"]["id"]
    others = [i["id"] for i in items if i["id"] != given]
    url = f"/api/v1/projects/{project.id}/items/{{}}/media"
    assert client.get(url.format(given), headers=annotator.headers).status_code == 200
    assert client.get(url.format(others[0]), headers=annotator.headers).status_code == 404
    stranger = factory.user()
    assert client.get(url.format(given), headers=stranger.headers).status_code == 404


def test_an_item_without_media_is_a_clear_404(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    client.post(
        f"/api/v1/projects/{project.id}/items",
        headers=admin.headers,
        json={"items": [{"text": "just words"}]},
    )
    item = client.get(f"/api/v1/projects/{project.id}/items", headers=admin.headers).json()
    response = client.get(
        f"/api/v1/projects/{project.id}/items/{item['items'][0]['id']}/media",
        headers=admin.headers,
    )
    assert response.status_code == 404
    assert "has no media" in response.json()["detail"]
