"""quality runs: project quality settings, stored runs, annotator skills and suspected errors

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column(
                "quality_method", sa.String(length=40), nullable=False, server_default="dawid_skene"
            )
        )
        batch.add_column(
            sa.Column("quality_refresh_every", sa.Integer(), nullable=False, server_default="500")
        )
    op.create_table(
        "quality_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("control", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("n_labels", sa.Integer(), nullable=False),
        sa.Column("n_annotators", sa.Integer(), nullable=False),
        sa.Column("n_suspects", sa.Integer(), nullable=False),
        sa.Column("last_annotation_id", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        _fk("quality_runs", "project_id", "projects", "CASCADE"),
        _fk("quality_runs", "job_id", "jobs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_runs")),
    )
    op.create_index(
        "ix_quality_runs_project", "quality_runs", ["project_id", "control", "id"], unique=False
    )
    op.create_table(
        "annotator_skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("control", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("skill", sa.Float(), nullable=True),
        sa.Column("agreement", sa.Float(), nullable=False),
        sa.Column("n_labels", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        _fk("annotator_skills", "project_id", "projects", "CASCADE"),
        _fk("annotator_skills", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotator_skills")),
        sa.UniqueConstraint(
            "project_id",
            "control",
            "user_id",
            name=op.f("uq_annotator_skills_project_id_control_user_id"),
        ),
    )
    op.create_table(
        "suspected_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("control", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("suggested_label", sa.String(length=500), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("sources", sa.String(length=40), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        _fk("suspected_errors", "project_id", "projects", "CASCADE"),
        _fk("suspected_errors", "item_id", "items", "CASCADE"),
        _fk("suspected_errors", "resolved_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspected_errors")),
        sa.UniqueConstraint(
            "project_id",
            "control",
            "item_id",
            name=op.f("uq_suspected_errors_project_id_control_item_id"),
        ),
    )
    op.create_index(
        "ix_suspected_errors_rank",
        "suspected_errors",
        ["project_id", "status", "score", "item_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("suspected_errors")
    op.drop_table("annotator_skills")
    op.drop_table("quality_runs")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("quality_refresh_every")
        batch.drop_column("quality_method")
