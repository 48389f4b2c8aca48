"""Gold items (honeypots): items with a known answer, mixed into every annotator's queue.

A gold item has status ``gold`` and a ``gold_answers`` row. It never enters the overlap queue;
instead each annotator is served each gold item at most once, at the project's ``gold_rate``,
exactly like an ordinary item (same payload, nothing tells them apart). Every answer to a gold
item is scored at once against the known answer (``gold_scores``); an annotator whose accuracy
falls under ``gold_pause_below`` after ``gold_min_answers`` gold answers is paused on the
project and its managers are notified; a paused annotator gets no item and may submit no
answer until a manager resumes them, and the items they held on a lease are given back at once.
Gold answers are only ever shown to reviewers and managers, and as feedback to an annotator who
just answered the item in practice, qualification or recalibration (core/training.py), which
burns it as their honeypot.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, delete, exists, func, select, update
from sqlalchemy.orm import Session

from accord.core import audit, overlap
from accord.core.items import get_item, item_context
from accord.core.schemas import current_schema, parsed_schema
from accord.db.models import (
    Annotation,
    Assignment,
    GoldAnswer,
    GoldScore,
    Item,
    Membership,
    Notification,
    PracticeAnswer,
    Project,
    User,
    utcnow,
)
from accord.errors import Conflict, NotFound
from accord.quality import box_f1, match_boxes, span_f1, wilson_interval
from accord.schema import LabelingSchema, validate_result
from accord.schema.model import Boxes, Choices, Spans

STRUCTURED_MATCH = 0.8
"""A spans or boxes answer counts as right when its F1 against the gold answer (exact spans;
boxes at IoU 0.5) reaches this."""


def set_gold(
    session: Session, project: Project, item_id: int, result: Mapping[str, Any], actor: User
) -> GoldAnswer:
    """Make an item gold with this answer (validated like an annotation), or change its answer.
    Its answers so far are scored against the new answer."""
    item = get_item(session, project, item_id)
    schema = parsed_schema(current_schema(session, project).schema)
    clean = validate_result(schema, result, item_context(item))
    gold = session.get(GoldAnswer, item.id)
    before = gold.result if gold is not None else None
    if gold is None:
        gold = GoldAnswer(item_id=item.id, project_id=project.id, result=clean, created_by=actor.id)
        session.add(gold)
    else:
        gold.result = clean
    item.status = "gold"
    session.flush()
    _rescore_item(session, project, schema, gold)
    audit.record(
        session,
        actor_id=actor.id,
        action="gold.set",
        entity="item",
        entity_id=item.id,
        project_id=project.id,
        before=before,
        after=clean,
    )
    return gold


def unset_gold(session: Session, project: Project, item_id: int, actor: User) -> None:
    """The item becomes an ordinary item again (its scores are dropped)."""
    item = get_item(session, project, item_id)
    gold = session.get(GoldAnswer, item.id)
    if gold is None:
        raise NotFound(f"item {item_id} is not a gold item")
    session.delete(gold)
    session.execute(delete(GoldScore).where(GoldScore.item_id == item.id))
    item.status = "open"
    session.flush()
    overlap.after_submission(session, project, item.id)
    audit.record(
        session,
        actor_id=actor.id,
        action="gold.unset",
        entity="item",
        entity_id=item.id,
        project_id=project.id,
        before=gold.result,
    )


def gold_answers(
    session: Session, project: Project, *, after: int = 0, limit: int = 500
) -> list[GoldAnswer]:
    return list(
        session.scalars(
            select(GoldAnswer)
            .where(GoldAnswer.project_id == project.id, GoldAnswer.item_id > after)
            .order_by(GoldAnswer.item_id)
            .limit(limit)
        )
    )


def pick_gold(session: Session, project: Project, user_id: int) -> int | None:
    """A gold item this annotator has never held, chosen at random. Items they answered in
    practice, qualification or recalibration are burned for them: they saw the gold answer."""
    held = exists().where(Assignment.item_id == GoldAnswer.item_id, Assignment.user_id == user_id)
    practised = exists().where(
        PracticeAnswer.item_id == GoldAnswer.item_id, PracticeAnswer.user_id == user_id
    )
    unseen = select(GoldAnswer.item_id).where(
        GoldAnswer.project_id == project.id, ~held, ~practised
    )
    n = session.scalar(select(func.count()).select_from(unseen.subquery())) or 0
    if n == 0:
        return None
    return session.scalar(unseen.order_by(GoldAnswer.item_id).offset(random.randrange(n)).limit(1))


def wants_gold(project: Project) -> bool:
    return project.gold_rate > 0 and random.random() < project.gold_rate


def score_answer(
    session: Session, project: Project, item: Item, annotation: Annotation
) -> GoldScore | None:
    """Score an answer to a gold item (None for ordinary items) and apply the pause rule."""
    gold = session.get(GoldAnswer, item.id)
    if gold is None or annotation.user_id is None:
        return None
    schema = parsed_schema(current_schema(session, project).schema)
    score = _store_score(session, project, schema, gold, annotation)
    _apply_pause_rule(session, project, annotation.user_id)
    return score


def _store_score(
    session: Session,
    project: Project,
    schema: LabelingSchema,
    gold: GoldAnswer,
    annotation: Annotation,
) -> GoldScore:
    assert annotation.user_id is not None
    details = compare(schema, gold.result, annotation.result)
    value = min(details.values(), default=1.0)
    correct = all(s >= (1.0 if _exact(schema, c) else STRUCTURED_MATCH) for c, s in details.items())
    row = session.scalar(
        select(GoldScore).where(
            GoldScore.item_id == gold.item_id, GoldScore.user_id == annotation.user_id
        )
    )
    if row is None:
        row = GoldScore(
            project_id=project.id,
            item_id=gold.item_id,
            user_id=annotation.user_id,
            annotation_id=annotation.id,
            correct=correct,
            score=value,
            details=details,
        )
        session.add(row)
    else:
        row.annotation_id, row.correct, row.score, row.details = (
            annotation.id,
            correct,
            value,
            details,
        )
        row.scored_at = utcnow()
    session.flush()
    return row


def _rescore_item(
    session: Session, project: Project, schema: LabelingSchema, gold: GoldAnswer
) -> None:
    answers = session.scalars(
        select(Annotation).where(
            Annotation.item_id == gold.item_id,
            Annotation.is_latest.is_(True),
            Annotation.skipped.is_(False),
        )
    )
    for annotation in answers:
        if annotation.user_id is not None:
            _store_score(session, project, schema, gold, annotation)


def _exact(schema: LabelingSchema, control: str) -> bool:
    return not isinstance(schema.controls.get(control), Spans | Boxes)


def compare(
    schema: LabelingSchema, gold: Mapping[str, Any], answer: Mapping[str, Any]
) -> dict[str, float]:
    """Per control of the gold answer, a score in [0, 1]: 1 or 0 for exact controls (choices
    as sets), F1 for spans (exact offsets and label) and boxes (IoU 0.5, same label)."""
    scores: dict[str, float] = {}
    for name, expected in gold.items():
        given = answer.get(name)
        control = schema.controls.get(name)
        if isinstance(control, Spans):
            scores[name] = _span_score(expected, given)
        elif isinstance(control, Boxes):
            scores[name] = _box_score(expected, given)
        elif isinstance(control, Choices) and isinstance(expected, list):
            scores[name] = float(isinstance(given, list) and set(given) == set(expected))
        else:
            scores[name] = float(given == expected)
    return scores


# Two answers hold a handful of regions: building DataFrames for ``span_f1`` and ``box_f1`` cost
# milliseconds per pair, which adjudication pays for every pair of every done item. Regions of
# the validated shape (string labels, integer offsets, finite coordinates) are scored here in
# plain Python with the same rules and the same arithmetic, so the scores are identical (a
# property test holds them to the quality library); anything else goes through the library.

SpanKey = tuple[str, int, int]
BoxRow = tuple[str, float, float, float, float]
_BOX_IOU = 0.5  # box_f1's default threshold
_EXACT_INT = 2**53  # integers up to this convert to float exactly, as pandas converts them


def _span_score(expected: Any, given: Any) -> float:
    """``span_f1`` (exact) of the given spans against the expected ones, 1 when both are empty
    and 0 when only one is."""
    reference, predicted = _span_keys(expected or []), _span_keys(given or [])
    if reference is None or predicted is None:
        return _f1(expected, given, _span_frame, span_f1)
    if not reference and not predicted:
        return 1.0
    if not reference or not predicted:
        return 0.0
    ref_set, pred_set = set(reference), set(predicted)
    # Every span counts on its own, duplicates included, as in span_f1.
    pred_hit = sum(1 for key in predicted if key in ref_set)
    ref_hit = sum(1 for key in reference if key in pred_set)
    precision = pred_hit / len(predicted)
    recall = ref_hit / len(reference)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _span_keys(regions: Any) -> list[SpanKey] | None:
    """(label, start, end) of each span, or None when a span is not of the validated shape."""
    if type(regions) is not list:
        return None
    keys: list[SpanKey] = []
    for r in regions:
        if type(r) is not dict:
            return None
        label, start, end = r.get("label"), r.get("start"), r.get("end")
        if type(label) is not str or type(start) is not int or type(end) is not int:
            return None
        keys.append((label, start, end))
    return keys


def _box_score(expected: Any, given: Any) -> float:
    """``box_f1`` (IoU 0.5, same label) of the given boxes against the expected ones, 1 when
    both are empty and 0 when only one is."""
    reference, predicted = _box_rows(expected or []), _box_rows(given or [])
    if reference is None or predicted is None:
        return _f1(expected, given, _box_frame, box_f1)
    if not reference and not predicted:
        return 1.0
    if not reference or not predicted:
        return 0.0
    by_label: dict[str, list[BoxRow]] = {}
    for row in reference:
        by_label.setdefault(row[0], []).append(row)
    pred_by_label: dict[str, list[BoxRow]] = {}
    for row in predicted:
        pred_by_label.setdefault(row[0], []).append(row)
    tp = 0
    for label, pred in pred_by_label.items():
        ref = by_label.get(label)
        if ref is None:
            continue
        if len(ref) == 1 or len(pred) == 1:
            # One box on a side: the optimal one-to-one matching pairs it with its best match.
            tp += int(max(_iou(a, b) for a in ref for b in pred) >= _BOX_IOU)
        else:
            _, _, ious = match_boxes(
                np.array([r[1:] for r in ref]), np.array([p[1:] for p in pred]), _BOX_IOU
            )
            tp += int(ious.shape[0])
    return 2 * tp / (len(predicted) + len(reference))


def _box_rows(regions: Any) -> list[BoxRow] | None:
    """(label, x_min, y_min, x_max, y_max) of each box, or None when a box is not of the
    validated shape (or its corners are not finite and ordered)."""
    if type(regions) is not list:
        return None
    rows: list[BoxRow] = []
    for r in regions:
        if type(r) is not dict:
            return None
        label = r.get("label")
        numbers: list[Any] = [r.get(k) for k in ("x", "y", "width", "height")]
        if type(label) is not str or not all(map(_plain_number, numbers)):
            return None
        x, y, w, h = numbers
        corners = (float(x), float(y), float(x + w), float(y + h))
        if not all(map(math.isfinite, corners)):
            return None
        if corners[2] < corners[0] or corners[3] < corners[1]:
            return None
        rows.append((label, *corners))
    return rows


def _plain_number(value: Any) -> bool:
    return type(value) is float or (type(value) is int and abs(value) <= _EXACT_INT)


def _iou(a: BoxRow, b: BoxRow) -> float:
    """``box_iou`` of two boxes, operation for operation."""
    w = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    h = max(min(a[4], b[4]) - max(a[2], b[2]), 0.0)
    inter = w * h
    union = (a[3] - a[1]) * (a[4] - a[2]) + (b[3] - b[1]) * (b[4] - b[2]) - inter
    return inter / union if union > 0 else 0.0


def _f1(expected: Any, given: Any, frame: Any, metric: Any) -> float:
    reference, predicted = frame(expected or []), frame(given or [])
    if reference.empty and predicted.empty:
        return 1.0
    if reference.empty or predicted.empty:
        return 0.0
    return float(metric(reference, predicted).f1)


def _span_frame(regions: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [(0, r.get("label"), r["start"], r["end"]) for r in regions]
    return pd.DataFrame(rows, columns=["item", "label", "start", "end"])


def _box_frame(regions: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        (0, r.get("label"), r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"])
        for r in regions
    ]
    return pd.DataFrame(rows, columns=["item", "label", "x_min", "y_min", "x_max", "y_max"])


@dataclass(frozen=True)
class GoldAccuracy:
    user_id: int
    username: str
    n_answers: int
    n_correct: int
    accuracy: float
    low: float
    high: float
    paused: bool


def gold_accuracy(
    session: Session, project: Project, *, user_id: int | None = None
) -> list[GoldAccuracy]:
    """Per annotator with gold answers: accuracy with a 95% Wilson interval."""
    query = (
        select(
            GoldScore.user_id,
            User.username,
            func.count(),
            func.sum(case((GoldScore.correct.is_(True), 1), else_=0)),
            Membership.paused_at,
        )
        .join(User, User.id == GoldScore.user_id)
        .outerjoin(
            Membership,
            (Membership.user_id == GoldScore.user_id) & (Membership.project_id == project.id),
        )
        .where(GoldScore.project_id == project.id)
        .group_by(GoldScore.user_id, User.username, Membership.paused_at)
        .order_by(User.username)
    )
    if user_id is not None:
        query = query.where(GoldScore.user_id == user_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    low, high = wilson_interval([int(r[3]) for r in rows], [int(r[2]) for r in rows])
    return [
        GoldAccuracy(
            user_id=r[0],
            username=r[1],
            n_answers=int(r[2]),
            n_correct=int(r[3]),
            accuracy=int(r[3]) / int(r[2]),
            low=float(lo),
            high=float(hi),
            paused=r[4] is not None,
        )
        for r, lo, hi in zip(rows, low, high, strict=True)
    ]


def _apply_pause_rule(session: Session, project: Project, user_id: int) -> None:
    if project.gold_pause_below <= 0:
        return
    (found,) = gold_accuracy(session, project, user_id=user_id)
    if found.n_answers < project.gold_min_answers or found.accuracy >= project.gold_pause_below:
        return
    membership = session.get(Membership, (project.id, user_id))
    if membership is None or membership.paused_at is not None or membership.role != "annotator":
        return
    reason = (
        f"gold accuracy {found.accuracy:.0%} ({found.n_correct} of {found.n_answers}) is under "
        f"the project's {project.gold_pause_below:.0%}"
    )
    membership.paused_at = utcnow()
    membership.pause_reason = reason
    # The items they hold on a lease go back to the pool now rather than when the leases expire
    # (a submission of one is refused like their next, core/annotations.py), and so does work a
    # reviewer sent back to them, which would otherwise wait for them.
    from accord.core.assignment import release_leases, release_returned  # assignment -> gold

    released = release_leases(session, project, user_id)
    handed_over = release_returned(session, project, user_id)
    session.add(
        Notification(
            project_id=project.id,
            kind="annotator.paused",
            message=f"{found.username} was paused: {reason}",
            subject_user_id=user_id,
        )
    )
    audit.record(
        session,
        actor_id=None,
        action="member.pause",
        entity="user",
        entity_id=user_id,
        project_id=project.id,
        reason=reason,
        released_items=released,
        released_returned_items=handed_over,
    )


def resume(session: Session, project: Project, user_id: int, actor: User) -> Membership:
    """A manager lets a paused annotator work again (their gold record stays)."""
    membership = session.get(Membership, (project.id, user_id))
    if membership is None:
        raise NotFound("not a member of this project")
    if membership.paused_at is None:
        raise Conflict("this member is not paused")
    membership.paused_at = None
    membership.pause_reason = None
    audit.record(
        session,
        actor_id=actor.id,
        action="member.resume",
        entity="user",
        entity_id=user_id,
        project_id=project.id,
    )
    return membership


def paused_members(session: Session, project: Project) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .where(Membership.project_id == project.id, Membership.paused_at.is_not(None))
            .order_by(Membership.paused_at)
        )
    )


def notifications(
    session: Session, project: Project, *, unread_only: bool = False, limit: int = 100
) -> list[Notification]:
    query = select(Notification).where(Notification.project_id == project.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: Session, project: Project, notification_id: int) -> None:
    done = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.project_id == project.id)
        .values(read_at=utcnow())
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"notification {notification_id} not found")


def item_gold(session: Session, item: Item) -> GoldAnswer | None:
    """The item's known answer, if it is a gold item (for reviewers' and managers' pages)."""
    return session.get(GoldAnswer, item.id)


def item_scores(session: Session, item: Item) -> dict[int, GoldScore]:
    """How each answer to a gold item compared with its known answer, by annotation id."""
    rows = session.scalars(select(GoldScore).where(GoldScore.item_id == item.id))
    return {row.annotation_id: row for row in rows}


def member_pause(session: Session, project: Project, user_id: int) -> Membership | None:
    """The member's membership when they are paused on the project, else None."""
    membership = session.get(Membership, (project.id, user_id))
    if membership is None or membership.paused_at is None:
        return None
    return membership
