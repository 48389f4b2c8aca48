"""Small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

from accord.core import imports
from accord.db.engine import Database
from accord.db.models import Project, User
from accord.io import read_records_from_objects


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
