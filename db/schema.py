"""The project database schema (SQLAlchemy 2 typed ORM). Alembic migrations in ``migrations/`` create it.

Labels are append-only: every relabel, undo and redo is a new ``labels`` row and nothing is ever
updated or deleted there. ``annotator_current`` and ``clip_current`` are caches derived from that
history in the same transaction that appends to it, so the clip browser sorts and filters 100,000
clips without scanning a million label rows; ``labels.rebuild_current`` recomputes them from history.
Predictions of model versions live beside labels; reader studies and training runs join later
through new migrations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Label row kinds: a "set" gives a value; "undo"/"redo" name the "set" row they act on (target_id).
ACTION_SET, ACTION_UNDO, ACTION_REDO = "set", "undo", "redo"
SOURCES = ("human", "model", "import")
# Span edits (db/label_edits.py): a "set" row that replaces an earlier span row says how.
EDIT_MOVE, EDIT_RELABEL, EDIT_CHANGE, EDIT_DELETE = "move", "relabel", "change", "delete"
EDIT_COMMENT = "comment"  # only the span's free-text comment changed


class Base(DeclarativeBase):
    pass


class ProjectMeta(Base):
    """Key/value facts about the project (name, created_at, default label set)."""

    __tablename__ = "project_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LabelSetRow(Base):
    """A custom label set (the built-ins live in code, db/label_sets.py)."""

    __tablename__ = "label_sets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    labels_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Clip(Base):
    __tablename__ = "clips"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    content_hash: Mapped[str] = mapped_column(String(128), index=True)
    duration: Mapped[float] = mapped_column(Float)
    fps: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    n_frames: Mapped[int] = mapped_column(Integer)
    has_audio: Mapped[bool] = mapped_column(Boolean)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | missing | changed
    # Who speaks (or is filmed): speaker-independent splits hold whole speakers out. NULL: not known.
    speaker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    added_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Annotator(Base):
    __tablename__ = "annotators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="human")  # human | model
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Label(Base):
    """One append-only history row: a label given (set), or an undo/redo of an earlier one."""

    __tablename__ = "labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"))
    label_set: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(128))
    # Spans in integer milliseconds: ELAN's resolution, so .eaf round trips are exact. NULL = whole clip.
    start_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    source: Mapped[str] = mapped_column(String(16))  # human | model | import
    action: Mapped[str] = mapped_column(String(8), default=ACTION_SET)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"), nullable=True)
    # The clip's current value (any annotator) when this row was set: history shows old -> new.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # A span edit names the span row it replaces (while the edit is in effect that row is not shown)
    # and how: move | relabel | change | delete. NULL for every ordinary label.
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("labels.id", name="fk_labels_replaces_id"), nullable=True
    )
    edit: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # A span's free-text comment (ELAN's annotation notes); carried over by every later edit of it.
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_labels_clip_set", "clip_id", "label_set", "id"),
        Index("ix_labels_annotator", "annotator_id", "id"),
        Index("ix_labels_target", "target_id"),
    )


class AnnotatorCurrent(Base):
    """Cache: each annotator's current whole-clip label per clip and label set."""

    __tablename__ = "annotator_current"
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"), primary_key=True)
    label_set: Mapped[str] = mapped_column(String(64), primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id"))
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ClipCurrent(Base):
    """Cache: the clip's current whole-clip label (newest non-undone) and human agreement on it."""

    __tablename__ = "clip_current"
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"), primary_key=True)
    label_set: Mapped[str] = mapped_column(String(64), primary_key=True)
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id"))
    value: Mapped[str] = mapped_column(String(128))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    n_annotators: Mapped[int] = mapped_column(Integer)
    agreement: Mapped[float] = mapped_column(Float)  # share of annotators giving the majority value

    __table_args__ = (
        Index("ix_clip_current_value", "label_set", "value"),
        Index("ix_clip_current_agreement", "label_set", "agreement"),
        Index("ix_clip_current_created", "label_set", "created_at"),
        Index("ix_clip_current_annotator", "label_set", "annotator_id"),
    )


class ModelVersion(Base):
    __tablename__ = "model_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    label_set: Mapped[str] = mapped_column(String(64))
    labels_json: Mapped[str] = mapped_column(Text)
    weights_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    config_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_versions_name_version"),)


class ClipPrediction(Base):
    """A model version's whole-clip prediction (probabilities in its label set's order)."""

    __tablename__ = "clip_predictions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"))
    label: Mapped[str] = mapped_column(String(128))
    confidence: Mapped[float] = mapped_column(Float)
    probs_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("model_version_id", "clip_id", name="uq_clip_predictions_version_clip"),
        Index("ix_clip_predictions_clip", "clip_id"),
    )


class TimePrediction(Base):
    """A model version's prediction for one window of a clip, per modality ("fused" for the fusion)."""

    __tablename__ = "time_predictions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"))
    modality: Mapped[str] = mapped_column(String(32))
    t_start: Mapped[float] = mapped_column(Float)
    t_end: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(128))
    confidence: Mapped[float] = mapped_column(Float)
    probs_json: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        Index("ix_time_predictions_lookup", "model_version_id", "clip_id", "modality", "t_start"),
    )
