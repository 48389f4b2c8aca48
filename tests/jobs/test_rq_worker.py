"""Jobs on a real Redis, executed by a separate `accord worker` process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.config import Settings
from accord.db.engine import Database
from tests.conftest import Actor, Factory

REDIS_URL = os.environ.get("ACCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_answers() -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except (RedisError, OSError):
        return False


pytestmark = pytest.mark.skipif(not redis_answers(), reason=f"no Redis at {REDIS_URL}")


@pytest.fixture()
def rq_settings(settings: Settings) -> Settings:
    queue = f"accord-test-{uuid.uuid4().hex[:8]}"
    return settings.model_copy(update={"redis_url": REDIS_URL, "rq_queue": queue})


@pytest.fixture()
def rq_client(rq_settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(rq_settings, db)) as client:
        yield client


def run_worker(settings: Settings, db: Database) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        ACCORD_DATA_DIR=str(settings.data_dir),
        ACCORD_DATABASE_URL=db.url,
        ACCORD_REDIS_URL=REDIS_URL,
        ACCORD_RQ_QUEUE=settings.rq_queue,
    )
    return subprocess.run(
        [sys.executable, "-m", "accord", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_worker_process_runs_the_queued_import(
    rq_client: TestClient, rq_settings: Settings, db: Database, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    body = "".join(f'{{"text": "queued row {i}"}}\n' for i in range(7000)).encode()
    response = rq_client.post(
        f"/api/v1/projects/{project.id}/import-jobs",
        headers=admin.headers,
        files={"file": ("rows.jsonl", body)},
    )
    assert response.status_code == 202
    job_id = response.json()["id"]
    queued = rq_client.get(f"/api/v1/jobs/{job_id}", headers=admin.headers).json()
    assert queued["status"] == "queued"  # nothing runs it until a worker starts

    worker = run_worker(rq_settings, db)
    assert worker.returncode == 0, worker.stderr

    job = rq_client.get(f"/api/v1/jobs/{job_id}", headers=admin.headers).json()
    assert job["status"] == "finished", job
    assert job["result"]["n_items"] == 7000
    assert job["progress"] == 7000  # reported by the worker through Redis
    items = rq_client.get(
        f"/api/v1/projects/{project.id}/items", params={"limit": 1}, headers=admin.headers
    ).json()
    assert items["items"][0]["data"] == {"text": "queued row 0"}
    uploads = rq_settings.media_dir / "uploads"
    assert not any(p.is_file() for p in uploads.rglob("*"))  # the upload is removed afterwards


def test_a_failing_job_is_recorded_as_failed_by_the_worker(
    rq_client: TestClient, rq_settings: Settings, db: Database, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    body = b'{"text": "fine"}\n[1, 2]\n'
    response = rq_client.post(
        f"/api/v1/projects/{project.id}/import-jobs",
        headers=admin.headers,
        files={"file": ("rows.jsonl", body)},
    )
    job_id = response.json()["id"]
    assert run_worker(rq_settings, db).returncode == 0
    job = rq_client.get(f"/api/v1/jobs/{job_id}", headers=admin.headers).json()
    assert job["status"] == "failed"
    assert "row 2" in job["error"] and "expected an object" in job["error"]
