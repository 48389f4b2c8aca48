"""Model backends configured in a project: the rows (create, read, change, delete), the
:class:`~accord.automation.backends.BackendSpec` a row stands for, the number of human labels
of its control, and which backends are due a retrain.

A row is checked by building its backend (``create_backend``): a configuration the kind rejects
is a 422 naming the field, before anything is stored. Training and predicting run as the
``model_train`` job (:mod:`accord.core.model_training`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accord.automation.backends import (
    BACKEND_KINDS,
    BackendSpec,
    ModelBackend,
    create_backend,
)
from accord.core import audit
from accord.core.schemas import current_schema, parsed_schema
from accord.db.models import Annotation, AnnotationLabel, Job, Prediction, Project
from accord.db.models import ModelBackend as BackendRow
from accord.errors import Conflict, InvalidInput, NotFound
from accord.schema.parse import label_paths

JOB_KIND = "model_train"
MODES = ("train", "predict")
EDITABLE = ("name", "kind", "control", "config", "retrain_every", "active")
MAX_RETRAIN_EVERY = 1_000_000


def backend_spec(
    session: Session, project: Project, control: str, config: Mapping[str, Any]
) -> BackendSpec:
    """What a backend on ``control`` of the project's current schema is told: the control's
    type, the item-data key its field reads, its labels (in the schema's order) and ``config``."""
    version = current_schema(session, project)
    schema = parsed_schema(version.schema)
    found = schema.controls.get(control)
    if found is None:
        raise InvalidInput(
            f"the schema has no control {control!r}; it has {', '.join(schema.controls)}",
            [{"field": "control", "rule": "exists"}],
        )
    field = schema.fields.get(found.field)
    return BackendSpec(
        control=control,
        control_type=found.type,
        field=field.key if field is not None else "",
        labels=tuple(label_paths(getattr(found, "labels", ()))),
        config=dict(config),
        schema=version.schema,
    )


def build(session: Session, project: Project, row: BackendRow) -> ModelBackend:
    """A fresh backend object for a stored row (built-in models start unfitted)."""
    return create_backend(row.kind, backend_spec(session, project, row.control, row.config))


def _check(session: Session, project: Project, values: Mapping[str, Any]) -> None:
    name = str(values["name"]).strip()
    if not name or len(name) > 200:
        raise InvalidInput(
            "a model needs a name of 1 to 200 characters", [{"field": "name", "rule": "length"}]
        )
    if values["kind"] not in BACKEND_KINDS:
        raise InvalidInput(
            f"kind must be one of {', '.join(sorted(BACKEND_KINDS))}",
            [{"field": "kind", "rule": "choice"}],
        )
    if not isinstance(values["config"], Mapping):
        raise InvalidInput("config must be an object", [{"field": "config", "rule": "type"}])
    every = values["retrain_every"]
    if not isinstance(every, int) or not 0 <= every <= MAX_RETRAIN_EVERY:
        raise InvalidInput(
            f"retrain_every must be 0 (on demand only) to {MAX_RETRAIN_EVERY:,} labels",
            [{"field": "retrain_every", "rule": "range"}],
        )
    spec = backend_spec(session, project, values["control"], values["config"])
    create_backend(values["kind"], spec)  # a configuration the kind rejects is a 422 here


def _name_taken(session: Session, project: Project, name: str, but: int | None = None) -> None:
    query = select(BackendRow.id).where(
        BackendRow.project_id == project.id, BackendRow.name == name
    )
    if but is not None:
        query = query.where(BackendRow.id != but)
    if session.scalar(query) is not None:
        raise Conflict(f"a model named {name!r} exists already in this project")


def create(
    session: Session,
    project: Project,
    *,
    name: str,
    kind: str,
    control: str,
    config: Mapping[str, Any] | None = None,
    retrain_every: int = 0,
    active: bool = True,
    actor_id: int | None,
) -> BackendRow:
    values: dict[str, Any] = {
        "name": name.strip(),
        "kind": kind,
        "control": control,
        "config": dict(config or {}),
        "retrain_every": retrain_every,
        "active": active,
    }
    _check(session, project, values)
    _name_taken(session, project, values["name"])
    row = BackendRow(project_id=project.id, created_by=actor_id, **values)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="model.create",
        entity="model_backend",
        entity_id=row.id,
        project_id=project.id,
        name=row.name,
        kind=row.kind,
        control=row.control,
    )
    return row


def get(session: Session, project: Project, backend_id: int) -> BackendRow:
    row = session.get(BackendRow, backend_id)
    if row is None or row.project_id != project.id:
        raise NotFound(f"model {backend_id} not found in project {project.id}")
    return row


def project_of(session: Session, backend_id: int) -> int:
    found = session.scalar(select(BackendRow.project_id).where(BackendRow.id == backend_id))
    if found is None:
        raise NotFound(f"model {backend_id} not found")
    return int(found)


def list_backends(session: Session, project: Project) -> list[BackendRow]:
    return list(
        session.scalars(
            select(BackendRow).where(BackendRow.project_id == project.id).order_by(BackendRow.id)
        )
    )


def update(
    session: Session,
    project: Project,
    row: BackendRow,
    changes: Mapping[str, Any],
    *,
    actor_id: int | None,
) -> BackendRow:
    """Change some of a row's settings. A new kind, control or config makes the stored model
    stale: its version is cleared, so the next job fits it again from the labels."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(
            f"unknown setting(s): {', '.join(sorted(unknown))}",
            [{"field": key, "rule": "unknown"} for key in sorted(unknown)],
        )
    values = {key: getattr(row, key) for key in EDITABLE} | dict(changes)
    values["name"] = str(values["name"]).strip()
    if values.get("config") is None:
        values["config"] = {}
    _check(session, project, values)
    _name_taken(session, project, values["name"], but=row.id)
    before = {key: getattr(row, key) for key in changes}
    model_changed = any(values[k] != getattr(row, k) for k in ("kind", "control", "config"))
    for key in EDITABLE:
        setattr(row, key, values[key])
    if model_changed:
        row.version, row.fitted_at, row.labels_at_fit, row.error, row.state = (
            "",
            None,
            0,
            None,
            None,
        )
    audit.record(
        session,
        actor_id=actor_id,
        action="model.update",
        entity="model_backend",
        entity_id=row.id,
        project_id=project.id,
        before={k: v for k, v in before.items() if k != "config"},
        changed=sorted(changes),
    )
    return row


def remove(session: Session, project: Project, row: BackendRow, *, actor_id: int | None) -> None:
    """Delete a model and its pre-labels (answers keep their text; their link to the
    pre-label they were given is cleared, so the model leaves the acceptance table too)."""
    session.execute(delete(Prediction).where(Prediction.backend_id == row.id))
    audit.record(
        session,
        actor_id=actor_id,
        action="model.delete",
        entity="model_backend",
        entity_id=row.id,
        project_id=project.id,
        name=row.name,
    )
    session.delete(row)


def human_labels(session: Session, project_id: int, control: str) -> int:
    """How many current human answers carry a label on ``control`` (rejected answers are not
    indexed, so they do not count)."""
    found = session.scalar(
        select(func.count(func.distinct(AnnotationLabel.annotation_id))).where(
            AnnotationLabel.project_id == project_id, AnnotationLabel.control == control
        )
    )
    return int(found or 0)


def busy_backends(session: Session, project_id: int | None = None) -> set[int]:
    """Backends with a ``model_train`` job waiting or running."""
    query = select(Job.params).where(Job.kind == JOB_KIND, Job.status.in_(("queued", "running")))
    if project_id is not None:
        query = query.where(Job.project_id == project_id)
    return {int(p["backend_id"]) for p in session.scalars(query) if "backend_id" in (p or {})}


def active_job(session: Session, row: BackendRow) -> Job | None:
    """The backend's waiting or running job, if any (the newest)."""
    for job in session.scalars(
        select(Job)
        .where(
            Job.project_id == row.project_id,
            Job.kind == JOB_KIND,
            Job.status.in_(("queued", "running")),
        )
        .order_by(Job.id.desc())
    ):
        if (job.params or {}).get("backend_id") == row.id:
            return job
    return None


def check_mode(session: Session, project: Project, row: BackendRow, mode: str) -> None:
    """Before a job starts: a known mode, ``predict`` only for models that do not learn (a
    built-in model is refitted by every run, nothing is kept between runs), and no other job of
    the model waiting or running."""
    if mode not in MODES:
        raise InvalidInput(
            f"mode must be one of {', '.join(MODES)}", [{"field": "mode", "rule": "choice"}]
        )
    if mode == "predict" and build(session, project, row).trainable:
        raise InvalidInput(
            f"{row.name!r} learns from the labels: start it in train mode",
            [{"field": "mode", "rule": "trainable"}],
        )
    running = active_job(session, row)
    if running is not None:
        raise Conflict(f"job {running.id} of {row.name!r} is {running.status} already")


def last_annotation(session: Session, project_id: int) -> int:
    """The project's newest answer id: where the next run's "new labels" start."""
    found = session.scalar(
        select(func.max(Annotation.id)).where(Annotation.project_id == project_id)
    )
    return int(found or 0)


def new_labels(session: Session, row: BackendRow, limit: int) -> int:
    """Human answers labelling the model's control since its last run started, counted up to
    ``limit`` (a few index rows, whatever the size of the project). After a failed run the
    count starts from that run too, so a broken model is retried after another
    ``retrain_every`` labels, not on every pass of the schedule."""
    since = int((row.state or {}).get("last_annotation_id", 0))
    newer = (
        select(AnnotationLabel.annotation_id)
        .where(
            AnnotationLabel.annotation_id > since,
            AnnotationLabel.project_id == row.project_id,
            AnnotationLabel.control == row.control,
        )
        .distinct()
        .limit(limit)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(newer)) or 0)


def due_retrains(session: Session) -> list[int]:
    """Active backends with ``retrain_every > 0`` whose control has gained at least that many
    human labels since their last run (a model never run: that many labels in all), in an
    unarchived project, with no job waiting or running for them."""
    rows = session.scalars(
        select(BackendRow)
        .join(Project, Project.id == BackendRow.project_id)
        .where(
            BackendRow.active.is_(True),
            BackendRow.retrain_every > 0,
            Project.archived.is_(False),
        )
        .order_by(BackendRow.id)
    ).all()
    if not rows:
        return []
    busy = busy_backends(session)
    due = []
    for row in rows:
        if row.id in busy:
            continue
        if new_labels(session, row, row.retrain_every) >= row.retrain_every:
            due.append(row.id)
    return due
