"""Weak supervision in a project: labeling functions (keyword lists, regular expressions,
registered Python functions) voting a label of a single-choice control, a label model that
turns their votes into probabilistic labels, and those labels stored as predictions of the
model ``weak-supervision``, which annotators see as pre-labels and confirm. Human labels stay
human: nothing here writes an annotation.

This module keeps the functions (checked like any input), says what a run would apply, and
reads runs back: the report of the newest one (its job's result, see
core/weak_supervision_runs.py) and the stored labels for review."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.automation.weak_supervision import (
    ABSTAIN,
    LABEL_MODEL_METHODS,
    LabelingFunctionSpec,
    apply_labeling_functions,
    compile_labeling_function,
)
from accord.core import audit, jobs
from accord.core.schemas import current_schema, parsed_schema
from accord.core.vectors import preview, text_keys
from accord.db.models import Item, Job, LabelingFunction, Prediction, Project
from accord.errors import Conflict, InvalidInput, NotFound
from accord.schema import LabelingSchema
from accord.schema.model import Choices

KINDS = ("keywords", "regex", "python")
METHODS = LABEL_MODEL_METHODS
MODEL_NAME = "weak-supervision"
JOB_KIND = "weak_supervision"
CHUNK = 10_000
MAX_NAME = 200
SUMMARY_COLUMNS = ("coverage", "overlap", "conflict", "n_gold", "correct", "accuracy", "n_votes")


# -- the functions -----------------------------------------------------------------------------
def list_functions(
    session: Session, project: Project, *, active_only: bool = False
) -> list[LabelingFunction]:
    query = select(LabelingFunction).where(LabelingFunction.project_id == project.id)
    if active_only:
        query = query.where(LabelingFunction.active.is_(True))
    return list(session.scalars(query.order_by(LabelingFunction.id)))


def get_function(session: Session, project: Project, function_id: int) -> LabelingFunction:
    row = session.get(LabelingFunction, function_id)
    if row is None or row.project_id != project.id:
        raise NotFound(f"labeling function {function_id} not found in project {project.id}")
    return row


def spec_of(row: LabelingFunction) -> LabelingFunctionSpec:
    return LabelingFunctionSpec(name=row.name, kind=row.kind, label=row.label, config=row.config)


def single_choice_controls(schema: LabelingSchema) -> list[str]:
    return [c.name for c in schema.controls.values() if isinstance(c, Choices) and not c.multiple]


def validate_function(
    session: Session,
    project: Project,
    *,
    name: str,
    kind: str,
    control: str | None,
    label: str | None,
    config: Mapping[str, Any],
) -> LabelingFunction:
    """A checked, not yet stored function: the control is a single choice of the schema, the
    label one of its labels, the configuration compiles (``config.field`` defaults to the
    data key the control's field reads). Errors name the field and the rule."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            f"a labeling function needs a name of 1 to {MAX_NAME} characters",
            [{"field": "name", "rule": "length"}],
        )
    if kind not in KINDS:
        raise InvalidInput(
            f"kind must be one of {', '.join(KINDS)}", [{"field": "kind", "rule": "choice"}]
        )
    schema = parsed_schema(current_schema(session, project).schema)
    singles = single_choice_controls(schema)
    control = control or (singles[0] if singles else None)
    if control not in singles:
        raise InvalidInput(
            f"control must be a single-choice control of the schema: {singles or 'there is none'}",
            [{"field": "control", "rule": "single_choice_control"}],
        )
    labels = schema.labels(control)
    if label is None and kind != "python":
        raise InvalidInput(
            f"a {kind} function votes a label: give one of {labels}",
            [{"field": "label", "rule": "required"}],
        )
    if label is not None and label not in labels:
        raise InvalidInput(
            f"label {label!r} is not a label of {control}: {labels}",
            [{"field": "label", "rule": "choice"}],
        )
    if not isinstance(config, Mapping):
        raise InvalidInput("config is an object", [{"field": "config", "rule": "type"}])
    clean = dict(config)
    if kind != "python":
        clean.setdefault("field", schema.field_of(schema.control(control)).key)
    spec = LabelingFunctionSpec(name=name, kind=kind, label=label, config=clean)
    try:
        compile_labeling_function(spec)
    except InvalidInput as exc:
        details = [
            {**d, "field": _config_field(str(d.get("field") or ""))} for d in exc.details
        ] or [{"field": "config", "rule": "invalid"}]
        raise InvalidInput(exc.message, details) from exc
    return LabelingFunction(
        project_id=project.id, name=name, kind=kind, control=control, label=label, config=clean
    )


def _config_field(name: str) -> str:
    if not name:
        return "config"
    return name if name == "config" or name.startswith("config.") else f"config.{name}"


def _check_name_free(
    session: Session, project: Project, name: str, own_id: int | None = None
) -> None:
    clash = session.scalar(
        select(LabelingFunction.id).where(
            LabelingFunction.project_id == project.id, LabelingFunction.name == name
        )
    )
    if clash is not None and clash != own_id:
        raise Conflict(f"project {project.id} already has a labeling function named {name!r}")


def create_function(
    session: Session,
    project: Project,
    *,
    name: str,
    kind: str,
    control: str | None = None,
    label: str | None = None,
    config: Mapping[str, Any] | None = None,
    active: bool = True,
    actor_id: int | None,
) -> LabelingFunction:
    row = validate_function(
        session, project, name=name, kind=kind, control=control, label=label, config=config or {}
    )
    _check_name_free(session, project, row.name)
    row.active, row.created_by = active, actor_id
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="labeling_function.create",
        entity="labeling_function",
        entity_id=row.id,
        project_id=project.id,
        after=definition(row),
    )
    return row


def update_function(
    session: Session,
    project: Project,
    function_id: int,
    changes: Mapping[str, Any],
    *,
    actor_id: int | None,
) -> LabelingFunction:
    """Change any of name, kind, control, label, config and active; the result is checked as
    a whole, like a new function."""
    row = get_function(session, project, function_id)
    before = definition(row)
    merged = {**before, **{k: v for k, v in changes.items() if k != "active"}}
    checked = validate_function(
        session,
        project,
        name=merged["name"],
        kind=merged["kind"],
        control=merged["control"],
        label=merged["label"],
        config=merged["config"] or {},
    )
    _check_name_free(session, project, checked.name, row.id)
    row.name, row.kind, row.control = checked.name, checked.kind, checked.control
    row.label, row.config = checked.label, checked.config
    if "active" in changes and changes["active"] is not None:
        row.active = bool(changes["active"])
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="labeling_function.update",
        entity="labeling_function",
        entity_id=row.id,
        project_id=project.id,
        before=before,
        after=definition(row),
    )
    return row


def delete_function(
    session: Session, project: Project, function_id: int, *, actor_id: int | None
) -> None:
    row = get_function(session, project, function_id)
    before = definition(row)
    session.delete(row)
    audit.record(
        session,
        actor_id=actor_id,
        action="labeling_function.delete",
        entity="labeling_function",
        entity_id=function_id,
        project_id=project.id,
        before=before,
    )


def definition(row: LabelingFunction) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "control": row.control,
        "label": row.label,
        "config": dict(row.config or {}),
        "active": row.active,
    }


def model_version(functions: Sequence[LabelingFunction], method: str) -> str:
    """Changes whenever an active function's definition or the method changes."""
    defs = sorted(json.dumps({**definition(f), "active": True}, sort_keys=True) for f in functions)
    digest = hashlib.sha256(json.dumps([method, defs]).encode()).hexdigest()
    return f"{method}-{digest[:12]}"


# -- a run -------------------------------------------------------------------------------------
def check_run(session: Session, project: Project, method: str) -> list[LabelingFunction]:
    """The active functions a run would apply; errors before a job is queued."""
    if method not in METHODS:
        raise InvalidInput(
            f"method must be one of {', '.join(METHODS)}", [{"field": "method", "rule": "choice"}]
        )
    active = list_functions(session, project, active_only=True)
    if not active:
        raise InvalidInput(
            "the project has no active labeling function to apply",
            [{"field": "labeling_functions", "rule": "required"}],
        )
    schema = parsed_schema(current_schema(session, project).schema)
    singles = single_choice_controls(schema)
    for f in active:
        if f.control not in singles or (
            f.label is not None and f.label not in schema.labels(f.control)
        ):
            raise InvalidInput(
                f"labeling function {f.name!r} no longer fits the schema (control {f.control!r},"
                f" label {f.label!r}); edit or deactivate it",
                [{"field": "labeling_functions", "rule": "schema", "name": f.name}],
            )
    return active


# -- reading the results -----------------------------------------------------------------------
def latest_run(session: Session, project: Project) -> Job | None:
    """The newest finished weak-supervision job of the project (its result is the report)."""
    return session.scalar(
        select(Job)
        .where(Job.project_id == project.id, Job.kind == JOB_KIND, Job.status == "finished")
        .order_by(Job.id.desc())
        .limit(1)
    )


def count_items(session: Session, project: Project) -> int:
    query = select(func.count()).select_from(Item).where(Item.project_id == project.id)
    return int(session.scalar(query) or 0)


def active_run(session: Session, project: Project) -> Job | None:
    return jobs.active_job(session, project, JOB_KIND)


@dataclass(frozen=True)
class ReviewRow:
    item_id: int
    preview: str
    status: str
    control: str
    label: str
    score: float | None
    probas: dict[str, float]
    votes: dict[str, str | None]
    model_version: str
    created_at: datetime


@dataclass(frozen=True)
class ReviewPage:
    total: int
    offset: int
    rows: list[ReviewRow]


def review_predictions(
    session: Session,
    project: Project,
    *,
    min_score: float = 0.0,
    max_score: float = 1.0,
    offset: int = 0,
    limit: int = 50,
) -> ReviewPage:
    """The stored probabilistic labels with a score in [min_score, max_score], most confident
    first, each with the item's preview and the vote of every function of the newest run."""
    where = (
        Prediction.project_id == project.id,
        Prediction.model_name == MODEL_NAME,
        Prediction.score >= min_score,
        Prediction.score <= max_score,
    )
    total = int(session.scalar(select(func.count()).select_from(Prediction).where(*where)) or 0)
    found = session.execute(
        select(Prediction, Item.data, Item.status)
        .join(Item, Item.id == Prediction.item_id)
        .where(*where)
        .order_by(Prediction.score.desc(), Prediction.item_id)
        .offset(offset)
        .limit(limit)
    ).all()
    run = latest_run(session, project)
    specs: dict[str, list[LabelingFunctionSpec]] = {}
    run_labels: dict[str, list[str]] = {}
    for report in (run.result or {}).get("controls", []) if run is not None else []:
        run_labels[report["control"]] = list(report["labels"])
        specs[report["control"]] = [
            LabelingFunctionSpec(f["name"], f["kind"], f["label"], f["config"])
            for f in report["functions"]
        ]
    keys = text_keys(session, project)
    rows = []
    for prediction, data, status in found:
        control, label = next(iter(prediction.result.items()))
        votes: dict[str, str | None] = {}
        if specs.get(control):
            labels = run_labels[control]
            codes = apply_labeling_functions(specs[control], [data], labels)[0]
            votes = {
                s.name: (labels[c] if c != ABSTAIN else None)
                for s, c in zip(specs[control], codes.tolist(), strict=True)
            }
        rows.append(
            ReviewRow(
                item_id=prediction.item_id,
                preview=preview(data, keys),
                status=status,
                control=control,
                label=str(label),
                score=prediction.score,
                probas={k: float(v) for k, v in (prediction.probas or {}).items()},
                votes=votes,
                model_version=prediction.model_version,
                created_at=prediction.created_at,
            )
        )
    return ReviewPage(total, offset, rows)
