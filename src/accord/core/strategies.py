"""Queue strategies: which open item an annotator gets next. Pluggable by name.

Every strategy picks among the same candidates (open items with a free overlap slot that this
annotator has never held, in the import batches of the highest priority that still have some)
and only decides their order. On PostgreSQL the chosen row is locked with FOR UPDATE SKIP
LOCKED, so concurrent requests never wait on, or take, the same slot.

``register_strategy`` is the hook for other orders (e.g. a model's uncertainty): a strategy is
any object with a ``name`` and a ``pick`` method; build on ``candidates`` to keep the rules.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from accord.core import distribution
from accord.core.overlap import needed
from accord.db.models import Assignment, ImportBatch, Item, Project


def candidates(project: Project, user_id: int, batches: Sequence[int] | None = None) -> Select[int]:
    """Items this annotator may be given; ``batches`` limits them to those import batches."""
    held = exists().where(Assignment.item_id == Item.id, Assignment.user_id == user_id)
    query = select(Item.id).where(
        Item.project_id == project.id,
        Item.status == "open",
        Item.n_assigned < needed(project),
        ~held,
    )
    return query if batches is None else query.where(Item.batch_id.in_(batches))


def priority_levels(session: Session, project: Project) -> list[list[int] | None]:
    """The project's import batches grouped by priority, highest first; ``[None]`` (no
    restriction) when every batch has the same priority."""
    rows = session.execute(
        select(ImportBatch.priority, ImportBatch.id)
        .where(ImportBatch.project_id == project.id)
        .order_by(ImportBatch.priority.desc(), ImportBatch.id)
    ).all()
    levels: dict[int, list[int]] = {}
    for priority, batch_id in rows:
        levels.setdefault(priority, []).append(batch_id)
    if len(levels) <= 1:
        return [None]
    return list(levels.values())


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
        for batches in priority_levels(session, project):
            query = candidates(project, user_id, batches).order_by(Item.id)
            found = _first(session, query, lock)
            if found is not None:
                return found
        return None


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
        for batches in priority_levels(session, project):
            base = candidates(project, user_id, batches)
            found = _first(session, base.where(Item.id >= start).order_by(Item.id), lock)
            if found is None:
                found = _first(session, base.where(Item.id < start).order_by(Item.id), lock)
            if found is not None:
                return found
        return None


class Stratified:
    """Balance the groups of the project's ``stratify_by`` metadata field: each pick chooses a
    group uniformly at random among those with work left, then its first item. Every group is
    labeled at the same pace until it runs out, so a group of 1% of the items is done early
    instead of last; items without the field form a group of their own.

    With ``stratify_shares`` (target shares per group) the group is the one furthest below its
    share of the annotator's items so far (``distribution.share_order``)."""

    name = "stratified"

    def pick(self, session: Session, project: Project, user_id: int, *, lock: bool) -> int | None:
        groups = open_strata(session, project)
        if project.stratify_shares:
            served = distribution.served_counts(session, project, user_id)
            groups = distribution.share_order(groups, project.stratify_shares, served)
        else:
            random.shuffle(groups)
        for batches in priority_levels(session, project):
            for group in groups:
                same = Item.stratum.is_(None) if group is None else Item.stratum == group
                query = candidates(project, user_id, batches).where(same).order_by(Item.id)
                found = _first(session, query, lock)
                if found is not None:
                    return found
        return None


def open_strata(session: Session, project: Project) -> list[str | None]:
    """The distinct groups that still have open items (an index skip-scan: one seek per group,
    whatever the number of items)."""
    where = (Item.project_id == project.id, Item.status == "open")
    found: list[str | None] = []
    if session.scalar(select(Item.id).where(*where, Item.stratum.is_(None)).limit(1)):
        found.append(None)
    value = session.scalar(select(func.min(Item.stratum)).where(*where))
    while value is not None:
        found.append(value)
        value = session.scalar(select(func.min(Item.stratum)).where(*where, Item.stratum > value))
    return found


STRATEGIES: dict[str, QueueStrategy] = {
    s.name: s for s in (Sequential(), RandomOrder(), Stratified())
}


def register_strategy(strategy: QueueStrategy) -> None:
    STRATEGIES[strategy.name] = strategy


def get_strategy(name: str) -> QueueStrategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown queue strategy {name!r}") from None


# The model-driven strategies (least_confidence, margin, ...) register themselves on import.
from accord.core import model_queue  # noqa: E402,F401
