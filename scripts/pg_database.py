"""Create or drop a PostgreSQL database for one test run: ``pg_database.py create|drop URL NAME``.

Exits 1 without a traceback when the server does not answer, so the caller can skip that pass.
"""

from __future__ import annotations

import re
import sys

import psycopg


def main() -> int:
    action, url, name = sys.argv[1:4]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        print(f"bad database name {name!r}", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            if action == "create":
                conn.execute(f"CREATE DATABASE {name}")
            else:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
