"""A weak-supervision run: the active labeling functions applied to every item ``CHUNK`` items
at a time, the label model fitted per control, each function measured against the gold answers
and against the human labels, and the label model's labels stored as predictions of the model
``weak-supervision`` (replacing the earlier ones) in one write transaction. Gold items are
measured but get no prediction: a pre-label on a honeypot would give its answer away.
The report is the ``weak_supervision`` job's result (core/labeling_functions.py reads it)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from accord.automation.weak_supervision import (
    ABSTAIN,
    LabelingFunctionSpec,
    LabelModel,
    apply_labeling_functions,
    lf_summary,
)
from accord.core import audit, quality
from accord.core.labeling_functions import (
    CHUNK,
    MODEL_NAME,
    SUMMARY_COLUMNS,
    check_run,
    definition,
    model_version,
    spec_of,
)
from accord.core.schemas import current_schema, parsed_schema
from accord.db.engine import Database
from accord.db.models import Consensus, GoldAnswer, Item, LabelingFunction, Prediction, Project
from accord.errors import NotFound

Progress = Callable[[int], None]


@dataclass
class _ControlRun:
    control: str
    labels: list[str]
    functions: list[LabelingFunction]
    specs: list[LabelingFunctionSpec]
    blocks: list[NDArray[np.int64]] = field(default_factory=list)


def run_weak_supervision(
    db: Database,
    project_id: int,
    *,
    method: str = "dawid_skene",
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The ``weak_supervision`` job; returns the run's report (also the stored job result)."""
    with db.transaction(write=False) as session:
        project = _project(session, project_id)
        active = check_run(session, project, method)
        version = model_version(active, method)
        schema = parsed_schema(current_schema(session, project).schema)
        runs: dict[str, _ControlRun] = {}
        for f in active:
            run = runs.setdefault(
                f.control, _ControlRun(f.control, schema.labels(f.control), [], [])
            )
            run.functions.append(f)
            run.specs.append(spec_of(f))
        ids, statuses = _apply(session, project, list(runs.values()), progress)
        gold = _gold(session, project, list(runs))
        human = _human(session, project, list(runs))
    reports, rows = [], []
    is_gold = np.asarray([s == "gold" for s in statuses], dtype=bool)
    for run in runs.values():
        matrix = _stack(run, len(ids))
        report, predicted = _fit(run, matrix, ids, method, gold, human)
        reports.append(report)
        for position, label, probas in predicted:
            if is_gold[position]:
                continue
            rows.append(
                {
                    "project_id": project_id,
                    "item_id": ids[position],
                    "model_name": MODEL_NAME,
                    "model_version": version,
                    "result": {run.control: label},
                    "score": max(probas.values()),
                    "probas": probas,
                }
            )
    with db.transaction() as session:
        project = _project(session, project_id)
        existing = set(session.scalars(select(Item.id).where(Item.project_id == project.id)))
        rows = [r for r in rows if r["item_id"] in existing]
        session.execute(
            delete(Prediction).where(
                Prediction.project_id == project.id, Prediction.model_name == MODEL_NAME
            )
        )
        for start in range(0, len(rows), CHUNK):
            session.execute(insert(Prediction), rows[start : start + CHUNK])
        audit.record(
            session,
            actor_id=actor_id,
            action="weak_supervision.run",
            entity="project",
            entity_id=project.id,
            project_id=project.id,
            method=method,
            model_version=version,
            n_predictions=len(rows),
        )
    return {
        "method": method,
        "model_name": MODEL_NAME,
        "model_version": version,
        "n_items": len(ids),
        "n_predictions": len(rows),
        "controls": reports,
    }


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def _apply(
    session: Session, project: Project, runs: Sequence[_ControlRun], progress: Progress | None
) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    statuses: list[str] = []
    records: list[dict[str, Any]] = []

    def flush() -> None:
        for run in runs:
            run.blocks.append(apply_labeling_functions(run.specs, records, run.labels))
        if progress is not None:
            progress(len(ids))
        records.clear()

    query = select(Item.id, Item.status, Item.data).where(Item.project_id == project.id)
    for item_id, status, data in session.execute(query.order_by(Item.id)).yield_per(CHUNK):
        ids.append(item_id)
        statuses.append(status)
        records.append(data)
        if len(records) == CHUNK:
            flush()
    if records:
        flush()
    return ids, statuses


def _stack(run: _ControlRun, n: int) -> NDArray[np.int64]:
    if not run.blocks:
        return np.full((n, len(run.specs)), ABSTAIN, dtype=np.int64)
    return np.vstack(run.blocks).astype(np.int64, copy=False)


def _gold(session: Session, project: Project, controls: Sequence[str]) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {c: {} for c in controls}
    rows = session.execute(
        select(GoldAnswer.item_id, GoldAnswer.result).where(GoldAnswer.project_id == project.id)
    )
    for item_id, result in rows:
        for control in controls:
            value = (result or {}).get(control)
            if isinstance(value, str):
                out[control][item_id] = value
    return out


def _human(
    session: Session, project: Project, controls: Sequence[str]
) -> dict[str, dict[int, str]]:
    """The human label of each item: its stored consensus, else the majority of its current
    labels (items whose labels tie are left out)."""
    out: dict[str, dict[int, str]] = {}
    for control in controls:
        labels: dict[int, str] = {}
        frame = quality.label_frame(session, project, control)
        if len(frame):
            counts = frame.groupby(["item", "label"]).size().reset_index(name="n")
            top = counts.groupby("item")["n"].transform("max")
            best = counts[counts["n"] == top]
            unique = best.groupby("item").filter(lambda g: len(g) == 1)
            labels = {int(i): str(v) for i, v in zip(unique["item"], unique["label"], strict=True)}
        consensus = session.execute(
            select(Consensus.item_id, Consensus.label).where(
                Consensus.project_id == project.id, Consensus.control == control
            )
        )
        labels.update({int(i): str(v) for i, v in consensus})
        out[control] = labels
    return out


def reference_codes(
    ids: Sequence[int], answers: Mapping[int, str], labels: Sequence[str]
) -> NDArray[np.int64]:
    """One label code per item (ABSTAIN where there is no answer, or one outside the labels)."""
    code = {label: i for i, label in enumerate(labels)}
    return np.asarray([code.get(answers.get(i, ""), ABSTAIN) for i in ids], dtype=np.int64)


def summary_records(frame: pd.DataFrame, names: Sequence[str]) -> list[dict[str, Any]]:
    """``lf_summary`` as JSON rows: the function's name and its figures (NaN as null)."""
    rows = []
    for name, (_, row) in zip(names, frame.iterrows(), strict=True):
        out: dict[str, Any] = {"name": name, "polarity": list(row.get("polarity", ()))}
        for column in SUMMARY_COLUMNS:
            value = row.get(column)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                out[column] = None
            elif column in ("n_gold", "correct", "n_votes"):
                out[column] = int(value)
            else:
                out[column] = float(value)
        rows.append(out)
    return rows


def _accuracy(predicted: NDArray[np.int64], reference: NDArray[np.int64]) -> dict[str, Any]:
    both = (predicted != ABSTAIN) & (reference != ABSTAIN)
    n = int(both.sum())
    correct = int((predicted[both] == reference[both]).sum())
    return {"n": n, "correct": correct, "accuracy": correct / n if n else None}


def _fit(
    run: _ControlRun,
    matrix: NDArray[np.int64],
    ids: Sequence[int],
    method: str,
    gold: Mapping[str, Mapping[int, str]],
    human: Mapping[str, Mapping[int, str]],
) -> tuple[dict[str, Any], list[tuple[int, str, dict[str, float]]]]:
    """The control's report, and (row position, label, probabilities) of every covered row."""
    names = [s.name for s in run.specs]
    n_classes = len(run.labels)
    model = LabelModel(method).fit(matrix, n_classes)
    majority = LabelModel("majority").fit(matrix, n_classes)
    covered = model.labels_ != ABSTAIN
    both = covered & (majority.labels_ != ABSTAIN)
    agreement = (
        float((model.labels_[both] == majority.labels_[both]).mean()) if both.any() else None
    )
    gold_codes = reference_codes(ids, gold[run.control], run.labels)
    human_codes = reference_codes(ids, human[run.control], run.labels)
    has_gold = bool((gold_codes != ABSTAIN).any())
    has_human = bool((human_codes != ABSTAIN).any())
    summary = lf_summary(matrix, names, run.labels, gold_codes if has_gold else None)
    summary_human = lf_summary(matrix, names, run.labels, human_codes) if has_human else None
    counts = np.bincount(model.labels_[covered], minlength=n_classes) if covered.any() else None
    report = {
        "control": run.control,
        "labels": run.labels,
        "functions": [{"id": f.id, **definition(f)} for f in run.functions],
        "n_items": len(ids),
        "n_covered": int(covered.sum()),
        "coverage": float(covered.mean()) if len(ids) else 0.0,
        "summary": summary_records(summary, names),
        "n_gold": int((gold_codes != ABSTAIN).sum()),
        "summary_human": summary_records(summary_human, names)
        if summary_human is not None
        else None,
        "n_human": int((human_codes != ABSTAIN).sum()),
        "label_model": {
            "gold": _accuracy(model.labels_, gold_codes),
            "human": _accuracy(model.labels_, human_codes),
            "agreement_with_majority": agreement,
            "label_counts": {
                label: int(counts[i]) if counts is not None else 0
                for i, label in enumerate(run.labels)
            },
        },
    }
    predicted = []
    for position in np.flatnonzero(covered).tolist():
        distribution = model.probas_[position]
        probas = {label: float(distribution[j]) for j, label in enumerate(run.labels)}
        predicted.append((position, run.labels[int(model.labels_[position])], probas))
    return report, predicted
