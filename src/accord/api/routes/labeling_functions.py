"""Weak supervision: a project's labeling functions, runs of the label model in the background,
the newest run's summary and the probabilistic labels it stored (as pre-labels) for review."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from accord.api.deps import CurrentUser, DatabaseDep, ReadSessionDep, RunnerDep, SessionDep
from accord.api.payloads import JobOut
from accord.core import labeling_functions as lfs
from accord.core import projects
from accord.core.policies import ProjectPolicy, authorize
from accord.db.models import Job, Project, User
from accord.errors import NotFound
from accord.jobs.runners import enqueue

router = APIRouter(prefix="/projects/{project_id}/labeling-functions", tags=["weak supervision"])


class LabelingFunctionIn(BaseModel):
    name: str = Field(max_length=200)
    kind: str = Field(description="keywords, regex or python")
    control: str | None = Field(default=None, description="default: the first single choice")
    label: str | None = Field(default=None, description="the label it votes (python: unused)")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description='keywords: {"keywords": [...], "case_sensitive": false, "whole_word": true};'
        ' regex: {"pattern": "...", "ignore_case": true}; python: {"function": "<name>"};'
        ' "field" (the item-data key read) defaults to the control\'s field',
    )
    active: bool = True


class LabelingFunctionPatch(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    kind: str | None = None
    control: str | None = None
    label: str | None = None
    config: dict[str, Any] | None = None
    active: bool | None = None


class LabelingFunctionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    control: str
    label: str | None
    config: dict[str, Any]
    active: bool
    created_at: datetime


class RunIn(BaseModel):
    method: str = Field(default="dawid_skene", description=", ".join(lfs.METHODS))


class SummaryOut(BaseModel):
    job_id: int
    finished_at: datetime | None
    result: dict[str, Any] = Field(description="the run's report (the job's result)")


class ReviewRowOut(BaseModel):
    item_id: int
    preview: str
    status: str
    control: str
    label: str
    score: float | None
    probas: dict[str, float]
    votes: dict[str, str | None] = Field(description="each function's vote (null: abstained)")
    model_version: str
    created_at: datetime


class ReviewPageOut(BaseModel):
    total: int
    offset: int
    rows: list[ReviewRowOut]


def _managed(session: Session, user: User, project_id: int) -> Project:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return project


@router.get("", response_model=list[LabelingFunctionOut])
def list_functions(
    project_id: int, session: ReadSessionDep, user: CurrentUser
) -> list[LabelingFunctionOut]:
    project = _managed(session, user, project_id)
    return [LabelingFunctionOut.model_validate(f) for f in lfs.list_functions(session, project)]


@router.post("", response_model=LabelingFunctionOut, status_code=201)
def create_function(
    project_id: int, body: LabelingFunctionIn, session: SessionDep, user: CurrentUser
) -> LabelingFunctionOut:
    project = _managed(session, user, project_id)
    row = lfs.create_function(session, project, **body.model_dump(), actor_id=user.id)
    return LabelingFunctionOut.model_validate(row)


@router.post("/jobs", response_model=JobOut, status_code=202)
def start_run(
    project_id: int,
    body: RunIn,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    runner: RunnerDep,
) -> JobOut:
    """Apply the active functions to every item, fit the label model and store its labels as
    predictions of the model ``weak-supervision``; follow it at /jobs/{id}."""
    project = _managed(session, user, project_id)
    lfs.check_run(session, project, body.method)
    job_id = enqueue(
        db, runner, lfs.JOB_KIND, {"method": body.method}, project_id=project.id, user_id=user.id
    )
    with db.transaction(write=False) as read:
        return JobOut.model_validate(read.get(Job, job_id))


@router.get("/summary", response_model=SummaryOut)
def summary(project_id: int, session: ReadSessionDep, user: CurrentUser) -> SummaryOut:
    """The newest finished run: per control, each function's coverage, overlap, conflict and
    accuracy on the gold answers and on the human labels, the overall coverage and the label
    model's agreement with a plain majority vote."""
    project = _managed(session, user, project_id)
    run = lfs.latest_run(session, project)
    if run is None or run.result is None:
        raise NotFound(f"project {project.id} has no finished weak-supervision run")
    return SummaryOut(job_id=run.id, finished_at=run.finished_at, result=run.result)


@router.get("/predictions", response_model=ReviewPageOut)
def predictions(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
    max_score: Annotated[float, Query(ge=0, le=1)] = 1.0,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> ReviewPageOut:
    """The probabilistic labels stored by the newest run, most confident first, with each
    function's vote; annotators see them as pre-labels and confirm or correct them."""
    project = _managed(session, user, project_id)
    found = lfs.review_predictions(
        session, project, min_score=min_score, max_score=max_score, offset=offset, limit=limit
    )
    return ReviewPageOut(
        total=found.total,
        offset=found.offset,
        rows=[ReviewRowOut(**vars(r)) for r in found.rows],
    )


@router.get("/{function_id}", response_model=LabelingFunctionOut)
def get_function(
    project_id: int, function_id: int, session: ReadSessionDep, user: CurrentUser
) -> LabelingFunctionOut:
    project = _managed(session, user, project_id)
    return LabelingFunctionOut.model_validate(lfs.get_function(session, project, function_id))


@router.patch("/{function_id}", response_model=LabelingFunctionOut)
def update_function(
    project_id: int,
    function_id: int,
    body: LabelingFunctionPatch,
    session: SessionDep,
    user: CurrentUser,
) -> LabelingFunctionOut:
    project = _managed(session, user, project_id)
    changes = body.model_dump(exclude_unset=True)
    row = lfs.update_function(session, project, function_id, changes, actor_id=user.id)
    return LabelingFunctionOut.model_validate(row)


@router.delete("/{function_id}", status_code=204)
def delete_function(
    project_id: int, function_id: int, session: SessionDep, user: CurrentUser
) -> Response:
    project = _managed(session, user, project_id)
    lfs.delete_function(session, project, function_id, actor_id=user.id)
    return Response(status_code=204)
