"""Shared test setup: one real database per test session, migrated to head once.

SQLite (a temporary file) by default; the real PostgreSQL when ACCORD_TEST_DATABASE_URL is set.
Tests create what they need through the factories below and never depend on each other's rows.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.config import Settings
from accord.core import projects, users
from accord.db.engine import Database, open_database
from accord.db.migrate import upgrade
from accord.db.models import Project, User

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"

TEXT_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "choices",
            "field": "text",
            "required": True,
            "labels": [{"value": "positive", "hotkey": "1"}, {"value": "negative", "hotkey": "2"}],
        },
        {"name": "entities", "type": "spans", "field": "text", "labels": ["PER", "ORG", "LOC"]},
    ],
}


def sentiment_schema(*labels: str) -> dict[str, Any]:
    """A text field and one required single choice, ``sentiment``, over ``labels``."""
    return {
        "fields": [{"name": "text", "type": "text"}],
        "controls": [
            {
                "name": "sentiment",
                "type": "choices",
                "field": "text",
                "required": True,
                "labels": list(labels or ("positive", "negative")),
            }
        ],
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("ACCORD_TEST_DATABASE_URL"):
        # The PostgreSQL pass repeats only what reaches the database through the session's
        # fixtures; pure library tests already ran in the SQLite pass.
        uses = [(item, "settings" in getattr(item, "fixturenames", ())) for item in items]
        unused = [item for item, used in uses if not used]
        if unused:
            config.hook.pytest_deselected(items=unused)
            items[:] = [item for item, used in uses if used]
        return
    skip = pytest.mark.skip(reason="needs ACCORD_TEST_DATABASE_URL (a PostgreSQL server)")
    for item in items:
        if "pg" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("accord-data")
    url = os.environ.get("ACCORD_TEST_DATABASE_URL")
    return Settings(
        data_dir=data_dir, database_url=url, sqlite_synchronous="NORMAL", quality_check_seconds=0
    )


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings)
    upgrade(database.url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> Any:
    return create_app(settings, db)


@pytest.fixture()
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Actor:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    """Creates users, tokens and projects directly through the core, committed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def user(self, *, admin: bool = False, password: str = "password123") -> Actor:
        with self.db.transaction() as session:
            user = users.create_user(session, unique("user"), password, is_admin=admin)
            _, token = users.create_token(session, user, "test", actor_id=None)
        return Actor(user, token)

    def project(
        self,
        owner: Actor,
        *,
        schema: dict[str, Any] | None = None,
        members: dict[str, Actor] | None = None,
        **settings: Any,
    ) -> Project:
        with self.db.transaction() as session:
            owner_user = session.get(User, owner.user.id)
            assert owner_user is not None
            project = projects.create_project(
                session, owner_user, unique("project"), schema or TEXT_SCHEMA, **settings
            )
            for role, actor in (members or {}).items():
                member = session.get(User, actor.user.id)
                assert member is not None
                projects.set_member(
                    session, project, member, role.rstrip("0123456789"), actor_id=owner.user.id
                )
        return project


@pytest.fixture(scope="session")
def factory(db: Database) -> Factory:
    return Factory(db)


@pytest.fixture()
def admin(factory: Factory) -> Actor:
    return factory.user(admin=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(settings: Settings, db: Database) -> Iterator[str]:
    """An app of its own served by a real uvicorn on loopback, for tests that need real HTTP
    (its lifespan, and so its job runner, must not be shared with the in-process clients)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        create_app(settings, db), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
