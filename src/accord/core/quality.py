"""Quality inside the platform: a project's labels as long-format data for accord.quality,
agreement reports, and consensus labels stored with the method that produced them."""

from __future__ import annotations

import math
from typing import Any, cast

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from accord.core import audit
from accord.core.projects import current_schema
from accord.core.schemas import parsed_schema
from accord.db.models import Annotation, AnnotationLabel, Consensus, Project, utcnow
from accord.errors import InvalidInput
from accord.quality import (
    GLAD,
    MACE,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
    annotator_agreement,
    bootstrap_ci,
    label_agreement,
)
from accord.quality.aggregation._base import CategoricalAggregator
from accord.schema.model import Choices

METHODS: dict[str, type[CategoricalAggregator]] = {
    "majority_vote": MajorityVote,
    "wawa": Wawa,
    "dawid_skene": DawidSkene,
    "one_coin_dawid_skene": OneCoinDawidSkene,
    "glad": GLAD,
    "mace": MACE,
}
STATISTICS = ("percent_agreement", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1")


def categorical_control(session: Session, project: Project, control: str | None) -> str:
    """The single-choice control to measure: the one named, or the schema's first."""
    schema = parsed_schema(current_schema(session, project).schema)
    single = [c.name for c in schema.controls.values() if isinstance(c, Choices) and not c.multiple]
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
    frame = label_frame(session, project, name)
    report: dict[str, Any] = {
        "control": name,
        "n_labels": len(frame),
        "n_items": int(frame["item"].nunique()) if len(frame) else 0,
        "n_annotators": int(frame["annotator"].nunique()) if len(frame) else 0,
        "overall": [],
        "per_label": [],
        "per_annotator": [],
    }
    if frame.empty or frame.groupby("item").size().max() < 2:
        return report  # agreement needs items with two answers or more
    for statistic in STATISTICS:
        estimate = bootstrap_ci(frame, statistic, n_boot=n_boot)  # type: ignore[arg-type]
        report["overall"].append(
            {
                "statistic": statistic,
                "value": _finite(estimate.value),
                "low": _finite(estimate.low),
                "high": _finite(estimate.high),
                "confidence": estimate.confidence,
            }
        )
    report["per_label"] = _records(label_agreement(frame), "label")
    report["per_annotator"] = _records(annotator_agreement(frame), "annotator")
    return report


def _records(frame: pd.DataFrame, index_name: str) -> list[dict[str, Any]]:
    out = frame.reset_index().rename(columns={"index": index_name})
    out = out.astype(object).where(pd.notna(out), None)
    return [{str(k): v for k, v in row.items()} for row in out.to_dict(orient="records")]


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
    if method not in METHODS:
        raise InvalidInput(
            f"method must be one of {', '.join(sorted(METHODS))}",
            [{"field": "method", "rule": "choice"}],
        )
    params = dict(params or {})
    try:
        model = METHODS[method](**params)
    except TypeError as exc:
        raise InvalidInput(
            f"{method}: {exc}", [{"field": "params", "rule": "parameters"}]
        ) from None
    frame = label_frame(session, project, name)
    session.execute(
        delete(Consensus).where(Consensus.project_id == project.id, Consensus.control == name)
    )
    if frame.empty:
        return {"control": name, "method": method, "params": params, "n_items": 0}
    model.fit(frame)
    counts = frame.groupby("item").size().to_dict()
    confidence = model.probas_.max(axis=1).to_dict()
    now = utcnow()
    rows = [
        {
            "project_id": project.id,
            "item_id": int(cast(int, item)),
            "control": name,
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
    audit.record(
        session,
        actor_id=actor_id,
        action="quality.consensus",
        entity="project",
        entity_id=project.id,
        project_id=project.id,
        control=name,
        method=method,
        n_items=len(rows),
    )
    return {"control": name, "method": method, "params": params, "n_items": len(rows)}


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
