"""The Alembic history, run to head, builds exactly the tables, columns and indexes the
ORM models declare (on SQLite here; on PostgreSQL in the second pass of the suite)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from accord.db.engine import Database
from accord.db.models import Base

SEARCH_TABLES = {"items_fts"}
"""PostgreSQL's full-text index table: written by the migrations and raw SQL, not an ORM model
(on SQLite the index lives in a file of its own)."""


def _declared(obj: Any, name: str | None, type_: str, reflected: bool, _other: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in SEARCH_TABLES


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.read_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_object": _declared}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
