"""The job kinds Accord runs in the background."""

from __future__ import annotations

from typing import Any

from accord.core import adjudication, imports, quality_runs
from accord.core.media import storage_for
from accord.db.models import Job
from accord.errors import InvalidInput
from accord.io import read_records
from accord.jobs.registry import JobContext, job_kind


@job_kind("import")
def import_upload(context: JobContext, job: Job) -> dict[str, Any]:
    """Import a file the server put into media storage; the file is removed afterwards, so a
    worker on another machine reads it as long as both share the storage (S3 or a mount)."""
    if job.project_id is None or job.created_by is None:
        raise InvalidInput("an import job needs a project and a user")
    storage = storage_for(context.settings)
    ref, fmt = job.params["ref"], job.params["format"]
    try:
        with storage.open(ref) as stream:
            report = imports.run_import(
                context.db,
                job.project_id,
                job.created_by,
                read_records(stream, format=fmt),
                source=job.params.get("source", ref),
                format=fmt,
                progress=context.progress,
            )
    finally:
        storage.delete(ref)
    return {
        "batch_id": report.batch_id,
        "n_items": report.n_items,
        "n_duplicates": report.n_duplicates,
        "duplicates_job_id": duplicate_kinds.queue_check_after_import(context, job),
    }


@job_kind("quality")
def quality_run(context: JobContext, job: Job) -> dict[str, Any]:
    """Consensus, annotator skills, suspected errors and the agreement report of every
    single-choice control; progress counts the controls done."""
    if job.project_id is None:
        raise InvalidInput("a quality job needs a project")
    return quality_runs.run_quality(
        context.db,
        job.project_id,
        method=job.params.get("method"),
        params=job.params.get("params"),
        job_id=job.id,
        actor_id=job.created_by,
        progress=context.progress,
    )


@job_kind(adjudication.JOB_KIND)
def adjudication_recheck(context: JobContext, job: Job) -> dict[str, Any]:
    """Every done item judged again after the project's ``adjudication_below`` changed;
    progress counts the items judged."""
    threshold = job.params.get("adjudication_below")
    if job.project_id is None or not isinstance(threshold, int | float):
        raise InvalidInput("an adjudication_recheck job needs a project and adjudication_below")
    return adjudication.run_recheck(
        context.db,
        job.project_id,
        float(threshold),
        actor_id=job.created_by,
        job_id=job.id,
        progress=context.progress,
    )


from accord.jobs import vector_kinds  # noqa: E402,F401,I001  (registers embed and weak_supervision)
from accord.jobs import model_kinds  # noqa: E402,F401  (registers model_train)
from accord.jobs import duplicate_kinds  # noqa: E402  (registers duplicates; queued after imports)
