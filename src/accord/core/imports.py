"""Imports: all-or-nothing, streaming, duplicate-aware, each one a recorded batch.

Rows are written in chunks inside ONE transaction: a bad row anywhere rolls everything back,
and memory stays flat because only one chunk (plus an 8-byte fingerprint per row, for
duplicates within the file) is held at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from accord.core import audit, personal_data, search_index
from accord.core.distribution import stratum_of
from accord.core.items import context_of
from accord.core.schemas import current_schema, parsed_schema
from accord.db.engine import Database
from accord.db.models import GoldAnswer, ImportBatch, Item, Project, User, utcnow
from accord.errors import AccordError, ImportRowError, InvalidInput, InvalidResult, NotFound
from accord.io import ImportRecord, content_hash, dump_json, iter_chunks, prefetch, search_text
from accord.schema import ItemContext, LabelingSchema, validate_result

CHUNK = 5000
MAX_REPORTED_DUPLICATES = 1000

Progress = Callable[[int], None]


@dataclass
class ImportReport:
    batch_id: int
    n_items: int = 0
    n_duplicates: int = 0
    duplicate_rows: list[int] = field(default_factory=list)


class _Dedup:
    """Content hashes already in the project or earlier in this file."""

    def __init__(self, session: Session, project_id: int) -> None:
        self.session = session
        self.project_id = project_id
        self.project_has_items = (
            session.scalar(select(Item.id).where(Item.project_id == project_id).limit(1))
            is not None
        )
        self.seen: set[int] = set()

    def existing(self, hashes: list[str]) -> set[str]:
        if not self.project_has_items:
            return set()
        found = self.session.scalars(
            select(Item.content_hash).where(
                Item.project_id == self.project_id, Item.content_hash.in_(hashes)
            )
        )
        return set(found)

    def first_time(self, digest: str) -> bool:
        key = int(digest[:16], 16)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class _Ids:
    """Item ids for the rows of one import, taken in chunks."""

    def __init__(self, session: Session, index: search_index.IndexWriter) -> None:
        self.conn = session.connection()
        self.index = index
        self.next_sqlite_id: int | None = None

    def take(self, n: int) -> list[int]:
        if self.conn.dialect.name != "sqlite":
            rows = self.conn.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence('items', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
            return [int(r[0]) for r in rows]
        if self.next_sqlite_id is None:
            # The import's write transaction holds SQLite's lock from here to its end, so
            # nobody else can take ids: look the top up once and count on from it. Ids the
            # search index has seen are never given again (see core/search_index.py).
            top = self.conn.exec_driver_sql(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name='items'), 0), "
                "coalesce((SELECT max(id) FROM items), 0))"
            ).scalar()
            self.next_sqlite_id = max(int(top or 0), self.index.highest_id()) + 1
        start = self.next_sqlite_id
        self.next_sqlite_id += n
        return list(range(start, start + n))


_INSERT_COLUMNS = (
    "id, project_id, batch_id, data, meta, media, media_info, content_hash, status, "
    "n_assigned, n_done, stratum, created_at, pii"
)


@dataclass(slots=True)
class _Row:
    """A record made ready for the database: everything but its id and batch."""

    row: int
    digest: str
    data: str
    meta: str
    media: str | None
    media_info: str | None
    text: str
    gold: tuple[dict[str, Any], ItemContext] | None
    stratum: str | None
    pii: list[dict[str, Any]] | None = None


def _prepare(
    chunk: list[ImportRecord],
    stratify_by: str | None,
    scanner: personal_data.Scanner | None = None,
) -> list[_Row]:
    # Personal data is found and masked here, in the background thread, before hashing and
    # indexing: the content hash and the search index see only the text that is stored.
    chunk, found = personal_data.scan_records(chunk, scanner)
    return [
        _Row(
            r.row,
            content_hash(r.data, r.media),
            dump_json(r.data).decode(),
            dump_json(r.meta).decode() if r.meta else "{}",
            r.media,
            dump_json(r.media_info).decode() if r.media_info is not None else None,
            search_text(r.data),
            (r.gold, context_of(r.data, r.media_info)) if r.gold else None,
            stratum_of(r.meta, stratify_by),
            pii,
        )
        for r, pii in zip(chunk, found, strict=True)
    ]


def _write_chunk(
    session: Session,
    batch: ImportBatch,
    ids: _Ids,
    index: search_index.IndexWriter,
    rows: list[_Row],
    schema: LabelingSchema,
) -> None:
    item_ids = ids.take(len(rows))
    gold = [
        {
            "item_id": i,
            "project_id": batch.project_id,
            "result": _valid_gold(r.row, schema, *r.gold),
            "created_by": batch.created_by,
        }
        for i, r in zip(item_ids, rows, strict=True)
        if r.gold is not None
    ]
    conn = session.connection()
    # Rows go straight to the driver: convert the timestamp as the ORM column would.
    now: Any = utcnow()
    to_db = Item.__table__.c.created_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    if to_db is not None:
        now = to_db(now)
    values = [
        (
            i,
            batch.project_id,
            batch.id,
            r.data,
            r.meta,
            r.media,
            r.media_info,
            r.digest,
            "open" if r.gold is None else "gold",
            0,
            0,
            r.stratum,
            now,
            dump_json(r.pii).decode() if r.pii else None,
        )
        for i, r in zip(item_ids, rows, strict=True)
    ]
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    marks = ", ".join([mark] * 14)
    conn.exec_driver_sql(f"INSERT INTO items ({_INSERT_COLUMNS}) VALUES ({marks})", values)
    if gold:
        session.execute(insert(GoldAnswer), gold)
    index.add([(i, r.text) for i, r in zip(item_ids, rows, strict=True)])


def _valid_gold(
    row: int, schema: LabelingSchema, result: dict[str, Any], context: ItemContext
) -> dict[str, Any]:
    try:
        return validate_result(schema, result, context)
    except InvalidResult as exc:
        raise ImportRowError(row, f"gold answer: {exc.message}") from None


def import_records(
    session: Session,
    project: Project,
    user: User,
    records: Iterable[ImportRecord],
    *,
    source: str,
    format: str,
    chunk_size: int = CHUNK,
    progress: Progress | None = None,
) -> ImportReport:
    """Insert every record as an item of the project, or raise and leave nothing behind.

    Parsing, hashing and serialising run in a background thread, one chunk ahead of the
    database writes, and on SQLite the full-text index fills from a third thread into its own
    file: the three overlap while SQLite works without the GIL."""
    batch = ImportBatch(project_id=project.id, created_by=user.id, source=source, format=format)
    session.add(batch)
    session.flush()
    report = ImportReport(batch_id=batch.id)
    dedup = _Dedup(session, project.id)
    schema = parsed_schema(current_schema(session, project).schema)
    # The index commits when this block ends, before the caller commits the items.
    with search_index.IndexWriter(session) as index:
        ids = _Ids(session, index)
        key = project.stratify_by
        scanner = personal_data.scanner_for(project, schema)
        tally = personal_data.Tally(project.pii_policy)
        prepared = (
            _prepare(chunk, key, scanner) for chunk in iter_chunks(iter(records), chunk_size)
        )
        for rows in prefetch(prepared):
            known = dedup.existing([r.digest for r in rows])
            fresh: list[_Row] = []
            for row in rows:
                if row.digest in known or not dedup.first_time(row.digest):
                    report.n_duplicates += 1
                    if len(report.duplicate_rows) < MAX_REPORTED_DUPLICATES:
                        report.duplicate_rows.append(row.row)
                else:
                    fresh.append(row)
            if fresh:
                _write_chunk(session, batch, ids, index, fresh, schema)
                report.n_items += len(fresh)
                tally.add(r.pii for r in fresh)
            if progress is not None:
                progress(report.n_items + report.n_duplicates)
        if report.n_items == 0 and report.n_duplicates == 0:
            raise InvalidInput("the import holds no rows", [{"field": "file", "rule": "empty"}])
    batch.status = "completed"
    batch.n_items = report.n_items
    batch.n_duplicates = report.n_duplicates
    batch.duplicate_rows = {
        "rows": report.duplicate_rows,
        "truncated": report.n_duplicates > len(report.duplicate_rows),
    }
    batch.finished_at = utcnow()
    audit.record(
        session,
        actor_id=user.id,
        action="import.complete",
        entity="import_batch",
        entity_id=batch.id,
        project_id=project.id,
        n_items=report.n_items,
        n_duplicates=report.n_duplicates,
        source=source,
        pii=tally.summary() if scanner is not None else None,
    )
    if tally.changed:
        audit.record(
            session,
            actor_id=user.id,
            action="pii.redact",
            entity="import_batch",
            entity_id=batch.id,
            project_id=project.id,
            **tally.summary(),
        )
    return report


def run_import(
    db: Database,
    project_id: int,
    user_id: int,
    records: Iterable[ImportRecord],
    *,
    source: str,
    format: str,
    progress: Progress | None = None,
    on_failure: Callable[[], None] | None = None,
) -> ImportReport:
    """Run an import in its own transaction; a failure is rolled back whole and then recorded
    as a failed batch with the reason (row number included) in a second, small transaction."""
    try:
        with db.bulk_transaction() as session:
            project = session.get(Project, project_id)
            user = session.get(User, user_id)
            if project is None or user is None:
                raise InvalidInput("unknown project or user")
            return import_records(
                session, project, user, records, source=source, format=format, progress=progress
            )
    except AccordError as exc:
        if on_failure is not None:
            on_failure()
        with db.transaction() as session:
            error: dict[str, Any] = {"message": exc.message}
            if isinstance(exc, ImportRowError):
                error.update(row=exc.row, reason=exc.reason)
            batch = ImportBatch(
                project_id=project_id,
                created_by=user_id,
                source=source,
                format=format,
                status="failed",
                error=error,
                finished_at=utcnow(),
            )
            session.add(batch)
            session.flush()
            audit.record(
                session,
                actor_id=user_id,
                action="import.fail",
                entity="import_batch",
                entity_id=batch.id,
                project_id=project_id,
                **error,
            )
        raise


def list_batches(session: Session, project: Project) -> list[ImportBatch]:
    return list(
        session.scalars(
            select(ImportBatch).where(ImportBatch.project_id == project.id).order_by(ImportBatch.id)
        )
    )


def set_priority(
    session: Session, project: Project, batch_id: int, priority: int, *, actor_id: int
) -> ImportBatch:
    """Items of batches with a higher priority are given out first (any queue order)."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.project_id != project.id:
        raise NotFound(f"import batch {batch_id} not found in project {project.id}")
    before = batch.priority
    batch.priority = priority
    audit.record(
        session,
        actor_id=actor_id,
        action="import.priority",
        entity="import_batch",
        entity_id=batch.id,
        project_id=project.id,
        before=before,
        after=priority,
    )
    return batch
