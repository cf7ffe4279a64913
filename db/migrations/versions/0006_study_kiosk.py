"""Reader studies fit for a real study (issue 21): a study's break between sessions and washout between
arms, practice cases (never scored), and the misfit a case kept with --allow-mismatch.

Revision ID: 0006_study_kiosk
Revises: 0005_span_edits
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_study_kiosk"
down_revision = "0005_span_edits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("studies", sa.Column("break_s", sa.Float(), nullable=False, server_default="0"))
    op.add_column("studies", sa.Column("washout_s", sa.Float(), nullable=False, server_default="0"))
    op.add_column(
        "study_cases", sa.Column("practice", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("study_cases", sa.Column("misfit", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("study_cases") as batch:
        batch.drop_column("misfit")
        batch.drop_column("practice")
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("washout_s")
        batch.drop_column("break_s")
