"""Small helpers shared by the API tests."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from accord.core import imports
from accord.db.engine import Database
from accord.db.models import Project, User
from accord.io import read_records_from_objects
from tests.conftest import DATASETS, Actor

SST2 = DATASETS / "text" / "sst2.csv"


def add_items(
    db: Database,
    project: Project,
    owner: User,
    texts: list[str],
    meta: list[dict[str, Any]] | None = None,
) -> None:
    objects = [
        {"data": {"text": t}, "meta": (meta[i] if meta else {})} for i, t in enumerate(texts)
    ]
    with db.transaction() as session:
        p = session.get(Project, project.id)
        u = session.get(User, owner.id)
        assert p is not None and u is not None
        imports.import_records(
            session, p, u, read_records_from_objects(objects), source="test", format="json"
        )


def label(sentiment: str) -> dict[str, Any]:
    return {"sentiment": sentiment}


def import_rows(client: TestClient, project: Project, actor: Actor, rows: pd.DataFrame) -> None:
    """One item per row over HTTP; the row number keeps repeated sentences apart (content
    hashes)."""
    items = [
        {"data": {"text": t, "row": int(i)}} for i, t in zip(rows.index, rows["text"], strict=True)
    ]
    done = client.post(
        f"/api/v1/projects/{project.id}/items", json={"items": items}, headers=actor.headers
    )
    assert done.status_code == 201, done.text
    assert done.json()["n_items"] == len(rows)


def wait_for_job(client: TestClient, job_id: int, headers: dict[str, str]) -> dict[str, Any]:
    """The job once it has finished or failed, as GET /jobs/{id} reports it."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("finished", "failed"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def run_job(client: TestClient, path: str, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Starts a job by POSTing ``body`` to ``path`` (below /api/v1) and returns it finished."""
    started = client.post(f"/api/v1{path}", json=body, headers=actor.headers)
    assert started.status_code == 202, started.text
    job = wait_for_job(client, started.json()["id"], actor.headers)
    assert job["status"] == "finished", job["error"]
    return job


def walk_review_queue(
    client: TestClient, reviewer: Actor, pid: int
) -> list[tuple[int, list[int], int]]:
    """(item, its waiting answers, remaining) for every item of the queue, in queue order."""
    seen, after = [], 0
    while True:
        response = client.get(
            f"/api/v1/projects/{pid}/review/next?after={after}", headers=reviewer.headers
        )
        if response.status_code == 204:
            return seen
        body = response.json()
        after = body["item"]["id"]
        seen.append(
            (after, [a["annotation"]["id"] for a in body["annotations"]], body["remaining"])
        )


def post_ok(client: TestClient, actor: Actor, path: str, body: Any = None) -> Any:
    """POST under /api/v1 that must succeed (200 or 201); its JSON."""
    response = client.post(f"/api/v1{path}", json=body, headers=actor.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def label_next(client: TestClient, actor: Actor, pid: int, sentiment: str) -> dict[str, Any]:
    """The actor's next item, answered with this sentiment: the stored annotation."""
    lease = post_ok(client, actor, f"/projects/{pid}/next")
    path = f"/api/v1/projects/{pid}/items/{lease['item']['id']}/annotations"
    response = client.post(path, json={"result": {"sentiment": sentiment}}, headers=actor.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())
