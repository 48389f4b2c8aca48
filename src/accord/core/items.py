"""Items: reading one, listing with filters and keyset pagination."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from accord.core import search_index
from accord.core.policies import ProjectPolicy, can
from accord.db.models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    GuidelineExample,
    Item,
    Project,
    SuspectedError,
    User,
)
from accord.errors import InvalidInput, NotFound
from accord.schema import ItemContext, MediaInfo

STATUSES = ("open", "done", "gold", "excluded")
MAX_PAGE = 1000
_MEDIA_KEYS = ("width", "height", "duration", "frame_count", "fps")


def get_item(session: Session, project: Project, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None or item.project_id != project.id:
        raise NotFound(f"item {item_id} not found in project {project.id}")
    return item


def item_context(item: Item) -> ItemContext:
    return context_of(item.data, item.media_info, item.id)


def context_of(
    data: Mapping[str, Any], media_info: Mapping[str, Any] | None, item_id: int | None = None
) -> ItemContext:
    """What result validation needs to know of an item (also of one not stored yet)."""
    info = media_info or {}
    media = (
        MediaInfo(**{k: info[k] for k in _MEDIA_KEYS if info.get(k) is not None}) if info else None
    )
    return ItemContext(id=item_id, data=data, media=media)


def get_visible_item(session: Session, user: User, project: Project, item_id: int) -> Item:
    """An item as ``user`` may open it: reviewers and managers see every item, an annotator
    only the items they were given and the guideline examples; to anyone else it does not
    exist."""
    item = get_item(session, project, item_id)
    if can(session, user, ProjectPolicy.view_all_annotations(project)):
        return item
    if not has_assignment(session, item.id, user.id) and not _shown_as_example(session, item):
        raise NotFound(f"item {item_id} not found in project {project.id}")
    return item


def _shown_as_example(session: Session, item: Item) -> bool:
    """Guideline examples are shown to everyone on the project (never a gold item's)."""
    if item.status == "gold":
        return False
    found = session.scalar(
        select(GuidelineExample.id)
        .where(GuidelineExample.project_id == item.project_id, GuidelineExample.item_id == item.id)
        .limit(1)
    )
    return found is not None


def has_assignment(session: Session, item_id: int, user_id: int) -> bool:
    found = session.scalar(
        select(Assignment.id).where(Assignment.item_id == item_id, Assignment.user_id == user_id)
    )
    return found is not None


@dataclass(frozen=True)
class ItemFilter:
    status: str | None = None
    annotated_by: int | None = None
    label: str | None = None
    control: str | None = None
    meta_key: str | None = None
    meta_value: str | None = None
    batch_id: int | None = None
    q: str | None = None
    suspected: bool = False
    """Only items with an open suspected label error."""
    has_pii: bool = False
    """Only items in which the import found personal data."""

    def check(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput(
                f"status must be one of {list(STATUSES)}", [{"field": "status", "rule": "choice"}]
            )
        if (self.meta_key is None) != (self.meta_value is None):
            raise InvalidInput(
                "meta_key and meta_value go together", [{"field": "meta_key", "rule": "pair"}]
            )


def filtered(session: Session, project: Project, f: ItemFilter) -> Select[Item]:
    f.check()
    query = select(Item).where(Item.project_id == project.id)
    if f.status:
        query = query.where(Item.status == f.status)
    if f.batch_id is not None:
        query = query.where(Item.batch_id == f.batch_id)
    if f.annotated_by is not None:
        query = query.where(
            exists().where(
                Annotation.item_id == Item.id,
                Annotation.user_id == f.annotated_by,
                Annotation.is_latest.is_(True),
                Annotation.skipped.is_(False),
            )
        )
    if f.label is not None:
        cond = [
            AnnotationLabel.item_id == Item.id,
            AnnotationLabel.project_id == project.id,
            AnnotationLabel.label == f.label,
        ]
        if f.control is not None:
            cond.append(AnnotationLabel.control == f.control)
        query = query.where(exists().where(*cond))
    if f.meta_key is not None and f.meta_value is not None:
        query = query.where(Item.meta[f.meta_key].as_string() == f.meta_value)
    if f.suspected:
        query = query.where(
            exists().where(SuspectedError.item_id == Item.id, SuspectedError.status == "open")
        )
    if f.has_pii:
        query = query.where(Item.pii.is_not(None))
    if f.q:
        query = query.where(search_index.matching(session, f.q))
    return query


def list_items(
    session: Session,
    project: Project,
    f: ItemFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[Item]:
    """One page in id order. ``after`` pages forward, ``before`` backward; both are keyset
    cursors, so page 5,000 costs what page 1 costs."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", [{"field": "limit", "rule": "range"}])
    if f.q:
        return _search_page(session, project, f, after=after, before=before, limit=limit)
    query = filtered(session, project, f)
    if before is not None:
        rows = list(
            session.scalars(query.where(Item.id < before).order_by(Item.id.desc()).limit(limit))
        )
        return rows[::-1]
    if after is not None:
        query = query.where(Item.id > after)
    return list(session.scalars(query.order_by(Item.id).limit(limit)))


def _search_page(
    session: Session,
    project: Project,
    f: ItemFilter,
    *,
    after: int | None,
    before: int | None,
    limit: int,
) -> list[Item]:
    """A page of a full-text search: the search index walks from the cursor in id order and the
    other filters are applied to each batch of its matches, until the page is full. The index is
    shared by all projects, so batches grow when few matches belong to this one."""
    assert f.q
    others = filtered(session, project, replace(f, q=None))
    found: list[Item] = []
    batch = max(4 * limit, 200)
    while len(found) < limit:
        ids = search_index.matching_ids(session, f.q, after=after, before=before, limit=batch)
        if not ids:
            break
        rows = list(session.scalars(others.where(Item.id.in_(ids))))
        rows.sort(key=lambda item: item.id, reverse=before is not None)
        found.extend(rows[: limit - len(found)])
        if len(ids) < batch:
            break
        if before is not None:
            before = ids[-1]
        else:
            after = ids[-1]
        batch = min(batch * 4, 20_000)
    found.sort(key=lambda item: item.id)
    return found
