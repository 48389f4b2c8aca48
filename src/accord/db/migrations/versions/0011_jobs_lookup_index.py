"""jobs: an index on (project_id, kind, id) for "the project's newest job of this kind" (asked
on every import, quality schedule, training trigger and status page) and for the cascade when a
project is deleted

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 01:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_project_kind", "jobs", ["project_id", "kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_project_kind", table_name="jobs")
