"""review queue: annotations.awaiting_review with an index on (project_id, awaiting_review,
item_id), so that the next item to review and the size of the queue are read through the index
instead of every answer of the project

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "annotations",
        sa.Column("awaiting_review", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE annotations SET awaiting_review = TRUE"
        " WHERE review_required AND is_latest AND NOT skipped"
        " AND NOT EXISTS (SELECT 1 FROM reviews WHERE reviews.annotation_id = annotations.id)"
    )
    op.create_index(
        "ix_annotations_review_queue", "annotations", ["project_id", "awaiting_review", "item_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_annotations_review_queue", table_name="annotations")
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("awaiting_review")
