"""Items: the filtered, keyset-paginated listing and single items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response

from accord.api.deps import CurrentUser, SessionDep, StorageDep
from accord.api.media_response import media_response
from accord.api.payloads import ItemOut, ItemPage, PredictionOut, TaskItemOut
from accord.core import items, media, predictions, projects, users
from accord.core.policies import ProjectPolicy, authorize, can

router = APIRouter(prefix="/projects/{project_id}/items", tags=["items"])


@router.get("", response_model=ItemPage)
def list_items(
    project_id: int,
    session: SessionDep,
    user: CurrentUser,
    status: str | None = None,
    annotated_by: Annotated[str | None, Query(description="username")] = None,
    label: str | None = None,
    control: str | None = None,
    meta_key: str | None = None,
    meta_value: str | None = None,
    batch: int | None = None,
    q: Annotated[str | None, Query(description="full-text search")] = None,
    suspected: Annotated[bool, Query(description="only open suspected label errors")] = False,
    has_pii: Annotated[bool, Query(description="only items with personal data")] = False,
    after: int | None = None,
    before: int | None = None,
    limit: Annotated[int, Query(ge=1, le=items.MAX_PAGE)] = 50,
) -> ItemPage:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view_all_annotations(project))
    annotator = users.get_user_by_name(session, annotated_by).id if annotated_by else None
    f = items.ItemFilter(
        status, annotator, label, control, meta_key, meta_value, batch, q, suspected, has_pii
    )
    page = items.list_items(session, project, f, after=after, before=before, limit=limit)
    next_after = page[-1].id if len(page) == limit else None
    return ItemPage(items=[ItemOut.model_validate(i) for i in page], next_after=next_after)


@router.get("/{item_id}", response_model=ItemOut | TaskItemOut)
def get_item(
    project_id: int, item_id: int, session: SessionDep, user: CurrentUser
) -> ItemOut | TaskItemOut:
    """Reviewers and managers get the item with its status; annotators its content only."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    item = items.get_visible_item(session, user, project, item_id)
    if can(session, user, ProjectPolicy.review(project)):
        return ItemOut.model_validate(item)
    return TaskItemOut.model_validate(item)


@router.get(
    "/{item_id}/media",
    response_class=FileResponse,
    responses={307: {"description": "Redirect to the media's URL (S3, http)"}},
)
def get_media(
    project_id: int, item_id: int, session: SessionDep, user: CurrentUser, storage: StorageDep
) -> Response:
    """The item's image, audio or video file."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    source = media.media_source(items.get_visible_item(session, user, project, item_id), storage)
    return media_response(source)


@router.get("/{item_id}/predictions", response_model=list[PredictionOut])
def item_predictions(
    project_id: int, item_id: int, session: SessionDep, user: CurrentUser
) -> list[PredictionOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    return [
        PredictionOut.model_validate(p)
        for p in predictions.item_predictions(session, project, item_id)
    ]
