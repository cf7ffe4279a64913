"""Reader studies: studies, arms, cases (clip or span, or no media for imported studies), readers, their
stored seeded orders, sessions and responses (issue 11).

Revision ID: 0003_studies
Revises: 0002_evaluations
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_studies"
down_revision = "0002_evaluations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("label_set", sa.String(length=64), nullable=False),
        sa.Column("labels_json", sa.Text(), nullable=False),
        sa.Column("design", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "study_arms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("presentation", sa.String(length=16), nullable=False),
        sa.Column("assistance", sa.String(length=16), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("show_saliency", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "name", name="uq_study_arms_name"),
    )
    op.create_table(
        "study_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(length=256), nullable=False),
        sa.Column("start_ms", sa.Integer(), nullable=True),
        sa.Column("end_ms", sa.Integer(), nullable=True),
        sa.Column("truth", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_study_cases_study", "study_cases", ["study_id", "position"], unique=False)
    op.create_table(
        "study_readers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "name", name="uq_study_readers_name"),
    )
    op.create_table(
        "study_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("session_index", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["arm_id"],
            ["study_arms.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["study_cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["study_readers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reader_id", "arm_id", "case_id", name="uq_study_assignments_case"),
    )
    op.create_index(
        "ix_study_assignments_order",
        "study_assignments",
        ["reader_id", "session_index", "position"],
        unique=False,
    )
    op.create_table(
        "study_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["arm_id"],
            ["study_arms.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["study_readers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "study_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("time_ms", sa.Float(), nullable=True),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["arm_id"],
            ["study_arms.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["study_cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["study_readers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["study_sessions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reader_id", "arm_id", "case_id", name="uq_study_responses_once"),
    )
    op.create_index("ix_study_responses_arm", "study_responses", ["arm_id", "case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_study_responses_arm", table_name="study_responses")
    op.drop_table("study_responses")
    op.drop_table("study_sessions")
    op.drop_index("ix_study_assignments_order", table_name="study_assignments")
    op.drop_table("study_assignments")
    op.drop_table("study_readers")
    op.drop_index("ix_study_cases_study", table_name="study_cases")
    op.drop_table("study_cases")
    op.drop_table("study_arms")
    op.drop_table("studies")
