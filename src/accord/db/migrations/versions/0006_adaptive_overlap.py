"""adaptive overlap: project settings and the answers an item needs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("adaptive_overlap", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("adaptive_start", sa.Integer(), nullable=False, server_default="3")
        )
        batch.add_column(
            sa.Column("adaptive_threshold", sa.Float(), nullable=False, server_default="0.8")
        )
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("target", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("target")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("adaptive_threshold")
        batch.drop_column("adaptive_start")
        batch.drop_column("adaptive_overlap")
