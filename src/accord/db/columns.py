"""Reading a query's result as numpy columns, past SQLAlchemy's row objects: for figures
computed over millions of rows (core/performance.py)."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

READ_CHUNK = 100_000


def driver_columns(
    session: Session, query: Select[*tuple[Any, ...]], dtypes: Sequence[Any]
) -> list[NDArray[Any]]:
    """The columns of a query's rows as numpy arrays of these types, read through the
    transaction's own driver cursor a chunk at a time: row objects and type processing would
    triple the time of a million answers, and a list of all the rows would weigh ten times the
    arrays. The query's parameters must need no type processing (numbers, texts)."""
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect)
    assert isinstance(compiled, SQLCompiler)
    params = compiled.construct_params()
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    raw = connection.connection.dbapi_connection
    assert raw is not None
    parts: list[list[NDArray[Any]]] = [[] for _ in dtypes]
    cursor = raw.cursor()
    try:
        cursor.execute(str(compiled), args)
        while rows := cursor.fetchmany(READ_CHUNK):
            for k, dtype in enumerate(dtypes):
                parts[k].append(_column(rows, k, dtype))
    finally:
        cursor.close()
    return [
        np.concatenate(chunks) if chunks else np.empty(0, dtype=dtype)
        for chunks, dtype in zip(parts, dtypes, strict=True)
    ]


def _column(rows: Sequence[Any], k: int, dtype: Any) -> NDArray[Any]:
    if dtype in (np.int64, np.bool_):
        return np.fromiter(map(itemgetter(k), rows), dtype=dtype, count=len(rows))
    # floats: None -> NaN; times: texts or microseconds since the epoch (see _instant)
    return np.array(list(map(itemgetter(k), rows)), dtype=dtype)
