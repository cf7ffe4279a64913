"""Span comments and clip speakers: a span label row may carry a free-text comment (the Spans tab's
Comment column), and a clip may name its speaker or subject (from a file-name pattern or a CSV; used
by the speaker-independent splits).

Revision ID: 0007_comments_speakers
Revises: 0006_study_kiosk
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_comments_speakers"
down_revision = "0006_study_kiosk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("labels", sa.Column("comment", sa.Text(), nullable=True))
    op.add_column("clips", sa.Column("speaker", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clips") as batch:
        batch.drop_column("speaker")
    with op.batch_alter_table("labels") as batch:
        batch.drop_column("comment")
