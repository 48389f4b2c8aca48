"""Engines and sessions for SQLite (embedded default, WAL) and PostgreSQL.

SQLite allows one writer at a time. A transaction that reads and then writes can fail with
SQLITE_BUSY when another writer got in between, so write sessions start with BEGIN IMMEDIATE
and wait for the lock (busy_timeout) instead; read sessions start deferred and never block.
Within the process, writers queue for the write engine's single pooled connection rather than
for the file lock: SQLite's busy handler polls, sleeping up to 100 ms between tries, so under
many writers the lock sat idle between transactions and a writer that had waited long kept
losing it to newcomers (30 annotators: seconds at p99, some requests failing after the 30 s
timeout). The busy timeout still covers other processes (a CLI import, an RQ worker).

On SQLite the full-text index lives in a second file beside the database (``*.search.db``), so
that an import can fill it from another thread, with its own writer, while the items go in:
see ``core/search_index.py``. Read connections attach it as ``search``; write connections do not,
because BEGIN IMMEDIATE would also lock every attached file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from accord.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000


FTS_TABLE_SQL = (
    # Contentless: the text lives in items.data; the index keeps only which item holds which
    # word (no positions, no sizes), enough for word and prefix queries and a third smaller.
    "CREATE VIRTUAL TABLE IF NOT EXISTS {schema}items_fts "
    "USING fts5(body, content='', detail=none, columnsize=0)"
)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def search_path_of(url: str) -> str:
    """The search index file of a SQLite database URL (``:memory:`` for in-memory ones)."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:":
        return ":memory:"
    return str(Path(path).with_suffix(".search.db"))


def open_search_index(path: str, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection of its own to the search index file, in autocommit mode (BEGIN is explicit).
    The index can be rebuilt from the items, so NORMAL durability is enough."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA page_size=8192")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute(FTS_TABLE_SQL.format(schema=""))
    # The highest item id ever indexed: a contentless FTS5 table cannot be scanned for it.
    conn.execute("CREATE TABLE IF NOT EXISTS index_state (highest_id INTEGER NOT NULL)")
    return conn


def _sqlite_engine(url: str, settings: Settings, immediate: bool, search: str | None) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        # Writers: one connection, waited for in the pool's queue (woken when it is returned)
        # for as long as SQLite's busy timeout.
        pool_size=1 if immediate else 8,
        max_overflow=0 if immediate else 16,
        pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
    )
    synchronous = settings.sqlite_synchronous.upper()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so we choose its kind.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # Takes effect only while the file is still empty: 8 KiB pages suit rows of a few
        # hundred bytes (fewer page splits when a million items arrive at once).
        cur.execute("PRAGMA page_size=8192")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        if search is not None:
            cur.execute("ATTACH DATABASE ? AS search", (search,))
        cur.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


Loaded = TypeVar("Loaded")


def keep_loaded(session: Session, obj: Loaded) -> Loaded:
    """Hold ``obj`` (a loaded row) until the session's transaction ends. The identity map holds
    objects weakly, so a row that several checks of one request look up by primary key (the
    member's membership, the project's schema version) was read again by each of them once the
    one before had dropped it."""
    kept = session.info.get("kept")
    if kept is None:
        kept = session.info["kept"] = {}
        event.listen(session, "after_transaction_end", _forget_kept)
    kept[inspect(obj).identity_key] = obj
    return obj


def _forget_kept(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the transaction, not a savepoint inside it
        session.info["kept"].clear()


_PG_SNAPSHOT: dict[str, Any] = {
    "isolation_level": "REPEATABLE READ",
    "postgresql_readonly": True,
}


@contextmanager
def _committed(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@dataclass
class Database:
    """The read and write session factories of one database."""

    url: str
    read_engine: Engine
    write_engine: Engine
    search_path: str | None = None  # SQLite: the full-text index file

    def __post_init__(self) -> None:
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    def session(self, *, write: bool = True) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with _committed(self.session(write=write)) as session:
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only transaction whose every statement sees the database as it was at its
        first statement, for reads spread over many statements that must agree (an export).

        SQLite reads from one WAL snapshot for the whole of any transaction already. PostgreSQL's
        default, READ COMMITTED, takes a new snapshot for every statement; REPEATABLE READ keeps
        the first one, and READ ONLY makes a write in it fail. (DEFERRABLE would change nothing:
        it applies only to SERIALIZABLE, whose guarantees the writers, at READ COMMITTED, do not
        take part in.) The snapshot holds back VACUUM of rows deleted or updated after it until
        the transaction ends."""
        with self.transaction(write=False) as session:
            if self.dialect == "postgresql":
                # Reset when the connection goes back to the pool.
                session.connection(execution_options=_PG_SNAPSHOT)
            yield session

    @contextmanager
    def bulk_transaction(self) -> Iterator[Session]:
        """A write transaction for rows whose parent rows the caller has just checked or created
        in it (imports): SQLite then skips re-checking foreign keys row by row, which is a tenth
        of the cost of a million-row import. Elsewhere, a plain write transaction."""
        if self.dialect != "sqlite":
            with self.transaction() as session:
                yield session
            return
        with self.write_engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            # The pragma is ignored inside a transaction, so it goes to the driver before BEGIN.
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with _committed(Session(bind=connection, expire_on_commit=False)) as session:
                    yield session
            finally:
                raw.execute("PRAGMA foreign_keys=ON")

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def open_database(settings: Settings, url: str | None = None) -> Database:
    url = url or settings.resolved_database_url
    if is_sqlite(url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        search = search_path_of(url)
        open_search_index(search).close()  # the index table exists before anyone reads it
        return Database(
            url,
            _sqlite_engine(url, settings, immediate=False, search=search),
            _sqlite_engine(url, settings, immediate=True, search=None),
            search_path=search,
        )
    engine = create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    return Database(url, engine, engine)
