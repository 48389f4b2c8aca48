"""Background jobs as users see them: who may look at which job."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.policies import ProjectPolicy, can
from accord.db.models import Job, Project, User
from accord.errors import NotFound


def get_visible_job(session: Session, user: User, job_id: int) -> Job:
    """A job its creator, an administrator or a manager of its project may see; to anyone
    else it does not exist."""
    job = session.get(Job, job_id)
    if job is not None and (user.is_admin or job.created_by == user.id):
        return job
    if job is not None and job.project_id is not None:
        project = session.get(Project, job.project_id)
        if project is not None and can(session, user, ProjectPolicy.manage(project)):
            return job
    raise NotFound(f"job {job_id} not found")


def active_job(session: Session, project: Project, kind: str) -> Job | None:
    """The project's newest job of ``kind`` that is waiting or running, if any."""
    return session.scalar(
        select(Job)
        .where(
            Job.project_id == project.id,
            Job.kind == kind,
            Job.status.in_(("queued", "running")),
        )
        .order_by(Job.id.desc())
        .limit(1)
    )
