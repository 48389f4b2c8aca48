"""Alembic environment: the URL comes from the caller (accord.db.migrate), never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from accord.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "accord.db.migrate sets sqlalchemy.url"

connectable = config.attributes.get("connection")
if connectable is None:
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
else:
    context.configure(connection=connectable, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
