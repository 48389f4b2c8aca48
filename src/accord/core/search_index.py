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


def matching(session: Session, query: str) -> ColumnElement[bool]:
    """A condition on Item: its text contains every word of ``query`` (prefix match on the last)."""
    words = _WORD.findall(query)
    if not words:
        return Item.id.is_(None)
    if session.get_bind().dialect.name == "sqlite":
        # Quote each word so that user input is never read as FTS5 syntax.
        terms = [f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*']
        sub = text("SELECT rowid FROM items_fts WHERE items_fts MATCH :fts_q").bindparams(
            fts_q=" ".join(terms)
        )
    else:
        terms = [w.lower() for w in words[:-1]] + [words[-1].lower() + ":*"]
        sub = text(
            "SELECT item_id FROM items_fts WHERE body @@ to_tsquery('simple', :fts_q)"
        ).bindparams(fts_q=" & ".join(terms))
    return Item.id.in_(sub.columns(column("id")))
