"""The Alembic history, run to head, builds exactly the tables, columns and indexes the
ORM models declare (on SQLite here; on PostgreSQL in the second pass of the suite)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from accord.db.engine import Database
from accord.db.models import Base


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.read_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
