"""Pre-labels: which model prediction an annotator is shown for an item, whether the answer
they submit accepts it, and the acceptance rate of every model version.

The pre-label of an item is its newest prediction (``created_at``, then id), leaving out those
of models that are switched off (``active = false``); predictions sent through the API without
a configured model always count. The label page pre-fills the first prediction of the queue's
answer, which is this one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from accord.core.items import get_item
from accord.core.schemas import current_schema, parsed_schema
from accord.db.models import Annotation, Prediction, Project
from accord.db.models import ModelBackend as BackendRow
from accord.schema import LabelingSchema

SET_VALUED = frozenset({"choices", "spans", "boxes", "rotated_boxes", "polygons", "keypoints"})
"""Control types whose value is a set: the order of its elements does not matter."""


def _shown(query: Any) -> Any:
    """Predictions of switched-off models are not shown."""
    return query.outerjoin(BackendRow, BackendRow.id == Prediction.backend_id).where(
        or_(Prediction.backend_id.is_(None), BackendRow.active.is_(True))
    )


def item_prelabels(session: Session, project: Project, item_id: int) -> list[Prediction]:
    """The item's predictions an annotator may see, the pre-label first."""
    get_item(session, project, item_id)
    query = _shown(select(Prediction).where(Prediction.item_id == item_id))
    return list(session.scalars(query.order_by(Prediction.created_at.desc(), Prediction.id.desc())))


def current_prelabel(session: Session, item_id: int) -> Prediction | None:
    """The pre-label the item is shown with, or None."""
    query = _shown(select(Prediction).where(Prediction.item_id == item_id))
    found: Prediction | None = session.scalar(
        query.order_by(Prediction.created_at.desc(), Prediction.id.desc()).limit(1)
    )
    return found


def _canonical(kind: str, value: Any) -> Any:
    """A value in a form where equal answers compare equal: choices as a set of labels, spans
    as a set of (label, start, end), other regions as a set of their JSON; the rest as JSON."""
    if kind not in SET_VALUED:
        return json.dumps(value, sort_keys=True)
    values = value if isinstance(value, list) else [] if value is None else [value]
    out: set[Any] = set()
    for v in values:
        if kind == "spans" and isinstance(v, Mapping):
            out.add((v.get("label"), v.get("start"), v.get("end")))
        else:
            out.add(json.dumps(v, sort_keys=True))
    return frozenset(out)


def accepts(schema: LabelingSchema, predicted: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    """Whether an answer equals the prediction on every control the prediction answers."""
    for name, value in predicted.items():
        control = schema.controls.get(name)
        kind = control.type if control is not None else ""
        if _canonical(kind, value) != _canonical(kind, given.get(name)):
            return False
    return True


def mark(session: Session, project: Project, annotation: Annotation) -> None:
    """Record on a new answer the pre-label its item had and whether the answer accepts it
    (left unknown when the pre-label suggested nothing)."""
    prediction = current_prelabel(session, annotation.item_id)
    if prediction is None:
        return
    annotation.prediction_id = prediction.id
    if prediction.result:
        schema = parsed_schema(current_schema(session, project).schema)
        annotation.prelabel_accepted = accepts(schema, prediction.result, annotation.result)


def acceptance(session: Session, project: Project) -> list[dict[str, Any]]:
    """Per model name and version: answers given with its pre-label, how many accepted it
    unchanged, and the share. Read from the project's predictions to the answers that point at
    them (an index), not from every answer of the project."""
    accepted = func.sum(case((Annotation.prelabel_accepted.is_(True), 1), else_=0))
    rows = session.execute(
        select(
            Prediction.model_name,
            Prediction.model_version,
            func.count(Annotation.id),
            accepted,
        )
        .select_from(Prediction)
        .join(Annotation, Annotation.prediction_id == Prediction.id)
        .where(Prediction.project_id == project.id, Annotation.prelabel_accepted.is_not(None))
        .group_by(Prediction.model_name, Prediction.model_version)
        .order_by(Prediction.model_name, Prediction.model_version)
    ).all()
    return [
        {
            "model_name": name,
            "model_version": version,
            "n_prelabelled": int(n),
            "n_accepted": int(n_accepted or 0),
            "rate": float(n_accepted or 0) / n if n else None,
        }
        for name, version, n, n_accepted in rows
    ]
