"""workforce: distribution and review settings, qualifications and practice answers,
adjudications, question threads, guideline examples

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("stratify_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("daily_quota", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("practice_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("qualification_items", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("qualification_threshold", sa.Float(), nullable=False, server_default="0.8")
        )
        batch.add_column(
            sa.Column("review_policy", sa.String(length=20), nullable=False, server_default="all")
        )
        batch.add_column(
            sa.Column("review_sample_rate", sa.Float(), nullable=False, server_default="0.1")
        )
        batch.add_column(
            sa.Column("review_new_until", sa.Integer(), nullable=False, server_default="20")
        )
        batch.add_column(
            sa.Column("adjudication_below", sa.Float(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("schema_versions") as batch:
        batch.add_column(
            sa.Column(
                "requires_recalibration", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(
            sa.Column("recalibration_items", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("import_batches") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("stratum", sa.String(length=500), nullable=True))
    op.create_index(
        "ix_items_stratum", "items", ["project_id", "stratum", "status", "id"], unique=False
    )
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(
            sa.Column("review_required", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "qualifications",
        _id(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("schema_version_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("n_required", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("n_answered", sa.Integer(), nullable=False),
        sa.Column("n_correct", sa.Integer(), nullable=False),
        _at("started_at"),
        _at("finished_at", nullable=True),
        _fk("qualifications", "project_id", "projects", "CASCADE"),
        _fk("qualifications", "user_id", "users", "CASCADE"),
        _fk("qualifications", "schema_version_id", "schema_versions", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualifications")),
    )
    op.create_index(
        "ix_qualifications_user",
        "qualifications",
        ["project_id", "user_id", "kind", "id"],
        unique=False,
    )
    op.create_table(
        "practice_answers",
        _id(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("qualification_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _at("created_at"),
        _fk("practice_answers", "project_id", "projects", "CASCADE"),
        _fk("practice_answers", "user_id", "users", "CASCADE"),
        _fk("practice_answers", "item_id", "items", "CASCADE"),
        _fk("practice_answers", "qualification_id", "qualifications", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_answers")),
    )
    op.create_index(
        "ix_practice_answers_user",
        "practice_answers",
        ["project_id", "user_id", "id"],
        unique=False,
    )
    op.create_table(
        "adjudications",
        _id(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("agreement", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        _at("created_at"),
        _at("resolved_at", nullable=True),
        _fk("adjudications", "project_id", "projects", "CASCADE"),
        _fk("adjudications", "item_id", "items", "CASCADE"),
        _fk("adjudications", "resolved_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjudications")),
        sa.UniqueConstraint("item_id", name=op.f("uq_adjudications_item_id")),
    )
    op.create_index(
        "ix_adjudications_queue",
        "adjudications",
        ["project_id", "status", "agreement", "item_id"],
        unique=False,
    )
    op.create_table(
        "threads",
        _id(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        _at("created_at"),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        _at("resolved_at", nullable=True),
        _fk("threads", "project_id", "projects", "CASCADE"),
        _fk("threads", "item_id", "items", "SET NULL"),
        _fk("threads", "author_id", "users", "SET NULL"),
        _fk("threads", "resolved_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
    )
    op.create_index("ix_threads_project", "threads", ["project_id", "status", "id"], unique=False)
    op.create_index(op.f("ix_threads_item_id"), "threads", ["item_id"], unique=False)
    op.create_table(
        "thread_messages",
        _id(),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        _at("created_at"),
        _fk("thread_messages", "thread_id", "threads", "CASCADE"),
        _fk("thread_messages", "author_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_messages")),
    )
    op.create_index(
        "ix_thread_messages_thread", "thread_messages", ["thread_id", "id"], unique=False
    )
    op.create_table(
        "guideline_examples",
        _id(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("section", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _at("created_at"),
        _fk("guideline_examples", "project_id", "projects", "CASCADE"),
        _fk("guideline_examples", "item_id", "items", "SET NULL"),
        _fk("guideline_examples", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_examples")),
    )
    op.create_index(
        "ix_guideline_examples_project", "guideline_examples", ["project_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("guideline_examples")
    op.drop_table("thread_messages")
    op.drop_table("threads")
    op.drop_table("adjudications")
    op.drop_table("practice_answers")
    op.drop_table("qualifications")
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("review_required")
    op.drop_index("ix_items_stratum", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("stratum")
    with op.batch_alter_table("import_batches") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("schema_versions") as batch:
        batch.drop_column("recalibration_items")
        batch.drop_column("requires_recalibration")
    with op.batch_alter_table("projects") as batch:
        for column in (
            "adjudication_below",
            "review_new_until",
            "review_sample_rate",
            "review_policy",
            "qualification_threshold",
            "qualification_items",
            "practice_enabled",
            "daily_quota",
            "stratify_by",
        ):
            batch.drop_column(column)
