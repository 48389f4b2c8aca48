"""The annotator's loop: next item, submit, skip, release."""

from __future__ import annotations

from fastapi import APIRouter, Response

from accord.api.deps import CurrentUser, SessionDep
from accord.api.payloads import (
    AnnotationIn,
    AnnotationOut,
    LeaseOut,
    PredictionOut,
    ReworkOut,
    SkipIn,
    TaskItemOut,
)
from accord.core import annotations as annotation_ops
from accord.core import assignment, prelabels, projects, reviews
from accord.core.policies import ProjectPolicy, authorize

router = APIRouter(prefix="/projects/{project_id}", tags=["queue"])


@router.post(
    "/next", response_model=LeaseOut, responses={204: {"description": "Nothing left for you."}}
)
def next_item(project_id: int, session: SessionDep, user: CurrentUser) -> LeaseOut | Response:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    lease = assignment.next_item(session, project, user.id)
    if lease is None:
        return Response(status_code=204)
    rework = reviews.rework_of(session, lease.item.id, user.id) if lease.rework else None
    return LeaseOut(
        item=TaskItemOut.model_validate(lease.item),
        expires_at=lease.expires_at,
        schema_version=projects.current_schema(session, project).version,
        predictions=[
            PredictionOut.model_validate(p)
            for p in prelabels.item_prelabels(session, project, lease.item.id)
        ],
        rework=ReworkOut(
            annotation=AnnotationOut.model_validate(rework[0]), reason=rework[1].reason
        )
        if rework
        else None,
    )


@router.post("/items/{item_id}/annotations", response_model=AnnotationOut, status_code=201)
def submit(
    project_id: int, item_id: int, body: AnnotationIn, session: SessionDep, user: CurrentUser
) -> AnnotationOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    annotation = annotation_ops.submit(
        session, project, user, item_id, body.result, lead_time=body.lead_time
    )
    return AnnotationOut.model_validate(annotation)


@router.post("/items/{item_id}/skip", response_model=AnnotationOut, status_code=201)
def skip(
    project_id: int, item_id: int, body: SkipIn, session: SessionDep, user: CurrentUser
) -> AnnotationOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    annotation = annotation_ops.skip(
        session, project, user, item_id, body.reason, lead_time=body.lead_time
    )
    return AnnotationOut.model_validate(annotation)


@router.post("/items/{item_id}/release", status_code=204)
def release(project_id: int, item_id: int, session: SessionDep, user: CurrentUser) -> None:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    assignment.release(session, project, item_id, user.id)
