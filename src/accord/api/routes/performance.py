"""Annotator performance: the project's leaderboard (reviewers, managers) and one's own
figures. The rules behind each figure are in core/performance.py."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from accord.api.deps import CurrentUser, ReadSessionDep
from accord.core import performance, projects
from accord.core.policies import ProjectPolicy, authorize

router = APIRouter(prefix="/projects/{project_id}/performance", tags=["performance"])


class DayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    day: date
    answers: int
    reviewed: int = Field(description="verdicts given that day on the annotator's answers")
    rejected: int
    rejection_rate: float | None


class PerformanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    user_id: int
    username: str
    role: str | None
    items_done: int
    answers: int = Field(description="non-skipped annotations, revisions included")
    active_seconds: float = Field(
        description="sum of lead times; without one, the gap since the previous answer, "
        "capped at 10 minutes"
    )
    throughput_per_hour: float | None = Field(description="answers per hour of active time")
    median_lead_time: float | None = Field(description="seconds")
    gold_answers: int
    gold_accuracy: float | None
    agreement: float | None = Field(description="with the consensus, latest quality runs")
    reviewed: int = Field(description="answers with a verdict")
    rejected: int
    rejection_rate: float | None
    trend: list[DayOut] = Field(description="the last 30 days (UTC), oldest first")


@router.get("", response_model=list[PerformanceOut])
def leaderboard(
    project_id: int, session: ReadSessionDep, user: CurrentUser
) -> list[PerformanceOut]:
    """Every annotator of the project, most items done first (reviewers and managers)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return [PerformanceOut.model_validate(p) for p in performance.performance(session, project)]


@router.get("/me", response_model=PerformanceOut)
def mine(project_id: int, session: ReadSessionDep, user: CurrentUser) -> PerformanceOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    return PerformanceOut.model_validate(performance.my_performance(session, project, user))
