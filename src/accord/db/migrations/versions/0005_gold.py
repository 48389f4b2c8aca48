"""gold items: answers, scores, project gold settings, paused memberships, notifications

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("gold_rate", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("gold_min_answers", sa.Integer(), nullable=False, server_default="10")
        )
        batch.add_column(
            sa.Column("gold_pause_below", sa.Float(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pause_reason", sa.Text(), nullable=True))
    op.create_table(
        "gold_answers",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("gold_answers", "item_id", "items", "CASCADE"),
        _fk("gold_answers", "project_id", "projects", "CASCADE"),
        _fk("gold_answers", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_gold_answers")),
    )
    op.create_index(
        op.f("ix_gold_answers_project_id"), "gold_answers", ["project_id"], unique=False
    )
    op.create_table(
        "gold_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("annotation_id", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        _fk("gold_scores", "project_id", "projects", "CASCADE"),
        _fk("gold_scores", "item_id", "items", "CASCADE"),
        _fk("gold_scores", "user_id", "users", "CASCADE"),
        _fk("gold_scores", "annotation_id", "annotations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gold_scores")),
        sa.UniqueConstraint("item_id", "user_id", name=op.f("uq_gold_scores_item_id_user_id")),
    )
    op.create_index("ix_gold_scores_user", "gold_scores", ["project_id", "user_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("subject_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        _fk("notifications", "project_id", "projects", "CASCADE"),
        _fk("notifications", "subject_user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_project",
        "notifications",
        ["project_id", "read_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("gold_scores")
    op.drop_table("gold_answers")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("pause_reason")
        batch.drop_column("paused_at")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("gold_pause_below")
        batch.drop_column("gold_min_answers")
        batch.drop_column("gold_rate")
