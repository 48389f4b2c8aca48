"""The job kinds Accord runs in the background."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.core import imports
from accord.db.engine import Database
from accord.db.models import Job
from accord.errors import InvalidInput
from accord.io import read_records
from accord.jobs.registry import job_kind


@job_kind("import")
def import_file(db: Database, job: Job) -> dict[str, Any]:
    """Import an uploaded file that the server saved; the file is removed afterwards."""
    path = Path(job.params["path"])
    if job.project_id is None or job.created_by is None:
        raise InvalidInput("an import job needs a project and a user")
    try:
        with path.open("rb") as stream:
            report = imports.run_import(
                db,
                job.project_id,
                job.created_by,
                read_records(stream, format=job.params["format"]),
                source=job.params.get("source", path.name),
                format=job.params["format"],
            )
    finally:
        path.unlink(missing_ok=True)
    return {
        "batch_id": report.batch_id,
        "n_items": report.n_items,
        "n_duplicates": report.n_duplicates,
    }
