"""Span edits: a label row may replace an earlier span row (moved edges, a new value, or deleted).

Revision ID: 0005_span_edits
Revises: 0004_lineage
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_span_edits"
down_revision = "0004_lineage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes an inline REFERENCES on a NULL column in a plain ADD COLUMN: no batch table copy,
        # which would have to drop "labels" while the current-label caches point into it.
        op.execute("ALTER TABLE labels ADD COLUMN replaces_id INTEGER REFERENCES labels (id)")
    else:
        op.add_column("labels", sa.Column("replaces_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_labels_replaces_id", "labels", "labels", ["replaces_id"], ["id"])
    op.add_column("labels", sa.Column("edit", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("labels") as batch:
        batch.drop_column("edit")
        batch.drop_column("replaces_id")
