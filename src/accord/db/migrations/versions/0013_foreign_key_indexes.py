"""indexes under the foreign keys that deleting items, answers and pre-labels follows: without
them every deleted row scanned the referring table (every answer of the database for each
pre-label a retrain replaced; the consensus and the label index for each item dropped)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_consensus_item", "consensus", ["item_id"]),
    ("ix_annotation_labels_item", "annotation_labels", ["item_id"]),
    ("ix_gold_scores_annotation", "gold_scores", ["annotation_id"]),
    ("ix_practice_answers_item", "practice_answers", ["item_id"]),
    ("ix_guideline_examples_item", "guideline_examples", ["item_id"]),
    ("ix_suspected_errors_item", "suspected_errors", ["item_id"]),
]
WHERE_SET = [
    ("ix_annotations_parent", "annotations", ["parent_id"]),
    ("ix_annotations_prediction", "annotations", ["prediction_id", "prelabel_accepted"]),
    ("ix_reviews_fixed", "reviews", ["fixed_annotation_id"]),
    ("ix_predictions_backend", "predictions", ["backend_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    for name, table, columns in WHERE_SET:
        where = sa.text(f"{columns[0]} IS NOT NULL")
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES + WHERE_SET):
        op.drop_index(name, table_name=table)
