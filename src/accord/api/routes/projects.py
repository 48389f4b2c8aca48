"""Projects, their settings, schema versions and members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, DatabaseDep, RunnerDep, SessionDep
from accord.api.payloads import (
    MemberIn,
    MemberOut,
    ProjectIn,
    ProjectOut,
    ProjectUpdate,
    SchemaIn,
    SchemaVersionOut,
    UserOut,
)
from accord.core import adjudication, overlap, projects, users
from accord.core.policies import ProjectPolicy, authorize, can, require_admin, role_in
from accord.schema import parse_schema

router = APIRouter(prefix="/projects", tags=["projects"])
schema_router = APIRouter(tags=["projects"])


@router.get("", response_model=list[ProjectOut])
def list_projects(session: SessionDep, user: CurrentUser) -> list[ProjectOut]:
    out = []
    for project in projects.list_projects(session, user):
        role = role_in(session, user, project.id)
        out.append(
            ProjectOut.model_validate(project).model_copy(
                update={"role": role.name if role else None}
            )
        )
    return out


@router.post("", response_model=ProjectOut, status_code=201)
def create_project(body: ProjectIn, session: SessionDep, user: CurrentUser) -> ProjectOut:
    require_admin(user)
    settings = {k: getattr(body, k) for k in projects.SETTINGS if k not in ("name", "description")}
    project = projects.create_project(
        session,
        user,
        body.name,
        body.schema_,
        guidelines=body.guidelines,
        description=body.description,
        **settings,
    )
    return ProjectOut.model_validate(project).model_copy(update={"role": "manager"})


@router.get("/{project_id}", response_model=ProjectOut)
def get_project(project_id: int, session: SessionDep, user: CurrentUser) -> ProjectOut:
    project = projects.get_project(session, project_id)
    role = authorize(session, user, ProjectPolicy.view(project))
    reviewer = can(session, user, ProjectPolicy.review(project))
    counts = projects.project_counts(session, project, with_gold=reviewer)
    saved = overlap.labels_saved(session, project) if project.adaptive_overlap else None
    return ProjectOut.model_validate(project).model_copy(
        update={"role": role.name, "counts": counts, "labels_saved": saved}
    )


@router.patch("/{project_id}", response_model=ProjectOut)
def update_project(
    project_id: int, body: ProjectUpdate, db: DatabaseDep, user: CurrentUser, runner: RunnerDep
) -> ProjectOut:
    """Change settings. A new ``adjudication_below`` other than 0 judges the done items again in
    a background job (``adjudication_job_id``); 0 withdraws the open cases at once."""
    with db.transaction() as session:
        project = projects.get_project(session, project_id)
        authorize(session, user, ProjectPolicy.manage(project))
        changes = body.model_dump(exclude_unset=True)
        queued = projects.update_project(session, project, changes, actor_id=user.id)
        jobs = {job.id: job.kind for job in queued}
        out = ProjectOut.model_validate(project)
    for job_id in jobs:  # committed: the job reads the new settings
        runner.submit(job_id)
    recheck = next((i for i, kind in jobs.items() if kind == adjudication.JOB_KIND), None)
    return out.model_copy(update={"adjudication_job_id": recheck})


@router.get("/{project_id}/schema", response_model=SchemaVersionOut)
def current_schema(project_id: int, session: SessionDep, user: CurrentUser) -> SchemaVersionOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    return SchemaVersionOut.model_validate(projects.current_schema(session, project))


@router.put("/{project_id}/schema", response_model=SchemaVersionOut, status_code=201)
def publish_schema(
    project_id: int, body: SchemaIn, session: SessionDep, user: CurrentUser
) -> SchemaVersionOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    version = projects.publish_schema(
        session,
        project,
        schema=body.schema_,
        guidelines=body.guidelines,
        change_note=body.change_note,
        actor_id=user.id,
        requires_recalibration=body.requires_recalibration,
        recalibration_items=body.recalibration_items,
    )
    return SchemaVersionOut.model_validate(version)


@router.get("/{project_id}/schema/versions", response_model=list[SchemaVersionOut])
def schema_versions(
    project_id: int, session: SessionDep, user: CurrentUser
) -> list[SchemaVersionOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    return [
        SchemaVersionOut.model_validate(v) for v in projects.list_schema_versions(session, project)
    ]


@router.get("/{project_id}/schema/versions/{version}", response_model=SchemaVersionOut)
def schema_version(
    project_id: int, version: int, session: SessionDep, user: CurrentUser
) -> SchemaVersionOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    return SchemaVersionOut.model_validate(projects.get_schema_version(session, project, version))


@router.get("/{project_id}/members", response_model=list[MemberOut])
def list_members(project_id: int, session: SessionDep, user: CurrentUser) -> list[MemberOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return [
        MemberOut(user=UserOut.model_validate(u), role=role)
        for u, role in projects.list_members(session, project)
    ]


@router.put("/{project_id}/members/{username}", response_model=MemberOut)
def set_member(
    project_id: int, username: str, body: MemberIn, session: SessionDep, user: CurrentUser
) -> MemberOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    member = users.get_user_by_name(session, username)
    projects.set_member(session, project, member, body.role, actor_id=user.id)
    return MemberOut(user=UserOut.model_validate(member), role=body.role)


@router.delete("/{project_id}/members/{username}", status_code=204)
def remove_member(project_id: int, username: str, session: SessionDep, user: CurrentUser) -> None:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    projects.remove_member(
        session, project, users.get_user_by_name(session, username), actor_id=user.id
    )


class SchemaCheckIn(BaseModel):
    schema_: dict[str, Any] | str = Field(alias="schema")


@schema_router.post("/schemas/validate", response_model=dict[str, Any])
def validate_schema(body: SchemaCheckIn, user: CurrentUser) -> dict[str, Any]:
    """Check a schema document without saving it: the normalised schema, or a 422 whose
    ``errors`` give each problem's location (``controls.sentiment.labels[1]``)."""
    return parse_schema(body.schema_).to_dict()
