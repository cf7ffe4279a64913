"""Span comments: a span label row may carry a free-text comment (the span table's Comment column).

Revision ID: 0006_span_comments
Revises: 0005_span_edits
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_span_comments"
down_revision = "0005_span_edits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("labels", sa.Column("comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("labels") as batch:
        batch.drop_column("comment")
