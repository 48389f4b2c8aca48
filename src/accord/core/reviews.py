"""Review: a reviewer accepts an annotation, rejects it (it goes back to its author's queue with
the reason) or fixes it (a new version by the reviewer). Every verdict is a row of its own."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from accord.core import annotations as annotation_ops
from accord.core import assignment, audit, suspects
from accord.db.models import Annotation, Item, Project, Review, User
from accord.errors import Conflict, InvalidInput

VERDICTS = ("accepted", "rejected", "fixed")


def review(
    session: Session,
    project: Project,
    reviewer: User,
    annotation: Annotation,
    verdict: str,
    *,
    reason: str | None = None,
    result: Mapping[str, Any] | None = None,
) -> Review:
    if verdict not in VERDICTS:
        raise InvalidInput(
            f"verdict must be one of {', '.join(VERDICTS)}",
            [{"field": "verdict", "rule": "choice"}],
        )
    if not annotation.is_latest or annotation.skipped:
        raise Conflict(f"annotation {annotation.id} is not a current answer to review")
    reason = (reason or "").strip() or None
    fixed: Annotation | None = None
    if verdict == "rejected":
        if reason is None:
            raise InvalidInput(
                "say why the annotation is rejected: its author will read it",
                [{"field": "reason", "rule": "required"}],
            )
        if annotation.user_id is None:
            raise Conflict("the author of this annotation no longer exists")
        assignment.return_to_annotator(session, project, annotation.item_id, annotation.user_id)
        annotation_ops.unindex_labels(session, annotation)
    elif verdict == "fixed":
        if result is None:
            raise InvalidInput(
                "a fix needs the corrected result", [{"field": "result", "rule": "required"}]
            )
        fixed = annotation_ops.revise(
            session, project, reviewer, annotation, result, may_edit_others=True
        )
        # the reviewer's own correction is not reviewed again
        fixed.review_required = fixed.awaiting_review = False
    if verdict != "accepted":
        suspects.confirm_open(session, project, annotation.item_id, reviewer)
    annotation.awaiting_review = False
    row = Review(
        project_id=project.id,
        annotation_id=annotation.id,
        reviewer_id=reviewer.id,
        verdict=verdict,
        reason=reason,
        fixed_annotation_id=fixed.id if fixed else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_id=reviewer.id,
        action=f"review.{verdict}",
        entity="annotation",
        entity_id=annotation.id,
        project_id=project.id,
        before_id=annotation.id,
        after_id=fixed.id if fixed else None,
        reason=reason,
    )
    return row


def accepted_reviews(
    session: Session, project: Project, user_id: int, *, up_to: int | None = None
) -> int:
    """How many of this author's answers in the project a reviewer accepted; with ``up_to``,
    counting stops there (the review policy only asks whether the author reached a number)."""
    accepted = (
        select(Review.id)
        .join(Annotation, Annotation.id == Review.annotation_id)
        .where(
            Annotation.project_id == project.id,
            Annotation.user_id == user_id,
            Review.verdict == "accepted",
        )
        .limit(up_to)
    )
    found = session.scalar(select(func.count()).select_from(accepted.subquery()))
    return int(found or 0)


def needs_review(session: Session, project: Project, user_id: int) -> bool:
    """The project's review policy for a new answer by this author: none, a random sample at
    ``review_sample_rate``, all, or all until the author has ``review_new_until`` accepted
    reviews in the project."""
    policy = project.review_policy
    if policy == "none":
        return False
    if policy == "sample":
        return random.random() < project.review_sample_rate
    if policy == "new_annotators":
        until = project.review_new_until
        return accepted_reviews(session, project, user_id, up_to=until) < until
    return True


def apply_policy(
    session: Session, project: Project, annotation: Annotation, revises: Annotation | None
) -> None:
    """Set ``review_required`` on a submitted answer, which puts it in the review queue; a redo
    keeps the flag of what it redoes."""
    if revises is not None:
        annotation.review_required = revises.review_required
    elif annotation.user_id is not None:
        annotation.review_required = needs_review(session, project, annotation.user_id)
    annotation.awaiting_review = annotation.review_required


# In the review queue (``Annotation.awaiting_review``), read through the queue's index.
_AWAITING = Annotation.awaiting_review == true()


def next_item_to_review(session: Session, project: Project, *, after: int = 0) -> Item | None:
    """The first item after ``after`` holding a current annotation nobody has reviewed."""
    item_id = session.scalar(
        select(Annotation.item_id)
        .where(Annotation.project_id == project.id, Annotation.item_id > after, _AWAITING)
        .order_by(Annotation.item_id)
        .limit(1)
    )
    return session.get(Item, item_id) if item_id is not None else None


def count_to_review(session: Session, project: Project) -> int:
    found = session.scalar(
        select(func.count(func.distinct(Annotation.item_id))).where(
            Annotation.project_id == project.id, _AWAITING
        )
    )
    return int(found or 0)


@dataclass(frozen=True)
class ReviewedAnnotation:
    annotation: Annotation
    author: str | None
    verdicts: list[Review]


def item_annotations(
    session: Session, item: Item, *, waiting_only: bool = False
) -> list[ReviewedAnnotation]:
    """The item's current, non-skipped annotations with their authors and verdicts; with
    ``waiting_only``, those the review policy queued that have no verdict yet."""
    conditions = (
        (_AWAITING,)
        if waiting_only
        else (
            Annotation.is_latest.is_(True),
            Annotation.skipped.is_(False),
        )
    )
    rows = session.execute(
        select(Annotation, User.username)
        .outerjoin(User, User.id == Annotation.user_id)
        .where(Annotation.item_id == item.id, *conditions)
        .order_by(Annotation.id)
    ).all()
    ids = [a.id for a, _ in rows]
    verdicts: dict[int, list[Review]] = {i: [] for i in ids}
    for r in session.scalars(
        select(Review).where(Review.annotation_id.in_(ids)).order_by(Review.id)
    ):
        verdicts[r.annotation_id].append(r)
    return [ReviewedAnnotation(a, name, verdicts[a.id]) for a, name in rows]


def rework_of(session: Session, item_id: int, user_id: int) -> tuple[Annotation, Review] | None:
    """The annotator's rejected answer to this item and the rejection, if it was sent back."""
    row = session.execute(
        select(Annotation, Review)
        .join(Review, Review.annotation_id == Annotation.id)
        .where(
            Annotation.item_id == item_id,
            Annotation.user_id == user_id,
            Annotation.is_latest.is_(True),
            Review.verdict == "rejected",
        )
        .order_by(Review.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
