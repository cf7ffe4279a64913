"""Reader-study tables: studies, arms, cases, readers, each reader's seeded order, sessions, responses.

A study freezes its label list when created (a later edit of a custom label set cannot change what
readers answered). Each reader's order is stored row by row (``study_assignments``), so resuming, the
statistics and an audit all read the same order the reader saw, and it can be re-derived from the
study seed. A response is one row, committed when given; ``(reader, arm, case)`` is unique, so a reader
killed between answer and next case cannot answer twice on resume. Imported crowd votes (CREMA-D) have
no reader: ``reader_id`` NULL. Cases may have no clip (``clip_id`` NULL) in imported studies: their
``ref`` names the stimulus.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from affectscope.db.schema import Base

PRESENTATIONS = ("audio", "video", "audiovisual")
ASSISTANCE = ("none", "model")
DESIGNS = ("crossed", "split")


class Study(Base):
    __tablename__ = "studies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    label_set: Mapped[str] = mapped_column(String(64))
    labels_json: Mapped[str] = mapped_column(Text)
    design: Mapped[str] = mapped_column(String(16), default="crossed")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="designed")  # designed | imported
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class StudyArm(Base):
    __tablename__ = "study_arms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    presentation: Mapped[str] = mapped_column(String(16))  # audio | video | audiovisual
    assistance: Mapped[str] = mapped_column(String(16), default="none")  # none | model
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"), nullable=True)
    show_saliency: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (UniqueConstraint("study_id", "name", name="uq_study_arms_name"),)


class StudyCase(Base):
    __tablename__ = "study_cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    position: Mapped[int] = mapped_column(Integer)
    clip_id: Mapped[int | None] = mapped_column(ForeignKey("clips.id"), nullable=True)
    ref: Mapped[str] = mapped_column(String(256))  # clip file name, or the stimulus name when no media
    start_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    truth: Mapped[str | None] = mapped_column(String(128), nullable=True)  # reference label, frozen
    __table_args__ = (Index("ix_study_cases_study", "study_id", "position"),)


class StudyReader(Base):
    __tablename__ = "study_readers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    name: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)  # counterbalancing: which arm order this reader gets
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("study_id", "name", name="uq_study_readers_name"),)


class StudyAssignment(Base):
    """One step of a reader's stored order: in session ``session_index`` (an arm), case at ``position``."""

    __tablename__ = "study_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("study_readers.id"))
    arm_id: Mapped[int] = mapped_column(ForeignKey("study_arms.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("study_cases.id"))
    session_index: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    __table_args__ = (
        UniqueConstraint("reader_id", "arm_id", "case_id", name="uq_study_assignments_case"),
        Index("ix_study_assignments_order", "reader_id", "session_index", "position"),
    )


class StudySession(Base):
    """A sitting: a reader opened an arm's session (resuming opens a new row; answers say where)."""

    __tablename__ = "study_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("study_readers.id"))
    arm_id: Mapped[int] = mapped_column(ForeignKey("study_arms.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class StudyResponse(Base):
    __tablename__ = "study_responses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    arm_id: Mapped[int] = mapped_column(ForeignKey("study_arms.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("study_cases.id"))
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("study_readers.id"), nullable=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("study_sessions.id"), nullable=True)
    label: Mapped[str] = mapped_column(String(128))
    confidence: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0-100
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    time_ms: Mapped[float | None] = mapped_column(Float, nullable=True)  # stimulus onset -> answer
    plays: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("reader_id", "arm_id", "case_id", name="uq_study_responses_once"),
        Index("ix_study_responses_arm", "arm_id", "case_id"),
    )
