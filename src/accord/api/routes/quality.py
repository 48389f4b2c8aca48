"""Quality of a project's labels: agreement with intervals, and stored consensus labels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, ReadSessionDep, SessionDep
from accord.core import projects, quality
from accord.core.policies import ProjectPolicy, authorize

router = APIRouter(prefix="/projects/{project_id}/quality", tags=["quality"])


class ConsensusIn(BaseModel):
    control: str | None = Field(default=None, description="default: the first single choice")
    method: str = Field(default="dawid_skene", description=", ".join(sorted(quality.METHODS)))
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
