"""A condition for "the column is one of these ids" that stays cheap for thousands of ids."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute


def among(
    column: InstrumentedAttribute[int], ids: Collection[int]
) -> tuple[ColumnElement[bool], set[int] | None]:
    """The condition for rows whose ``column`` is one of ``ids``, and the ids the rows it
    selects must still be checked against (``None``: all of them are wanted).

    Ids that fill at least half of their span (a chunk of an export without filters) are read as
    a range: one index range scan instead of a probe per id, and no thousand bound parameters
    rendered into every statement. The rows of ids in the gaps are then left to the caller to
    drop. Sparser ids go as an IN list."""
    wanted = set(ids)
    if not wanted:
        return column.in_(()), None
    low, high = min(wanted), max(wanted)
    span = high - low + 1
    if span == len(wanted):
        return column.between(low, high), None
    if span <= 2 * len(wanted):
        return column.between(low, high), wanted
    return column.in_(sorted(wanted)), None
