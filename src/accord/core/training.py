"""Training: practice on gold items with immediate feedback, the qualification an annotator
passes before real items, and the recalibration after a guidelines version that requires it.

Every answer given here is a ``practice_answers`` row, never an annotation: it is scored
against the gold answer (``gold.compare``, the same rule as honeypot scoring) and the annotator
is shown at once whether it was right, the per-control scores, the gold answer beside theirs
and the section of the current guidelines that applies. A gold item whose answer was shown is
burned as a honeypot for that annotator: ``gold.pick_gold`` never serves it to them, and no
item they held as a real honeypot is ever used here.

Only the item the server chose may be answered (the choice is a deterministic function of the
annotator and their answers so far, so asking again returns the same item): an annotator cannot
probe item ids to find and burn gold items.

The gate applies to members with the annotator role (reviewers and managers are trusted):
- with ``qualification_items > 0``, until a qualification of that many distinct gold items is
  passed (accuracy >= ``qualification_threshold``);
- when a schema version after the one the annotator last passed (or, without any pass, last
  annotated under) has ``requires_recalibration``, until a recalibration of that version's
  ``recalibration_items`` gold items is passed.
A failed attempt blocks until a manager resets it (which opens a new attempt).

A member has at most one attempt in progress per project: a partial unique index guarantees it
even when two requests start one at the same moment (the later one returns the attempt the
earlier one opened), and an unfinished attempt of the other kind is closed as ``superseded``
when a new one opens (a qualification that became due during a recalibration).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.core import audit
from accord.core import gold as gold_ops
from accord.core.guidelines import GuidelinesDiff, Section, diff_versions, section_for
from accord.core.items import item_context
from accord.core.schemas import current_schema, parsed_schema
from accord.db.models import (
    Annotation,
    Assignment,
    GoldAnswer,
    Item,
    Membership,
    Notification,
    PracticeAnswer,
    Project,
    Qualification,
    SchemaVersion,
    User,
    utcnow,
)
from accord.errors import Conflict, Forbidden, NotFound
from accord.schema import LabelingSchema, validate_result
from accord.schema.model import Boxes, Spans

KINDS = ("qualification", "recalibration")
GATE_PREFIX = {"qualification": "qualification needed", "recalibration": "recalibration needed"}
"""The 403 detail of ``POST /next`` starts with one of these (the labeling page shows the gate)."""


@dataclass(frozen=True)
class Requirement:
    kind: str
    n_required: int
    threshold: float
    version: SchemaVersion  # the current version
    since: int | None  # recalibration: the version the annotator last passed or worked under


@dataclass(frozen=True)
class Status:
    """Where an annotator stands: ``none`` (real items come), ``needed`` (start it),
    ``in_progress`` or ``failed`` (blocked until a manager resets it)."""

    state: str
    requirement: Requirement | None
    attempt: Qualification | None


@dataclass(frozen=True)
class Feedback:
    item_id: int
    correct: bool
    score: float
    scores: dict[str, float]
    answer: dict[str, Any]
    correct_answer: dict[str, Any]
    control: str | None  # the control the guideline section was looked up for
    guideline: Section | None
    attempt: Qualification | None


# -- the gate ------------------------------------------------------------------------------


def requirement(session: Session, project: Project, user_id: int) -> Requirement | None:
    """What this member must pass before real items, or None."""
    membership = session.get(Membership, (project.id, user_id))
    if membership is None or membership.role != "annotator":
        return None
    current = current_schema(session, project)
    if project.qualification_items > 0 and not _has_passed(session, project, user_id):
        return Requirement(
            "qualification", project.qualification_items, project.qualification_threshold,
            current, None,
        )  # fmt: skip
    # The latest version that requires it first: most projects have none, and then the
    # annotator's history is not read at all (this runs on every request for an item).
    due = session.scalar(
        select(SchemaVersion)
        .where(
            SchemaVersion.project_id == project.id,
            SchemaVersion.version <= current.version,
            SchemaVersion.requires_recalibration.is_(True),
            SchemaVersion.recalibration_items > 0,
        )
        .order_by(SchemaVersion.version.desc())
        .limit(1)
    )
    if due is None:
        return None
    since = _baseline(session, project, user_id)
    if since is None or since >= due.version:
        return None
    return Requirement(
        "recalibration", due.recalibration_items, project.qualification_threshold, current, since
    )


def _has_passed(session: Session, project: Project, user_id: int) -> bool:
    return (
        session.scalar(
            select(Qualification.id).where(
                Qualification.project_id == project.id,
                Qualification.user_id == user_id,
                Qualification.kind == "qualification",
                Qualification.status == "passed",
            )
        )
        is not None
    )


def _baseline(session: Session, project: Project, user_id: int) -> int | None:
    """The schema version the annotator last passed a qualification or recalibration for;
    without one, the latest version they annotated under (a newcomer has nothing to unlearn)."""
    passed = session.scalar(
        select(func.max(SchemaVersion.version))
        .join(Qualification, Qualification.schema_version_id == SchemaVersion.id)
        .where(
            Qualification.project_id == project.id,
            Qualification.user_id == user_id,
            Qualification.status == "passed",
        )
    )
    if passed is not None:
        return int(passed)
    worked = session.scalar(
        select(func.max(SchemaVersion.version))
        .join(Annotation, Annotation.schema_version_id == SchemaVersion.id)
        .where(Annotation.project_id == project.id, Annotation.user_id == user_id)
    )
    return int(worked) if worked is not None else None


def status(session: Session, project: Project, user_id: int) -> Status:
    needed = requirement(session, project, user_id)
    if needed is None:
        return Status("none", None, None)
    last_pass = session.scalar(
        select(func.max(Qualification.id)).where(
            Qualification.project_id == project.id,
            Qualification.user_id == user_id,
            Qualification.status == "passed",
        )
    )
    attempt = session.scalar(
        select(Qualification)
        .where(
            Qualification.project_id == project.id,
            Qualification.user_id == user_id,
            Qualification.kind == needed.kind,
            Qualification.id > (last_pass or 0),
        )
        .order_by(Qualification.id.desc())
        .limit(1)
    )
    if attempt is None or attempt.status == "superseded":
        return Status("needed", needed, None)
    return Status(attempt.status, needed, attempt)


def gate_message(found: Status) -> str:
    need, attempt = found.requirement, found.attempt
    assert need is not None
    prefix = GATE_PREFIX[need.kind]
    if found.state == "failed" and attempt is not None:
        return (
            f"{prefix}: you did not pass ({attempt.n_correct} of {attempt.n_required} right, "
            f"{attempt.threshold:.0%} needed); a manager can let you try again"
        )
    if found.state == "in_progress" and attempt is not None:
        return f"{prefix}: finish it first ({attempt.n_answered} of {attempt.n_required} answered)"
    why = (
        f"the guidelines changed since version {need.since}; "
        if need.kind == "recalibration"
        else ""
    )
    return (
        f"{prefix}: {why}answer {need.n_required} gold item(s) with feedback, "
        f"{need.threshold:.0%} of them right, before you get real items"
    )


def check_gate(session: Session, project: Project, user_id: int) -> None:
    """Called by the queue before it serves anything: Forbidden while a qualification or
    recalibration is due."""
    found = status(session, project, user_id)
    if found.requirement is not None:
        raise Forbidden(gate_message(found))


def what_changed(session: Session, project: Project, found: Status) -> GuidelinesDiff | None:
    need = found.requirement
    if need is None or need.kind != "recalibration" or need.since is None:
        return None
    return diff_versions(session, project, need.since, need.version.version)


# -- choosing gold items ---------------------------------------------------------------------


def _candidates(project: Project, user_id: int) -> Select[int]:
    """Gold items of the project this annotator never held as a real item."""
    held = exists().where(Assignment.item_id == GoldAnswer.item_id, Assignment.user_id == user_id)
    return select(GoldAnswer.item_id).where(GoldAnswer.project_id == project.id, ~held)


def _answered(user_id: int, qualification_id: int | None = None) -> Any:
    query = exists().where(
        PracticeAnswer.item_id == GoldAnswer.item_id, PracticeAnswer.user_id == user_id
    )
    if qualification_id is not None:
        query = query.where(PracticeAnswer.qualification_id == qualification_id)
    return query


def _choose(session: Session, query: Select[int], seed: str) -> int | None:
    """One of the query's items, the same one for the same seed while the set is unchanged."""
    n = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if n == 0:
        return None
    offset = random.Random(seed).randrange(n)
    return session.scalar(query.order_by(GoldAnswer.item_id).offset(offset).limit(1))


def _practice_count(session: Session, project: Project, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                PracticeAnswer.project_id == project.id,
                PracticeAnswer.user_id == user_id,
                PracticeAnswer.qualification_id.is_(None),
            )
        )
        or 0
    )


def practice_item(session: Session, project: Project, user_id: int) -> Item | None:
    """The annotator's current practice item: a gold item they never held as a real item nor
    answered here before; None when none is left."""
    if not project.practice_enabled:
        raise Forbidden("practice is switched off on this project")
    seed = f"practice:{project.id}:{user_id}:{_practice_count(session, project, user_id)}"
    query = _candidates(project, user_id).where(~_answered(user_id))
    item_id = _choose(session, query, seed)
    return session.get(Item, item_id) if item_id is not None else None


def _attempt_item_id(session: Session, project: Project, attempt: Qualification) -> int | None:
    """Distinct gold items within an attempt; items never answered here before come first, then
    (a retry on a small gold set) items from earlier attempts or practice."""
    seed = f"{attempt.kind}:{attempt.id}:{attempt.n_answered}"
    base = _candidates(project, attempt.user_id)
    fresh = _choose(session, base.where(~_answered(attempt.user_id)), seed)
    if fresh is not None:
        return fresh
    return _choose(session, base.where(~_answered(attempt.user_id, attempt.id)), seed)


def _available(session: Session, project: Project, user_id: int) -> int:
    query = _candidates(project, user_id)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


# -- qualification and recalibration ---------------------------------------------------------


def _supersede(session: Session, project: Project, user_id: int, kind: str) -> list[int]:
    """Close the member's unfinished attempt of the other kind (a qualification became due
    during a recalibration): one attempt is in progress at a time. Returns the closed ids."""
    closed = session.scalars(
        update(Qualification)
        .where(
            Qualification.project_id == project.id,
            Qualification.user_id == user_id,
            Qualification.status == "in_progress",
            Qualification.kind != kind,
        )
        .values(status="superseded", finished_at=utcnow())
        .returning(Qualification.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(closed)


def _open_attempt(
    session: Session,
    project: Project,
    user_id: int,
    kind: str,
    version_id: int,
    n_required: int,
    threshold: float,
) -> Qualification | None:
    """A new attempt in progress; None when another request opened one for this member at the
    same moment (the unique index on the attempt in progress decides, on PostgreSQL too)."""
    attempt = Qualification(
        project_id=project.id,
        user_id=user_id,
        kind=kind,
        schema_version_id=version_id,
        status="in_progress",
        n_required=n_required,
        threshold=threshold,
        n_answered=0,
        n_correct=0,
    )
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        return None
    return attempt


def _in_progress(session: Session, project: Project, user_id: int) -> Qualification:
    """The attempt another request has just opened (and committed) for this member."""
    attempt = session.scalar(
        select(Qualification).where(
            Qualification.project_id == project.id,
            Qualification.user_id == user_id,
            Qualification.status == "in_progress",
        )
    )
    if attempt is None:
        raise Conflict("an attempt was being opened for you at the same moment; ask again")
    return attempt


def start(session: Session, project: Project, user: User) -> Qualification:
    """Open the qualification or recalibration that is due (or return the one in progress,
    also when a simultaneous request opened it first)."""
    found = status(session, project, user.id)
    need = found.requirement
    if need is None:
        raise Conflict("you need no qualification or recalibration on this project")
    if found.state == "in_progress" and found.attempt is not None:
        return found.attempt
    if found.state == "failed":
        raise Forbidden(gate_message(found))
    available = _available(session, project, user.id)
    if available < need.n_required:
        raise Conflict(
            f"the project has {available} gold item(s) you can be given and the {need.kind} "
            f"needs {need.n_required}: a manager must add gold items first"
        )
    superseded = _supersede(session, project, user.id, need.kind)
    attempt = _open_attempt(
        session, project, user.id, need.kind, need.version.id, need.n_required, need.threshold
    )
    if attempt is None:
        return _in_progress(session, project, user.id)
    details: dict[str, Any] = {"version": need.version.version}
    if superseded:
        details["superseded"] = superseded
    audit.record(
        session,
        actor_id=user.id,
        action=f"{need.kind}.start",
        entity="qualification",
        entity_id=attempt.id,
        project_id=project.id,
        **details,
    )
    return attempt


def _current_attempt(session: Session, project: Project, user_id: int) -> Qualification:
    found = status(session, project, user_id)
    if found.requirement is None:
        raise Conflict("you need no qualification or recalibration on this project")
    if found.state != "in_progress" or found.attempt is None:
        raise Conflict(gate_message(found))
    return found.attempt


def attempt_item(session: Session, project: Project, user_id: int) -> tuple[Qualification, Item]:
    """The current item of the attempt in progress."""
    attempt = _current_attempt(session, project, user_id)
    item_id = _attempt_item_id(session, project, attempt)
    if item_id is None:
        raise Conflict("no gold item is left for you: a manager must add gold items")
    item = session.get(Item, item_id)
    assert item is not None
    return attempt, item


def answer_attempt(
    session: Session, project: Project, user: User, item_id: int, result: Mapping[str, Any]
) -> Feedback:
    """Score the answer, count it, and close the attempt once every item is answered."""
    attempt, item = attempt_item(session, project, user.id)
    if item.id != item_id:
        raise Conflict(f"item {item_id} is not your current {attempt.kind} item")
    feedback = _score(session, project, user.id, item, result, attempt)
    attempt.n_answered += 1
    attempt.n_correct += int(feedback.correct)
    if attempt.n_answered >= attempt.n_required:
        _finish(session, project, attempt, user)
    session.flush()
    return feedback


def passes(n_correct: int, n_required: int, threshold: float) -> bool:
    return n_required > 0 and n_correct >= threshold * n_required - 1e-9


def _finish(session: Session, project: Project, attempt: Qualification, user: User) -> None:
    passed = passes(attempt.n_correct, attempt.n_required, attempt.threshold)
    attempt.status = "passed" if passed else "failed"
    attempt.finished_at = utcnow()
    score = f"{attempt.n_correct} of {attempt.n_required} right, {attempt.threshold:.0%} needed"
    audit.record(
        session,
        actor_id=user.id,
        action=f"{attempt.kind}.{attempt.status}",
        entity="qualification",
        entity_id=attempt.id,
        project_id=project.id,
        n_required=attempt.n_required,
        n_correct=attempt.n_correct,
        threshold=attempt.threshold,
    )
    if not passed:
        session.add(
            Notification(
                project_id=project.id,
                kind=f"{attempt.kind}.failed",
                message=f"{user.username} did not pass the {attempt.kind} ({score})",
                subject_user_id=user.id,
            )
        )


# -- practice ---------------------------------------------------------------------------------


def answer_practice(
    session: Session, project: Project, user: User, item_id: int, result: Mapping[str, Any]
) -> Feedback:
    item = practice_item(session, project, user.id)
    if item is None or item.id != item_id:
        raise Conflict(f"item {item_id} is not your current practice item; ask for the next one")
    return _score(session, project, user.id, item, result, None)


# -- scoring and feedback ---------------------------------------------------------------------


def _bar(schema: LabelingSchema, control: str) -> float:
    return (
        gold_ops.STRUCTURED_MATCH
        if isinstance(schema.controls.get(control), Spans | Boxes)
        else 1.0
    )


def _labels(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for v in values:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for key in ("label", "labels"):
                found = v.get(key)
                out += (
                    [found]
                    if isinstance(found, str)
                    else [x for x in found or [] if isinstance(x, str)]
                )
    return out


def _score(
    session: Session,
    project: Project,
    user_id: int,
    item: Item,
    result: Mapping[str, Any],
    attempt: Qualification | None,
) -> Feedback:
    gold = session.get(GoldAnswer, item.id)
    if gold is None:
        raise NotFound(f"item {item.id} is not a gold item")
    version = current_schema(session, project)
    schema = parsed_schema(version.schema)
    clean = validate_result(schema, result, item_context(item))
    scores = gold_ops.compare(schema, gold.result, clean)
    correct = all(s >= _bar(schema, c) for c, s in scores.items())
    value = min(scores.values(), default=1.0)
    session.add(
        PracticeAnswer(
            project_id=project.id,
            user_id=user_id,
            item_id=item.id,
            qualification_id=attempt.id if attempt is not None else None,
            result=clean,
            correct=correct,
            score=value,
            details=scores,
        )
    )
    order = [c for c in schema.controls if c in scores] + [
        c for c in scores if c not in schema.controls
    ]
    wrong = [c for c in order if scores[c] < _bar(schema, c)]
    control = (wrong or order)[0] if order else None
    section = (
        section_for(version.guidelines, control, _labels(gold.result.get(control)))
        if control is not None
        else None
    )
    return Feedback(
        item_id=item.id,
        correct=correct,
        score=value,
        scores=scores,
        answer=dict(clean),
        correct_answer=dict(gold.result),
        control=control,
        guideline=section,
        attempt=attempt,
    )


def training_item(session: Session, project: Project, user_id: int, item_id: int) -> Item:
    """An item as training shows it (for its media): one the annotator answered here, or their
    current practice or qualification item. Anything else does not exist for them."""
    answered = session.scalar(
        select(PracticeAnswer.id).where(
            PracticeAnswer.item_id == item_id, PracticeAnswer.user_id == user_id
        )
    )
    item = session.get(Item, item_id)
    if item is not None and item.project_id == project.id:
        if answered is not None:
            return item
        current = practice_item(session, project, user_id) if project.practice_enabled else None
        if current is not None and current.id == item_id:
            return item
        found = status(session, project, user_id)
        attempt = found.attempt if found.state == "in_progress" else None
        if attempt is not None and _attempt_item_id(session, project, attempt) == item_id:
            return item
    raise NotFound(f"item {item_id} not found in project {project.id}")


# -- managers ---------------------------------------------------------------------------------


def results(session: Session, project: Project) -> list[tuple[Qualification, str]]:
    """Every qualification and recalibration attempt of the project, newest first."""
    rows = session.execute(
        select(Qualification, User.username)
        .join(User, User.id == Qualification.user_id)
        .where(Qualification.project_id == project.id)
        .order_by(Qualification.id.desc())
    )
    return [(q, name) for q, name in rows]


def latest_results(session: Session, project: Project) -> list[tuple[Qualification, str]]:
    """Each annotator's latest attempt, by username."""
    seen: dict[int, tuple[Qualification, str]] = {}
    for attempt, name in results(session, project):
        seen.setdefault(attempt.user_id, (attempt, name))
    return sorted(seen.values(), key=lambda row: row[1])


def reset(session: Session, project: Project, user_id: int, actor: User) -> Qualification:
    """Let an annotator who failed try again: a new attempt of the same kind is opened (the
    failed one stays on record)."""
    failed = session.scalar(
        select(Qualification)
        .where(Qualification.project_id == project.id, Qualification.user_id == user_id)
        .order_by(Qualification.id.desc())
        .limit(1)
    )
    if failed is None or failed.status != "failed":
        raise Conflict("this member has no failed qualification or recalibration to reset")
    need = requirement(session, project, user_id)
    same = need is not None and need.kind == failed.kind
    _supersede(session, project, user_id, failed.kind)
    attempt = _open_attempt(
        session,
        project,
        user_id,
        failed.kind,
        current_schema(session, project).id,
        need.n_required if need is not None and same else failed.n_required,
        need.threshold if need is not None and same else failed.threshold,
    )
    if attempt is None:  # another manager reset them at the same moment
        return _in_progress(session, project, user_id)
    audit.record(
        session,
        actor_id=actor.id,
        action=f"{failed.kind}.reset",
        entity="user",
        entity_id=user_id,
        project_id=project.id,
        before_id=failed.id,
        after_id=attempt.id,
    )
    return attempt


def practice_stats(session: Session, project: Project, user_id: int) -> tuple[int, int]:
    """Practice answers given and how many were right."""
    row = session.execute(
        select(func.count(), func.sum(case((PracticeAnswer.correct.is_(True), 1), else_=0))).where(
            PracticeAnswer.project_id == project.id,
            PracticeAnswer.user_id == user_id,
            PracticeAnswer.qualification_id.is_(None),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)
