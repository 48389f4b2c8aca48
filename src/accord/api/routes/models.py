"""Models in the loop: a project's model backends (managers), their train/predict jobs, the
acceptance of their pre-labels and the model-driven queue's scores."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict, Field

from accord.api.deps import CurrentUser, DatabaseDep, ReadSessionDep, RunnerDep, SessionDep
from accord.api.payloads import JobOut
from accord.core import model_backends, model_queue, prelabels, projects
from accord.core.policies import ProjectPolicy, authorize
from accord.db.models import Job
from accord.jobs.runners import enqueue

router = APIRouter(prefix="/projects/{project_id}/models", tags=["models"])


class BackendIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(description="text_classifier, pattern_ner, knn, http, label_studio, ...")
    control: str = Field(description="the schema control the model answers")
    config: dict[str, Any] = Field(default_factory=dict, description="the kind's settings")
    retrain_every: int = Field(default=0, ge=0, description="new human labels; 0: on demand")
    active: bool = True


class BackendPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: str | None = None
    control: str | None = None
    config: dict[str, Any] | None = None
    retrain_every: int | None = Field(default=None, ge=0)
    active: bool | None = None


class BackendOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    project_id: int
    name: str
    kind: str
    control: str
    config: dict[str, Any]
    version: str = Field(description="the fitted model's version; empty before the first run")
    retrain_every: int
    labels_at_fit: int = Field(description="human labels of the control at the last fit")
    active: bool
    fitted_at: datetime | None
    error: str | None = Field(description="why the last run failed; null after a success")
    state: dict[str, Any] | None = Field(
        description="counts of the last run; search: exact or usearch for a knn model"
    )
    created_at: datetime


class ModelJobIn(BaseModel):
    mode: str = Field(default="train", description="train (fit, then predict) or predict")


class AcceptanceOut(BaseModel):
    model_name: str
    model_version: str
    n_prelabelled: int = Field(description="answers given with this model's pre-label")
    n_accepted: int = Field(description="answers equal to the pre-label")
    rate: float | None


class QueueScoresIn(BaseModel):
    budget: int | None = Field(
        default=None, ge=1, le=100_000, description="k_center/hybrid: items picked for diversity"
    )


class QueueScoresOut(BaseModel):
    strategy: str
    model_name: str | None
    n_open: int
    n_scored: int


@router.get("", response_model=list[BackendOut])
def list_models(project_id: int, session: ReadSessionDep, user: CurrentUser) -> list[BackendOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return [BackendOut.model_validate(r) for r in model_backends.list_backends(session, project)]


@router.post("", response_model=BackendOut, status_code=201)
def create_model(
    project_id: int, body: BackendIn, session: SessionDep, user: CurrentUser
) -> BackendOut:
    """Add a model; its configuration is checked by building it (422 naming the field)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    row = model_backends.create(session, project, **body.model_dump(), actor_id=user.id)
    return BackendOut.model_validate(row)


@router.get("/acceptance", response_model=list[AcceptanceOut])
def acceptance(project_id: int, session: ReadSessionDep, user: CurrentUser) -> list[AcceptanceOut]:
    """Per model name and version: how many answers were given with its pre-label and how many
    left it unchanged."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return [AcceptanceOut(**row) for row in prelabels.acceptance(session, project)]


@router.post("/queue-scores", response_model=QueueScoresOut)
def queue_scores(
    project_id: int,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    body: Annotated[QueueScoresIn | None, Body()] = None,
) -> QueueScoresOut:
    """Recompute the model-driven queue's priorities now (the project's strategy must be one of
    least_confidence, margin, entropy, k_center, hybrid, density_weighted)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    budget = body.budget if body else None
    done = model_queue.refresh_queue_scores(db, project.id, budget=budget, actor_id=user.id)
    return QueueScoresOut(**done)


@router.get("/{backend_id}", response_model=BackendOut)
def get_model(
    project_id: int, backend_id: int, session: ReadSessionDep, user: CurrentUser
) -> BackendOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return BackendOut.model_validate(model_backends.get(session, project, backend_id))


@router.patch("/{backend_id}", response_model=BackendOut)
def update_model(
    project_id: int, backend_id: int, body: BackendPatch, session: SessionDep, user: CurrentUser
) -> BackendOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    row = model_backends.get(session, project, backend_id)
    changes = body.model_dump(exclude_unset=True)
    row = model_backends.update(session, project, row, changes, actor_id=user.id)
    return BackendOut.model_validate(row)


@router.delete("/{backend_id}", status_code=204)
def delete_model(
    project_id: int, backend_id: int, session: SessionDep, user: CurrentUser
) -> Response:
    """Delete the model and its pre-labels."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    model_backends.remove(
        session, project, model_backends.get(session, project, backend_id), actor_id=user.id
    )
    return Response(status_code=204)


@router.post("/{backend_id}/jobs", response_model=JobOut, status_code=202)
def start_model_job(
    project_id: int,
    backend_id: int,
    body: ModelJobIn,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    runner: RunnerDep,
) -> JobOut:
    """Train (fit on the human labels, then predict every open item) or only predict, in the
    background; follow it at /jobs/{id} (progress: open items predicted)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    row = model_backends.get(session, project, backend_id)
    model_backends.check_mode(session, project, row, body.mode)
    params = {"backend_id": row.id, "mode": body.mode, "trigger": "manual"}
    job_id = enqueue(
        db, runner, model_backends.JOB_KIND, params, project_id=project.id, user_id=user.id
    )
    with db.transaction(write=False) as read:
        return JobOut.model_validate(read.get(Job, job_id))
