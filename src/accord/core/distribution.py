"""Who gets how much of what: metadata groups for the stratified queue, their target shares, and
daily quotas."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from accord.core.progress import own_submissions
from accord.db.models import Assignment, Item, Project, utcnow
from accord.errors import InvalidInput, QuotaReached

MAX_STRATUM = 500
CHUNK = 5000
OTHERS = "*"
"""The key of ``stratify_shares`` whose share the groups not named there split equally."""
SHOWN = 10


def stratum_of(meta: Mapping[str, Any], key: str | None) -> str | None:
    """The group an item belongs to: its ``key`` metadata value as text (JSON for numbers and
    booleans, so 1 and "1" stay apart only where JSON would), or None."""
    if key is None or meta.get(key) is None:
        return None
    value = meta[key]
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text[:MAX_STRATUM]


def check_settings(project: Project) -> None:
    if project.strategy == "stratified" and not project.stratify_by:
        message = "the stratified order needs stratify_by, the metadata field to balance"
        raise InvalidInput(message, [{"field": "stratify_by", "rule": "required", "msg": message}])


def known_strata(session: Session, project: Project) -> list[str]:
    """The groups the project's items form (any status; an index skip-scan, one seek per
    group), without the group of the items that lack the field."""
    where = Item.project_id == project.id
    found: list[str] = []
    value = session.scalar(select(func.min(Item.stratum)).where(where))
    while value is not None:
        found.append(value)
        value = session.scalar(select(func.min(Item.stratum)).where(where, Item.stratum > value))
    return found


def _listed(values: Sequence[str]) -> str:
    shown = ", ".join(repr(v) for v in values[:SHOWN])
    return shown + (f" and {len(values) - SHOWN} more" if len(values) > SHOWN else "")


def _refuse(rule: str, msg: str) -> dict[str, Any]:
    return {"field": "stratify_shares", "rule": rule, "msg": msg}


def check_share_values(shares: Mapping[str, Any] | None) -> None:
    """Target shares must be numbers of 0 or more, at least one above 0 (checked before they
    are set: PostgreSQL would refuse a NaN in a JSON column with an error of its own)."""
    if not shares:
        return
    bad = [
        key
        for key, value in shares.items()
        if isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ]
    if bad:
        msg = f"stratify_shares must be numbers of 0 or more; not so for {_listed(sorted(bad))}"
        raise InvalidInput(msg, [_refuse("non_negative", msg)])
    if sum(shares.values()) <= 0:
        msg = "at least one share of stratify_shares must be above 0"
        raise InvalidInput(msg, [_refuse("positive_total", msg)])


def check_shares(session: Session, project: Project) -> None:
    """The project's target shares need ``stratify_by`` and may name only groups its items
    have, or "*"."""
    shares = project.stratify_shares
    if not shares:
        return
    if not project.stratify_by:
        msg = "stratify_shares needs stratify_by, the metadata field whose groups get the shares"
        raise InvalidInput(msg, [_refuse("requires_stratify_by", msg)])
    known = known_strata(session, project)
    unknown = sorted(set(shares) - set(known) - {OTHERS})
    if unknown:
        msg = (
            f"stratify_shares names {_listed(unknown)}, which no item has as "
            f"{project.stratify_by!r}; use the groups of the items "
            f'({_listed(known) or "none yet"}) or "*" for all others'
        )
        raise InvalidInput(msg, [_refuse("known_group", msg)])


def served_counts(session: Session, project: Project, user_id: int) -> dict[str | None, int]:
    """Items this annotator holds or answered (gold items aside), by group: the history the
    target shares are tracked against. Reads only this annotator's assignments."""
    rows = session.execute(
        select(Item.stratum, func.count())
        .select_from(Assignment)
        .join(Item, Item.id == Assignment.item_id)
        .where(
            Assignment.project_id == project.id,
            Assignment.user_id == user_id,
            Assignment.state.in_(("leased", "submitted", "returned")),
            Item.status != "gold",
        )
        .group_by(Item.stratum)
    ).all()
    return {stratum: n for stratum, n in rows}


def share_order(
    groups: Sequence[str | None], shares: Mapping[str, float], served: Mapping[str | None, int]
) -> list[str | None]:
    """The open ``groups`` in the order a stratified pick tries them under target shares.

    A group named in ``shares`` has its share; the groups not named (items without the field
    among them) split the share of "*" equally (0 without "*"). The shares are normalised over
    the open groups, so a group that ran out gives its share to the others in proportion.

    With n items served among these groups and k groups of share above 0, a group is *due* when
    it is at least 1/(2k-2) item behind its share, ``p * (n + 1) - served >= 1/(2k-2)``; the due
    group whose next item is most urgent, smallest ``(served + 1 - 1/(2k-2)) / p``, goes first.
    This is Tijdeman's rule for the chairman assignment problem: every group then stays less
    than one item away from its share (|served - p * n| <= 1 - 1/(2k-2)) while all have work
    left. The other groups follow by how far they are behind; groups with share 0 come last,
    in random order (served only when nothing else is left). Ties are broken at random."""
    others = [g for g in groups if g is None or g not in shares]
    weights: dict[str | None, float] = {
        g: float(shares[g]) for g in groups if g is not None and g in shares
    }
    for g in others:
        weights[g] = float(shares.get(OTHERS, 0.0)) / len(others)
    wanted = [g for g in groups if weights[g] > 0]
    rest = [g for g in groups if weights[g] <= 0]
    random.shuffle(wanted)
    random.shuffle(rest)
    if not wanted:
        return rest
    total = sum(weights[g] for g in wanted)
    share = {g: weights[g] / total for g in wanted}
    n = sum(served.get(g, 0) for g in wanted)
    slack = 1 / (2 * len(wanted) - 2) if len(wanted) > 1 else 0.0
    behind = {g: share[g] * (n + 1) - served.get(g, 0) for g in wanted}
    due = [g for g in wanted if behind[g] >= slack - 1e-12]
    due.sort(key=lambda g: (served.get(g, 0) + 1 - slack) / share[g])  # stable: ties shuffled
    first = set(due)
    later = [g for g in wanted if g not in first]
    later.sort(key=lambda g: -behind[g])
    return due + later + rest


def restratify(session: Session, project: Project) -> int:
    """Recompute every item's group after ``stratify_by`` changed; returns the items updated.

    Values that SQL renders exactly as :func:`stratum_of` does (strings, integers, booleans,
    null or no value) are grouped by one UPDATE in the database, so a project of 500,000 items
    holds the write lock for a second or two rather than for the half-minute of a round trip
    per item; the others (decimals, lists, objects, and every value under a key SQL cannot
    address) are read and written here, in chunks."""
    key = project.stratify_by
    items = Item.__table__.c
    if key is None:
        cleared = session.execute(
            update(Item)
            .where(items.project_id == project.id, items.stratum.is_not(None))
            .values(stratum=None)
            .execution_options(synchronize_session=False)
        )
        return int(cleared.rowcount)  # type: ignore[attr-defined]
    field = _json_field(session, key)
    done = 0
    if field is not None:
        kind, plain, rendered = field
        grouped = session.execute(
            update(Item)
            .where(items.project_id == project.id, or_(kind.is_(None), plain))
            .values(stratum=rendered)
            .execution_options(synchronize_session=False)
        )
        done = int(grouped.rowcount)  # type: ignore[attr-defined]
        rest = [kind.is_not(None), ~plain]
    else:
        rest = []
    after = 0
    while True:
        rows = session.execute(
            select(Item.id, Item.meta)
            .where(Item.project_id == project.id, Item.id > after, *rest)
            .order_by(Item.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return done
        session.connection().execute(
            update(Item).where(items.id == bindparam("item")).values(stratum=bindparam("group")),
            [{"item": i, "group": stratum_of(meta or {}, key)} for i, meta in rows],
        )
        done += len(rows)
        after = rows[-1][0]


def _json_field(
    session: Session, key: str
) -> tuple[ColumnElement[Any], ColumnElement[bool], ColumnElement[Any]] | None:
    """For the metadata field ``key``, in this database's SQL: its JSON type (NULL when the
    item has no such field), whether its value is one SQL renders as :func:`stratum_of` does,
    and that rendering. None where the key cannot be addressed."""
    dialect = session.get_bind().dialect.name
    meta = Item.__table__.c.meta
    if dialect == "sqlite":
        if any(c in key for c in '"\\'):
            return None
        path = literal(f'$."{key}"')
        kind = func.json_type(meta, path)
        value = func.json_extract(meta, path)
        rendered = case(
            (kind == "text", func.substr(value, 1, MAX_STRATUM)),
            (kind == "integer", cast(value, String)),
            (kind.in_(("true", "false")), kind),
            else_=null(),
        )
        return kind, kind.in_(("text", "integer", "true", "false", "null")), rendered
    if dialect == "postgresql":
        kind = func.json_typeof(meta.op("->")(literal(key)))
        text = meta.op("->>")(literal(key))
        # numbers: the stored text, which stratum_of gives back only for integers
        integer = and_(kind == "number", text.op("~")(r"^-?[0-9]+$"))
        rendered = case(
            (kind == "string", func.substr(text, 1, MAX_STRATUM)),
            (or_(integer, kind == "boolean"), text),
            else_=null(),
        )
        return kind, or_(kind.in_(("string", "boolean", "null")), integer), rendered
    return None


def check_quota(session: Session, project: Project, user_id: int) -> None:
    """Refuse new work once the annotator gave today's quota (work already leased or sent back
    by a reviewer is still served)."""
    if project.daily_quota <= 0:
        return
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    given = own_submissions(session, project, user_id, since=midnight)
    if given >= project.daily_quota:
        resets = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d 00:00 UTC")
        raise QuotaReached(
            f"you gave today's quota of {project.daily_quota} answers on this project; "
            f"more work from {resets}"
        )
