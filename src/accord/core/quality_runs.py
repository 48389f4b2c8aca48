"""Quality runs: for every single-choice control, one pass that fits the project's consensus
method, stores the consensus, the annotators' skills and the suspected errors, and keeps the
agreement report. Runs as a background job, on demand or after every ``quality_refresh_every``
new annotations. Reading and computing happen outside the write transaction, which only
stores the results."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from accord.core import audit, quality, suspects
from accord.core.schemas import current_schema, parsed_schema
from accord.db.engine import Database
from accord.db.models import (
    Annotation,
    AnnotatorSkill,
    Item,
    Job,
    Project,
    QualityRun,
    User,
    utcnow,
)
from accord.errors import NotFound
from accord.quality.aggregation._base import CategoricalAggregator

REPORT_BOOTSTRAP = 200
"""Bootstrap resamples behind the stored agreement intervals."""


@dataclass
class _Computed:
    control: str
    frame: pd.DataFrame
    model: CategoricalAggregator | None
    suspects: pd.DataFrame
    report: dict[str, Any]
    seconds: float


def run_quality(
    db: Database,
    project_id: int,
    *,
    method: str | None = None,
    params: dict[str, Any] | None = None,
    job_id: int | None = None,
    actor_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Compute and store the quality of every single-choice control of the project."""
    with db.transaction(write=False) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"project {project_id} not found")
        method = method or project.quality_method
        params = dict(params or {})
        quality.consensus_model(method, params)  # a bad method or parameter fails before work
        last_annotation = _last_annotation_id(session, project_id)
        controls = quality.categorical_controls(session, project)
        computed = []
        for done, control in enumerate(controls):
            computed.append(_compute(session, project, control, method, params))
            if progress is not None:
                progress(done + 1)
    now = utcnow()
    with db.transaction() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"project {project_id} not found")
        summary = []
        for c in computed:
            quality.store_consensus(
                session, project, c.control, c.frame, c.model, method=method, params=params
            )
            _store_skills(session, project, c, method, now)
            suspects.store(session, project, c.control, c.suspects, now)
            run = QualityRun(
                project_id=project.id,
                job_id=job_id,
                control=c.control,
                method=method,
                params=params,
                n_items=c.report["n_items"],
                n_labels=c.report["n_labels"],
                n_annotators=c.report["n_annotators"],
                n_suspects=len(c.suspects),
                last_annotation_id=last_annotation,
                report=c.report,
                seconds=c.seconds,
                computed_at=now,
            )
            session.add(run)
            summary.append(
                {
                    "control": c.control,
                    "n_items": run.n_items,
                    "n_labels": run.n_labels,
                    "n_suspects": run.n_suspects,
                    "seconds": round(c.seconds, 3),
                }
            )
        audit.record(
            session,
            actor_id=actor_id,
            action="quality.run",
            entity="project",
            entity_id=project.id,
            project_id=project.id,
            method=method,
            controls=[c.control for c in computed],
        )
    return {"method": method, "params": params, "controls": summary}


def _compute(
    session: Session, project: Project, control: str, method: str, params: dict[str, Any]
) -> _Computed:
    started = time.perf_counter()
    frame = quality.label_frame(session, project, control)
    model = None
    found = pd.DataFrame(columns=suspects.COLUMNS)
    if len(frame):
        model = quality.consensus_model(method, params).fit(frame)
        found = suspects.detect(frame, model, _texts(session, project, control))
    report = quality.agreement_of(frame, control, n_boot=REPORT_BOOTSTRAP)
    return _Computed(control, frame, model, found, report, time.perf_counter() - started)


def _texts(session: Session, project: Project, control: str) -> pd.Series | None:
    """The item text the control labels, by item id (None: the control's field is no text)."""
    schema = parsed_schema(current_schema(session, project).schema)
    field = schema.field_of(schema.control(control))
    if field.type != "text":
        return None
    key = field.key
    ids, texts = [], []
    for item_id, data in session.execute(
        select(Item.id, Item.data).where(Item.project_id == project.id, Item.n_done > 0)
    ):
        value = data.get(key)
        if isinstance(value, str):
            ids.append(item_id)
            texts.append(value)
    return pd.Series(texts, index=ids, dtype=object)


def _finite(value: Any) -> float | None:
    """A skill estimate to store: None where the method has none (NaN would not survive
    SQLite, which reads it back as NULL)."""
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _store_skills(session: Session, project: Project, c: _Computed, method: str, now: Any) -> None:
    session.execute(
        delete(AnnotatorSkill).where(
            AnnotatorSkill.project_id == project.id, AnnotatorSkill.control == c.control
        )
    )
    if c.model is None:
        return
    consensus = c.model.labels_.reindex(c.frame["item"]).astype(str).to_numpy()
    hits = c.frame["label"].astype(str).to_numpy() == consensus
    per_annotator = (
        pd.DataFrame({"annotator": c.frame["annotator"].to_numpy(), "hit": hits})
        .groupby("annotator")["hit"]
        .agg(["mean", "size"])
    )
    skill = c.model.skills_
    rows = [
        {
            "project_id": project.id,
            "user_id": int(user_id),
            "control": c.control,
            "method": method,
            "skill": _finite(skill.get(user_id)),
            "agreement": float(mean),
            "n_labels": int(size),
            "computed_at": now,
        }
        for user_id, mean, size in zip(
            per_annotator.index.tolist(),
            per_annotator["mean"],
            per_annotator["size"],
            strict=True,
        )
        if user_id is not None
    ]
    if rows:
        session.execute(insert(AnnotatorSkill), rows)


def _last_annotation_id(session: Session, project_id: int) -> int:
    found = session.scalar(
        select(func.max(Annotation.id)).where(Annotation.project_id == project_id)
    )
    return int(found or 0)


def latest_runs(session: Session, project: Project) -> list[QualityRun]:
    """The newest run of each control, in the schema's order."""
    newest = (
        select(func.max(QualityRun.id))
        .where(QualityRun.project_id == project.id)
        .group_by(QualityRun.control)
    )
    found = session.scalars(select(QualityRun).where(QualityRun.id.in_(newest)))
    runs = {r.control: r for r in found}
    order = quality.categorical_controls(session, project)
    return sorted(runs.values(), key=lambda r: order.index(r.control) if r.control in order else 99)


def skills(session: Session, project: Project, control: str) -> list[tuple[AnnotatorSkill, str]]:
    """The control's stored annotator skills with usernames, most skilled first."""
    return [
        (s, name)
        for s, name in session.execute(
            select(AnnotatorSkill, User.username)
            .join(User, User.id == AnnotatorSkill.user_id)
            .where(AnnotatorSkill.project_id == project.id, AnnotatorSkill.control == control)
            .order_by(AnnotatorSkill.skill.desc(), User.username)
        )
    ]


def refresh_due(session: Session) -> list[int]:
    """Projects with at least ``quality_refresh_every`` annotations newer than their last
    quality run and no quality job waiting or running."""
    due = []
    for project in session.scalars(
        select(Project).where(Project.quality_refresh_every > 0, Project.archived.is_(False))
    ):
        seen = session.scalar(
            select(func.max(QualityRun.last_annotation_id)).where(
                QualityRun.project_id == project.id
            )
        )
        newer = (
            select(Annotation.id)
            .where(Annotation.project_id == project.id, Annotation.id > (seen or 0))
            .limit(project.quality_refresh_every)
            .subquery()
        )
        if (session.scalar(select(func.count()).select_from(newer)) or 0) < (
            project.quality_refresh_every
        ):
            continue
        busy = session.scalar(
            select(Job.id)
            .where(
                Job.project_id == project.id,
                Job.kind == "quality",
                Job.status.in_(("queued", "running")),
            )
            .limit(1)
        )
        if busy is None and quality.categorical_controls(session, project):
            due.append(project.id)
    return due
