"""Evaluation runs with each clip's prediction, recorded figure specs, and clip selections sent from the
analysis view to the relabel queue or a new reader study (issue 10).

Revision ID: 0002_evaluations
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_evaluations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("weights_sha256", sa.String(length=64), nullable=True),
        sa.Column("label_set", sa.String(length=64), nullable=False),
        sa.Column("labels_json", sa.Text(), nullable=False),
        sa.Column("label_source", sa.String(length=256), nullable=False),
        sa.Column("clip_set", sa.Text(), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "evaluation_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("true_index", sa.Integer(), nullable=False),
        sa.Column("pred_index", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("probs_json", sa.Text(), nullable=False),
        sa.Column("modality_json", sa.Text(), nullable=False),
        sa.Column("worst_t", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_runs.id"]),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_evaluation_items_cell",
        "evaluation_items",
        ["run_id", "true_index", "pred_index", "confidence"],
        unique=False,
    )
    op.create_table(
        "figure_specs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("output", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "clip_selections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("clip_ids_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("clip_selections")
    op.drop_table("figure_specs")
    op.drop_index("ix_evaluation_items_cell", table_name="evaluation_items")
    op.drop_table("evaluation_items")
    op.drop_table("evaluation_runs")
