"""Full-text search over item text: SQLite FTS5 (contentless) or PostgreSQL tsvector + GIN."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import ColumnElement, column, text
from sqlalchemy.orm import Session

from accord.db.models import Item

_WORD = re.compile(r"\w+", re.UNICODE)


def add(session: Session, rows: Sequence[tuple[int, str]]) -> None:
    """Index (item id, text) pairs inside the caller's transaction."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO items_fts(rowid, body) VALUES (?, ?)", list(rows))
    else:
        conn.exec_driver_sql(
            "INSERT INTO items_fts(item_id, body) VALUES (%s, to_tsvector('simple', %s))",
            list(rows),
        )


def _terms(session: Session, query: str) -> str | None:
    words = _WORD.findall(query)
    if not words:
        return None
    if session.get_bind().dialect.name == "sqlite":
        # Quote each word so that user input is never read as FTS5 syntax.
        return " ".join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])
    return " & ".join([w.lower() for w in words[:-1]] + [words[-1].lower() + ":*"])


def matching_ids(
    session: Session, query: str, *, after: int | None, before: int | None, limit: int
) -> list[int]:
    """Ids of items whose text matches, in id order (descending with ``before``), starting past
    the cursor: the index seeks to the cursor, so the cost does not grow with the depth."""
    terms = _terms(session, query)
    if terms is None:
        return []
    sqlite = session.get_bind().dialect.name == "sqlite"
    id_col = "rowid" if sqlite else "item_id"
    match = "items_fts MATCH :terms" if sqlite else "body @@ to_tsquery('simple', :terms)"
    where, order = [match], "ASC"
    params: dict[str, object] = {"terms": terms, "limit": limit}
    if before is not None:
        where.append(f"{id_col} < :before")
        params["before"], order = before, "DESC"
    elif after is not None:
        where.append(f"{id_col} > :after")
        params["after"] = after
    sql = (
        f"SELECT {id_col} FROM items_fts WHERE {' AND '.join(where)} "
        f"ORDER BY {id_col} {order} LIMIT :limit"
    )
    return [int(r[0]) for r in session.execute(text(sql), params)]


def matching(session: Session, query: str) -> ColumnElement[bool]:
    """A condition on Item: its text contains every word of ``query`` (prefix match on the last)."""
    terms = _terms(session, query)
    if terms is None:
        return Item.id.is_(None)
    if session.get_bind().dialect.name == "sqlite":
        sub = text("SELECT rowid FROM items_fts WHERE items_fts MATCH :fts_q")
    else:
        sub = text("SELECT item_id FROM items_fts WHERE body @@ to_tsquery('simple', :fts_q)")
    return Item.id.in_(sub.bindparams(fts_q=terms).columns(column("id")))
