"""The duplicates check as a background job, and the check queued after every import job."""

from __future__ import annotations

import logging
from typing import Any

from accord.core import duplicates
from accord.core.media import storage_for
from accord.db.models import Job
from accord.errors import InvalidInput
from accord.jobs.registry import JobContext, job_kind

log = logging.getLogger(__name__)


@job_kind("duplicates")
def duplicates_check(context: JobContext, job: Job) -> dict[str, Any]:
    """Exact and near-duplicate groups of the project's items, stored; progress counts the
    stages (reading, each method, storing)."""
    if job.project_id is None:
        raise InvalidInput("a duplicates job needs a project")
    return duplicates.run_check(
        context.db,
        job.project_id,
        job.params,
        storage=storage_for(context.settings),
        actor_id=job.created_by,
        job_id=job.id,
        progress=context.progress,
    )


def queue_check_after_import(context: JobContext, job: Job) -> int | None:
    """Queue a duplicates check of the job's project with the default settings on the runner
    that ran the import, unless the import asked not to (``check_duplicates: false``) or the
    import ran inline; returns the new job's id."""
    if not job.params.get("check_duplicates", True) or job.project_id is None:
        return None
    if context.follow_up is None:
        return None
    params: dict[str, Any] = {"trigger": "import", "import_job_id": job.id}
    try:
        return context.follow_up("duplicates", params, job.project_id, job.created_by)
    except Exception:  # the import itself succeeded: a missing check must not fail it
        log.exception("could not queue the duplicates check after import job %s", job.id)
        return None
