"""automation: model backends, predictions with probabilities and their acceptance, item
vectors, labeling functions, duplicate groups, personal-data policy and findings, the
model-driven queue score

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("pii_policy", sa.String(length=10), nullable=False, server_default="off")
        )
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("queue_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("pii", sa.JSON(), nullable=True))
    op.create_index(
        "ix_items_model_queue", "items", ["project_id", "status", "queue_score", "id"], unique=False
    )
    op.create_table(
        "model_backends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("control", sa.String(length=200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("retrain_every", sa.Integer(), nullable=False),
        sa.Column("labels_at_fit", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("fitted_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _at("created_at"),
        _fk("model_backends", "project_id", "projects", "CASCADE"),
        _fk("model_backends", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_backends")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_model_backends_project_id_name")),
    )
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("backend_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("probas", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_predictions_backend_id_model_backends"),
            "model_backends",
            ["backend_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(sa.Column("prediction_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prelabel_accepted", sa.Boolean(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_annotations_prediction_id_predictions"),
            "predictions",
            ["prediction_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "item_vectors",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("embedder", sa.String(length=200), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        _at("created_at"),
        _fk("item_vectors", "item_id", "items", "CASCADE"),
        _fk("item_vectors", "project_id", "projects", "CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "embedder", name=op.f("pk_item_vectors")),
    )
    op.create_index(
        "ix_item_vectors_project",
        "item_vectors",
        ["project_id", "embedder", "item_id"],
        unique=False,
    )
    op.create_table(
        "labeling_functions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("control", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _at("created_at"),
        _fk("labeling_functions", "project_id", "projects", "CASCADE"),
        _fk("labeling_functions", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labeling_functions")),
        sa.UniqueConstraint(
            "project_id", "name", name=op.f("uq_labeling_functions_project_id_name")
        ),
    )
    op.create_table(
        "item_duplicates",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        _at("computed_at"),
        _fk("item_duplicates", "item_id", "items", "CASCADE"),
        _fk("item_duplicates", "project_id", "projects", "CASCADE"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_duplicates")),
    )
    op.create_index(
        "ix_item_duplicates_group",
        "item_duplicates",
        ["project_id", "group_id", "item_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_item_duplicates_group", table_name="item_duplicates")
    op.drop_table("item_duplicates")
    op.drop_table("labeling_functions")
    op.drop_index("ix_item_vectors_project", table_name="item_vectors")
    op.drop_table("item_vectors")
    with op.batch_alter_table("annotations") as batch:
        batch.drop_constraint(op.f("fk_annotations_prediction_id_predictions"), type_="foreignkey")
        batch.drop_column("prelabel_accepted")
        batch.drop_column("prediction_id")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_constraint(op.f("fk_predictions_backend_id_model_backends"), type_="foreignkey")
        batch.drop_column("probas")
        batch.drop_column("backend_id")
    op.drop_table("model_backends")
    op.drop_index("ix_items_model_queue", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("pii")
        batch.drop_column("queue_score")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("pii_policy")
