"""Deleting a row the application deletes (an item dropped as a duplicate, the pre-labels a
retrain replaces, the answers of a deleted item) finds the rows that refer to it through an
index: both databases look the referrers up for every deleted row (SQLite to enforce the key,
PostgreSQL in its referential triggers), and without an index each lookup reads the whole
referring table — every answer of the database for each pre-label replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from accord.db.engine import Database

NEVER_DELETED = {"users", "schema_versions", "jobs", "qualifications", "projects"}
"""Rows the application never deletes (people are deactivated, versions and jobs are history,
projects are archived), so a key referring to them is never followed by a deletion."""


def _unindexed(db: Database) -> list[str]:
    with db.read_engine.connect() as conn:
        schema = inspect(conn)
        found = []
        for table in schema.get_table_names():
            indexed = [tuple(ix["column_names"]) for ix in schema.get_indexes(table)]
            indexed += [tuple(uq["column_names"]) for uq in schema.get_unique_constraints(table)]
            indexed.append(tuple(schema.get_pk_constraint(table)["constrained_columns"]))
            for fk in schema.get_foreign_keys(table):
                columns = tuple(fk["constrained_columns"])
                if fk["referred_table"] in NEVER_DELETED:
                    continue
                if columns not in {lead[: len(columns)] for lead in indexed}:
                    found.append(f"{table}.{','.join(columns)} -> {fk['referred_table']}")
    return sorted(found)


def test_every_key_a_deletion_follows_has_an_index_led_by_it(db: Database) -> None:
    assert _unindexed(db) == []


@pytest.mark.parametrize(
    "deleted", ["items", "annotations", "predictions", "model_backends", "gold_answers"]
)
def test_sqlite_deletes_without_scanning_a_table(db: Database, deleted: str) -> None:
    if db.dialect != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; the index check above runs on both")
    with db.read_engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        key = "item_id" if deleted == "gold_answers" else "id"
        plan = conn.execute(text(f"EXPLAIN QUERY PLAN DELETE FROM {deleted} WHERE {key} = 1"))
        steps = [row[3] for row in plan]
    assert steps and all(step.startswith("SEARCH") for step in steps), steps
