"""Background jobs: their state, progress and result."""

from __future__ import annotations

from fastapi import APIRouter

from accord.api.deps import CurrentUser, RunnerDep, SessionDep
from accord.api.payloads import JobOut
from accord.core import jobs

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: int, session: SessionDep, user: CurrentUser, runner: RunnerDep) -> JobOut:
    job = jobs.get_visible_job(session, user, job_id)
    out = JobOut.model_validate(job)
    out.progress = runner.progress(job.id)
    return out
