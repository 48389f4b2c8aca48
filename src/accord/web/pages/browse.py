"""The data browser: filtered, keyset-paginated items, and one item with all its annotations
and, for a gold item, its known answer (managers set and remove it through the REST API:
static/components/gold-item.js)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import (
    duplicate_reports,
    exports,
    gold,
    items,
    personal_data,
    predictions,
    projects,
    quality_overview,
    users,
)
from accord.core.policies import ProjectPolicy, authorize, can
from accord.core.vectors import similar_with_previews
from accord.db.models import Item
from accord.errors import InvalidInput, NotFound
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)
PAGE = 50


def _preview(data: dict[str, object], limit: int = 160) -> str:
    text = next((v for v in data.values() if isinstance(v, str)), "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@router.get("/projects/{project_id}/items", response_class=HTMLResponse)
def browse(
    project_id: int,
    request: Request,
    session: ReadSessionDep,
    user: PageUser,
    status: str | None = None,
    annotated_by: str | None = None,
    label: str | None = None,
    meta_key: str | None = None,
    meta_value: str | None = None,
    batch: Annotated[str | None, Query(description="batch id; empty for any")] = None,
    q: str | None = None,
    suspected: bool = False,
    has_pii: bool = False,
    after: int | None = None,
    before: int | None = None,
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view_all_annotations(project))
    filters = {
        "status": status or "",
        "annotated_by": annotated_by or "",
        "label": label or "",
        "meta_key": meta_key or "",
        "meta_value": meta_value or "",
        "batch": batch or "",
        "q": q or "",
        "suspected": "1" if suspected else "",
        "has_pii": "1" if has_pii else "",
    }
    errors: dict[str, str] = {}
    rows: list[Item] = []
    batch_id = int(batch) if batch and batch.strip().isdigit() else None
    if batch and batch_id is None:
        errors["batch"] = "an import batch is a whole number"
    annotator = None
    if annotated_by:
        try:
            annotator = users.get_user_by_name(session, annotated_by).id
        except NotFound as exc:
            errors["annotated_by"] = exc.message
    if not errors:
        f = items.ItemFilter(
            status or None,
            annotator,
            label or None,
            None,
            meta_key or None,
            meta_value or None,
            batch_id,
            q or None,
            suspected,
            has_pii,
        )
        try:
            rows = items.list_items(session, project, f, after=after, before=before, limit=PAGE + 1)
        except InvalidInput as exc:
            for detail in exc.details or [{}]:
                errors[str(detail.get("field") or "q")] = exc.message
    more = len(rows) > PAGE
    if before is not None:
        rows = rows[-PAGE:]
        has_next, has_prev = True, more
    else:
        rows = rows[:PAGE]
        has_next, has_prev = more, after is not None
    return page(
        request,
        "browse.html",
        project=project,
        can_review=True,
        can_manage=can(session, user, ProjectPolicy.manage(project)),
        rows=[{"item": i, "preview": _preview(i.data)} for i in rows],
        filters=filters,
        statuses=items.STATUSES,
        query={k: v for k, v in filters.items() if v != ""},
        errors=errors,
        next_after=rows[-1].id if rows and has_next else None,
        prev_before=rows[0].id if rows and has_prev else None,
    )


@router.get("/projects/{project_id}/items/{item_id}", response_class=HTMLResponse)
def item_detail(
    project_id: int, item_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view_all_annotations(project))
    item = items.get_item(session, project, item_id)
    found = exports.annotations_by_item(session, [item.id], include_skipped=True)
    known = gold.item_gold(session, item)
    return page(
        request,
        "item.html",
        project=project,
        can_review=True,
        can_manage=can(session, user, ProjectPolicy.manage(project)),
        item=item,
        annotations=found.get(item.id, []),
        predictions=predictions.item_predictions(session, project, item.id),
        quality=quality_overview.item_quality(session, project, item),
        gold=known,
        gold_scores=gold.item_scores(session, item) if known is not None else {},
        similar=similar_with_previews(session, project, item.id, 10),
        pii=item.pii or [],
        pii_segments=personal_data.highlighted(item),
        duplicate_group=duplicate_reports.item_group(session, project, item.id),
    )
