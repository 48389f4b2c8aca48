"""An export is the project as of one moment: answers, items and a quality run committed while
it streams, between two of its chunks, show in none of its rows, through the API and the CLI,
on SQLite and on PostgreSQL.

Chunks of two items, and a byte chunk per row, let a test stop the stream once the first chunk's
rows are out, commit from other sessions, then read the rest."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import DBAPIError

from accord import cli
from accord.api.routes import data as data_routes
from accord.core import exports
from accord.db.engine import Database
from accord.db.models import Item, Project, User
from accord.io import exporters
from tests.api.helpers import add_items, post_ok, run_job
from tests.conftest import Actor, Factory, sentiment_schema

ROWS_IN_FIRST_CHUNK = 2
Between = Callable[[], None]


@dataclass
class Scene:
    project: Project
    admin: Actor
    annotators: list[Actor]
    items: list[int]


def answer(client: TestClient, scene: Scene, who: int, item: int, sentiment: str) -> None:
    post_ok(
        client,
        scene.annotators[who],
        f"/projects/{scene.project.id}/items/{scene.items[item]}/annotations",
        {"result": {"sentiment": sentiment}},
    )


@pytest.fixture()
def scene(client: TestClient, db: Database, factory: Factory, admin: Actor) -> Scene:
    a, b, c = (factory.user() for _ in range(3))
    project = factory.project(
        admin,
        schema=sentiment_schema(),
        members={"annotator": a, "annotator2": b, "annotator3": c},
        overlap=3,
    )
    add_items(db, project, admin.user, [f"sentence {i}" for i in range(5)])
    with db.transaction(write=False) as session:
        ids = list(
            session.scalars(select(Item.id).where(Item.project_id == project.id).order_by(Item.id))
        )
    s = Scene(project, admin, [a, b, c], ids)
    for who, item, sentiment in [
        (0, 0, "positive"),
        (1, 0, "positive"),
        (0, 1, "negative"),
        (0, 2, "positive"),
        (0, 3, "negative"),
        (1, 3, "negative"),
    ]:
        answer(client, s, who, item, sentiment)
    run_job(client, f"/projects/{project.id}/quality/jobs", admin, {"method": "majority_vote"})
    return s


def write_meanwhile(client: TestClient, scene: Scene) -> None:
    """Commits, each in its own transaction, what changes the rows of the later chunks: answers
    that complete item 2 and turn its majority, a first answer to item 4, a new item, and a
    quality run that stores the consensus again."""
    answer(client, scene, 1, 2, "negative")
    answer(client, scene, 2, 2, "negative")
    answer(client, scene, 1, 4, "positive")
    post_ok(
        client,
        scene.admin,
        f"/projects/{scene.project.id}/items",
        {"items": [{"data": {"text": "written during the export"}}], "check_duplicates": False},
    )
    path = f"/projects/{scene.project.id}/quality/jobs"
    run_job(client, path, scene.admin, {"method": "majority_vote"})


def api_export(db: Database, scene: Scene, format: str, between: Between | None) -> bytes:
    """The bytes of the export route's response body, with ``between`` called once the first
    chunk's rows are out (the handler runs as a request would run it; the body is read after
    it has returned, as the server reads it)."""
    with db.transaction(write=False) as session:
        user = session.get(User, scene.admin.user.id)
        assert user is not None
        response = data_routes.export(scene.project.id, db, session, user, format=format)

    async def read() -> bytes:
        out: list[bytes] = []
        async for piece in response.body_iterator:
            assert isinstance(piece, bytes)
            out.append(piece)
            if between is not None and len(out) == ROWS_IN_FIRST_CHUNK:
                between()
        return b"".join(out)

    return anyio.run(read)


class _Output(io.BytesIO):
    def __init__(self, between: Between | None) -> None:
        super().__init__()
        self.between, self.writes = between, 0

    def write(self, piece: Any) -> int:
        written = super().write(piece)
        self.writes += 1
        if self.between is not None and self.writes == ROWS_IN_FIRST_CHUNK:
            self.between()
        return written


def cli_export(
    db: Database,
    scene: Scene,
    format: str,
    between: Between | None,
    monkeypatch: pytest.MonkeyPatch,
) -> bytes:
    """The bytes ``accord export PROJECT --out -`` writes on this database, with ``between``
    called once the first chunk's rows are written."""
    output = _Output(between)
    with monkeypatch.context() as patched:
        patched.setattr(cli, "_local", lambda: db)
        patched.setattr(sys, "stdout", SimpleNamespace(buffer=output))
        cli.export(str(scene.project.id), Path("-"), format=format)
    return output.getvalue()


def parsed(content: bytes, format: str) -> list[Any]:
    if format == "jsonl":
        return [json.loads(line) for line in content.decode().splitlines()]
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.mark.parametrize(
    ("entry", "format"), [("api", "jsonl"), ("api", "csv"), ("cli", "jsonl"), ("cli", "csv")]
)
def test_an_export_is_the_project_as_it_started(
    client: TestClient,
    db: Database,
    scene: Scene,
    entry: str,
    format: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exports, "CHUNK", ROWS_IN_FIRST_CHUNK)
    monkeypatch.setattr(exporters, "CHUNK", 1)  # a byte chunk per row (CSV: the header first)

    def export(between: Between | None = None) -> bytes:
        if entry == "api":
            return api_export(db, scene, format, between)
        return cli_export(db, scene, format, between, monkeypatch)

    before = export()
    rows = parsed(before, format)
    during = export(lambda: write_meanwhile(client, scene))
    after = export()

    # the writes were committed, and change rows of the later chunks only
    if format == "jsonl":
        assert [len(r["annotations"]) for r in rows] == [2, 1, 1, 2, 0]
        assert rows[2]["consensus"]["sentiment"]["label"] == "positive"
        changed = parsed(after, format)
        assert [r["id"] for r in changed[:5]] == [r["id"] for r in rows]
        assert [len(r["annotations"]) for r in changed] == [2, 1, 3, 2, 1, 0]
        assert changed[2]["consensus"]["sentiment"]["label"] == "negative"
        assert changed[2]["status"] != rows[2]["status"]
        assert changed[5]["data"] == {"text": "written during the export"}
        assert changed[:2] == rows[:2]
    else:
        assert [r["item_id"] for r in rows] == [str(scene.items[i]) for i in (0, 0, 1, 2, 3, 3, 4)]
        assert len(parsed(after, format)) == len(rows) + 3
    # the export that ran across them is the one from before, byte for byte
    assert parsed(during, format) == rows
    assert during == before


@pytest.mark.pg
def test_a_snapshot_is_repeatable_read_and_read_only_on_postgresql(db: Database) -> None:
    # One pooled connection, so that the transaction after the snapshot runs on the same one.
    engine = create_engine(db.url, pool_size=1, max_overflow=0)
    single = Database(db.url, engine, engine)
    try:
        show = "SELECT current_setting('transaction_isolation'), "
        show += "current_setting('transaction_read_only'), pg_backend_pid()"
        with single.snapshot() as session:
            level, read_only, pid = session.execute(text(show)).one()
        assert (level, read_only) == ("repeatable read", "on")
        with (
            pytest.raises(DBAPIError, match="read-only transaction"),
            single.snapshot() as session,
        ):
            session.execute(update(Project).where(Project.id == -1).values(name="x"))
        # the pooled connection is back to the defaults afterwards
        with single.transaction(write=False) as session:
            assert session.execute(text(show)).one() == ("read committed", "off", pid)
    finally:
        single.dispose()
