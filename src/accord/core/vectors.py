"""Item embeddings: computing them for a project, loading them fast, "more like this", and
vectors computed elsewhere (any modality: images, audio) stored for nearest-neighbour work.

Vectors are float32 bytes in ``item_vectors``, one row per (item, embedder), L2-normalised, so
the dot product of two rows is their cosine similarity. The similarity index of a project's
vectors is built once per process and kept while the vectors are unchanged (their count and
newest creation time say so)."""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from accord.automation.embeddings import (
    Embedder,
    VectorIndex,
    create_embedder,
    vectors_to_bytes,
)
from accord.core import audit, jobs
from accord.core.items import get_item
from accord.core.schemas import current_schema, parsed_schema
from accord.db.engine import Database
from accord.db.models import Item, ItemVector, Job, Project
from accord.errors import InvalidInput, NotFound

DEFAULT_EMBEDDER = "tfidf-svd-128"
EMBED_CHUNK = 10_000
"""Items embedded (and rows written) per step; progress is reported after each."""
FIT_LIMIT = 200_000
"""At most this many texts (a fixed random sample) fit an embedder that learns from the data."""
MAX_NAME = 200
PREVIEW = 160
_SIZED_TFIDF = re.compile(r"^tfidf-svd-(\d+)$")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class EmbedderInfo:
    embedder: str
    count: int
    dim: int
    updated_at: datetime | None


@dataclass(frozen=True)
class SimilarItem:
    item_id: int
    similarity: float
    preview: str
    status: str


def make_embedder(name: str) -> Embedder:
    """The embedder a name asks for: ``tfidf-svd`` (128 dimensions), ``tfidf-svd-<dim>`` (2 to
    1024) or ``minilm``; InvalidInput naming ``embedder`` otherwise."""
    sized = _SIZED_TFIDF.match(name)
    if sized and not 2 <= int(sized.group(1)) <= 1024:
        raise InvalidInput(
            f"embedder {name!r}: the dimension must be between 2 and 1024",
            [{"field": "embedder", "rule": "range"}],
        )
    return create_embedder(name)


# -- text of an item ---------------------------------------------------------------------------
def text_keys(session: Session, project: Project) -> list[str]:
    """The item-data keys of the schema's text fields (empty: use every string value)."""
    try:
        schema = parsed_schema(current_schema(session, project).schema)
    except NotFound:
        return []
    return [f.key for f in schema.fields.values() if f.type == "text"]


def item_text(data: Mapping[str, Any], keys: Sequence[str]) -> str:
    """The text an item is embedded by: its text fields, else all its string values."""
    parts = [data[k] for k in keys if isinstance(data.get(k), str)]
    if not parts:
        parts = [v for v in data.values() if isinstance(v, str)]
    return "\n".join(parts)


def preview(data: Mapping[str, Any], keys: Sequence[str] = (), limit: int = PREVIEW) -> str:
    text = " ".join(item_text(data, keys).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- computing ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComputedVectors:
    embedder: str
    ids: NDArray[np.int64]
    vectors: NDArray[np.float32]


def compute_vectors(
    session: Session,
    project: Project,
    embedder: str = "tfidf-svd",
    *,
    progress: Progress | None = None,
) -> ComputedVectors:
    """Embed every item of the project (reads only): fit the embedder on the project's texts
    when it learns from data, then embed them ``EMBED_CHUNK`` at a time."""
    model = make_embedder(embedder)
    keys = text_keys(session, project)
    ids: list[int] = []
    texts: list[str] = []
    rows = session.execute(
        select(Item.id, Item.data).where(Item.project_id == project.id).order_by(Item.id)
    ).yield_per(EMBED_CHUNK)
    for item_id, data in rows:
        ids.append(item_id)
        texts.append(item_text(data, keys))
    if not ids:
        raise InvalidInput(
            f"project {project.id} has no items to embed", [{"field": "project", "rule": "items"}]
        )
    if not any(t.strip() for t in texts):
        raise InvalidInput(
            f"the items of project {project.id} hold no text to embed; vectors of images or"
            " audio computed elsewhere are stored with PUT /projects/{id}/vectors/{embedder}",
            [{"field": "project", "rule": "text"}],
        )
    if model.needs_fit:
        sample = texts
        if len(texts) > FIT_LIMIT:
            chosen = np.random.default_rng(0).choice(len(texts), FIT_LIMIT, replace=False)
            sample = [texts[i] for i in np.sort(chosen)]
        model.fit(sample)
    matrix = np.empty((len(texts), model.dim), dtype=np.float32)
    for start in range(0, len(texts), EMBED_CHUNK):
        chunk = texts[start : start + EMBED_CHUNK]
        matrix[start : start + len(chunk)] = model.embed(chunk)
        if progress is not None:
            progress(start + len(chunk))
    return ComputedVectors(model.name, np.asarray(ids, dtype=np.int64), matrix)


def store_vectors(session: Session, project: Project, computed: ComputedVectors) -> int:
    """Replace the project's rows of that embedder with these (items deleted meanwhile are
    left out)."""
    existing = set(session.scalars(select(Item.id).where(Item.project_id == project.id)))
    session.execute(
        delete(ItemVector).where(
            ItemVector.project_id == project.id, ItemVector.embedder == computed.embedder
        )
    )
    stored = 0
    rows: list[dict[str, Any]] = []
    for item_id, vector in zip(computed.ids.tolist(), computed.vectors, strict=True):
        if item_id not in existing:
            continue
        rows.append(
            {
                "item_id": item_id,
                "embedder": computed.embedder,
                "project_id": project.id,
                "vector": vectors_to_bytes(vector),
            }
        )
        if len(rows) == EMBED_CHUNK:
            session.execute(insert(ItemVector), rows)
            stored, rows = stored + len(rows), []
    if rows:
        session.execute(insert(ItemVector), rows)
        stored += len(rows)
    _changed_after_commit(session, project.id)
    return stored


def embed_project(
    session: Session,
    project: Project,
    embedder: str = "tfidf-svd",
    *,
    progress: Progress | None = None,
) -> int:
    """Embed every item and store the vectors in this (write) session; returns the rows stored."""
    computed = compute_vectors(session, project, embedder, progress=progress)
    return store_vectors(session, project, computed)


def run_embedding(
    db: Database,
    project_id: int,
    embedder: str = "tfidf-svd",
    *,
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The ``embed`` job: compute in a read transaction, then replace the rows in one write
    transaction (SQLite's write lock is held only while storing)."""
    with db.transaction(write=False) as session:
        project = _project(session, project_id)
        computed = compute_vectors(session, project, embedder, progress=progress)
    with db.transaction() as session:
        project = _project(session, project_id)
        stored = store_vectors(session, project, computed)
        audit.record(
            session,
            actor_id=actor_id,
            action="vectors.embed",
            entity="project",
            entity_id=project.id,
            project_id=project.id,
            embedder=computed.embedder,
            n=stored,
        )
    return {"embedder": computed.embedder, "dim": int(computed.vectors.shape[1]), "n_items": stored}


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


# -- reading -----------------------------------------------------------------------------------
def embedders(session: Session, project: Project) -> list[EmbedderInfo]:
    """The project's embedders, newest first, with their row counts and dimensions."""
    rows = session.execute(
        select(
            ItemVector.embedder,
            func.count(),
            func.max(ItemVector.created_at),
            func.max(func.length(ItemVector.vector)),
        )
        .where(ItemVector.project_id == project.id)
        .group_by(ItemVector.embedder)
    ).all()
    found = [
        EmbedderInfo(name, int(count), int(size) // 4, newest) for name, count, newest, size in rows
    ]
    return sorted(found, key=lambda e: (e.updated_at is not None, e.updated_at), reverse=True)


def active_embed_job(session: Session, project: Project) -> Job | None:
    """The project's queued or running ``embed`` job, if any."""
    return jobs.active_job(session, project, "embed")


def newest_embedder(session: Session, project: Project) -> str | None:
    """The embedder of the project's newest vectors (None: no vectors). Remembered for
    ``STAMP_SECONDS`` unless this process writes vectors: with several embedders, finding the
    newest reads every row."""
    now = time.monotonic()
    with _LOCK:
        generation = _GENERATION.get(project.id, 0)
        known = _NEWEST.get(project.id)
    if known is not None and known[0] == generation and now - known[1] < STAMP_SECONDS:
        return known[2]
    names = list(
        session.scalars(
            select(ItemVector.embedder).where(ItemVector.project_id == project.id).distinct()
        )
    )
    name = names[0] if len(names) == 1 else None
    if len(names) > 1:
        name = session.scalar(
            select(ItemVector.embedder)
            .where(ItemVector.project_id == project.id)
            .order_by(ItemVector.created_at.desc(), ItemVector.embedder)
            .limit(1)
        )
    with _LOCK:
        _NEWEST[project.id] = (generation, now, name)
    return name


def load_vectors(
    session: Session,
    project: Project,
    embedder: str | None = None,
    item_ids: Sequence[int] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Item ids and their vectors (one row each). Without ``item_ids``: every vector of the
    embedder in item-id order; with them: those items in the order given, leaving out items
    without a vector. ``embedder`` None: the project's newest. Empty arrays when none."""
    name = embedder or newest_embedder(session, project)
    if name is None:
        return _empty()
    if item_ids is None:
        rows: Sequence[tuple[int, bytes]] = _all_rows(session, project.id, name)
    else:
        base = select(ItemVector.item_id, ItemVector.vector).where(
            ItemVector.project_id == project.id, ItemVector.embedder == name
        )
        found: dict[int, bytes] = {}
        wanted = list(dict.fromkeys(int(i) for i in item_ids))
        for start in range(0, len(wanted), EMBED_CHUNK):
            part = wanted[start : start + EMBED_CHUNK]
            found.update(
                (int(i), v) for i, v in session.execute(base.where(ItemVector.item_id.in_(part)))
            )
        rows = [(i, found[i]) for i in wanted if i in found]
    if not rows:
        return _empty()
    return _matrix(rows)


def _all_rows(session: Session, project_id: int, embedder: str) -> list[tuple[int, bytes]]:
    """Every (item id, vector bytes) of an embedder in one query, through the transaction's
    own driver cursor: row objects and type processing would triple the time of a large
    project (500,000 rows)."""
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    table = ItemVector.__tablename__
    sql = (
        f"SELECT item_id, vector FROM {table} WHERE project_id = {mark} AND embedder = {mark}"
        " ORDER BY item_id"
    )
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(sql, (project_id, embedder))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _empty() -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    return np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=np.float32)


def _matrix(rows: Sequence[tuple[int, bytes]]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    dim = len(rows[0][1]) // 4
    matrix = np.empty((len(rows), dim), dtype=np.float32)
    flat = matrix.reshape(-1)
    # One copy of all the bytes into the preallocated matrix: no array per row.
    blob = b"".join(r[1] for r in rows)
    if len(blob) != flat.nbytes:
        raise InvalidInput(
            "the stored vectors of this embedder have different dimensions",
            [{"field": "embedder", "rule": "dimension"}],
        )
    flat[:] = np.frombuffer(blob, dtype=np.float32)
    return ids, matrix


# -- "more like this" --------------------------------------------------------------------------
EXACT_LIMIT = 300_000
"""Up to this many vectors similarity search is exact; beyond it an approximate (HNSW) index
is built in the background and answers once ready (exact search answers meanwhile)."""
CACHE_BYTES = 1 << 30
"""The indexes kept in memory, least recently used dropped first (the newest always stays)."""


STAMP_SECONDS = 10.0
"""How often a cached index re-reads the newest creation time of its vectors (a scan of every
row); in between it trusts their count and the writes this process made. A replacement by
another process that keeps the count shows after at most this long."""


@dataclass
class _Cached:
    stamp: tuple[int, datetime | None]
    generation: int
    checked_at: float
    exact: VectorIndex
    ann: VectorIndex | None = None

    @property
    def ids(self) -> NDArray[np.int64]:
        return self.exact.ids

    @property
    def nbytes(self) -> int:
        size = int(self.exact.vectors.nbytes + self.exact.ids.nbytes)
        return size * 2 if self.ann is not None else size


_INDEXES: OrderedDict[tuple[int, str], _Cached] = OrderedDict()
_BUILDING: set[tuple[int, str, tuple[int, datetime | None]]] = set()
_GENERATION: dict[int, int] = {}
"""Per project, the vector writes this process has committed (each invalidates its indexes)."""
_NEWEST: dict[int, tuple[int, float, str | None]] = {}
_LOCK = threading.Lock()


def _changed_after_commit(session: Session, project_id: int) -> None:
    def bump(_session: Session) -> None:
        with _LOCK:
            _GENERATION[project_id] = _GENERATION.get(project_id, 0) + 1

    event.listen(session, "after_commit", bump, once=True)


def _count(session: Session, project: Project, embedder: str) -> int:
    query = select(func.count()).where(
        ItemVector.project_id == project.id, ItemVector.embedder == embedder
    )
    return int(session.scalar(query) or 0)


def _stamp(session: Session, project: Project, embedder: str) -> tuple[int, datetime | None]:
    count, newest = session.execute(
        select(func.count(), func.max(ItemVector.created_at)).where(
            ItemVector.project_id == project.id, ItemVector.embedder == embedder
        )
    ).one()
    return int(count), newest


def vector_index(session: Session, project: Project, embedder: str) -> _Cached | None:
    """The similarity index of a project's vectors, built once per process and reused while
    they are unchanged: the same count, no write by this process since, and (checked every
    ``STAMP_SECONDS``) the same newest creation time. None when the embedder has no vectors
    in the project."""
    key = (project.id, embedder)
    with _LOCK:
        generation = _GENERATION.get(project.id, 0)
        cached = _INDEXES.get(key)
    count = _count(session, project, embedder)
    if count == 0:
        return None
    if cached is not None and cached.stamp[0] == count and cached.generation == generation:
        now = time.monotonic()
        fresh = now - cached.checked_at < STAMP_SECONDS
        if fresh or _stamp(session, project, embedder) == cached.stamp:
            with _LOCK:
                cached.checked_at = now if not fresh else cached.checked_at
                _INDEXES.move_to_end(key)
            return cached
    stamp = _stamp(session, project, embedder)
    ids, matrix = load_vectors(session, project, embedder)
    built = _Cached(
        stamp, generation, time.monotonic(), VectorIndex(ids, matrix, exact_limit=len(ids))
    )
    del matrix
    with _LOCK:
        _INDEXES[key] = built
        _INDEXES.move_to_end(key)
        _evict()
    if len(ids) > EXACT_LIMIT:
        _build_ann_in_background(key, built)
    return built


def _evict() -> None:
    while len(_INDEXES) > 1 and sum(c.nbytes for c in _INDEXES.values()) > CACHE_BYTES:
        _INDEXES.popitem(last=False)


def _build_ann_in_background(key: tuple[int, str], cached: _Cached) -> None:
    """An HNSW index takes minutes to build over hundreds of thousands of vectors, far longer
    than exact search takes to answer one query, so no request waits for it."""
    job = (*key, cached.stamp)
    with _LOCK:
        if job in _BUILDING:
            return
        _BUILDING.add(job)

    def build() -> None:
        try:
            index = VectorIndex(cached.exact.ids, cached.exact.vectors, exact_limit=EXACT_LIMIT)
            with _LOCK:
                current = _INDEXES.get(key)
                if current is cached:
                    cached.ann = index
                    _evict()
        finally:
            with _LOCK:
                _BUILDING.discard(job)

    threading.Thread(target=build, name=f"accord-ann-{key[0]}", daemon=True).start()


def index_backend(project_id: int, embedder: str) -> str | None:
    """How "more like this" searches this project's vectors now: ``exact``, the approximate
    index's backend once it is built, or None when nothing is loaded yet."""
    with _LOCK:
        cached = _INDEXES.get((project_id, embedder))
    if cached is None:
        return None
    return cached.ann.backend if cached.ann is not None else "exact"


def similar_items(
    session: Session, project: Project, item_id: int, k: int = 10, *, embedder: str | None = None
) -> list[tuple[int, float]]:
    """The ``k`` items of the project most similar to this one (cosine similarity, best first),
    never the item itself; empty when the item has no vector (yet)."""
    get_item(session, project, item_id)
    if k < 1:
        raise InvalidInput("k must be at least 1", [{"field": "k", "rule": "range"}])
    name = embedder or newest_embedder(session, project)
    if name is None:
        return []
    cached = vector_index(session, project, name)
    if cached is None:
        return []
    ids = cached.ids
    position = int(np.searchsorted(ids, item_id))
    if position >= len(ids) or ids[position] != item_id:
        return []
    query = cached.exact.vectors[position : position + 1]
    index = cached.ann or cached.exact
    found_ids, sims = index.search(query, min(k + 1, len(ids)))
    out = [
        (int(i), float(s))
        for i, s in zip(found_ids[0], sims[0], strict=True)
        if i != item_id and i >= 0 and math.isfinite(float(s))
    ]
    return out[:k]


def similar_with_previews(
    session: Session, project: Project, item_id: int, k: int = 10, *, embedder: str | None = None
) -> list[SimilarItem]:
    found = similar_items(session, project, item_id, k, embedder=embedder)
    if not found:
        return []
    keys = text_keys(session, project)
    rows = {
        i: (data, status)
        for i, data, status in session.execute(
            select(Item.id, Item.data, Item.status).where(
                Item.project_id == project.id, Item.id.in_([i for i, _ in found])
            )
        )
    }
    return [SimilarItem(i, s, preview(rows[i][0], keys), rows[i][1]) for i, s in found if i in rows]


# -- vectors computed elsewhere ----------------------------------------------------------------
def put_vectors(
    session: Session,
    project: Project,
    embedder: str,
    vectors: Mapping[int, Sequence[float]],
    actor_id: int | None,
) -> int:
    """Store vectors computed outside Accord (images, audio, any model) under ``embedder``,
    replacing those items' earlier vectors of it. All or nothing: every vector must have the
    embedder's dimension and finite, not all-zero numbers, and every item must be in the
    project. Stored L2-normalised."""
    name = embedder.strip()
    if not name or len(name) > MAX_NAME or name != embedder:
        raise InvalidInput(
            f"an embedder name is 1 to {MAX_NAME} characters without surrounding spaces",
            [{"field": "embedder", "rule": "name"}],
        )
    if not vectors:
        raise InvalidInput("no vectors given", [{"field": "vectors", "rule": "required"}])
    known = session.scalar(
        select(func.length(ItemVector.vector))
        .where(ItemVector.project_id == project.id, ItemVector.embedder == name)
        .limit(1)
    )
    dim = int(known) // 4 if known else None
    ids = [int(i) for i in vectors]
    present = _existing_items(session, project, ids)
    matrix: list[NDArray[np.float32]] = []
    for item_id, values in zip(ids, vectors.values(), strict=True):
        where = f"vectors.{item_id}"
        if item_id not in present:
            raise _bad(f"item {item_id} is not in project {project.id}", where, item_id, "exists")
        row = np.asarray(values, dtype=np.float64)
        if row.ndim != 1 or row.size == 0:
            raise _bad(f"item {item_id}: a vector is a non-empty list", where, item_id, "shape")
        if dim is None:
            dim = row.size
        if row.size != dim:
            raise _bad(
                f"item {item_id}: the vector has {row.size} numbers; embedder {name!r} has {dim}",
                where,
                item_id,
                "dimension",
            )
        if not np.isfinite(row).all():
            raise _bad(
                f"item {item_id}: the vector holds NaN or infinity", where, item_id, "finite"
            )
        norm = float(np.linalg.norm(row))
        if norm == 0.0:
            raise _bad(f"item {item_id}: the vector is all zeros", where, item_id, "nonzero")
        matrix.append((row / norm).astype(np.float32))
    for start in range(0, len(ids), EMBED_CHUNK):
        session.execute(
            delete(ItemVector).where(
                ItemVector.project_id == project.id,
                ItemVector.embedder == name,
                ItemVector.item_id.in_(ids[start : start + EMBED_CHUNK]),
            )
        )
    rows = [
        {"item_id": i, "embedder": name, "project_id": project.id, "vector": vectors_to_bytes(v)}
        for i, v in zip(ids, matrix, strict=True)
    ]
    for start in range(0, len(rows), EMBED_CHUNK):
        session.execute(insert(ItemVector), rows[start : start + EMBED_CHUNK])
    _changed_after_commit(session, project.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="vectors.put",
        entity="project",
        entity_id=project.id,
        project_id=project.id,
        embedder=name,
        n=len(rows),
        dim=dim,
    )
    return len(rows)


def _existing_items(session: Session, project: Project, ids: Iterable[int]) -> set[int]:
    wanted = list(ids)
    found: set[int] = set()
    for start in range(0, len(wanted), EMBED_CHUNK):
        part = wanted[start : start + EMBED_CHUNK]
        found.update(
            session.scalars(select(Item.id).where(Item.project_id == project.id, Item.id.in_(part)))
        )
    return found


def _bad(message: str, field: str, item_id: int, rule: str) -> InvalidInput:
    return InvalidInput(message, [{"field": field, "item_id": item_id, "rule": rule}])
