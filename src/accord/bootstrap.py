"""First start: migrate to head, create the first administrator, optionally a demo project."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select

from accord.config import Settings, get_settings
from accord.core import imports, projects, users
from accord.db.engine import Database, open_database
from accord.db.migrate import upgrade
from accord.db.models import Project, User
from accord.io import read_records

DEMO_PROJECT = "Demo: movie review sentiment"


@dataclass
class FirstAdmin:
    username: str
    password: str | None  # set only when it was generated now


def migrate(settings: Settings) -> Database:
    db = open_database(settings)
    upgrade(db.url)
    return db


def ensure_admin(
    db: Database, username: str = "admin", password: str | None = None
) -> FirstAdmin | None:
    """Create the first administrator when there is no user yet; None if users exist."""
    with db.transaction() as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            return None
        generated = password is None
        secret = password or secrets.token_urlsafe(12)
        users.create_user(session, username, secret, is_admin=True)
        return FirstAdmin(username, secret if generated else None)


def ensure_demo(db: Database, settings: Settings | None = None) -> int | None:
    """Create the demo project (a few hundred real sentences) once; returns its id if created.

    Its import is checked for duplicates as every import is: here and now, as a recorded job
    (the server's job runner has not started yet, and 300 sentences take a moment)."""
    from accord.jobs.duplicate_kinds import check_after_import
    from accord.jobs.runners import InlineRunner, follow_up_on

    demo = resources.files("accord.demo")
    with db.transaction() as session:
        if session.scalar(select(Project.id).where(Project.name == DEMO_PROJECT)) is not None:
            return None
        admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
        if admin is None:
            return None
        project = projects.create_project(
            session,
            admin,
            DEMO_PROJECT,
            demo.joinpath("schema.yaml").read_text(),
            guidelines=demo.joinpath("guidelines.md").read_text(),
            description="300 sentences from SST-2 (see the package's demo/ATTRIBUTION.md).",
            overlap=1,
        )
        with demo.joinpath("sst2_sample.jsonl").open("rb") as stream:
            report = imports.import_records(
                session,
                project,
                admin,
                read_records(stream, format="jsonl"),
                source="demo/sst2_sample.jsonl",
                format="jsonl",
            )
        project_id, admin_id = project.id, admin.id
    runner = InlineRunner(db, settings or get_settings())
    origin = {"import_batch_id": report.batch_id}
    check_after_import(db, follow_up_on(db, runner), project_id, admin_id, origin)
    return project_id
