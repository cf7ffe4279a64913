"""Model lineage (labels, split, held-out clips, metrics, code version of each trained version), the
append-only history of which version is active per label set, and clips flagged from the relabel queue.

Revision ID: 0004_lineage
Revises: 0003_studies
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_lineage"
down_revision = "0003_studies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_lineage",
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("parent_version_id", sa.Integer(), nullable=True),
        sa.Column("label_source", sa.String(length=128), nullable=False),
        sa.Column("label_ids_json", sa.Text(), nullable=False),
        sa.Column("snapshot_at", sa.DateTime(), nullable=False),
        sa.Column("split_json", sa.Text(), nullable=False),
        sa.Column("heldout_json", sa.Text(), nullable=False),
        sa.Column("metrics_json", sa.Text(), nullable=False),
        sa.Column("code_version", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_versions.id"]),
        sa.ForeignKeyConstraint(["parent_version_id"], ["model_versions.id"]),
        sa.PrimaryKeyConstraint("model_version_id"),
    )
    op.create_table(
        "model_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label_set", sa.String(length=64), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_activations_set", "model_activations", ["label_set", "id"], unique=False)
    op.create_table(
        "clip_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("label_set", sa.String(length=64), nullable=False),
        sa.Column("annotator", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("clip_flags")
    op.drop_index("ix_model_activations_set", table_name="model_activations")
    op.drop_table("model_activations")
    op.drop_table("model_lineage")
