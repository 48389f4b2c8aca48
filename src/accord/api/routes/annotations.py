"""Reading annotations (blind: annotators see only their own) and editing them as new versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from accord.api.deps import CurrentUser, SessionDep
from accord.api.payloads import AnnotationIn, AnnotationOut, AuditOut
from accord.core import annotations as annotation_ops
from accord.core import audit, projects, users
from accord.core.policies import ProjectPolicy, authorize, can
from accord.db.models import Annotation, Project, User
from accord.errors import NotFound

router = APIRouter(prefix="/projects/{project_id}", tags=["annotations"])


@router.get("/annotations", response_model=list[AnnotationOut])
def list_annotations(
    project_id: int,
    session: SessionDep,
    user: CurrentUser,
    annotator: Annotated[str | None, Query(description="username")] = None,
    item: int | None = None,
    all_versions: bool = False,
    after: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AnnotationOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    if can(session, user, ProjectPolicy.view_all_annotations(project)):
        user_id = users.get_user_by_name(session, annotator).id if annotator else None
    else:
        user_id = user.id  # blind labeling: an annotator sees only their own work
    rows = annotation_ops.list_annotations(
        session,
        project,
        user_id=user_id,
        item_id=item,
        latest_only=not all_versions,
        after=after,
        limit=limit,
    )
    return [AnnotationOut.model_validate(a) for a in rows]


def _visible(
    session: Session, project_id: int, annotation_id: int, user: User
) -> tuple[Project, Annotation]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    annotation = annotation_ops.get_annotation(session, project, annotation_id)
    if annotation.user_id != user.id and not can(
        session, user, ProjectPolicy.view_all_annotations(project)
    ):
        raise NotFound(f"annotation {annotation_id} not found in project {project_id}")
    return project, annotation


@router.get("/annotations/{annotation_id}", response_model=AnnotationOut)
def get_annotation(
    project_id: int, annotation_id: int, session: SessionDep, user: CurrentUser
) -> AnnotationOut:
    _, annotation = _visible(session, project_id, annotation_id, user)
    return AnnotationOut.model_validate(annotation)


@router.put("/annotations/{annotation_id}", response_model=AnnotationOut, status_code=201)
def revise(
    project_id: int, annotation_id: int, body: AnnotationIn, session: SessionDep, user: CurrentUser
) -> AnnotationOut:
    project, annotation = _visible(session, project_id, annotation_id, user)
    authorize(session, user, ProjectPolicy.annotate(project))
    new = annotation_ops.revise(
        session,
        project,
        user,
        annotation,
        body.result,
        lead_time=body.lead_time,
        may_edit_others=can(session, user, ProjectPolicy.review(project)),
    )
    return AnnotationOut.model_validate(new)


@router.get("/annotations/{annotation_id}/history", response_model=list[AnnotationOut])
def history(
    project_id: int, annotation_id: int, session: SessionDep, user: CurrentUser
) -> list[AnnotationOut]:
    _, annotation = _visible(session, project_id, annotation_id, user)
    return [AnnotationOut.model_validate(a) for a in annotation_ops.history(session, annotation)]


@router.get("/audit", response_model=list[AuditOut])
def audit_log(
    project_id: int,
    session: SessionDep,
    user: CurrentUser,
    before: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return [
        AuditOut.model_validate(e)
        for e in audit.list_events(session, project.id, before=before, limit=limit)
    ]
