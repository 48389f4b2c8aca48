"""Queue strategies: which open item an annotator gets next. Pluggable by name.

Every strategy picks among the same candidates (open items with a free overlap slot that this
annotator has never held) and only decides their order. On PostgreSQL the chosen row is locked
with FOR UPDATE SKIP LOCKED, so concurrent requests never wait on, or take, the same slot.
"""

from __future__ import annotations

import random
from typing import Protocol

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from accord.db.models import Assignment, Item, Project


def candidates(project: Project, user_id: int) -> Select[int]:
    held = exists().where(Assignment.item_id == Item.id, Assignment.user_id == user_id)
    return select(Item.id).where(
        Item.project_id == project.id,
        Item.status == "open",
        Item.n_assigned < project.overlap,
        ~held,
    )


def _first(session: Session, query: Select[int], lock: bool) -> int | None:
    if lock:
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query.limit(1))


class QueueStrategy(Protocol):
    name: str

    def pick(self, session: Session, project: Project, user_id: int, *, lock: bool) -> int | None:
        """The id of the next item for this annotator, or None when nothing is left."""
        ...


class Sequential:
    """Items in import order: the first open item wins, so items complete one after another."""

    name = "sequential"

    def pick(self, session: Session, project: Project, user_id: int, *, lock: bool) -> int | None:
        return _first(session, candidates(project, user_id).order_by(Item.id), lock)


class RandomOrder:
    """A uniformly random position among the open items' ids, taking the first candidate from
    there on (with wrap-around).

    Both lookups run on the queue index, so a pick costs the same as a sequential one at any
    project size; no random key has to be stored and indexed for every item.
    """

    name = "random"

    def pick(self, session: Session, project: Project, user_id: int, *, lock: bool) -> int | None:
        open_items = (Item.project_id == project.id, Item.status == "open")
        low = session.scalar(select(func.min(Item.id)).where(*open_items))
        high = session.scalar(select(func.max(Item.id)).where(*open_items))
        if low is None or high is None:
            return None
        start = random.randint(low, high)
        base = candidates(project, user_id)
        found = _first(session, base.where(Item.id >= start).order_by(Item.id), lock)
        if found is None:
            found = _first(session, base.where(Item.id < start).order_by(Item.id), lock)
        return found


STRATEGIES: dict[str, QueueStrategy] = {s.name: s for s in (Sequential(), RandomOrder())}


def register_strategy(strategy: QueueStrategy) -> None:
    STRATEGIES[strategy.name] = strategy


def get_strategy(name: str) -> QueueStrategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown queue strategy {name!r}") from None
