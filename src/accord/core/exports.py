"""Export rows: items with their current annotations, read in keyset chunks and streamed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core import adjudication, quality
from accord.core.items import ItemFilter, filtered
from accord.core.schemas import current_schema
from accord.db.models import Annotation, Item, Project, SchemaVersion, User

CHUNK = 1000


def annotations_by_item(
    session: Session, item_ids: list[int], include_skipped: bool
) -> dict[int, list[dict[str, Any]]]:
    query = (
        select(Annotation, User.username, SchemaVersion.version)
        .outerjoin(User, User.id == Annotation.user_id)
        .outerjoin(SchemaVersion, SchemaVersion.id == Annotation.schema_version_id)
        .where(Annotation.item_id.in_(item_ids), Annotation.is_latest.is_(True))
        .order_by(Annotation.item_id, Annotation.id)
    )
    if not include_skipped:
        query = query.where(Annotation.skipped.is_(False))
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for annotation, username, version in session.execute(query):
        out[annotation.item_id].append(
            {
                "id": annotation.id,
                "annotator": username,
                "result": annotation.result,
                "lead_time": annotation.lead_time,
                "created_at": annotation.created_at.isoformat(),
                "schema_version": version,
                "version": annotation.version,
                "parent_id": annotation.parent_id,
                "skipped": annotation.skipped,
                "skip_reason": annotation.skip_reason,
            }
        )
    return out


def export_rows(
    session: Session,
    project: Project,
    f: ItemFilter,
    *,
    only_annotated: bool = False,
    include_skipped: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every matching item with its current annotations, in id order, a chunk at a time."""
    base = filtered(session, project, f)
    after = 0
    while True:
        items = list(session.scalars(base.where(Item.id > after).order_by(Item.id).limit(CHUNK)))
        if not items:
            return
        after = items[-1].id
        ids = [i.id for i in items]
        annotations = annotations_by_item(session, ids, include_skipped)
        consensus = quality.consensus_by_item(session, ids)
        ground_truth = adjudication.ground_truth_by_item(session, ids)
        for item in items:
            found = annotations.get(item.id, [])
            if only_annotated and not found:
                continue
            yield {
                "id": item.id,
                "data": item.data,
                "meta": item.meta,
                "media": item.media,
                "status": item.status,
                "batch_id": item.batch_id,
                "created_at": item.created_at.isoformat(),
                "annotations": found,
                "consensus": consensus.get(item.id, {}),
                "ground_truth": ground_truth.get(item.id),
            }
        session.expunge_all()


def export_columns(session: Session, project: Project) -> dict[str, list[str]]:
    """Column names for tabular exports: data and meta keys of sampled items, and the controls."""
    sample = session.execute(
        select(Item.data, Item.meta)
        .where(Item.project_id == project.id)
        .order_by(Item.id)
        .limit(200)
    ).all()
    data_keys: dict[str, None] = {}
    meta_keys: dict[str, None] = {}
    for data, meta in sample:
        data_keys.update(dict.fromkeys(data))
        meta_keys.update(dict.fromkeys(meta or {}))
    controls = [c["name"] for c in current_schema(session, project).schema.get("controls", [])]
    return {
        "data_keys": list(data_keys),
        "meta_keys": list(meta_keys),
        "controls": controls,
        "consensus_controls": quality.consensus_controls(session, project),
        "ground_truth_controls": controls
        if project.adjudication_below > 0 or adjudication.has_ground_truth(session, project)
        else [],
    }
