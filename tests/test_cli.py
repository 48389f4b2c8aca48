"""The ``accord`` command, run as a real subprocess on a fresh data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCHEMA = (
    "fields:\n  - {name: text, type: text}\ncontrols:\n"
    "  - {name: sentiment, type: choices, field: text, required: true,"
    " labels: [positive, negative]}\n"
)


def run(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["ACCORD_DATA_DIR"] = str(data_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "accord", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_init_user_project_import_export(data_dir: Path, tmp_path: Path) -> None:
    out = run(data_dir, "init", "--password", "adminpass1").stdout
    assert "administrator: admin" in out
    assert (data_dir / "accord.db").exists()
    assert "users exist already" in run(data_dir, "init").stdout
    assert "user alice created  password:" in run(data_dir, "user", "create", "alice").stdout
    token = run(data_dir, "user", "token", "alice").stdout.strip()
    assert token.startswith("acc_") and len(token) > 30
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    assert (
        "created: id 1"
        in run(data_dir, "project", "create", "reviews", "--schema", str(schema)).stdout
    )
    source = tmp_path / "items.jsonl"
    source.write_text(
        "".join(json.dumps({"text": f"review {i}"}) + "\n" for i in range(250))
        + json.dumps({"text": "review 3"})
        + "\n"
    )
    out = run(data_dir, "import", "reviews", str(source)).stdout
    assert "imported 250 items, skipped 1 duplicates" in out
    assert run(data_dir, "project", "list").stdout.strip() == "1\treviews"
    export = tmp_path / "out.jsonl"
    run(data_dir, "export", "reviews", "--out", str(export))
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    assert len(rows) == 250 and rows[3]["data"] == {"text": "review 3"}


def test_errors_are_one_line_without_traceback(data_dir: Path, tmp_path: Path) -> None:
    run(data_dir, "init", "--password", "adminpass1")
    schema = tmp_path / "bad.yaml"
    schema.write_text(
        "fields: []\ncontrols: [{name: c, type: choices, field: missing, labels: [a]}]\n"
    )
    proc = run(data_dir, "project", "create", "broken", "--schema", str(schema), check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    good = tmp_path / "good.yaml"
    good.write_text(SCHEMA)
    run(data_dir, "project", "create", "p", "--schema", str(good))
    bad_rows = tmp_path / "bad.jsonl"
    bad_rows.write_text('{"text": "fine"}\n{"text": "fine too"}\n[1, 2]\n')
    proc = run(data_dir, "import", "p", str(bad_rows), check=False)
    assert proc.returncode == 1 and "row 3" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(data_dir, "import", "nope", str(bad_rows), check=False)
    assert proc.returncode == 1 and "project 'nope' not found" in proc.stderr


def test_serve_starts_with_an_administrator_and_the_demo_project(data_dir: Path) -> None:
    import httpx

    from tests.conftest import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(ACCORD_DATA_DIR=str(data_dir), ACCORD_ADMIN_PASSWORD="first-admin-pass")
    server = subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.2)
        with httpx.Client(base_url=base) as http:
            login = http.post(
                "/auth/login", json={"username": "admin", "password": "first-admin-pass"}
            )
            assert login.status_code == 200
            (demo,) = http.get("/projects").json()
            assert demo["name"].startswith("Demo")
            page = http.get(f"/projects/{demo['id']}/items", params={"limit": 500}).json()
            assert len(page["items"]) == 300
            assert all(item["data"]["text"].strip() for item in page["items"])
            assert demo["created_at"].endswith("Z") or demo["created_at"].endswith("+00:00")
            # Checked for duplicates as any import is, before the server answered.
            report = http.get(f"/projects/{demo['id']}/duplicates").json()
            assert report["last_job"]["status"] == "finished"
            assert report["last_job"]["params"]["trigger"] == "import"
            assert (report["n_items"], report["n_groups"]) == (300, 0)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert run(data_dir, "project", "list").stdout.count("Demo") == 1


def test_quality_runs_locally_and_prints_agreement_and_suspects(
    data_dir: Path, tmp_path: Path
) -> None:
    """Three annotators on four items (one split 2-1): the command stores a run and prints the
    agreement the library computes and the split item as the one suspect."""
    import pandas as pd

    from accord.config import Settings
    from accord.core import annotations, users
    from accord.db.engine import open_database
    from accord.db.models import Project
    from accord.quality import percent_agreement

    run(data_dir, "init", "--password", "adminpass1")
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    run(data_dir, "project", "create", "reviews", "--schema", str(schema), "--overlap", "3")
    source = tmp_path / "items.jsonl"
    source.write_text("".join(json.dumps({"text": f"review {i}"}) + "\n" for i in range(4)))
    run(data_dir, "import", "reviews", str(source))
    votes = {1: "ppp", 2: "nnn", 3: "ppn", 4: "nnn"}  # item id -> the three annotators' labels
    names = ["ann", "bea", "cal"]
    for name in names:
        run(data_dir, "user", "create", name)
    db = open_database(Settings(data_dir=data_dir))
    try:
        with db.transaction() as session:
            project = session.get(Project, 1)
            assert project is not None
            for k, name in enumerate(names):
                user = users.get_user_by_name(session, name)
                for item_id, labels in votes.items():
                    label = {"p": "positive", "n": "negative"}[labels[k]]
                    annotations.submit(session, project, user, item_id, {"sentiment": label})
    finally:
        db.dispose()
    out = run(data_dir, "quality", "reviews", "--method", "majority_vote").stdout.splitlines()
    assert out[0].startswith(
        "sentiment: majority_vote  items 4  labels 12  annotators 3  suspected errors 1"
    )
    frame = pd.DataFrame(
        [(i, n, labels[k]) for i, labels in votes.items() for k, n in enumerate(names)],
        columns=["item", "annotator", "label"],
    )
    statistic, value = out[1].split()[:2]
    assert statistic == "percent_agreement"
    assert float(value) == pytest.approx(percent_agreement(frame), abs=5e-4)
    assert out[-1].startswith("item 3  sentiment: 'positive' -> 'negative'  score 0.33")
    assert "2 of 3 labels give the consensus 'positive'" in out[-1]


def test_a_local_import_checks_for_duplicates_as_a_recorded_job(
    data_dir: Path, tmp_path: Path
) -> None:
    """Without a server the check runs at once, recorded as a finished job whose groups hold
    the exact duplicate pair the import brought in; --no-check-duplicates runs none."""
    from sqlalchemy import select

    from accord.config import Settings
    from accord.db.engine import open_database
    from accord.db.models import Item, ItemDuplicate, Job

    run(data_dir, "init", "--password", "adminpass1")
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    run(data_dir, "project", "create", "reviews", "--schema", str(schema))
    source = tmp_path / "items.jsonl"
    texts = ["a quiet film about loss", "A quiet  FILM about loss", "loud and empty"]
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    out = run(data_dir, "import", "reviews", str(source)).stdout.splitlines()
    assert out[0].startswith("imported 3 items, skipped 0 duplicates")
    assert out[1].startswith("duplicates check (job 1): 1 groups, 1 redundant items")
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"text": "LOUD and empty"}) + "\n")
    out = run(data_dir, "import", "reviews", str(more), "--no-check-duplicates").stdout
    assert out.startswith("imported 1 items") and "duplicates check" not in out

    db = open_database(Settings(data_dir=data_dir))
    try:
        with db.transaction(write=False) as session:
            (job,) = session.scalars(select(Job).where(Job.kind == "duplicates"))
            assert (job.status, job.project_id) == ("finished", 1)
            assert job.params == {"trigger": "import", "import_batch_id": 1}
            assert job.result is not None and job.result["n_redundant"] == 1
            ids = list(session.scalars(select(Item.id).order_by(Item.id)))
            rows = session.scalars(select(ItemDuplicate).order_by(ItemDuplicate.item_id))
            assert [(r.item_id, r.group_id, r.method) for r in rows] == [
                (ids[0], ids[0], "exact"),
                (ids[1], ids[0], "exact"),
            ]
    finally:
        db.dispose()

    # `accord duplicates` runs its check as a recorded job too, so that it takes its place
    # among the project's checks (the newest one's groups are kept).
    out = run(data_dir, "duplicates", "reviews", "--threshold", "0.5").stdout.splitlines()
    assert out[0].startswith("items 4  groups 2  redundant 2  redundancy 50.00%")
    refused = run(data_dir, "duplicates", "reviews", "--threshold", "2", check=False)
    assert refused.returncode == 1 and "threshold must be over 0, up to 1" in refused.stderr
    db = open_database(Settings(data_dir=data_dir))
    try:
        with db.transaction(write=False) as session:
            _, second = session.scalars(
                select(Job).where(Job.kind == "duplicates").order_by(Job.id)
            )
            assert (second.status, second.params["threshold"]) == ("finished", 0.5)
            assert second.result is not None and second.result["superseded_by"] is None
            assert second.result["n_groups"] == 2
    finally:
        db.dispose()
