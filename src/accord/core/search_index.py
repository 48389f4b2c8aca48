"""Full-text search over item text: SQLite FTS5 (contentless, in its own file) or PostgreSQL
tsvector + GIN (in the database).

Writes go through an ``IndexWriter``. On SQLite it owns a connection to the index file and
inserts from a background thread, so an import's items and its index fill in parallel. The
writer commits *before* the items do: a failure then rolls the items back, and the index can
only ever hold extra rows for items that were never committed. Those can never match anything,
because item ids are never reused: new ids start above the highest id in the index too.
"""

from __future__ import annotations

import queue
import re
import sqlite3
import threading
from collections.abc import Sequence

from sqlalchemy import ColumnElement, column, text
from sqlalchemy.orm import Session

from accord.db.engine import open_search_index, search_path_of
from accord.db.models import Item

_WORD = re.compile(r"\w+", re.UNICODE)
_QUEUE_DEPTH = 4

Rows = Sequence[tuple[int, str]]


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def search_path(session: Session) -> str:
    """The index file of the session's SQLite database."""
    return search_path_of(session.connection().engine.url.render_as_string())


class IndexWriter:
    """Adds (item id, text) rows to the index; ``commit`` makes them visible, ``rollback``
    drops them. Use as a context manager: leaving with an exception rolls back."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = _is_sqlite(session)
        self.error: BaseException | None = None
        self.top = 0
        if not self.sqlite:
            return
        self.conn: sqlite3.Connection = open_search_index(search_path(session))
        self.conn.execute("BEGIN IMMEDIATE")
        self.rows: queue.Queue[Rows | None] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self.thread = threading.Thread(target=self._drain, name="accord-index", daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while (rows := self.rows.get()) is not None:
            if self.error is None:
                try:
                    self.conn.executemany("INSERT INTO items_fts(rowid, body) VALUES (?, ?)", rows)
                except BaseException as exc:  # handed to the importing thread at commit
                    self.error = exc

    def highest_id(self) -> int:
        """The highest item id the index has seen, committed or not (SQLite)."""
        if not self.sqlite:
            return 0
        found = self.conn.execute("SELECT max(highest_id) FROM index_state").fetchone()
        return int(found[0] or 0)

    def add(self, rows: Rows) -> None:
        if not rows:
            return
        if not self.sqlite:
            self.session.connection().exec_driver_sql(
                "INSERT INTO items_fts(item_id, body) VALUES (%s, to_tsvector('simple', %s))",
                list(rows),
            )
            return
        if self.error is not None:
            raise self.error
        self.top = max(self.top, max(item_id for item_id, _ in rows))
        self.rows.put(list(rows))

    def _finish(self) -> None:
        self.rows.put(None)
        self.thread.join()

    def commit(self) -> None:
        if not self.sqlite:
            return
        self._finish()
        if self.error is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            raise self.error
        if self.top:
            self.conn.execute("DELETE FROM index_state WHERE highest_id < ?", (self.top,))
            if self.conn.execute("SELECT count(*) FROM index_state").fetchone()[0] == 0:
                self.conn.execute("INSERT INTO index_state VALUES (?)", (self.top,))
        self.conn.execute("COMMIT")
        self.conn.close()

    def rollback(self) -> None:
        if not self.sqlite:
            return
        self._finish()
        self.conn.execute("ROLLBACK")
        self.conn.close()

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if exc is None:
            self.commit()
        else:
            self.rollback()


def _terms(session: Session, query: str) -> str | None:
    words = _WORD.findall(query)
    if not words:
        return None
    if _is_sqlite(session):
        # Quote each word so that user input is never read as FTS5 syntax.
        return " ".join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])
    return " & ".join([w.lower() for w in words[:-1]] + [words[-1].lower() + ":*"])


def _source(session: Session) -> tuple[str, str, str]:
    """Table, id column and match condition; SQLite reads the index attached as ``search``
    (read sessions only: see db/engine.py)."""
    if _is_sqlite(session):
        return "search.items_fts", "rowid", "items_fts MATCH :terms"
    return "items_fts", "item_id", "body @@ to_tsquery('simple', :terms)"


def matching_ids(
    session: Session, query: str, *, after: int | None, before: int | None, limit: int
) -> list[int]:
    """Ids of items whose text matches, in id order (descending with ``before``), starting past
    the cursor: the index seeks to the cursor, so the cost does not grow with the depth."""
    terms = _terms(session, query)
    if terms is None:
        return []
    table, id_col, match = _source(session)
    where, order = [match], "ASC"
    params: dict[str, object] = {"terms": terms, "limit": limit}
    if before is not None:
        where.append(f"{id_col} < :before")
        params["before"], order = before, "DESC"
    elif after is not None:
        where.append(f"{id_col} > :after")
        params["after"] = after
    sql = (
        f"SELECT {id_col} FROM {table} WHERE {' AND '.join(where)} "
        f"ORDER BY {id_col} {order} LIMIT :limit"
    )
    return [int(r[0]) for r in session.execute(text(sql), params)]


def matching(session: Session, query: str) -> ColumnElement[bool]:
    """A condition on Item: its text contains every word of ``query`` (prefix match on the last)."""
    terms = _terms(session, query)
    if terms is None:
        return Item.id.is_(None)
    table, id_col, match = _source(session)
    sub = text(f"SELECT {id_col} FROM {table} WHERE {match}").bindparams(terms=terms)
    return Item.id.in_(sub.columns(column("id")))
