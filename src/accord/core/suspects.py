"""Suspected label errors: items whose label is probably wrong.

Two kinds of evidence, from accord.quality: annotators who disagree (the consensus of an item
with two labels or more stays below a confidence threshold) and a text model that confidently
disagrees with the consensus (confident learning over out-of-fold probabilities). The ranked
list is stored per control; the data browser filters on it and reviewers work through it as a
queue, confirming (by rejecting or fixing an answer) or dismissing each item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from accord.core import audit
from accord.db.models import Item, Project, SuspectedError, User, utcnow
from accord.errors import InvalidInput, NotFound
from accord.quality import find_label_errors, out_of_fold_probas
from accord.quality.aggregation._base import CategoricalAggregator

WEAK_CONSENSUS = 0.7
"""An item with two labels or more is suspect when the aggregation model's confidence in its
consensus is below this..."""
WEAK_AGREEMENT = 0.6
"""...or when less than this share of its labels agree with the consensus (models such as
Dawid–Skene are often near-certain where the annotators were split)."""
MODEL_FOLDS = 5
MIN_MODEL_ITEMS = 100
"""Confident learning runs when this many items have a label and text (and every class has at
least ``MODEL_FOLDS`` of them): fewer leave the cross-validated model too weak to accuse anyone.
The folds are fitted in parallel on every core."""
RESOLUTIONS = ("confirmed", "dismissed")
COLUMNS = ["label", "suggested_label", "score", "sources", "reasons"]


def detect(
    frame: pd.DataFrame, fitted: CategoricalAggregator, texts: pd.Series | None
) -> pd.DataFrame:
    """One row per suspect item (index ``item``): the consensus ``label``, the
    ``suggested_label``, a ``score`` in [0, 1] (higher: more likely wrong), the ``sources``
    of the evidence and the ``reasons`` in words."""
    labels = fitted.labels_
    probas = fitted.probas_.reindex(labels.index)
    confidence = probas.max(axis=1)
    agreeing = frame["label"].astype(str).to_numpy() == (
        labels.reindex(frame["item"]).astype(str).to_numpy()
    )
    votes = pd.DataFrame({"item": frame["item"].to_numpy(), "agree": agreeing}).groupby("item")
    share = votes["agree"].mean().reindex(labels.index)
    n_labels = votes.size().reindex(labels.index)
    weak = ((confidence < WEAK_CONSENSUS) | (share < WEAK_AGREEMENT)) & (n_labels >= 2)
    found: dict[Any, dict[str, Any]] = {}
    weak_items = labels.index[weak.to_numpy()]
    runner_up = _runner_up(probas.loc[weak_items], labels[weak_items])
    for item, conf, agree, n, second in zip(
        weak_items,
        confidence[weak_items].to_numpy(),
        share[weak_items].to_numpy(),
        n_labels[weak_items].to_numpy(),
        runner_up,
        strict=True,
    ):
        found[item] = {
            "label": str(labels[item]),
            "suggested_label": second,
            "score": 1.0 - min(float(conf), float(agree)),
            "sources": {"disagreement"},
            "reasons": [
                f"annotators disagree: {round(agree * n)} of {int(n)} labels give the consensus "
                f"{labels[item]!r} (confidence {conf:.2f})"
            ],
        }
    model = _model_suspects(labels, texts) if texts is not None else None
    if model is not None:
        for item, suggested, own, reason in zip(
            model.index,
            model["suggested_label"],
            model["self_confidence"],
            model["reason"],
            strict=True,
        ):
            entry = found.setdefault(
                item,
                {
                    "label": str(labels[item]),
                    "suggested_label": None,
                    "score": 0.0,
                    "sources": set(),
                    "reasons": [],
                },
            )
            entry["suggested_label"] = str(suggested)
            entry["score"] = max(entry["score"], 1.0 - float(own))
            entry["sources"].add("model")
            entry["reasons"].append(str(reason))
    out = pd.DataFrame.from_dict(found, orient="index", columns=COLUMNS)
    out["sources"] = ["+".join(sorted(s)) for s in out["sources"]]
    out.index.name = "item"
    return out.sort_values("score", ascending=False, kind="stable")


def _runner_up(probas: pd.DataFrame, given: pd.Series) -> list[str | None]:
    """Per row, the most probable label other than the given one (the first of equals in
    column order), or None when there is no other label."""
    if probas.shape[1] < 2:
        return [None] * len(probas)
    order = np.argsort(-probas.to_numpy(), axis=1, kind="stable")
    columns = probas.columns.astype(str)
    first = columns[order[:, 0]]
    second = columns[order[:, 1]]
    same = first == given.astype(str).to_numpy()
    return [str(b) if s else str(a) for a, b, s in zip(first, second, same, strict=True)]


def _model_suspects(labels: pd.Series, texts: pd.Series) -> pd.DataFrame:
    usable = texts.reindex(labels.index).dropna()
    usable = usable[usable.astype(str).str.strip() != ""]
    given = labels.reindex(usable.index).astype(str)
    counts = given.value_counts()
    if len(given) < MIN_MODEL_ITEMS or len(counts) < 2 or counts.min() < MODEL_FOLDS:
        return pd.DataFrame(columns=["suggested_label", "self_confidence", "reason"])
    probs = out_of_fold_probas(usable.astype(str), given, n_splits=MODEL_FOLDS, n_jobs=-1)
    return find_label_errors(given, probs)


def store(
    session: Session, project: Project, control: str, found: pd.DataFrame, now: datetime
) -> int:
    """Replace the control's open suspects by ``found``. A confirmed or dismissed item keeps
    its resolution while its label is the same; once the label changes it is judged afresh."""
    existing = {
        s.item_id: s
        for s in session.scalars(
            select(SuspectedError).where(
                SuspectedError.project_id == project.id, SuspectedError.control == control
            )
        )
    }
    new_rows = []
    for item, row in found.iterrows():
        item_id = int(item)  # type: ignore[call-overload]
        values = {
            "label": row["label"],
            "suggested_label": row["suggested_label"],
            "score": float(row["score"]),
            "sources": row["sources"],
            "reasons": list(row["reasons"]),
            "computed_at": now,
        }
        old = existing.pop(item_id, None)
        if old is None:
            new_rows.append(
                {
                    "project_id": project.id,
                    "item_id": item_id,
                    "control": control,
                    "status": "open",
                    **values,
                }
            )
            continue
        if old.label != values["label"]:
            old.status, old.resolved_by, old.resolved_at = "open", None, None
        for key, value in values.items():
            setattr(old, key, value)
    stale = [s.id for s in existing.values() if s.status == "open"]
    if stale:
        session.execute(delete(SuspectedError).where(SuspectedError.id.in_(stale)))
    if new_rows:
        session.execute(insert(SuspectedError), new_rows)
    return len(found)


def _ranked(project: Project, status: str | None, control: str | None) -> Any:
    query = select(SuspectedError).where(SuspectedError.project_id == project.id)
    if status is not None:
        query = query.where(SuspectedError.status == status)
    if control is not None:
        query = query.where(SuspectedError.control == control)
    return query.order_by(SuspectedError.score.desc(), SuspectedError.item_id)


def _after(row: SuspectedError) -> Any:
    """Keyset condition: rows ranked after ``row`` (lower score, or equal score, later item)."""
    return or_(
        SuspectedError.score < row.score,
        and_(SuspectedError.score == row.score, SuspectedError.item_id > row.item_id),
    )


def list_suspects(
    session: Session,
    project: Project,
    *,
    status: str | None = "open",
    control: str | None = None,
    after_item: int | None = None,
    limit: int = 100,
) -> list[SuspectedError]:
    """Most suspicious first; ``after_item`` continues the list after that item's row."""
    query = _ranked(project, status, control)
    if after_item is not None:
        anchor = _row(session, project, after_item, control)
        query = query.where(_after(anchor))
    return list(session.scalars(query.limit(limit)))


def _row(session: Session, project: Project, item_id: int, control: str | None) -> SuspectedError:
    query = select(SuspectedError).where(
        SuspectedError.project_id == project.id, SuspectedError.item_id == item_id
    )
    if control is not None:
        query = query.where(SuspectedError.control == control)
    row = session.scalars(query.order_by(SuspectedError.score.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"item {item_id} is not a suspected error in project {project.id}")
    return row


def next_suspect(session: Session, project: Project, *, after_item: int = 0) -> Item | None:
    """The review queue of suspects: the most suspicious open item (ranked after
    ``after_item``'s row when that item is itself a suspect, so a reviewer can pass one by)."""
    query = _ranked(project, "open", None)
    if after_item:
        anchor = session.scalars(
            select(SuspectedError)
            .where(SuspectedError.project_id == project.id, SuspectedError.item_id == after_item)
            .limit(1)
        ).first()
        if anchor is not None:
            query = query.where(_after(anchor))
    row = session.scalars(query.limit(1)).first()
    return session.get(Item, row.item_id) if row is not None else None


def suspects_of_item(session: Session, item: Item) -> list[SuspectedError]:
    return list(
        session.scalars(
            select(SuspectedError)
            .where(SuspectedError.item_id == item.id)
            .order_by(SuspectedError.score.desc())
        )
    )


def resolve(
    session: Session, project: Project, item_id: int, status: str, actor: User
) -> list[SuspectedError]:
    """Mark the item's suspects (every control) confirmed or dismissed."""
    if status not in RESOLUTIONS:
        raise InvalidInput(
            f"status must be one of {', '.join(RESOLUTIONS)}",
            [{"field": "status", "rule": "choice"}],
        )
    rows = list(
        session.scalars(
            select(SuspectedError).where(
                SuspectedError.project_id == project.id, SuspectedError.item_id == item_id
            )
        )
    )
    if not rows:
        raise NotFound(f"item {item_id} is not a suspected error in project {project.id}")
    now = utcnow()
    for row in rows:
        row.status, row.resolved_by, row.resolved_at = status, actor.id, now
    audit.record(
        session,
        actor_id=actor.id,
        action=f"suspect.{status}",
        entity="item",
        entity_id=item_id,
        project_id=project.id,
    )
    return rows


def confirm_open(session: Session, project: Project, item_id: int, actor: User) -> None:
    """A reviewer rejected or fixed an answer to the item: its open suspicion was right."""
    now = utcnow()
    for row in session.scalars(
        select(SuspectedError).where(
            SuspectedError.project_id == project.id,
            SuspectedError.item_id == item_id,
            SuspectedError.status == "open",
        )
    ):
        row.status, row.resolved_by, row.resolved_at = "confirmed", actor.id, now


def count_open(session: Session, project: Project) -> int:
    found = session.scalar(
        select(func.count(func.distinct(SuspectedError.item_id))).where(
            SuspectedError.project_id == project.id, SuspectedError.status == "open"
        )
    )
    return int(found or 0)
