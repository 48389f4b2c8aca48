"""qualifications: at most one attempt in progress per annotator and project (a partial unique
index), so that two simultaneous starts cannot both open one

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

IN_PROGRESS = sa.text("status = 'in_progress'")


def upgrade() -> None:
    # Attempts opened twice before the index existed: the gate has always used the newest one,
    # the older ones are closed as superseded (kept on record, with their answers if any).
    op.execute(
        """
        UPDATE qualifications
        SET status = 'superseded', finished_at = CURRENT_TIMESTAMP
        WHERE status = 'in_progress'
          AND id < (
            SELECT MAX(newer.id) FROM qualifications AS newer
            WHERE newer.project_id = qualifications.project_id
              AND newer.user_id = qualifications.user_id
              AND newer.status = 'in_progress'
          )
        """
    )
    op.create_index(
        "uq_qualifications_in_progress",
        "qualifications",
        ["project_id", "user_id"],
        unique=True,
        sqlite_where=IN_PROGRESS,
        postgresql_where=IN_PROGRESS,
    )


def downgrade() -> None:
    op.drop_index("uq_qualifications_in_progress", table_name="qualifications")
