"""The work queue: leases that honour overlap N, never serve an item twice to one person,
and expire.

Counters on the item row (``n_assigned``: live leases + submissions, ``n_done``: submissions) are
changed only by single UPDATE statements with arithmetic in SQL, so concurrent transactions on
PostgreSQL never lose an increment; on SQLite write transactions are serialised anyway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from accord.core import audit, distribution, gold, overlap, training
from accord.core.strategies import get_strategy
from accord.db.models import Assignment, Item, Membership, Project, utcnow
from accord.errors import Conflict, Forbidden

MAX_PICK_ATTEMPTS = 5
_HANDED_OVER = (
    "item {item_id} was sent back to you and handed to other annotators while you were paused"
)


@dataclass(frozen=True)
class Lease:
    item: Item
    expires_at: datetime
    rework: bool = False  # a reviewer sent the annotator's answer back: see core/reviews.py


def has_free_slot(project: Project) -> ColumnElement[bool]:
    """An open item with a slot left under the answers it needs, or a gold item (served to
    everyone once)."""
    return or_(
        and_(Item.status == "open", Item.n_assigned < overlap.needed(project)),
        Item.status == "gold",
    )


def reclaim_expired(session: Session, project: Project, now: datetime) -> int:
    """Return expired leases to the pool. DELETE … RETURNING decides who reclaims what, so two
    concurrent reclaimers never free one slot twice."""
    freed = session.scalars(
        delete(Assignment)
        .where(
            Assignment.project_id == project.id,
            Assignment.state == "leased",
            Assignment.expires_at <= now,
        )
        .returning(Assignment.item_id)
    ).all()
    _free_slots(session, freed)
    return len(freed)


def release_leases(session: Session, project: Project, user_id: int) -> list[int]:
    """Give back every item the member holds on a lease, expired or not, so that others get the
    slots at once (when the gold rule pauses them). Returns the freed item ids."""
    freed = session.scalars(
        delete(Assignment)
        .where(
            Assignment.project_id == project.id,
            Assignment.user_id == user_id,
            Assignment.state == "leased",
        )
        .returning(Assignment.item_id)
    ).all()
    _free_slots(session, freed)
    return sorted(freed)


def release_returned(session: Session, project: Project, user_id: int) -> list[int]:
    """Hand the work a reviewer sent back to this member over to others (when the gold rule
    pauses them; a rejection of a paused member's answer does the same at once): the slot is
    freed, their rejected answer stays on record, and the item is never served to them again
    (state ``released``). Returns the item ids."""
    released = session.scalars(
        update(Assignment)
        .where(
            Assignment.project_id == project.id,
            Assignment.user_id == user_id,
            Assignment.state == "returned",
        )
        .values(state="released", finished_at=utcnow())
        .returning(Assignment.item_id)
    ).all()
    _free_slots(session, released)
    return sorted(released)


def _free_slots(session: Session, item_ids: Sequence[int]) -> None:
    """One slot less on each item per deleted lease (one UPDATE per item, arithmetic in SQL)."""
    if not item_ids:
        return
    items = Item.__table__.c
    session.connection().execute(
        update(Item)
        .where(items.id == bindparam("item"))
        .values(n_assigned=items.n_assigned - bindparam("n")),
        [{"item": item, "n": n} for item, n in Counter(item_ids).items()],
    )


def check_not_paused(session: Session, project: Project, user_id: int) -> None:
    """Forbidden while the member is paused on the project (the gold rule): no new lease and no
    answer until a manager resumes them."""
    membership = session.get(Membership, (project.id, user_id))
    if membership is not None and membership.paused_at is not None:
        raise Forbidden(
            f"you are paused on this project: {membership.pause_reason}; "
            "a manager can let you continue"
        )


def current_lease(session: Session, project: Project, user_id: int, now: datetime) -> Lease | None:
    row = session.execute(
        select(Item, Assignment.expires_at)
        .join(Assignment, Assignment.item_id == Item.id)
        .where(
            Assignment.project_id == project.id,
            Assignment.user_id == user_id,
            Assignment.state == "leased",
            Assignment.expires_at > now,
        )
        .order_by(Assignment.id)
        .limit(1)
    ).first()
    return Lease(row[0], row[1]) if row and row[1] is not None else None


def returned_item(session: Session, project: Project, user_id: int, now: datetime) -> Lease | None:
    """The oldest answer a reviewer sent back to this annotator. Its assignment keeps its slot
    (state ``returned``) until the annotator submits again, so it never expires to others."""
    item = session.scalar(
        select(Item)
        .join(Assignment, Assignment.item_id == Item.id)
        .where(
            Assignment.project_id == project.id,
            Assignment.user_id == user_id,
            Assignment.state == "returned",
        )
        .order_by(Assignment.finished_at, Assignment.id)
        .limit(1)
    )
    if item is None:
        return None
    return Lease(item, now + timedelta(seconds=project.lease_seconds), rework=True)


def next_item(session: Session, project: Project, user_id: int) -> Lease | None:
    """Work sent back by a reviewer first, then the annotator's current lease, then a new lease:
    a gold item at the project's gold rate, otherwise the item the project's strategy picks."""
    now = utcnow()
    check_not_paused(session, project, user_id)
    training.check_gate(session, project, user_id)  # a qualification or recalibration is due
    returned = returned_item(session, project, user_id, now)
    if returned is not None:
        return returned
    held = current_lease(session, project, user_id, now)
    if held is not None:
        return held
    distribution.check_quota(session, project, user_id)
    reclaim_expired(session, project, now)
    if gold.wants_gold(project):
        gold_id = gold.pick_gold(session, project, user_id)
        if gold_id is not None:
            lease = _take_slot(session, project, gold_id, user_id, now)
            if lease is not None:
                return lease
    strategy = get_strategy(project.strategy)
    lock = session.get_bind().dialect.name == "postgresql"
    for _ in range(MAX_PICK_ATTEMPTS):
        item_id = strategy.pick(session, project, user_id, lock=lock)
        if item_id is None:
            return None
        lease = _take_slot(session, project, item_id, user_id, now)
        if lease is not None:
            return lease
    raise Conflict("the queue is busy; ask again")


def _take_slot(
    session: Session, project: Project, item_id: int, user_id: int, now: datetime
) -> Lease | None:
    """Take a slot of the item and lease it to the annotator: two statements, the slot's UPDATE
    returning the item and the lease's INSERT doing nothing when this annotator already holds
    the item (the unique (item, user) pair), instead of an ORM flush inside a savepoint."""
    expires = now + timedelta(seconds=project.lease_seconds)
    item = session.scalars(
        update(Item)
        .where(Item.id == item_id, has_free_slot(project))
        .values(n_assigned=Item.n_assigned + 1)
        .returning(Item)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).one_or_none()
    if item is None:
        return None
    leased = session.execute(
        _insert_ignoring_duplicates(session, Assignment)
        .values(
            project_id=project.id,
            item_id=item_id,
            user_id=user_id,
            state="leased",
            leased_at=now,
            expires_at=expires,
        )
        .on_conflict_do_nothing(index_elements=["item_id", "user_id"])
        .returning(Assignment.id)
    ).first()
    if leased is None:
        # The same person asked twice at once and the other request won this item.
        session.execute(
            update(Item).where(Item.id == item_id).values(n_assigned=Item.n_assigned - 1)
        )
        return None
    return Lease(item, expires)


def _insert_ignoring_duplicates(session: Session, table: type[Assignment]) -> Any:
    """INSERT with ON CONFLICT in this database's dialect (SQLite and PostgreSQL share it)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def release(session: Session, project: Project, item_id: int, user_id: int) -> None:
    """Give a leased item back untouched, so that someone else (or the same person) gets it."""
    freed = session.execute(
        delete(Assignment).where(
            Assignment.item_id == item_id,
            Assignment.user_id == user_id,
            Assignment.state == "leased",
        )
    )
    if freed.rowcount:  # type: ignore[attr-defined]
        session.execute(
            update(Item).where(Item.id == item_id).values(n_assigned=Item.n_assigned - 1)
        )
        audit.record(
            session,
            actor_id=user_id,
            action="lease.release",
            entity="item",
            entity_id=item_id,
            project_id=project.id,
        )


def claim_for_submission(session: Session, project: Project, item_id: int, user_id: int) -> bool:
    """Turn the annotator's lease (or returned work) into a submission, or take a free slot
    when there is no lease; True when this answers work a reviewer sent back. Once the answer is
    stored, ``count_submission`` counts it on the item and ``overlap.after_submission`` decides
    whether the item is done.

    An expired lease that nobody reclaimed yet still holds its slot and is accepted."""
    row = session.execute(
        select(Assignment.id, Assignment.state)
        .where(Assignment.item_id == item_id, Assignment.user_id == user_id)
        .with_for_update()
    ).first()
    if row is not None and row.state == "released":
        raise Conflict(_HANDED_OVER.format(item_id=item_id))
    if row is not None and row.state not in ("leased", "returned"):
        raise Conflict(f"you already {row.state} item {item_id}; edit your annotation instead")
    if row is None:
        training.check_gate(session, project, user_id)  # no lease: the queue's gate applies
        taken = session.execute(
            update(Item)
            .where(
                Item.id == item_id,
                Item.status != "excluded",
                or_(Item.status == "gold", Item.n_assigned < overlap.needed(project)),
            )
            .values(n_assigned=Item.n_assigned + 1)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"item {item_id} already has its {project.overlap} annotator(s); "
                "your lease had expired and the item was given to someone else"
            )
        session.add(
            Assignment(
                project_id=project.id,
                item_id=item_id,
                user_id=user_id,
                state="submitted",
                finished_at=utcnow(),
            )
        )
    else:
        session.execute(
            update(Assignment)
            .where(Assignment.id == row.id)
            .values(state="submitted", finished_at=utcnow(), expires_at=None)
        )
    return row is not None and row.state == "returned"


def count_submission(session: Session, item_id: int) -> None:
    """One more submission on the item. Called last, once the answer is stored: on PostgreSQL
    the UPDATE locks the item's row until commit, and the other annotators of the item, who
    often submit at the same moment, wait for that lock."""
    session.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(n_done=Item.n_done + 1)
        .execution_options(synchronize_session=False)
    )


def return_to_annotator(session: Session, project: Project, item_id: int, user_id: int) -> bool:
    """A rejected submission goes back to its author: the slot stays theirs, the item no longer
    counts it as done. When the author is paused on the project the slot goes to others
    instead (see ``release_returned``); returns whether the author keeps it."""
    membership = session.get(Membership, (project.id, user_id))
    keeps = membership is None or membership.paused_at is None
    sent = session.execute(
        update(Assignment)
        .where(
            Assignment.item_id == item_id,
            Assignment.user_id == user_id,
            Assignment.state == "submitted",
        )
        .values(state="returned" if keeps else "released", finished_at=utcnow())
    )
    if sent.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"item {item_id} has no submission of this annotator to send back")
    session.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(
            n_done=Item.n_done - 1,
            n_assigned=Item.n_assigned - (0 if keeps else 1),
            # a gold or excluded item stays what it is; a done item needs this answer again
            status=case((Item.status.in_(("gold", "excluded")), Item.status), else_="open"),
        )
        .execution_options(synchronize_session=False)
    )
    return keeps


def claim_for_skip(session: Session, project: Project, item_id: int, user_id: int) -> None:
    """A skip frees the overlap slot for someone else; the skipper never gets the item again."""
    row = session.execute(
        select(Assignment.id, Assignment.state)
        .where(Assignment.item_id == item_id, Assignment.user_id == user_id)
        .with_for_update()
    ).first()
    if row is not None and row.state == "released":
        raise Conflict(_HANDED_OVER.format(item_id=item_id))
    if row is not None and row.state not in ("leased", "returned"):
        raise Conflict(f"you already {row.state} item {item_id}")
    if row is None:
        session.add(
            Assignment(
                project_id=project.id,
                item_id=item_id,
                user_id=user_id,
                state="skipped",
                finished_at=utcnow(),
            )
        )
        return
    session.execute(
        update(Assignment)
        .where(Assignment.id == row.id)
        .values(state="skipped", finished_at=utcnow(), expires_at=None)
    )
    session.execute(update(Item).where(Item.id == item_id).values(n_assigned=Item.n_assigned - 1))
