"""Duplicates and redundancy of a project's items: the check that finds groups of exact and near
duplicates (text, images, embeddings) and stores them. The stored groups are read in
core/duplicate_reports.py and acted on (exclude, merge, include, drop) in
core/duplicate_actions.py.

The check reads in a read transaction, computes outside any transaction with
:mod:`accord.automation.near_duplicates`, and replaces the project's ``ItemDuplicate`` rows in
one short write transaction. A group's representative is its smallest item id; every other
member is redundant.

Checks of one project may run at the same time (one queued after each of two imports, or an
import's and one asked for). The stored groups are always those of the newest check (highest
job id) that stored them, never a mix: the write transaction holds the project's row, and a
check finds there whether a newer job has already stored its groups (the job's row says so from
that same transaction: its result's ``superseded_by`` is null). If one has, the older check
stores nothing and reports ``superseded_by``; a check that finds this before reading does no
work. A check outside a job (``job_id`` None) always stores.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from accord.automation import near_duplicates as nd
from accord.core import audit
from accord.core.duplicate_reports import summary
from accord.core.schemas import current_schema, parsed_schema
from accord.db.engine import Database
from accord.db.models import Item, ItemDuplicate, Job, Project, utcnow
from accord.errors import InvalidInput, NotFound
from accord.io import MediaStorage, search_text
from accord.io.media_folder import KIND_OF

METHODS = ("exact", "text", "image", "embedding")
"""In order of precedence: an item's method is the first one that links it to its group."""
TEXT_FIELD_TYPES = ("text", "html")
HASH_SIZE = 8
HASH_BITS = HASH_SIZE * HASH_SIZE
SHINGLE = 2
_WORD = re.compile(r"\w+")
"""Words as :func:`accord.automation.near_duplicates.tokenize` finds them in normalised text."""

Progress = Callable[[int], None]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class CheckParams:
    """What a duplicates check looks for: ``threshold`` is the word 2-shingle Jaccard of near
    duplicate texts, ``max_distance`` the Hamming distance of 64-bit pHashes of near-duplicate
    images, ``cosine`` the cosine similarity of near-duplicate embeddings (``embedder``: which
    stored vectors; None: the newest)."""

    methods: tuple[str, ...] = METHODS
    threshold: float = 0.8
    max_distance: int = 10
    cosine: float = 0.95
    embedder: str | None = None

    @classmethod
    def parse(cls, values: Mapping[str, Any] | None) -> CheckParams:
        values = {k: v for k, v in (values or {}).items() if v is not None}
        problems: list[dict[str, Any]] = []
        methods = tuple(values.get("methods") or METHODS)
        unknown = [m for m in methods if m not in METHODS]
        if unknown or not methods:
            problems.append(
                {
                    "field": "methods",
                    "rule": "choice",
                    "msg": f"methods must be some of {', '.join(METHODS)}",
                }
            )
        threshold = float(values.get("threshold", cls.threshold))
        if not 0.0 < threshold <= 1.0:
            problems.append(
                {"field": "threshold", "rule": "range", "msg": "threshold must be over 0, up to 1"}
            )
        distance = values.get("max_distance", cls.max_distance)
        if not isinstance(distance, int) or not 0 <= distance <= HASH_BITS // 2:
            problems.append(
                {
                    "field": "max_distance",
                    "rule": "range",
                    "msg": f"max_distance must be a whole number from 0 to {HASH_BITS // 2}",
                }
            )
        cosine = float(values.get("cosine", cls.cosine))
        if not 0.0 < cosine <= 1.0:
            problems.append(
                {"field": "cosine", "rule": "range", "msg": "cosine must be over 0, up to 1"}
            )
        if problems:
            raise InvalidInput("; ".join(p.pop("msg") for p in problems), problems)
        ordered = tuple(m for m in METHODS if m in methods)
        return cls(ordered, threshold, int(distance), cosine, values.get("embedder"))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["methods"] = list(self.methods)
        return out


# -- reading the items -------------------------------------------------------------------------


@dataclass
class _Items:
    ids: IntArray
    texts: list[str]
    media: list[str | None]


def text_of(data: Mapping[str, Any], keys: Sequence[str]) -> str:
    """The text an item is compared by: its schema's text fields, else all its strings."""
    if keys:
        return "\n".join(v for k in keys if isinstance(v := data.get(k), str))
    return search_text(data)


def _text_keys(session: Session, project: Project) -> list[str]:
    schema = parsed_schema(current_schema(session, project).schema)
    return [f.key for f in schema.fields.values() if f.type in TEXT_FIELD_TYPES]


def _load(session: Session, project: Project) -> _Items:
    keys = _text_keys(session, project)
    ids: list[int] = []
    texts: list[str] = []
    media: list[str | None] = []
    rows = session.execute(
        select(Item.id, Item.data, Item.media)
        .where(Item.project_id == project.id)
        .order_by(Item.id)
        .execution_options(yield_per=5000)
    )
    for item_id, data, ref in rows:
        ids.append(item_id)
        texts.append(text_of(data, keys))
        media.append(ref if ref and KIND_OF.get(Path(ref).suffix.lower()) == "image" else None)
    return _Items(np.asarray(ids, dtype=np.int64), texts, media)


def _open_media(ref: str, storage: MediaStorage | None) -> Path | IO[bytes] | None:
    """A readable image, or None when it cannot be read from here (a web URL: no downloads)."""
    if ref.startswith("file://"):
        path = Path(ref.removeprefix("file://"))
        return path if path.is_file() else None
    if ref.startswith(("http://", "https://")) or storage is None:
        return None
    try:
        return storage.open(ref)
    except (NotFound, OSError):
        return None


def _image_hash(ref: str, storage: MediaStorage | None) -> NDArray[np.bool_] | None:
    source = _open_media(ref, storage)
    if source is None:
        return None
    try:
        with Image.open(source) as image:
            return nd.phash(image, HASH_SIZE)
    except OSError:
        return None
    finally:
        if not isinstance(source, Path):
            source.close()


def _load_vectors(
    session: Session, project: Project, embedder: str | None
) -> tuple[IntArray, NDArray[np.float32]] | None:
    """The project's stored vectors, or None without the vector store or any vector."""
    try:
        module = importlib.import_module("accord.core.vectors")
    except ImportError:
        return None
    load = cast(
        Callable[..., tuple[IntArray, NDArray[np.float32]]], getattr(module, "load_vectors", None)
    )
    if load is None:
        return None
    ids, vectors = load(session, project, embedder)
    if len(ids) == 0:
        return None
    return np.asarray(ids, dtype=np.int64), np.asarray(vectors, dtype=np.float32)


# -- computing ---------------------------------------------------------------------------------


@dataclass
class Computed:
    """Groups of the positions 0..n-1 (items in id order): ``labels`` is each position's
    representative position; method and similarity to the representative per position."""

    labels: IntArray
    method: list[str | None]
    similarity: NDArray[np.float64]
    pairs: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, Any] = field(default_factory=dict)


def compute(
    texts: Sequence[str],
    params: CheckParams,
    *,
    hashes: Mapping[int, NDArray[np.bool_]] | None = None,
    vectors: tuple[IntArray, NDArray[np.float32]] | None = None,
    progress: Callable[[], None] | None = None,
) -> Computed:
    """Pure: the groups of ``texts`` (and of the positions in ``hashes``, and of the positions
    ``vectors[0]`` with their vectors) under ``params``."""
    n = len(texts)
    step = progress or (lambda: None)
    if n == 0:
        for _ in params.methods:
            step()
        return Computed(np.empty(0, np.int64), [], np.empty(0, np.float64))
    found: dict[str, nd.SimilarPairs] = {}
    normal = [nd.normalise_text(t) for t in texts]
    with_text = np.asarray([i for i, t in enumerate(normal) if t], np.int64)
    subset = [texts[i] for i in with_text]
    if "exact" in params.methods:
        found["exact"] = _mapped(nd.exact_duplicate_pairs(subset), with_text)
        step()
    if "text" in params.methods:
        # The library needs at least one word among the texts (any() stops at the first).
        if any(nd.tokenize(t) for t in subset):
            near = nd.text_near_duplicate_pairs(subset, params.threshold, k=SHINGLE)
            found["text"] = _mapped(near, with_text)
        step()
    image_pos = np.asarray(sorted(hashes or {}), dtype=np.int64)
    bits = np.stack([hashes[i] for i in image_pos]) if hashes else None
    if "image" in params.methods:
        if bits is not None:
            found["image"] = _mapped(nd.hamming_pairs(bits, params.max_distance), image_pos)
        step()
    unit: NDArray[np.float64] | None = None
    vector_pos = np.empty(0, dtype=np.int64)
    if vectors is not None:
        vector_pos, raw = vectors
        matrix = np.asarray(raw, dtype=np.float64)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        unit = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    if "embedding" in params.methods:
        if unit is not None:
            found["embedding"] = _mapped(nd.cosine_pairs(unit, params.cosine), vector_pos)
        step()
    labels = nd.cluster_labels(n, *found.values())
    method: list[str | None] = [None] * n
    for name in reversed(METHODS):  # earlier methods win
        pairs = found.get(name)
        if pairs is not None:
            for i in np.concatenate([pairs.left, pairs.right]).tolist():
                method[i] = name
    similarity = np.ones(n, dtype=np.float64)
    redundant = np.flatnonzero(labels != np.arange(n))
    if len(redundant):
        similarity[redundant] = _similarities(
            normal,
            redundant,
            labels[redundant],
            [method[i] for i in redundant],
            image_pos,
            bits,
            vector_pos,
            unit,
        )
    return Computed(labels, method, similarity, {k: len(v) for k, v in found.items()})


def _mapped(pairs: nd.SimilarPairs, positions: IntArray) -> nd.SimilarPairs:
    if len(pairs) == 0:
        return nd.SimilarPairs.empty()
    return nd.SimilarPairs.of(positions[pairs.left], positions[pairs.right], pairs.score)


def _similarities(
    normal: Sequence[str],
    items: IntArray,
    reps: IntArray,
    methods: Sequence[str | None],
    image_pos: IntArray,
    bits: NDArray[np.bool_] | None,
    vector_pos: IntArray,
    unit: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Each item's similarity to its representative, measured by the item's method: the exact
    Jaccard of word 2-shingles (exact, text), 1 - Hamming / 64 of the pHashes (image), the cosine
    of the vectors (embedding); 0 when the representative has nothing to compare by.
    ``normal`` holds the normalised texts."""
    out = np.zeros(len(items), dtype=np.float64)
    kinds = np.asarray([m or "" for m in methods])
    textual = np.flatnonzero(np.isin(kinds, ("exact", "text")))
    if len(textual):
        positions = np.unique(np.concatenate([items[textual], reps[textual]]))
        where = {int(p): i for i, p in enumerate(positions)}
        tokens = [_WORD.findall(normal[p]) for p in positions]
        left = np.asarray([where[int(p)] for p in items[textual]], dtype=np.int64)
        right = np.asarray([where[int(p)] for p in reps[textual]], dtype=np.int64)
        jaccard = np.zeros(len(textual), dtype=np.float64)
        if any(tokens):  # the library's shingles need at least one word
            jaccard = nd.jaccard_of_pairs(nd.shingle_sets(tokens, SHINGLE), left, right)
        same = np.asarray(
            [
                normal[int(a)] == normal[int(b)]
                for a, b in zip(items[textual], reps[textual], strict=True)
            ],
            dtype=bool,
        )
        out[textual] = np.where(same, 1.0, jaccard)
    for name, positions, lookup in (
        ("image", image_pos, bits),
        ("embedding", vector_pos, unit),
    ):
        chosen = np.flatnonzero(kinds == name)
        if not len(chosen) or lookup is None:
            continue
        row = {int(p): i for i, p in enumerate(positions)}
        for c in chosen:
            a, b = row.get(int(items[c])), row.get(int(reps[c]))
            if a is None or b is None:
                continue
            if name == "image":
                out[c] = 1.0 - float(np.count_nonzero(lookup[a] != lookup[b])) / HASH_BITS
            else:
                out[c] = float(np.clip(np.dot(lookup[a], lookup[b]), -1.0, 1.0))
    return out


# -- the check ---------------------------------------------------------------------------------


def stages(params: CheckParams) -> int:
    """Progress units of a check: reading, one per method, storing."""
    return len(params.methods) + 2


def run_check(
    db: Database,
    project_id: int,
    params: CheckParams | Mapping[str, Any] | None = None,
    *,
    storage: MediaStorage | None = None,
    actor_id: int | None = None,
    job_id: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Find the project's duplicate groups, replace its stored groups (unless a newer check has
    stored its own: see the module's docstring), and report."""
    started = time.perf_counter()
    checked = params if isinstance(params, CheckParams) else CheckParams.parse(params)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done)

    with db.transaction(write=False) as session:
        project = _project(session, project_id)
        newer = stored_by_newer(session, project.id, job_id)
        read = _read(session, project, checked) if newer is None else None
    if read is None:  # a newer check has stored its groups already: nothing to do
        for _ in range(stages(checked)):
            step()
        return _report(db, project_id, checked, started, newer, {}, {}, 0)
    items, vectors = read
    skipped: dict[str, Any] = {}
    hashes: dict[int, NDArray[np.bool_]] = {}
    if "image" in checked.methods:
        unreadable = 0
        for position, ref in enumerate(items.media):
            if ref is None:
                continue
            found = _image_hash(ref, storage)
            if found is None:
                unreadable += 1
            else:
                hashes[position] = found
        if unreadable:
            skipped["image"] = f"{unreadable} image(s) could not be read"
    positioned = None
    if vectors is not None:
        where = {int(i): p for p, i in enumerate(items.ids.tolist())}
        keep = [k for k, i in enumerate(vectors[0].tolist()) if int(i) in where]
        positioned = (
            np.asarray([where[int(vectors[0][k])] for k in keep], dtype=np.int64),
            vectors[1][keep],
        )
    elif "embedding" in checked.methods:
        skipped["embedding"] = "the project has no stored vectors"
    step()
    result = compute(items.texts, checked, hashes=hashes, vectors=positioned, progress=step)
    result.skipped = skipped
    redundant = result.labels != np.arange(len(items.ids))
    n_stored = 0
    with db.transaction() as session:
        # Checks that end together store one at a time (SQLite: one writer; PostgreSQL: the
        # project's row), so each sees whether a newer one has stored before it.
        project = _project(session, project_id, lock=True)
        newer = stored_by_newer(session, project.id, job_id)
        if newer is None:
            n_stored = _store(session, project, items.ids, result)
            _mark_stored(session, job_id, n_stored)
            audit.record(
                session,
                actor_id=actor_id,
                action="duplicates.check",
                entity="project",
                entity_id=project.id,
                project_id=project.id,
                job_id=job_id,
                params=checked.as_dict(),
                groups=len(np.unique(result.labels[redundant])),
                redundant=int(np.count_nonzero(redundant)),
            )
    step()
    return _report(db, project_id, checked, started, newer, result.pairs, skipped, n_stored)


def _read(
    session: Session, project: Project, checked: CheckParams
) -> tuple[_Items, tuple[IntArray, NDArray[np.float32]] | None]:
    items = _load(session, project)
    if "embedding" not in checked.methods:
        return items, None
    return items, _load_vectors(session, project, checked.embedder)


def stored_by_newer(session: Session, project_id: int, job_id: int | None) -> int | None:
    """The id of the newest duplicates check of the project newer than job ``job_id`` whose
    groups were stored, if any (None for a check outside a job). A check that stored its groups
    says so in its job's result from the transaction that stored them (its ``superseded_by``
    null or absent); one that has not stored yet, was superseded or failed has no result or
    another result."""
    if job_id is None:
        return None
    newer = session.execute(
        select(Job.id, Job.result)
        .where(Job.project_id == project_id, Job.kind == "duplicates", Job.id > job_id)
        .order_by(Job.id.desc())
    )
    for newer_id, result in newer:
        if isinstance(result, dict) and result.get("superseded_by") is None:
            return int(newer_id)
    return None


def _mark_stored(session: Session, job_id: int | None, n_rows: int) -> None:
    """Record on the check's job, with its groups, that they are stored (the job's full result
    replaces this when it ends)."""
    job = session.get(Job, job_id) if job_id is not None else None
    if job is not None:
        job.result = {"superseded_by": None, "n_rows": n_rows}


def _report(
    db: Database,
    project_id: int,
    checked: CheckParams,
    started: float,
    superseded_by: int | None,
    pairs: dict[str, int],
    skipped: dict[str, Any],
    n_rows: int,
) -> dict[str, Any]:
    """The stored groups' summary (a superseded check's: the newer check's groups), with what
    this check found and stored."""
    with db.transaction(write=False) as session:
        project = _project(session, project_id)
        report = summary(session, project).as_dict()
    report.update(
        params=checked.as_dict(),
        pairs=pairs,
        skipped=skipped,
        n_rows=n_rows,
        superseded_by=superseded_by,
        seconds=round(time.perf_counter() - started, 3),
    )
    return report


def _project(session: Session, project_id: int, *, lock: bool = False) -> Project:
    # FOR NO KEY UPDATE on PostgreSQL: rows that refer to the project can still be added.
    project = session.get(
        Project, project_id, with_for_update={"key_share": True} if lock else None
    )
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def _store(session: Session, project: Project, ids: IntArray, result: Computed) -> int:
    """Replace the project's rows: one per item of a group of two or more, in one transaction.
    Items deleted since they were read are left out."""
    n = len(ids)
    sizes = np.bincount(result.labels, minlength=n) if n else np.empty(0, np.int64)
    grouped = np.flatnonzero(sizes[result.labels] >= 2) if n else np.empty(0, np.int64)
    still = set(session.scalars(select(Item.id).where(Item.project_id == project.id)))
    now = utcnow()
    rows = [
        {
            "item_id": int(ids[p]),
            "project_id": project.id,
            "group_id": int(ids[result.labels[p]]),
            "method": result.method[p] or "exact",
            "similarity": float(result.similarity[p]),
            "computed_at": now,
        }
        for p in grouped.tolist()
        if int(ids[p]) in still
    ]
    session.execute(delete(ItemDuplicate).where(ItemDuplicate.project_id == project.id))
    for first in range(0, len(rows), 5000):
        # Straight to the connection: a plain executemany, without the ORM's bulk machinery.
        session.connection().execute(insert(ItemDuplicate), rows[first : first + 5000])
    return len(rows)
