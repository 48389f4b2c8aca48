"""Background imports through the in-process runner: state, progress, result, visibility."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Actor, Factory


def wait_for(client: TestClient, actor: Actor, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}", headers=actor.headers).json()
        if job["status"] in ("finished", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end")


def upload(client: TestClient, actor: Actor, project_id: int, name: str, body: bytes) -> Any:
    return client.post(
        f"/api/v1/projects/{project_id}/import-jobs",
        headers=actor.headers,
        files={"file": (name, body)},
    )


def test_background_import_finishes_with_its_batch(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    lines = "".join(f'{{"text": "row {i}"}}\n' for i in range(12_000)) + '{"text": "row 5"}\n'
    response = upload(client, admin, project.id, "rows.jsonl", lines.encode())
    assert response.status_code == 202
    assert response.json()["kind"] == "import"
    job = wait_for(client, admin, response.json()["id"])
    assert job["status"] == "finished", job
    assert (job["result"]["n_items"], job["result"]["n_duplicates"]) == (12_000, 1)
    assert job["progress"] == 12_001
    batches = client.get(f"/api/v1/projects/{project.id}/imports", headers=admin.headers).json()
    assert [b["id"] for b in batches] == [job["result"]["batch_id"]]
    assert batches[0]["duplicate_rows"]["rows"] == [12_001]


def test_failed_background_import_reports_the_row_and_keeps_nothing(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    body = b'{"text": "fine"}\n{"text": "also fine"}\n{"text": broken}\n'
    job = wait_for(client, admin, upload(client, admin, project.id, "bad.jsonl", body).json()["id"])
    assert job["status"] == "failed"
    assert "row 3" in job["error"]
    items = client.get(f"/api/v1/projects/{project.id}/items", headers=admin.headers).json()
    assert items["items"] == []


def test_a_job_is_hidden_from_people_outside_its_project(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    annotator, stranger = factory.user(), factory.user()
    project = factory.project(admin, members={"annotator": annotator})
    job_id = upload(client, admin, project.id, "a.jsonl", b'{"text": "x"}\n').json()["id"]
    wait_for(client, admin, job_id)
    for outsider in (annotator, stranger):
        response = client.get(f"/api/v1/jobs/{job_id}", headers=outsider.headers)
        assert response.status_code == 404
    assert upload(client, annotator, project.id, "a.jsonl", b"{}").status_code == 403
