"""Annotations: append-only results. Submitting, skipping, editing (a new version), reading."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.orm import Session

from accord.core import audit, gold, overlap, prelabels, reviews
from accord.core.assignment import (
    check_not_paused,
    claim_for_skip,
    claim_for_submission,
    count_submission,
)
from accord.core.items import get_item, item_context
from accord.core.schemas import current_schema, parsed_schema
from accord.db.models import Annotation, AnnotationLabel, Item, Project, User
from accord.errors import Forbidden, InvalidInput, NotFound
from accord.schema import labels_of, validate_result


def _validated(
    session: Session, project: Project, item: Item, result: Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    version = current_schema(session, project)
    schema = parsed_schema(version.schema)
    return validate_result(schema, result, item_context(item)), version.id


def _check_lead_time(lead_time: float | None) -> None:
    if lead_time is not None and not 0 <= lead_time <= 7 * 86400:
        raise InvalidInput(
            "lead_time must be between 0 and 604800 seconds",
            [{"field": "lead_time", "rule": "range"}],
        )


def _index_labels(session: Session, annotation: Annotation, document: dict[str, Any]) -> None:
    schema = parsed_schema(document)
    rows = [
        {
            "annotation_id": annotation.id,
            "project_id": annotation.project_id,
            "item_id": annotation.item_id,
            "control": control,
            "label": label,
        }
        for control, label in labels_of(schema, annotation.result)
    ]
    if rows:
        session.execute(insert(AnnotationLabel), rows)


def submit(
    session: Session,
    project: Project,
    user: User,
    item_id: int,
    result: Mapping[str, Any],
    *,
    lead_time: float | None = None,
) -> Annotation:
    """An annotator's answer. A member the gold rule paused is refused before anything is
    written, like their ``next``; the leases they held were given back when they were paused."""
    check_not_paused(session, project, user.id)
    item = get_item(session, project, item_id)
    _check_lead_time(lead_time)
    clean, version_id = _validated(session, project, item, result)
    rework = claim_for_submission(session, project, item.id, user.id)
    # Work a reviewer sent back continues the rejected annotation's history.
    rejected = _own_latest(session, item.id, user.id) if rework else None
    annotation = Annotation(
        project_id=project.id,
        item_id=item.id,
        user_id=user.id,
        parent_id=rejected.id if rejected else None,
        version=rejected.version + 1 if rejected else 1,
        result=clean,
        lead_time=lead_time,
        schema_version_id=version_id,
    )
    reviews.apply_policy(session, project, annotation, rejected)
    prelabels.mark(session, project, annotation)
    if rejected is not None:
        rejected.is_latest = rejected.awaiting_review = False
    session.add(annotation)
    session.flush()
    _index_labels(session, annotation, current_schema(session, project).schema)
    count_submission(session, item.id)
    if item.status == "gold":
        # The rejection told its author the answer was wrong: the redo is no blind answer,
        # so the score of the first one stands.
        if rejected is None:
            gold.score_answer(session, project, item, annotation)
    else:
        overlap.after_submission(session, project, item.id)
    audit.record(
        session,
        actor_id=user.id,
        action="annotation.submit",
        entity="annotation",
        entity_id=annotation.id,
        project_id=project.id,
        after_id=annotation.id,
        item_id=item.id,
    )
    return annotation


def _own_latest(session: Session, item_id: int, user_id: int) -> Annotation | None:
    return session.scalar(
        select(Annotation).where(
            Annotation.item_id == item_id,
            Annotation.user_id == user_id,
            Annotation.is_latest.is_(True),
        )
    )


def unindex_labels(session: Session, annotation: Annotation) -> None:
    """A rejected annotation no longer counts for label filters and quality."""
    session.execute(delete(AnnotationLabel).where(AnnotationLabel.annotation_id == annotation.id))


def skip(
    session: Session,
    project: Project,
    user: User,
    item_id: int,
    reason: str,
    *,
    lead_time: float | None = None,
) -> Annotation:
    check_not_paused(session, project, user.id)  # a paused member neither answers nor skips
    item = get_item(session, project, item_id)
    _check_lead_time(lead_time)
    claim_for_skip(session, project, item.id, user.id)
    version = current_schema(session, project)
    annotation = Annotation(
        project_id=project.id,
        item_id=item.id,
        user_id=user.id,
        result={},
        skipped=True,
        skip_reason=reason.strip() or None,
        lead_time=lead_time,
        schema_version_id=version.id,
    )
    session.add(annotation)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="annotation.skip",
        entity="annotation",
        entity_id=annotation.id,
        project_id=project.id,
        after_id=annotation.id,
        item_id=item.id,
    )
    return annotation


def get_annotation(session: Session, project: Project, annotation_id: int) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or annotation.project_id != project.id:
        raise NotFound(f"annotation {annotation_id} not found in project {project.id}")
    return annotation


def revise(
    session: Session,
    project: Project,
    editor: User,
    annotation: Annotation,
    result: Mapping[str, Any],
    *,
    lead_time: float | None = None,
    may_edit_others: bool = False,
) -> Annotation:
    """A new version of an annotation; the old one stays, marked as no longer latest."""
    if annotation.user_id != editor.id and not may_edit_others:
        raise Forbidden("you may only edit your own annotations")
    if not annotation.is_latest:
        raise InvalidInput(
            f"annotation {annotation.id} has a newer version; edit the latest one",
            [{"field": "annotation_id", "rule": "latest"}],
        )
    _check_lead_time(lead_time)
    item = get_item(session, project, annotation.item_id)
    clean, version_id = _validated(session, project, item, result)
    session.execute(
        update(Annotation)
        .where(Annotation.id == annotation.id)
        .values(is_latest=False, awaiting_review=False)
    )
    unindex_labels(session, annotation)
    new = Annotation(
        project_id=project.id,
        item_id=annotation.item_id,
        user_id=editor.id,
        parent_id=annotation.id,
        version=annotation.version + 1,
        result=clean,
        lead_time=lead_time,
        schema_version_id=version_id,
        review_required=annotation.review_required,
        awaiting_review=annotation.review_required,
    )
    session.add(new)
    session.flush()
    annotation.is_latest = annotation.awaiting_review = False
    _index_labels(session, new, current_schema(session, project).schema)
    audit.record(
        session,
        actor_id=editor.id,
        action="annotation.revise",
        entity="annotation",
        entity_id=new.id,
        project_id=project.id,
        before_id=annotation.id,
        after_id=new.id,
    )
    return new


def history(session: Session, annotation: Annotation) -> list[Annotation]:
    """Every version from the first to this one."""
    chain = [annotation]
    while chain[-1].parent_id is not None:
        parent = session.get(Annotation, chain[-1].parent_id)
        if parent is None:
            break
        chain.append(parent)
    return chain[::-1]


def annotations_query(
    project: Project,
    *,
    user_id: int | None = None,
    item_id: int | None = None,
    latest_only: bool = True,
) -> Select[Annotation]:
    query = select(Annotation).where(Annotation.project_id == project.id)
    if user_id is not None:
        query = query.where(Annotation.user_id == user_id)
    if item_id is not None:
        query = query.where(Annotation.item_id == item_id)
    if latest_only:
        query = query.where(Annotation.is_latest.is_(True))
    return query


def list_annotations(
    session: Session,
    project: Project,
    *,
    user_id: int | None = None,
    item_id: int | None = None,
    latest_only: bool = True,
    after: int | None = None,
    limit: int = 100,
) -> list[Annotation]:
    query = annotations_query(project, user_id=user_id, item_id=item_id, latest_only=latest_only)
    if after is not None:
        query = query.where(Annotation.id > after)
    return list(session.scalars(query.order_by(Annotation.id).limit(limit)))
