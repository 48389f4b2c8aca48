"""Who gets how much of what: metadata groups for the stratified queue and daily quotas."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from accord.core.progress import own_submissions
from accord.db.models import Item, Project, utcnow
from accord.errors import InvalidInput, QuotaReached

MAX_STRATUM = 500
CHUNK = 5000


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


def restratify(session: Session, project: Project) -> int:
    """Recompute every item's group after ``stratify_by`` changed; returns the items updated."""
    done = 0
    after = 0
    while True:
        rows = session.execute(
            select(Item.id, Item.meta)
            .where(Item.project_id == project.id, Item.id > after)
            .order_by(Item.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return done
        items = Item.__table__.c
        session.connection().execute(
            update(Item).where(items.id == bindparam("item")).values(stratum=bindparam("group")),
            [{"item": i, "group": stratum_of(meta or {}, project.stratify_by)} for i, meta in rows],
        )
        done += len(rows)
        after = rows[-1][0]


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
