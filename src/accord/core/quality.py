"""Quality inside the platform: a project's labels as long-format data for accord.quality,
agreement reports, and consensus labels stored with the method that produced them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from accord.core import audit
from accord.core.consensus_methods import METHODS
from accord.core.schemas import current_schema, parsed_schema
from accord.db.id_sets import among
from accord.db.models import Annotation, AnnotationLabel, Consensus, Project, utcnow
from accord.errors import InvalidInput
from accord.quality import agreement_intervals, annotator_agreement, label_agreement
from accord.quality.aggregation._base import CategoricalAggregator
from accord.schema.model import Choices

STATISTICS = ("percent_agreement", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1")


def categorical_controls(session: Session, project: Project) -> list[str]:
    """The schema's single-choice controls: the ones categorical aggregation applies to."""
    schema = parsed_schema(current_schema(session, project).schema)
    return [c.name for c in schema.controls.values() if isinstance(c, Choices) and not c.multiple]


def categorical_control(session: Session, project: Project, control: str | None) -> str:
    """The single-choice control to measure: the one named, or the schema's first."""
    single = categorical_controls(session, project)
    if control is None and single:
        return single[0]
    if control not in single:
        raise InvalidInput(
            f"quality needs a single-choice control; this project has {single or 'none'}",
            [{"field": "control", "rule": "single_choice_control"}],
        )
    return control


def label_frame(session: Session, project: Project, control: str) -> pd.DataFrame:
    """One row per (item, annotator, label) of the current, accepted-or-unreviewed answers
    (rejected ones are no longer indexed), for accord.quality."""
    rows = session.execute(
        select(AnnotationLabel.item_id, Annotation.user_id, AnnotationLabel.label)
        .join(Annotation, Annotation.id == AnnotationLabel.annotation_id)
        .where(AnnotationLabel.project_id == project.id, AnnotationLabel.control == control)
        .order_by(AnnotationLabel.item_id, Annotation.user_id)
    ).all()
    return pd.DataFrame(rows, columns=["item", "annotator", "label"])


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def agreement_report(
    session: Session, project: Project, control: str | None = None, *, n_boot: int = 500
) -> dict[str, Any]:
    """Agreement overall (with bootstrap intervals), per label and per annotator."""
    name = categorical_control(session, project, control)
    return agreement_of(label_frame(session, project, name), name, n_boot=n_boot)


def agreement_of(frame: pd.DataFrame, control: str, *, n_boot: int = 500) -> dict[str, Any]:
    report: dict[str, Any] = {
        "control": control,
        "n_labels": len(frame),
        "n_items": int(frame["item"].nunique()) if len(frame) else 0,
        "n_annotators": int(frame["annotator"].nunique()) if len(frame) else 0,
        "overall": [],
        "per_label": [],
        "per_annotator": [],
    }
    if frame.empty or frame.groupby("item").size().max() < 2:
        return report  # agreement needs items with two answers or more
    intervals = agreement_intervals(frame, statistics=STATISTICS, n_boot=n_boot)
    for statistic, estimate in intervals.overall.items():
        report["overall"].append(
            {
                "statistic": statistic,
                "value": _finite(estimate.value),
                "low": _finite(estimate.low),
                "high": _finite(estimate.high),
                "confidence": estimate.confidence,
            }
        )
    per_label = label_agreement(frame).join(intervals.per_label)
    per_annotator = annotator_agreement(frame).join(intervals.per_annotator)
    report["per_label"] = _records(per_label, "label")
    report["per_annotator"] = _records(per_annotator, "annotator")
    return report


def _records(frame: pd.DataFrame, index_name: str) -> list[dict[str, Any]]:
    out = frame.reset_index().rename(columns={"index": index_name})
    out = out.astype(object).where(pd.notna(out), None)
    return [{str(k): v for k, v in row.items()} for row in out.to_dict(orient="records")]


def consensus_model(method: str, params: dict[str, Any] | None) -> CategoricalAggregator:
    """An unfitted aggregator for ``method``; unknown methods and parameters are 422s."""
    if method not in METHODS:
        raise InvalidInput(
            f"method must be one of {', '.join(sorted(METHODS))}",
            [{"field": "method", "rule": "choice"}],
        )
    try:
        return METHODS[method](**dict(params or {}))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{method}: {exc}", [{"field": "params", "rule": "parameters"}]
        ) from None


def store_consensus(
    session: Session,
    project: Project,
    control: str,
    frame: pd.DataFrame,
    model: CategoricalAggregator | None,
    *,
    method: str,
    params: dict[str, Any],
) -> int:
    """Replace the control's consensus rows by the fitted ``model``'s labels and confidences
    (``None``: no labels yet, nothing stored). Returns the number of rows."""
    session.execute(
        delete(Consensus).where(Consensus.project_id == project.id, Consensus.control == control)
    )
    if model is None or frame.empty:
        return 0
    counts = frame.groupby("item").size().to_dict()
    confidence = model.probas_.max(axis=1).to_dict()
    now = utcnow()
    rows = [
        {
            "project_id": project.id,
            "item_id": int(cast(int, item)),
            "control": control,
            "label": str(label),
            "confidence": float(confidence[item]),
            "n_labels": int(counts[item]),
            "method": method,
            "params": params,
            "computed_at": now,
        }
        for item, label in model.labels_.to_dict().items()
    ]
    session.execute(insert(Consensus), rows)
    return len(rows)


def compute_consensus(
    session: Session,
    project: Project,
    *,
    control: str | None,
    method: str,
    params: dict[str, Any] | None,
    actor_id: int,
) -> dict[str, Any]:
    """Aggregate the control's labels with ``method`` and store one consensus row per item,
    replacing the previous computation for that control."""
    name = categorical_control(session, project, control)
    params = dict(params or {})
    model = consensus_model(method, params)
    frame = label_frame(session, project, name)
    fitted = model.fit(frame) if len(frame) else None
    n_items = store_consensus(session, project, name, frame, fitted, method=method, params=params)
    audit.record(
        session,
        actor_id=actor_id,
        action="quality.consensus",
        entity="project",
        entity_id=project.id,
        project_id=project.id,
        control=name,
        method=method,
        n_items=n_items,
    )
    return {"control": name, "method": method, "params": params, "n_items": n_items}


def consensus_rows(
    session: Session, project: Project, control: str, *, after: int = 0, limit: int = 1000
) -> list[Consensus]:
    return list(
        session.scalars(
            select(Consensus)
            .where(
                Consensus.project_id == project.id,
                Consensus.control == control,
                Consensus.item_id > after,
            )
            .order_by(Consensus.item_id)
            .limit(limit)
        )
    )


def stored_consensus_controls(session: Session, project: Project) -> list[str]:
    """Every control with a stored consensus in the project, by name."""
    query = select(Consensus.control).where(Consensus.project_id == project.id).distinct()
    return sorted(session.scalars(query))


def consensus_by_item(
    session: Session,
    project: Project,
    item_ids: list[int],
    *,
    controls: Sequence[str],
) -> dict[int, dict[str, Any]]:
    """The stored consensus of these items of the project: {item: {control: {label, confidence,
    n_labels, method}}}. ``controls`` (`stored_consensus_controls`, read once by a caller that
    reads many chunks) lets the query seek in the (project, control, item) index instead of
    reading the whole table."""
    out: dict[int, dict[str, Any]] = {}
    if not item_ids or not controls:
        return out
    among_items, wanted = among(Consensus.item_id, item_ids)
    query = (
        select(
            Consensus.item_id,
            Consensus.control,
            Consensus.label,
            Consensus.confidence,
            Consensus.n_labels,
            Consensus.method,
        )
        .where(
            Consensus.project_id == project.id,
            Consensus.control.in_(controls),
            among_items,
        )
        .order_by(Consensus.id)
    )
    for item_id, control, label, confidence, n_labels, method in session.execute(query):
        if wanted is not None and item_id not in wanted:
            continue
        out.setdefault(item_id, {})[control] = {
            "label": label,
            "confidence": confidence,
            "n_labels": n_labels,
            "method": method,
        }
    return out


def consensus_controls(session: Session, project: Project) -> list[str]:
    """Controls that have a stored consensus, in the schema's order."""
    stored = set(stored_consensus_controls(session, project))
    return [c for c in categorical_controls(session, project) if c in stored]
