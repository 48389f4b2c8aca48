"""Quality of a project's labels: agreement with intervals, stored consensus labels, quality runs
in the background, annotator skills and suspected label errors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from accord.api.deps import CurrentUser, DatabaseDep, ReadSessionDep, RunnerDep, SessionDep
from accord.api.payloads import JobOut, SuspectOut
from accord.core import projects, quality, quality_runs, suspects
from accord.core.consensus_methods import METHODS
from accord.core.policies import ProjectPolicy, authorize
from accord.db.models import Job
from accord.jobs.runners import enqueue

router = APIRouter(prefix="/projects/{project_id}/quality", tags=["quality"])


class ConsensusIn(BaseModel):
    control: str | None = Field(default=None, description="default: the first single choice")
    method: str = Field(default="dawid_skene", description=", ".join(sorted(METHODS)))
    params: dict[str, Any] = Field(default_factory=dict, description="the method's parameters")


class ConsensusOut(BaseModel):
    item_id: int
    label: str
    confidence: float
    n_labels: int
    method: str
    params: dict[str, Any]


@router.get("/agreement", response_model=dict[str, Any])
def agreement(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    control: str | None = None,
    n_boot: Annotated[int, Query(ge=10, le=5000)] = 500,
) -> dict[str, Any]:
    """Overall (percent agreement, Fleiss' kappa, Krippendorff's alpha, Gwet's AC1, each with a
    bootstrap interval), per label and per annotator."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return quality.agreement_report(session, project, control, n_boot=n_boot)


@router.post("/consensus", response_model=dict[str, Any])
def compute_consensus(
    project_id: int, body: ConsensusIn, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return quality.compute_consensus(
        session,
        project,
        control=body.control,
        method=body.method,
        params=body.params,
        actor_id=user.id,
    )


@router.get("/consensus", response_model=list[ConsensusOut])
def consensus(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    control: str | None = None,
    after: int = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[ConsensusOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    name = quality.categorical_control(session, project, control)
    rows = quality.consensus_rows(session, project, name, after=after, limit=limit)
    return [
        ConsensusOut(
            item_id=r.item_id,
            label=r.label,
            confidence=r.confidence,
            n_labels=r.n_labels,
            method=r.method,
            params=r.params,
        )
        for r in rows
    ]


class QualityJobIn(BaseModel):
    method: str | None = Field(default=None, description="default: the project's quality_method")
    params: dict[str, Any] = Field(default_factory=dict, description="the method's parameters")


class QualityRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    job_id: int | None
    control: str
    method: str
    params: dict[str, Any]
    n_items: int
    n_labels: int
    n_annotators: int
    n_suspects: int
    last_annotation_id: int
    seconds: float
    computed_at: datetime
    report: dict[str, Any]


class SkillOut(BaseModel):
    annotator: str
    control: str
    method: str
    skill: float | None = Field(description="the method's estimate of the share of correct answers")
    agreement: float = Field(description="share of the annotator's labels equal to the consensus")
    n_labels: int
    computed_at: datetime


class SuspectResolutionIn(BaseModel):
    status: str = Field(description="confirmed or dismissed")


@router.post("/jobs", response_model=JobOut, status_code=202)
def start_quality_job(
    project_id: int,
    body: QualityJobIn,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    runner: RunnerDep,
) -> JobOut:
    """Compute consensus, annotator skills, suspected errors and the agreement report of every
    single-choice control in the background; follow it at /jobs/{id}."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    if body.method is not None:
        quality.consensus_model(body.method, body.params)
    params = {"method": body.method, "params": body.params}
    job_id = enqueue(db, runner, "quality", params, project_id=project.id, user_id=user.id)
    with db.transaction(write=False) as read:
        return JobOut.model_validate(read.get(Job, job_id))


@router.get("/runs", response_model=list[QualityRunOut])
def latest_runs(project_id: int, session: ReadSessionDep, user: CurrentUser) -> list[QualityRunOut]:
    """The newest quality run of each control, with its stored agreement report."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return [QualityRunOut.model_validate(r) for r in quality_runs.latest_runs(session, project)]


@router.get("/skills", response_model=list[SkillOut])
def annotator_skills(
    project_id: int, session: ReadSessionDep, user: CurrentUser, control: str | None = None
) -> list[SkillOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    name = quality.categorical_control(session, project, control)
    return [
        SkillOut(
            annotator=username,
            control=s.control,
            method=s.method,
            skill=s.skill,
            agreement=s.agreement,
            n_labels=s.n_labels,
            computed_at=s.computed_at,
        )
        for s, username in quality_runs.skills(session, project, name)
    ]


@router.get("/suspects", response_model=list[SuspectOut])
def list_suspects(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    status: Annotated[str | None, Query(description="open, confirmed or dismissed")] = "open",
    control: str | None = None,
    after_item: Annotated[int | None, Query(description="continue after this item's row")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> list[SuspectOut]:
    """Suspected label errors, most suspicious first."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    rows = suspects.list_suspects(
        session, project, status=status, control=control, after_item=after_item, limit=limit
    )
    return [SuspectOut.model_validate(r) for r in rows]


@router.post("/suspects/{item_id}", response_model=list[SuspectOut])
def resolve_suspect(
    project_id: int, item_id: int, body: SuspectResolutionIn, session: SessionDep, user: CurrentUser
) -> list[SuspectOut]:
    """Confirm or dismiss the suspicion on an item."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    rows = suspects.resolve(session, project, item_id, body.status, user)
    return [SuspectOut.model_validate(r) for r in rows]
