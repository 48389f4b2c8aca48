"""Model predictions: shown as pre-labels, never counted as human labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accord.core import audit
from accord.core.items import get_item, item_context
from accord.core.schemas import current_schema, parsed_schema
from accord.db.models import Item, Prediction, Project
from accord.errors import InvalidInput, InvalidResult
from accord.schema import validate_result


@dataclass(frozen=True)
class NewPrediction:
    item_id: int
    result: dict[str, Any]
    model_name: str
    model_version: str = ""
    score: float | None = None


def add_predictions(
    session: Session, project: Project, predictions: Sequence[NewPrediction], *, actor_id: int
) -> int:
    """Validate every prediction against the schema and store all of them, or none."""
    schema = parsed_schema(current_schema(session, project).schema)
    ids = {p.item_id for p in predictions}
    items = {
        i.id: i
        for i in session.scalars(
            select(Item).where(Item.project_id == project.id, Item.id.in_(ids))
        )
    }
    rows = []
    for index, p in enumerate(predictions):
        item = items.get(p.item_id)
        if item is None:
            raise InvalidInput(
                f"prediction {index}: item {p.item_id} is not in project {project.id}",
                [{"index": index, "field": "item_id", "rule": "exists"}],
            )
        if p.score is not None and not 0.0 <= p.score <= 1.0:
            raise InvalidInput(
                f"prediction {index}: score must be between 0 and 1",
                [{"index": index, "field": "score", "rule": "range"}],
            )
        if not p.model_name.strip():
            raise InvalidInput(
                f"prediction {index}: model_name is required",
                [{"index": index, "field": "model_name", "rule": "required"}],
            )
        try:
            clean = validate_result(schema, p.result, item_context(item))
        except InvalidResult as exc:
            exc.item_id = item.id
            raise
        rows.append(
            {
                "project_id": project.id,
                "item_id": item.id,
                "model_name": p.model_name,
                "model_version": p.model_version,
                "result": clean,
                "score": p.score,
            }
        )
    if rows:
        session.execute(insert(Prediction), rows)
    audit.record(
        session,
        actor_id=actor_id,
        action="prediction.add",
        entity="project",
        entity_id=project.id,
        project_id=project.id,
        n=len(rows),
    )
    return len(rows)


def item_predictions(session: Session, project: Project, item_id: int) -> list[Prediction]:
    get_item(session, project, item_id)
    return list(
        session.scalars(
            select(Prediction)
            .where(Prediction.item_id == item_id)
            .order_by(Prediction.created_at.desc(), Prediction.id.desc())
        )
    )
