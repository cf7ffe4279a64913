"""First schema: project facts, clips, annotators, append-only labels with their current-value caches,
custom label sets, model versions with per-clip and per-time predictions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "clips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("content_hash", sa.String(length=128), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("n_frames", sa.Integer(), nullable=False),
        sa.Column("has_audio", sa.Boolean(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("mtime", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )
    op.create_index(op.f("ix_clips_content_hash"), "clips", ["content_hash"], unique=False)
    op.create_table(
        "label_sets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("labels_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("label_set", sa.String(length=64), nullable=False),
        sa.Column("labels_json", sa.Text(), nullable=False),
        sa.Column("weights_sha256", sa.String(length=64), nullable=True),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
    )
    op.create_table(
        "project_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "clip_predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("probs_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_version_id", "clip_id", name="uq_clip_predictions_version_clip"),
    )
    op.create_index("ix_clip_predictions_clip", "clip_predictions", ["clip_id"], unique=False)
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("label_set", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("start_ms", sa.Integer(), nullable=True),
        sa.Column("end_ms", sa.Integer(), nullable=True),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["annotators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["labels.id"],
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["labels.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_labels_annotator", "labels", ["annotator_id", "id"], unique=False)
    op.create_index("ix_labels_clip_set", "labels", ["clip_id", "label_set", "id"], unique=False)
    op.create_index("ix_labels_target", "labels", ["target_id"], unique=False)
    op.create_table(
        "time_predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("t_start", sa.Float(), nullable=False),
        sa.Column("t_end", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("probs_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_time_predictions_lookup",
        "time_predictions",
        ["model_version_id", "clip_id", "modality", "t_start"],
        unique=False,
    )
    op.create_table(
        "annotator_current",
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("label_set", sa.String(length=64), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["annotators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
        ),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["labels.id"],
        ),
        sa.PrimaryKeyConstraint("clip_id", "label_set", "annotator_id"),
    )
    op.create_table(
        "clip_current",
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("label_set", sa.String(length=64), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("n_annotators", sa.Integer(), nullable=False),
        sa.Column("agreement", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["annotators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
        ),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["labels.id"],
        ),
        sa.PrimaryKeyConstraint("clip_id", "label_set"),
    )
    op.create_index("ix_clip_current_agreement", "clip_current", ["label_set", "agreement"], unique=False)
    op.create_index("ix_clip_current_annotator", "clip_current", ["label_set", "annotator_id"], unique=False)
    op.create_index("ix_clip_current_created", "clip_current", ["label_set", "created_at"], unique=False)
    op.create_index("ix_clip_current_value", "clip_current", ["label_set", "value"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_clip_current_value", table_name="clip_current")
    op.drop_index("ix_clip_current_created", table_name="clip_current")
    op.drop_index("ix_clip_current_annotator", table_name="clip_current")
    op.drop_index("ix_clip_current_agreement", table_name="clip_current")
    op.drop_table("clip_current")
    op.drop_table("annotator_current")
    op.drop_index("ix_time_predictions_lookup", table_name="time_predictions")
    op.drop_table("time_predictions")
    op.drop_index("ix_labels_target", table_name="labels")
    op.drop_index("ix_labels_clip_set", table_name="labels")
    op.drop_index("ix_labels_annotator", table_name="labels")
    op.drop_table("labels")
    op.drop_index("ix_clip_predictions_clip", table_name="clip_predictions")
    op.drop_table("clip_predictions")
    op.drop_table("project_meta")
    op.drop_table("model_versions")
    op.drop_table("label_sets")
    op.drop_index(op.f("ix_clips_content_hash"), table_name="clips")
    op.drop_table("clips")
    op.drop_table("annotators")
