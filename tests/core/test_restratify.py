"""Regrouping a project's items after ``stratify_by`` changes: most values are grouped by one
UPDATE in SQL, the rest in Python, and every item ends in the group the import would have given
it (``stratum_of``), on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from accord.core import distribution
from accord.core.distribution import stratum_of
from accord.db.engine import Database
from accord.db.models import Item, Project
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory

_MISSING = object()
VALUES: list[Any] = [
    "en",
    "ünïcödé ✓",
    "x" * 600,  # cut to 500 characters
    'say "hi"',
    "",
    "42",  # a string, apart from the number 42
    42,
    0,
    -7,
    2**62,
    1.0,
    0.1,
    1 / 3,
    1e20,
    True,
    False,
    None,
    [1, "a"],
    {"b": 1, "a": [2, {"d": None, "c": 1.5}]},
    _MISSING,
]
KEYS = ["lang", "source.name", "with space", "ünï", 'quo"te', "back\\slash"]


def _metas(key: str) -> list[dict[str, Any]]:
    return [{} if v is _MISSING else {key: v, "other": n} for n, v in enumerate(VALUES)]


def _at(value: Any) -> int:
    """The position of ``value`` in VALUES (True is not 1.0 here)."""
    return next(n for n, v in enumerate(VALUES) if type(v) is type(value) and v == value)


def _groups(db: Database, project: Project) -> list[str | None]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(Item.stratum).where(Item.project_id == project.id).order_by(Item.id)
            )
        )


def _regroup(db: Database, project: Project, key: str | None) -> int:
    with db.transaction() as session:
        row = session.get(Project, project.id)
        assert row is not None
        row.stratify_by = key
        return distribution.restratify(session, row)


@pytest.mark.parametrize("key", KEYS)
def test_regrouping_gives_every_item_the_group_the_import_gives(
    db: Database, factory: Factory, admin: Actor, key: str
) -> None:
    metas = _metas(key)
    expected = [stratum_of(m, key) for m in metas]
    assert expected[_at("x" * 600)] == "x" * 500
    assert expected[_at("42")] == expected[_at(42)] == "42"
    assert expected[_at(True)] == "true" and expected[_at(None)] is None
    assert expected[_at(1.0)] == "1.0"

    grouped_at_import = factory.project(admin, stratify_by=key)
    add_items(db, grouped_at_import, admin.user, [f"t{n}" for n in range(len(metas))], metas)
    assert _groups(db, grouped_at_import) == expected

    later = factory.project(admin)
    add_items(db, later, admin.user, [f"t{n}" for n in range(len(metas))], metas)
    assert set(_groups(db, later)) == {None}
    assert _regroup(db, later, key) >= sum(g is not None for g in expected)
    assert _groups(db, later) == expected

    # another field, then none: the groups follow, and clearing touches only grouped items
    _regroup(db, later, "other")
    assert _groups(db, later) == [stratum_of(m, "other") for m in metas]
    assert _regroup(db, later, None) == len(metas) - 1  # the item without metadata had none
    assert set(_groups(db, later)) == {None}
