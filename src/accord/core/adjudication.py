"""Adjudication: items whose answers disagree too much are decided by an adjudicator.

When an item becomes done, its agreement is the mean, over every pair of its current answers, of
the pair's mean score over the controls either of them answered: exact match for categorical and
value controls (choices compared as sets), span F1 (exact offsets and label) and box F1 (IoU 0.5,
same label), the per-control scores of :func:`accord.core.gold.compare`. Under the project's
``adjudication_below`` the item gets an open ``adjudications`` row. An adjudicator resolves it
with a result (one of the answers, or an edited one), validated like an annotation; the result
is the item's ground truth, with its provenance: which answer and author (or "edited"), the
answers and agreement it was decided from, who decided and when.

Changing ``adjudication_below`` judges the done items again: turned off (0), the open
adjudications are withdrawn in the same transaction; any other new value queues a background job
(kind ``adjudication_recheck``) that judges the done items in chunks of short transactions, so
that a project of any size answers the settings change at once and annotators keep working while
it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accord.core import audit
from accord.core.gold import compare
from accord.core.items import get_item, item_context
from accord.core.schemas import current_schema, parsed_schema
from accord.db.engine import Database
from accord.db.id_sets import among
from accord.db.models import Adjudication, Annotation, Item, Job, Project, User, utcnow
from accord.errors import InvalidInput, NotFound
from accord.schema import LabelingSchema, validate_result

STATUSES = ("open", "resolved")
CHUNK = 500
JOB_KIND = "adjudication_recheck"


@dataclass(frozen=True)
class Answer:
    annotation: Annotation
    author: str | None


@dataclass(frozen=True)
class PairAgreement:
    a: int
    b: int
    agreement: float
    controls: dict[str, float]


@dataclass(frozen=True)
class ItemAgreement:
    agreement: float
    pairs: list[PairAgreement]
    controls: dict[str, float]
    """Per control, the mean over the pairs that answered it."""


def pair_scores(
    schema: LabelingSchema, a: Mapping[str, Any], b: Mapping[str, Any]
) -> dict[str, float]:
    """Per control either answer gave, how much the two agree (0 to 1)."""
    names = [c for c in schema.controls if c in a or c in b]
    return compare(schema, {c: a.get(c) for c in names}, {c: b.get(c) for c in names})


def agreement_of(schema: LabelingSchema, answers: list[Annotation]) -> ItemAgreement:
    """Mean pairwise agreement of the answers; 1 with fewer than two answers."""
    pairs: list[PairAgreement] = []
    per_control: dict[str, list[float]] = {}
    for x, y in combinations(answers, 2):
        scores = pair_scores(schema, x.result, y.result)
        value = sum(scores.values()) / len(scores) if scores else 1.0
        pairs.append(PairAgreement(x.id, y.id, value, scores))
        for name, score in scores.items():
            per_control.setdefault(name, []).append(score)
    overall = sum(p.agreement for p in pairs) / len(pairs) if pairs else 1.0
    controls = {name: sum(v) / len(v) for name, v in per_control.items()}
    return ItemAgreement(overall, pairs, controls)


def current_answers(session: Session, item_ids: Collection[int]) -> dict[int, list[Answer]]:
    """The current, non-skipped answers of each item, oldest first, with their authors."""
    found: dict[int, list[Answer]] = {i: [] for i in item_ids}
    ids = list(item_ids)
    for k in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Annotation, User.username)
            .outerjoin(User, User.id == Annotation.user_id)
            .where(
                Annotation.item_id.in_(ids[k : k + CHUNK]),
                Annotation.is_latest.is_(True),
                Annotation.skipped.is_(False),
            )
            .order_by(Annotation.item_id, Annotation.id)
        )
        for annotation, username in rows:
            found[annotation.item_id].append(Answer(annotation, username))
    return found


def _reason(result: ItemAgreement, threshold: float, n: int) -> str:
    text = f"{n} answers agree {result.agreement:.2f}, under the project's {threshold:.2f}"
    if result.controls:
        worst = min(result.controls, key=lambda c: result.controls[c])
        text += f"; least on {worst} ({result.controls[worst]:.2f})"
    return text


@dataclass
class Judged:
    """What judging items did to their adjudications."""

    opened: int = 0
    updated: int = 0  # still open, with the agreement and reason of the current answers
    withdrawn: int = 0

    def add(self, other: Judged) -> None:
        self.opened += other.opened
        self.updated += other.updated
        self.withdrawn += other.withdrawn


def check_items(session: Session, project: Project, item_ids: Collection[int]) -> Judged:
    """Items that just became done: open an adjudication for those whose answers agree less
    than ``adjudication_below``; an open one whose answers now agree enough is withdrawn.
    Resolved adjudications are left as they are."""
    judged = Judged()
    threshold = project.adjudication_below
    if threshold <= 0 or not item_ids:
        return judged
    schema = parsed_schema(current_schema(session, project).schema)
    answers = current_answers(session, item_ids)
    ids = list(item_ids)
    existing: dict[int, Adjudication] = {}
    for k in range(0, len(ids), CHUNK):
        part = ids[k : k + CHUNK]
        for found in session.scalars(select(Adjudication).where(Adjudication.item_id.in_(part))):
            existing[found.item_id] = found
    for item_id, given in answers.items():
        row = existing.get(item_id)
        if (row is not None and row.status == "resolved") or len(given) < 2:
            continue
        result = agreement_of(schema, [a.annotation for a in given])
        if result.agreement >= threshold:
            if row is not None:
                session.delete(row)
                judged.withdrawn += 1
            continue
        reason = _reason(result, threshold, len(given))
        if row is None:
            session.add(
                Adjudication(
                    project_id=project.id,
                    item_id=item_id,
                    agreement=result.agreement,
                    reason=reason,
                    provenance={},
                )
            )
            judged.opened += 1
        else:
            row.agreement, row.reason = result.agreement, reason
            judged.updated += 1
    session.flush()
    return judged


def threshold_changed(
    session: Session, project: Project, before: float, *, actor_id: int | None
) -> Job | None:
    """After ``adjudication_below`` was set (it was ``before``): nothing when it is unchanged;
    turned off, the open adjudications are withdrawn here; otherwise a job that judges every
    done item again is added in this transaction and returned, for the caller to hand to the
    job runner once committed. Decided adjudications always stay."""
    threshold = project.adjudication_below
    if threshold == before:
        return None
    if threshold <= 0:
        session.execute(
            delete(Adjudication).where(
                Adjudication.project_id == project.id, Adjudication.status == "open"
            )
        )
        return None
    job = Job(
        kind=JOB_KIND,
        params={"adjudication_below": threshold, "before": before},
        project_id=project.id,
        created_by=actor_id,
    )
    session.add(job)
    session.flush()
    return job


def run_recheck(
    db: Database,
    project_id: int,
    threshold: float,
    *,
    actor_id: int | None = None,
    job_id: int | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
) -> dict[str, Any]:
    """Judge every done item of the project again under ``threshold`` (what the job does).

    Items are taken in id order, ``chunk`` per write transaction, so submissions go on between
    the chunks; each chunk reads the project's threshold again (holding its row against a
    change until the chunk commits) and the run stops, ``superseded``, once the threshold is no
    longer the one it was queued for: the newer change queued its own run, or withdrew the open
    cases. ``progress`` gets the number of items judged so far."""
    started = time.perf_counter()
    total = Judged()
    n_items, after, superseded = 0, 0, False
    while not superseded:
        with db.transaction() as session:
            # FOR SHARE on PostgreSQL: a settings change waits for this chunk, submissions don't.
            project = session.get(Project, project_id, with_for_update={"read": True})
            if project is None:
                raise NotFound(f"project {project_id} not found")
            if project.adjudication_below != threshold:
                superseded = True
                continue
            ids = list(
                session.scalars(
                    select(Item.id)
                    .where(Item.project_id == project_id, Item.status == "done", Item.id > after)
                    .order_by(Item.id)
                    .limit(chunk)
                )
            )
            if not ids:
                break
            total.add(check_items(session, project, ids))
        n_items, after = n_items + len(ids), ids[-1]
        if progress is not None:
            progress(n_items)
    with db.transaction() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"project {project_id} not found")
        report: dict[str, Any] = {
            "adjudication_below": threshold,
            "superseded": superseded,
            "n_items": n_items,
            "n_opened": total.opened,
            "n_updated": total.updated,
            "n_withdrawn": total.withdrawn,
            "n_open": count_open(session, project),
            "seconds": round(time.perf_counter() - started, 3),
        }
        audit.record(
            session,
            actor_id=actor_id,
            action="adjudication.recheck",
            entity="project",
            entity_id=project_id,
            project_id=project_id,
            job_id=job_id,
            **{k: v for k, v in report.items() if k != "seconds"},
        )
    return report


def get_adjudication(session: Session, project: Project, item_id: int) -> Adjudication:
    row = session.scalar(
        select(Adjudication).where(
            Adjudication.project_id == project.id, Adjudication.item_id == item_id
        )
    )
    if row is None:
        raise NotFound(f"item {item_id} of project {project.id} is not up for adjudication")
    return row


def next_open(
    session: Session, project: Project, *, skip: Collection[int] = ()
) -> Adjudication | None:
    """The open adjudication with the lowest agreement (then the lowest item id)."""
    query = select(Adjudication).where(
        Adjudication.project_id == project.id, Adjudication.status == "open"
    )
    if skip:
        query = query.where(Adjudication.item_id.not_in(list(skip)))
    return session.scalar(query.order_by(Adjudication.agreement, Adjudication.item_id).limit(1))


def count_open(session: Session, project: Project) -> int:
    found = session.scalar(
        select(func.count()).where(
            Adjudication.project_id == project.id, Adjudication.status == "open"
        )
    )
    return int(found or 0)


def list_adjudications(
    session: Session,
    project: Project,
    *,
    status: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[Adjudication]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(STATUSES)}",
            [{"field": "status", "rule": "choice"}],
        )
    query = select(Adjudication).where(
        Adjudication.project_id == project.id, Adjudication.item_id > after
    )
    if status is not None:
        query = query.where(Adjudication.status == status)
    return list(session.scalars(query.order_by(Adjudication.item_id).limit(limit)))


@dataclass(frozen=True)
class AdjudicationCase:
    adjudication: Adjudication
    item: Item
    answers: list[Answer]
    agreement: ItemAgreement


def case_of(session: Session, project: Project, row: Adjudication) -> AdjudicationCase:
    """An adjudication with its item, its current answers and their agreement as they are now."""
    item = get_item(session, project, row.item_id)
    answers = current_answers(session, [item.id])[item.id]
    schema = parsed_schema(current_schema(session, project).schema)
    return AdjudicationCase(
        row, item, answers, agreement_of(schema, [a.annotation for a in answers])
    )


def resolve(
    session: Session,
    project: Project,
    adjudicator: User,
    item_id: int,
    result: Mapping[str, Any] | None,
    *,
    picked_annotation_id: int | None = None,
) -> Adjudication:
    """Decide the item: ``result`` (validated like an annotation), or the picked answer's result
    when ``result`` is None. A result that differs from the picked answer is an edit of it."""
    row = get_adjudication(session, project, item_id)
    case = case_of(session, project, row)
    by_id = {a.annotation.id: a for a in case.answers}
    picked = None
    if picked_annotation_id is not None:
        picked = by_id.get(picked_annotation_id)
        if picked is None:
            raise InvalidInput(
                f"annotation {picked_annotation_id} is not a current answer to item {item_id}",
                [{"field": "picked_annotation_id", "rule": "current_answer"}],
            )
    if result is None:
        if picked is None:
            raise InvalidInput(
                "give the decided result, or pick one of the answers",
                [{"field": "result", "rule": "required"}],
            )
        result = picked.annotation.result
    schema = parsed_schema(current_schema(session, project).schema)
    clean = validate_result(schema, result, item_context(case.item))
    chosen = picked is not None and clean == picked.annotation.result
    decided_at = utcnow()
    provenance: dict[str, Any] = {
        "source": "annotation" if chosen else "edited",
        "annotation_id": picked.annotation.id if chosen and picked else None,
        "author": picked.author if chosen and picked else None,
        "edited_from": picked.annotation.id if picked and not chosen else None,
        "answers": [
            {"annotation_id": a.annotation.id, "author": a.author, "result": a.annotation.result}
            for a in case.answers
        ],
        "agreement": case.agreement.agreement,
        "pairs": [
            {"a": p.a, "b": p.b, "agreement": p.agreement, "controls": p.controls}
            for p in case.agreement.pairs
        ],
        "adjudicator": adjudicator.username,
        "adjudicator_id": adjudicator.id,
        "decided_at": decided_at.isoformat(),
    }
    before = row.result
    row.status = "resolved"
    row.result = clean
    row.provenance = provenance
    row.resolved_by = adjudicator.id
    row.resolved_at = decided_at
    session.flush()
    audit.record(
        session,
        actor_id=adjudicator.id,
        action="adjudication.resolve",
        entity="item",
        entity_id=item_id,
        project_id=project.id,
        before=before,
        after=clean,
        source=provenance["source"],
        annotation_id=provenance["annotation_id"] or provenance["edited_from"],
        agreement=case.agreement.agreement,
    )
    return row


def ground_truth_by_item(session: Session, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The decided result and its provenance of each resolved item among these."""
    among_items, wanted = among(Adjudication.item_id, item_ids)
    rows = session.execute(
        select(Adjudication.item_id, Adjudication.result, Adjudication.provenance).where(
            among_items, Adjudication.status == "resolved"
        )
    )
    return {i: {"result": r, "provenance": p} for i, r, p in rows if wanted is None or i in wanted}


def has_ground_truth(session: Session, project: Project) -> bool:
    return (
        session.scalar(
            select(Adjudication.id)
            .where(Adjudication.project_id == project.id, Adjudication.status == "resolved")
            .limit(1)
        )
        is not None
    )
