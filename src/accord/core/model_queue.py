"""The model-driven queue: active-learning strategies over stored priorities.

``least_confidence``, ``margin``, ``entropy``, ``k_center``, ``hybrid`` and
``density_weighted`` give out the open item with the highest ``Item.queue_score`` first (then
the lowest id), among the same candidates as every strategy. A pick is one query on the
``ix_items_model_queue`` index; no model runs while an annotator waits. Items without a score
(none computed yet, or imported since) follow in import order, so a project with no scores yet
works like ``sequential``.

The scores come from :func:`refresh_queue_scores`, run by every train job of the model that
drives the queue and on demand (``POST /projects/{p}/models/queue-scores``): it puts the
project's current predictions (class probabilities of its newest active single-choice model)
and item vectors through :func:`accord.automation.active_learning.queue_scores`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from accord.automation.active_learning import STRATEGIES, UNCERTAINTY_METHODS, queue_scores
from accord.core import audit
from accord.core.schemas import current_schema, parsed_schema
from accord.core.strategies import candidates, priority_levels, register_strategy
from accord.db.engine import Database
from accord.db.models import Item, Prediction, Project
from accord.db.models import ModelBackend as BackendRow
from accord.errors import InvalidInput, NotFound
from accord.schema.model import Choices
from accord.schema.parse import label_paths

MODEL_STRATEGIES = STRATEGIES
UNCERTAINTY = UNCERTAINTY_METHODS
VECTOR_STRATEGIES = ("k_center", "hybrid", "density_weighted")  # need the item vectors
CHUNK = 5_000


def _first(session: Session, query: Select[int], lock: bool) -> int | None:
    if lock:
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query.limit(1))


class ScoredQueue:
    """Highest ``queue_score`` first, then import order; unscored items last."""

    def __init__(self, name: str) -> None:
        self.name = name

    def pick(self, session: Session, project: Project, user_id: int, *, lock: bool) -> int | None:
        for batches in priority_levels(session, project):
            base = candidates(project, user_id, batches)
            scored = base.where(Item.queue_score.is_not(None)).order_by(
                Item.queue_score.desc(), Item.id
            )
            found = _first(session, scored, lock)
            if found is None:
                unscored = base.where(Item.queue_score.is_(None)).order_by(Item.id)
                found = _first(session, unscored, lock)
            if found is not None:
                return found
        return None


for _name in MODEL_STRATEGIES:
    register_strategy(ScoredQueue(_name))


def uses_model_queue(project: Project) -> bool:
    return project.strategy in MODEL_STRATEGIES


def needs_probas(strategy: str) -> bool:
    return strategy in UNCERTAINTY or strategy in ("hybrid", "density_weighted")


def _single_choice_controls(session: Session, project: Project) -> dict[str, tuple[str, ...]]:
    schema = parsed_schema(current_schema(session, project).schema)
    return {
        c.name: tuple(label_paths(c.labels))
        for c in schema.controls.values()
        if isinstance(c, Choices) and not c.multiple
    }


def queue_backend(session: Session, project: Project) -> BackendRow | None:
    """The model whose class probabilities drive the queue: the project's most recently fitted
    active model of a single-choice control (None when there is none)."""
    controls = _single_choice_controls(session, project)
    rows = session.scalars(
        select(BackendRow)
        .where(
            BackendRow.project_id == project.id,
            BackendRow.active.is_(True),
            BackendRow.version != "",
        )
        .order_by(BackendRow.id)
    ).all()
    usable = [r for r in rows if r.control in controls]
    if not usable:
        return None
    return max(usable, key=lambda r: (r.fitted_at is not None, r.fitted_at or 0, -r.id))


def _open_ids(session: Session, project: Project) -> list[int]:
    return list(
        session.scalars(
            select(Item.id)
            .where(Item.project_id == project.id, Item.status == "open")
            .order_by(Item.id)
        )
    )


def current_probas(
    session: Session, backend: BackendRow, item_ids: Sequence[int], labels: Sequence[str]
) -> dict[int, NDArray[np.float64]]:
    """The model's current (newest) class probabilities of these items, in ``labels`` order."""
    out: dict[int, NDArray[np.float64]] = {}
    for start in range(0, len(item_ids), CHUNK):
        part = list(item_ids[start : start + CHUNK])
        for item_id, probas in session.execute(
            select(Prediction.item_id, Prediction.probas)
            .where(Prediction.item_id.in_(part), Prediction.backend_id == backend.id)
            .order_by(Prediction.id)
        ).all():
            if probas:
                out[item_id] = np.array([float(probas.get(lab, 0.0)) for lab in labels])
    return out


def _score(
    strategy: str,
    open_ids: Sequence[int],
    probas: Mapping[int, NDArray[np.float64]],
    n_labels: int,
    vector_ids: NDArray[np.int64],
    matrix: NDArray[np.float32],
    budget: int | None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Item ids and their priorities under ``strategy``."""
    none = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
    if strategy in UNCERTAINTY:
        rows = np.array([i for i in open_ids if i in probas], dtype=np.int64)
        if not len(rows):
            return none
        given = np.vstack([probas[int(i)] for i in rows])
        labeled = np.zeros(len(rows), dtype=bool)
        return rows, queue_scores(strategy, probas=given, vectors=None, labeled=labeled)
    if strategy == "density_weighted":
        # The pool whose density counts is every open item with a vector; only those with a
        # prediction get a score (the others follow in import order, as for uncertainty).
        open_set = set(open_ids)
        labeled = np.array([int(i) not in open_set for i in vector_ids], dtype=bool)
        known = np.array([int(i) in probas for i in vector_ids], dtype=bool)
        if not (~labeled & known).any():
            return none
        missing = np.full(n_labels, np.nan)
        p_all = np.vstack([probas.get(int(i), missing) for i in vector_ids])
        scores = queue_scores(strategy, probas=p_all, vectors=matrix, labeled=labeled)
        scores[~known] = -np.inf
        return vector_ids, scores
    # Items no longer open are the labelled set the selection spreads away from; for hybrid,
    # open items need class probabilities.
    open_set = set(open_ids)
    keep = np.array(
        [int(i) not in open_set or strategy == "k_center" or int(i) in probas for i in vector_ids],
        dtype=bool,
    )
    rows, vectors = vector_ids[keep], matrix[keep]
    labeled = np.array([int(i) not in open_set for i in rows], dtype=bool)
    if not len(rows) or labeled.all():
        return none
    p: NDArray[np.float64] | None = None
    if strategy == "hybrid":
        uniform = np.full(n_labels, 1.0 / max(n_labels, 1))
        p = np.vstack([probas.get(int(i), uniform) for i in rows])
    scores = queue_scores(strategy, probas=p, vectors=vectors, labeled=labeled, budget=budget)
    return rows, scores


def refresh_queue_scores(
    db: Database, project_id: int, *, budget: int | None = None, actor_id: int | None = None
) -> dict[str, Any]:
    """Compute and store the queue score of every open item for the project's strategy;
    items that get none (no prediction, no vector) have their score cleared."""
    with db.transaction(write=False) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"project {project_id} not found")
        strategy = project.strategy
        if strategy not in MODEL_STRATEGIES:
            raise InvalidInput(
                f"the project's strategy is {strategy!r}; queue scores are for the model-driven "
                f"strategies ({', '.join(MODEL_STRATEGIES)})",
                [{"field": "strategy", "rule": "model_strategy"}],
            )
        open_ids = _open_ids(session, project)
        probas: dict[int, NDArray[np.float64]] = {}
        n_labels = 0
        backend_name = None
        if needs_probas(strategy):
            backend = queue_backend(session, project)
            if backend is None:
                raise InvalidInput(
                    f"the {strategy} strategy needs an active, trained model of a single-choice "
                    "control: add one on the Models page and train it",
                    [{"field": "strategy", "rule": "needs_model"}],
                )
            labels = _single_choice_controls(session, project)[backend.control]
            n_labels, backend_name = len(labels), backend.name
            probas = current_probas(session, backend, open_ids, labels)
        vector_ids: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        matrix: NDArray[np.float32] = np.empty((0, 0), dtype=np.float32)
        if strategy in VECTOR_STRATEGIES:
            from accord.core import vectors

            vector_ids, matrix = vectors.load_vectors(session, project)
            if len(vector_ids) == 0:
                raise InvalidInput(
                    f"the {strategy} strategy needs item vectors: embed the project's items first",
                    [{"field": "strategy", "rule": "needs_vectors"}],
                )
    open_set = set(open_ids)
    rows, scores = _score(strategy, open_ids, probas, n_labels, vector_ids, matrix, budget)
    values = [
        {"id": int(i), "queue_score": float(s)}
        for i, s in zip(rows, scores, strict=True)
        if int(i) in open_set and math.isfinite(float(s))
    ]
    with db.transaction() as session:
        session.execute(
            update(Item)
            .where(
                Item.project_id == project_id,
                Item.status == "open",
                Item.queue_score.is_not(None),
            )
            .values(queue_score=None)
            .execution_options(synchronize_session=False)
        )
        for start in range(0, len(values), CHUNK):
            session.execute(update(Item), values[start : start + CHUNK])
        audit.record(
            session,
            actor_id=actor_id,
            action="model.queue_scores",
            entity="project",
            entity_id=project_id,
            project_id=project_id,
            strategy=strategy,
            n_scored=len(values),
        )
    return {
        "strategy": strategy,
        "model_name": backend_name,
        "n_open": len(open_ids),
        "n_scored": len(values),
    }
