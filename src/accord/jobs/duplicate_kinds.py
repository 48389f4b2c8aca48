"""The duplicates check as a background job, and the check queued after every import (import
jobs, synchronous imports through the API, and the command line)."""

from __future__ import annotations

import logging
from typing import Any

from accord.core import duplicate_reports, duplicates
from accord.core.media import storage_for
from accord.db.engine import Database
from accord.db.models import Job
from accord.errors import InvalidInput
from accord.jobs.registry import FollowUp, JobContext, job_kind

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
    return check_after_import(
        context.db, context.follow_up, job.project_id, job.created_by, {"import_job_id": job.id}
    )


def check_after_import(
    db: Database,
    follow_up: FollowUp | None,
    project_id: int,
    user_id: int | None,
    origin: dict[str, Any],
) -> int | None:
    """Queue a duplicates check of the project with the default settings through
    ``follow_up``, once an import has committed; ``origin`` names the import (``import_job_id``
    or ``import_batch_id``) in the job's params. A check queued after an earlier import that
    has not started yet reads the new items too: its id is returned instead of a second job.
    None when nothing could be queued (the import itself stands)."""
    if follow_up is None:
        return None
    try:
        with db.transaction(write=False) as session:
            waiting = duplicate_reports.queued_import_check(session, project_id)
        if waiting is not None:
            return waiting
        params: dict[str, Any] = {"trigger": "import", **origin}
        return follow_up("duplicates", params, project_id, user_id)
    except Exception:  # the import itself succeeded: a missing check must not fail it
        log.exception("could not queue the duplicates check after an import (%s)", origin)
        return None
