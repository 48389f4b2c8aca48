"""The ``model_train`` job: fit a project's model on the human labels of its control, predict
every open item, store the predictions as pre-labels and (for the project's model-driven queue)
the items' queue scores.

Reading and model work happen outside the write transaction; the new predictions are stored in
one transaction at the end, so a failure anywhere leaves the previous predictions in place and
records the error on the model.

Predictions keep their history: each run adds rows, and the *current* prediction of an item
for a model is its newest row (highest id). Older rows of the model on the items predicted
again are deleted, except those an answer points at (the pre-label it was given), which keep
the acceptance figures of earlier versions.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, exists, insert, select
from sqlalchemy.orm import Session

from accord.automation.backends import (
    BackendError,
    BackendSpec,
    Example,
    ModelBackend,
    ModelPrediction,
    Task,
)
from accord.core import audit, model_backends
from accord.core.items import context_of
from accord.core.schemas import current_schema, parsed_schema
from accord.db.engine import Database
from accord.db.models import Annotation, Consensus, Item, Prediction, Project, Review, utcnow
from accord.db.models import ModelBackend as BackendRow
from accord.errors import AccordError, InvalidInput, InvalidResult, NotFound
from accord.schema import LabelingSchema, validate_result

log = logging.getLogger(__name__)

CHUNK = 5_000
"""Open items read and predicted at a time; progress is reported after each chunk."""
STORE_CHUNK = 1_000

Progress = Callable[[int], None]


@dataclass
class _Predicted:
    rows: list[dict[str, Any]] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)
    n_tasks: int = 0
    n_invalid: int = 0
    first_problem: str | None = None


def _load(session: Session, backend_id: int) -> tuple[BackendRow, Project]:
    row = session.get(BackendRow, backend_id)
    if row is None:
        raise NotFound(f"model {backend_id} not found")
    project = session.get(Project, row.project_id)
    assert project is not None
    return row, project


def current_labels(session: Session, project: Project, control: str) -> dict[int, Any]:
    """The human label of ``control`` for every labelled item: the stored consensus where a
    quality run made one, else the single current answer; items with several answers and no
    consensus take the most frequent answer (a tie leaves the item out) for single choices,
    the newest answer otherwise. Skipped and rejected answers do not count."""
    consensus = dict(
        session.execute(
            select(Consensus.item_id, Consensus.label).where(
                Consensus.project_id == project.id, Consensus.control == control
            )
        ).all()
    )
    rejected = exists().where(Review.annotation_id == Annotation.id, Review.verdict == "rejected")
    answers: dict[int, list[Any]] = defaultdict(list)
    after = 0
    while True:
        chunk = session.execute(
            select(Annotation.id, Annotation.item_id, Annotation.result)
            .where(
                Annotation.project_id == project.id,
                Annotation.is_latest.is_(True),
                Annotation.skipped.is_(False),
                Annotation.id > after,
                ~rejected,
            )
            .order_by(Annotation.id)
            .limit(CHUNK)
        ).all()
        if not chunk:
            break
        after = chunk[-1][0]
        for _, item_id, result in chunk:
            if isinstance(result, dict) and result.get(control) is not None:
                answers[item_id].append(result[control])
    labels: dict[int, Any] = {}
    for item_id in sorted(set(answers) | set(consensus)):
        if item_id in consensus:
            labels[item_id] = consensus[item_id]
            continue
        given = answers[item_id]
        if len(given) == 1 or not all(isinstance(v, str) for v in given):
            labels[item_id] = given[-1]
            continue
        (top, n_top), *rest = [*Counter(given).most_common(2), (None, 0)]
        if n_top > rest[0][1]:
            labels[item_id] = top
    return labels


def training_examples(
    session: Session, project: Project, spec: BackendSpec, embedder: str | None
) -> list[Example]:
    """An :class:`Example` per labelled item (with its vector when ``embedder`` is given;
    items without one are left out)."""
    labels = current_labels(session, project, spec.control)
    ids = list(labels)
    vectors = _vectors(session, project, embedder, ids) if embedder else None
    examples = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        for item_id, data in session.execute(
            select(Item.id, Item.data).where(Item.id.in_(part)).order_by(Item.id)
        ).all():
            vector = None
            if vectors is not None:
                vector = vectors.get(item_id)
                if vector is None:
                    continue
            examples.append(Example(item_id, data, {spec.control: labels[item_id]}, vector))
    return examples


def _vectors(
    session: Session, project: Project, embedder: str, ids: Sequence[int]
) -> dict[int, NDArray[np.float32]]:
    from accord.core import vectors

    found_ids, matrix = vectors.load_vectors(session, project, embedder, ids)
    return {int(i): matrix[n] for n, i in enumerate(found_ids)}


def _embedder(session: Session, project: Project, backend: ModelBackend) -> str | None:
    if not backend.needs_vectors:
        return None
    from accord.core import vectors

    name = vectors.newest_embedder(session, project)
    if name is None:
        raise BackendError(
            f"a {backend.kind} model needs item vectors: embed the project's items first",
            field="vectors",
            rule="required",
        )
    return name


def _check(
    schema: LabelingSchema, spec: BackendSpec, p: ModelPrediction, item: tuple[Any, ...]
) -> dict[str, Any] | None:
    """The prediction's result for the model's control, valid under the schema (other
    controls, even required ones, are the annotator's to answer); None when the model suggests
    nothing for the item."""
    if p.score is not None and not (math.isfinite(p.score) and 0.0 <= p.score <= 1.0):
        raise InvalidInput(f"item {p.item_id}: score {p.score} is not between 0 and 1")
    value = p.result.get(spec.control)
    if value is None or value == [] or value == "":
        return None
    _, data, media_info = item
    result = {spec.control: value}
    try:
        validate_result(schema, result, context_of(data, media_info, p.item_id))
    except InvalidResult as exc:
        own = [q for q in exc.problems if q.control == spec.control or q.rule != "required"]
        if own:
            raise InvalidResult(own, p.item_id) from None
    return result


def _probas(p: ModelPrediction) -> dict[str, float] | None:
    if not p.probas:
        return None
    out = {str(k): float(v) for k, v in p.probas.items()}
    return out if all(math.isfinite(v) for v in out.values()) else None


def _predict(
    db: Database,
    project_id: int,
    spec: BackendSpec,
    backend: ModelBackend,
    embedder: str | None,
    meta: dict[str, Any],
    progress: Progress | None,
) -> _Predicted:
    out = _Predicted()
    after = 0
    while True:
        with db.transaction(write=False) as session:
            project = session.get(Project, project_id)
            assert project is not None
            schema = parsed_schema(current_schema(session, project).schema)
            items = session.execute(
                select(Item.id, Item.data, Item.media_info)
                .where(Item.project_id == project_id, Item.status == "open", Item.id > after)
                .order_by(Item.id)
                .limit(CHUNK)
            ).all()
            if not items:
                return out
            after = items[-1][0]
            vectors = (
                _vectors(session, project, embedder, [i[0] for i in items]) if embedder else None
            )
        by_id = {i[0]: tuple(i) for i in items}
        tasks = [
            Task(i[0], i[1], vectors.get(i[0]) if vectors is not None else None)
            for i in items
            if vectors is None or i[0] in vectors
        ]
        for p in backend.predict(tasks):
            item = by_id.get(p.item_id)
            if item is None:
                continue
            try:
                clean = _check(schema, spec, p, item)
            except (InvalidInput, InvalidResult) as exc:
                out.n_invalid += 1
                out.first_problem = out.first_problem or exc.message
                continue
            if clean is None:
                continue
            out.rows.append(
                meta
                | {"item_id": p.item_id, "result": clean, "score": p.score, "probas": _probas(p)}
            )
        out.item_ids += [t.item_id for t in tasks]
        out.n_tasks += len(items)
        if progress is not None:
            progress(out.n_tasks)


def _store(session: Session, row: BackendRow, predicted: _Predicted, now: datetime) -> None:
    """Add the new predictions; drop the model's older ones on those items unless an answer
    points at them."""
    shown = exists().where(Annotation.prediction_id == Prediction.id)
    for start in range(0, len(predicted.item_ids), STORE_CHUNK):
        part = predicted.item_ids[start : start + STORE_CHUNK]
        session.execute(
            delete(Prediction)
            .where(
                Prediction.item_id.in_(part),
                Prediction.backend_id == row.id,
                ~shown,
            )
            .execution_options(synchronize_session=False)
        )
    for start in range(0, len(predicted.rows), STORE_CHUNK):
        rows = predicted.rows[start : start + STORE_CHUNK]
        session.execute(insert(Prediction), [r | {"created_at": now} for r in rows])


def run_model(
    db: Database,
    backend_id: int,
    *,
    mode: str = "train",
    job_id: int | None = None,
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit (``mode="train"``, when the model learns) and predict every open item of the
    model's project; see the module's docstring for what is stored."""
    if mode not in model_backends.MODES:
        raise InvalidInput(
            f"mode must be one of {', '.join(model_backends.MODES)}",
            [{"field": "mode", "rule": "choice"}],
        )
    with db.transaction(write=False) as session:
        row, project = _load(session, backend_id)
        project_id, name, control = project.id, row.name, row.control
        labels_now = model_backends.human_labels(session, project_id, control)
        watermark = model_backends.last_annotation(session, project_id)
    try:
        with db.transaction(write=False) as session:
            row, project = _load(session, backend_id)
            spec = model_backends.backend_spec(session, project, row.control, row.config)
            backend = model_backends.build(session, project, row)
            embedder = _embedder(session, project, backend)
            fit = mode == "train" and backend.trainable
            examples = training_examples(session, project, spec, embedder) if fit else []
        if mode == "predict" and backend.trainable:
            raise InvalidInput(
                f"{name!r} learns from the labels: start it in train mode",
                [{"field": "mode", "rule": "trainable"}],
            )
        version = backend.fit(examples) if fit else backend.version
        search = search_of(backend)
        meta = {
            "project_id": project_id,
            "model_name": name,
            "model_version": version,
            "backend_id": backend_id,
        }
        predicted = _predict(db, project_id, spec, backend, embedder, meta, progress)
        if predicted.rows == [] and predicted.n_invalid:
            raise BackendError(
                f"every prediction of {name!r} was invalid; the first: {predicted.first_problem}",
                field="predictions",
                rule="invalid",
            )
    except Exception as exc:
        _record_failure(db, backend_id, watermark, exc)
        raise
    now = utcnow()
    with db.transaction() as session:
        row, project = _load(session, backend_id)
        _store(session, row, predicted, now)
        row.version = version
        row.error = None
        if mode == "train":
            row.fitted_at, row.labels_at_fit = now, labels_now
        row.state = {
            "mode": mode,
            "n_examples": len(examples),
            "n_predictions": len(predicted.rows),
            "n_invalid": predicted.n_invalid,
            "last_annotation_id": watermark,
            "predicted_at": now.isoformat(),
            "job_id": job_id,
            "search": search,
        }
        audit.record(
            session,
            actor_id=actor_id,
            action=f"model.{mode}",
            entity="model_backend",
            entity_id=backend_id,
            project_id=project_id,
            version=version,
            n_examples=len(examples),
            n_predictions=len(predicted.rows),
        )
    summary: dict[str, Any] = {
        "backend_id": backend_id,
        "model_name": name,
        "mode": mode,
        "version": version,
        "n_examples": len(examples),
        "labels_at_fit": labels_now,
        "n_items": predicted.n_tasks,
        "n_predictions": len(predicted.rows),
        "n_invalid": predicted.n_invalid,
        "first_invalid": predicted.first_problem,
        "search": search,
        "queue_scores": None,
    }
    summary["queue_scores"] = _after_predictions(db, project_id, backend_id)
    return summary


def search_of(backend: ModelBackend) -> str | None:
    """How a fitted model finds neighbours, for models that search (``knn``): ``"exact"``, or
    the approximate index's name (``"usearch"``); None for other models."""
    search = getattr(backend, "search", None)
    return search if isinstance(search, str) else None


def _after_predictions(db: Database, project_id: int, backend_id: int) -> dict[str, Any] | None:
    """Refresh the model-driven queue when this model drives it."""
    from accord.core import model_queue

    with db.transaction(write=False) as session:
        project = session.get(Project, project_id)
        if project is None or not model_queue.uses_model_queue(project):
            return None
        driver = model_queue.queue_backend(session, project)
        if model_queue.needs_probas(project.strategy) and (
            driver is None or driver.id != backend_id
        ):
            return None
    try:
        return model_queue.refresh_queue_scores(db, project_id)
    except AccordError as exc:  # the predictions are stored; the queue keeps its old order
        return {"error": exc.message}


def _record_failure(db: Database, backend_id: int, watermark: int, exc: Exception) -> None:
    message = exc.message if isinstance(exc, AccordError) else f"{type(exc).__name__}: {exc}"
    with db.transaction() as session:
        row = session.get(BackendRow, backend_id)
        if row is None:
            return
        row.error = message
        row.state = (row.state or {}) | {"last_annotation_id": watermark}
        audit.record(
            session,
            actor_id=None,
            action="model.failed",
            entity="model_backend",
            entity_id=backend_id,
            project_id=row.project_id,
            error=message[:500],
        )
