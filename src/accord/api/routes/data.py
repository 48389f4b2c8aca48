"""Getting data in (imports, predictions) and out (streamed exports)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from accord.api.deps import (
    CurrentUser,
    DatabaseDep,
    ReadSessionDep,
    RunnerDep,
    SessionDep,
    StorageDep,
)
from accord.api.payloads import BatchPriorityIn, ImportOut, ItemsIn, JobOut, PredictionsIn
from accord.core import exports, imports, items, media, predictions, projects, users
from accord.core.policies import ProjectPolicy, authorize, require_admin
from accord.db.engine import Database
from accord.db.models import ImportBatch, Job
from accord.io import detect_format, export_stream, read_records, read_records_from_objects
from accord.jobs.duplicate_kinds import check_after_import
from accord.jobs.runners import JobRunner, enqueue, follow_up_on

router = APIRouter(prefix="/projects/{project_id}", tags=["data"])

MEDIA_TYPES = {"jsonl": "application/x-ndjson", "json": "application/json", "csv": "text/csv"}


CheckDuplicates = Annotated[
    bool, Form(description="queue a duplicates check of the project after the import")
]


def _imported(
    db: Database,
    runner: JobRunner,
    report: imports.ImportReport,
    project_id: int,
    user_id: int,
    check_duplicates: bool,
) -> ImportOut:
    """The committed batch, with the duplicates check queued after it (unless not wanted)."""
    job_id = None
    if check_duplicates:
        origin = {"import_batch_id": report.batch_id}
        job_id = check_after_import(db, follow_up_on(db, runner), project_id, user_id, origin)
    with db.transaction(write=False) as session:
        batch = ImportOut.model_validate(session.get(ImportBatch, report.batch_id))
    return batch.model_copy(update={"duplicates_job_id": job_id})


@router.post("/imports", response_model=ImportOut, status_code=201)
def import_file(
    project_id: int,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    runner: RunnerDep,
    file: Annotated[UploadFile, File(description="JSON, JSONL, CSV, TSV or Parquet")],
    format: Annotated[str | None, Form()] = None,
    check_duplicates: CheckDuplicates = True,
) -> ImportOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    name = file.filename or "upload"
    fmt = format or detect_format(name)
    records = read_records(file.file, format=fmt)
    report = imports.run_import(db, project.id, user.id, records, source=name, format=fmt)
    return _imported(db, runner, report, project.id, user.id, check_duplicates)


@router.post("/import-jobs", response_model=JobOut, status_code=202)
def import_file_in_background(
    project_id: int,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    storage: StorageDep,
    runner: RunnerDep,
    file: Annotated[UploadFile, File(description="JSON, JSONL, CSV, TSV or Parquet")],
    format: Annotated[str | None, Form()] = None,
    check_duplicates: CheckDuplicates = True,
) -> JobOut:
    """Store the upload and import it as a background job; follow it at /jobs/{id}."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    name = Path(file.filename or "upload").name
    fmt = format or detect_format(name)
    ref = storage.put(f"uploads/{uuid.uuid4().hex}/{name}", file.file)
    params = {"ref": ref, "format": fmt, "source": name, "check_duplicates": check_duplicates}
    job_id = enqueue(db, runner, "import", params, project_id=project.id, user_id=user.id)
    with db.transaction(write=False) as read:
        return JobOut.model_validate(read.get(Job, job_id))


class FolderIn(BaseModel):
    path: str
    copy_media: bool = False
    check_duplicates: bool = True


@router.post("/imports/folder", response_model=ImportOut, status_code=201)
def import_folder(
    project_id: int,
    body: FolderIn,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    storage: StorageDep,
    runner: RunnerDep,
) -> ImportOut:
    require_admin(user)  # reads the server's file system
    project = projects.get_project(session, project_id)
    folder = Path(body.path)
    report = media.import_folder(
        db, project.id, user.id, folder, copy=body.copy_media, storage=storage
    )
    return _imported(db, runner, report, project.id, user.id, body.check_duplicates)


@router.post("/items", response_model=ImportOut, status_code=201)
def import_objects(
    project_id: int,
    body: ItemsIn,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    runner: RunnerDep,
) -> ImportOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    records = read_records_from_objects(body.items)
    report = imports.run_import(db, project.id, user.id, records, source="api", format="json")
    return _imported(db, runner, report, project.id, user.id, body.check_duplicates)


@router.get("/imports", response_model=list[ImportOut])
def list_imports(project_id: int, session: SessionDep, user: CurrentUser) -> list[ImportOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return [ImportOut.model_validate(b) for b in imports.list_batches(session, project)]


@router.patch("/imports/{batch_id}", response_model=ImportOut)
def set_import_priority(
    project_id: int, batch_id: int, body: BatchPriorityIn, session: SessionDep, user: CurrentUser
) -> ImportOut:
    """Set a batch's priority: its items are given out before those of lower batches."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    batch = imports.set_priority(session, project, batch_id, body.priority, actor_id=user.id)
    return ImportOut.model_validate(batch)


@router.post("/predictions", status_code=201)
def add_predictions(
    project_id: int, body: PredictionsIn, session: SessionDep, user: CurrentUser
) -> dict[str, int]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    new = [predictions.NewPrediction(**p.model_dump()) for p in body.predictions]
    return {"created": predictions.add_predictions(session, project, new, actor_id=user.id)}


@router.get("/export")
def export(
    project_id: int,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    format: Annotated[str, Query(pattern="^(jsonl|json|csv)$")] = "jsonl",
    status: str | None = None,
    annotated_by: str | None = None,
    label: str | None = None,
    control: str | None = None,
    meta_key: str | None = None,
    meta_value: str | None = None,
    batch: int | None = None,
    q: str | None = None,
    only_annotated: bool = False,
) -> StreamingResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view_all_annotations(project))
    annotator = users.get_user_by_name(session, annotated_by).id if annotated_by else None
    # A plain HTML form sends its empty fields too: empty means "any".
    f = items.ItemFilter(
        status or None,
        annotator,
        label or None,
        control or None,
        meta_key or None,
        meta_value or None,
        batch,
        q or None,
    )
    f.check()

    def body() -> Iterator[bytes]:
        # The request's session is closed once the handler returns; the stream reads with its own,
        # one snapshot for the CSV columns and every chunk: the project as the stream starts.
        with db.snapshot() as stream_session:
            stream_project = projects.get_project(stream_session, project.id)
            columns = exports.export_columns(stream_session, stream_project)
            rows = exports.export_rows(
                stream_session, stream_project, f, only_annotated=only_annotated
            )
            yield from export_stream(rows, format, **columns)

    filename = f"project-{project.id}.{format}"
    return StreamingResponse(
        body(),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
