"""Reader-study tables: studies, arms, cases, readers, each reader's seeded order, sessions, responses.

A study freezes its label list when created (a later edit of a custom label set cannot change what
readers answered). Each reader's order is stored row by row (``study_assignments``), so resuming, the
statistics and an audit all read the same order the reader saw, and it can be re-derived from the
study seed. A response is one row, committed when given; ``(reader, arm, case)`` is unique, so a reader
killed between answer and next case cannot answer twice on resume. Imported crowd votes (CREMA-D) have
no reader: ``reader_id`` NULL. Cases may have no clip (``clip_id`` NULL) in imported studies: their
``ref`` names the stimulus. Practice cases (``practice``) are in no reader's order and never scored; a
case kept although it does not fit an arm says why in ``misfit``.

Every query of the reader studies lives below the tables (issue 24): functions handed a session that
return records (frozen dataclasses) or plain tuples, never live ORM objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from affectscope.db.schema import Base, Clip, ClipCurrent, ClipPrediction, ModelVersion

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
    break_s: Mapped[float] = mapped_column(Float, default=0.0)  # a pause between sessions of one sitting
    washout_s: Mapped[float] = mapped_column(Float, default=0.0)  # least time between a reader's arms


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
    practice: Mapped[bool] = mapped_column(Boolean, default=False)  # shown first, never in an order
    misfit: Mapped[str | None] = mapped_column(Text, nullable=True)  # kept by --allow-mismatch: why
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


# -- records ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StudyRecord:
    id: int
    name: str
    label_set: str
    labels: tuple[str, ...]
    design: str
    seed: int
    source: str
    description: str
    break_s: float
    washout_s: float


@dataclass(frozen=True)
class ArmRecord:
    id: int
    name: str
    position: int
    presentation: str
    assistance: str
    model_version_id: int | None
    show_saliency: bool


@dataclass(frozen=True)
class CaseRecord:
    id: int
    position: int
    clip_id: int | None
    ref: str
    start_ms: int | None
    end_ms: int | None
    truth: str | None
    practice: bool
    misfit: str | None


@dataclass(frozen=True)
class ReaderRecord:
    id: int
    name: str
    position: int


@dataclass(frozen=True)
class ClipMedia:
    """What a design check needs to know of a clip: where it is, whether it has sound and a picture."""

    clip_id: int
    path: str
    has_audio: bool
    has_video: bool
    status: str


def _study(row: Study) -> StudyRecord:
    return StudyRecord(
        row.id, row.name, row.label_set, tuple(json.loads(row.labels_json)), row.design, row.seed,
        row.source, row.description, float(row.break_s or 0.0), float(row.washout_s or 0.0),
    )  # fmt: skip


# -- studies ----------------------------------------------------------------------------------------------
def find_study(s: Session, ref: str | int) -> StudyRecord | None:
    """A study by id (digits) or name."""
    ref = str(ref)
    row = s.get(Study, int(ref)) if ref.isdigit() else None
    row = row or s.scalar(select(Study).where(Study.name == ref))
    return None if row is None else _study(row)


def study_names(s: Session) -> list[str]:
    return list(s.scalars(select(Study.name).order_by(Study.id)))


def all_studies(s: Session) -> list[StudyRecord]:
    return [_study(r) for r in s.scalars(select(Study).order_by(Study.id))]


def insert_study(s: Session, study: dict, arms: Sequence[dict], cases: Sequence[dict]) -> int:
    """A study row with its arms and cases (dicts of their columns, in order); returns the study id."""
    row = Study(**study)
    s.add(row)
    s.flush()
    s.add_all(StudyArm(study_id=row.id, position=i, **a) for i, a in enumerate(arms))
    s.add_all(StudyCase(study_id=row.id, position=i, **c) for i, c in enumerate(cases))
    s.flush()
    return row.id


def study_arms(s: Session, study_id: int) -> list[ArmRecord]:
    rows = s.scalars(select(StudyArm).where(StudyArm.study_id == study_id).order_by(StudyArm.position))
    return [
        ArmRecord(a.id, a.name, a.position, a.presentation, a.assistance, a.model_version_id, a.show_saliency)
        for a in rows
    ]


def study_cases(s: Session, study_id: int, practice: bool | None = False) -> list[CaseRecord]:
    """The study's cases in order: scored ones (default), practice ones (True), or all (None)."""
    # Columns, not ORM entities: an imported study has ~7,500 cases.
    q = (
        select(StudyCase.id, StudyCase.position, StudyCase.clip_id, StudyCase.ref, StudyCase.start_ms,
               StudyCase.end_ms, StudyCase.truth, StudyCase.practice, StudyCase.misfit)
        .where(StudyCase.study_id == study_id)
        .order_by(StudyCase.position)
    )  # fmt: skip
    if practice is not None:
        q = q.where(StudyCase.practice.is_(practice))
    return [CaseRecord(*r[:7], bool(r[7]), r[8]) for r in s.execute(q)]


def study_readers(s: Session, study_id: int) -> list[ReaderRecord]:
    rows = s.execute(
        select(StudyReader.id, StudyReader.name, StudyReader.position)
        .where(StudyReader.study_id == study_id)
        .order_by(StudyReader.position)
    )
    return [ReaderRecord(*r) for r in rows]


def insert_reader(
    s: Session,
    study_id: int,
    name: str,
    position: int,
    steps: Iterable[tuple[int, int, int, int]],
    now: datetime,
) -> int:
    """A reader with their order: ``steps`` are (session_index, position, arm_id, case_id)."""
    reader = StudyReader(study_id=study_id, name=name, position=position, created_at=now)
    s.add(reader)
    s.flush()
    s.add_all(
        StudyAssignment(reader_id=reader.id, arm_id=a, case_id=c, session_index=si, position=p)
        for si, p, a, c in steps
    )
    return reader.id


def reader_steps(s: Session, reader_id: int) -> list[tuple[int, int, int, int]]:
    """A reader's stored order: (session_index, position, arm_id, case_id)."""
    q = (
        select(StudyAssignment.session_index, StudyAssignment.position, StudyAssignment.arm_id,
               StudyAssignment.case_id)
        .where(StudyAssignment.reader_id == reader_id)
        .order_by(StudyAssignment.session_index, StudyAssignment.position)
    )  # fmt: skip
    return [tuple(r) for r in s.execute(q)]


def answered_pairs(s: Session, reader_id: int) -> set[tuple[int, int]]:
    q = select(StudyResponse.arm_id, StudyResponse.case_id).where(StudyResponse.reader_id == reader_id)
    return {tuple(r) for r in s.execute(q)}


def last_answer_in_arm(s: Session, reader_id: int, arm_id: int) -> datetime | None:
    q = select(func.max(StudyResponse.answered_at)).where(
        StudyResponse.reader_id == reader_id, StudyResponse.arm_id == arm_id
    )
    return s.scalar(q)


def open_session(s: Session, reader_id: int, arm_id: int, now: datetime) -> int:
    row = StudySession(reader_id=reader_id, arm_id=arm_id, started_at=now)
    s.add(row)
    s.flush()
    return row.id


def study_sessions_of(s: Session, study_id: int) -> list[tuple[int, int, datetime, datetime | None]]:
    """(reader_id, arm_id, started_at, ended_at) of every sitting in the study."""
    q = (
        select(StudySession.reader_id, StudySession.arm_id, StudySession.started_at, StudySession.ended_at)
        .join(StudyArm, StudyArm.id == StudySession.arm_id)
        .where(StudyArm.study_id == study_id)
        .order_by(StudySession.id)
    )
    return [tuple(r) for r in s.execute(q)]


def close_session(s: Session, session_id: int, now: datetime) -> None:
    row = s.get(StudySession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = now


def insert_response(s: Session, **columns: object) -> int | None:
    """One answer (``study_responses`` columns); None when this reader has answered this case in this arm
    already (the unique (reader, arm, case) also stops a race)."""
    if columns.get("reader_id") is not None:
        dup = select(StudyResponse.id).where(
            StudyResponse.reader_id == columns["reader_id"],
            StudyResponse.arm_id == columns["arm_id"],
            StudyResponse.case_id == columns["case_id"],
        )
        if s.scalar(dup) is not None:
            return None
    row = StudyResponse(**columns)
    s.add(row)
    s.flush()
    return row.id


def insert_responses(s: Session, rows: Sequence[dict]) -> None:
    """Many answers at once (Core insert: an imported study has ~200,000)."""
    if rows:
        s.connection().execute(insert(StudyResponse.__table__), list(rows))


def response_counts(s: Session, study_id: int) -> dict[int | None, int]:
    """Responses per reader id (None: anonymous)."""
    q = (
        select(StudyResponse.reader_id, func.count())
        .where(StudyResponse.study_id == study_id)
        .group_by(StudyResponse.reader_id)
    )
    return {r: int(n) for r, n in s.execute(q)}


def assignment_counts(s: Session, study_id: int, by: str = "reader") -> dict[int, int]:
    """Assigned steps per reader id (``by="reader"``) or per arm id (``by="arm"``)."""
    key = StudyAssignment.reader_id if by == "reader" else StudyAssignment.arm_id
    q = (
        select(key, func.count())
        .join(StudyReader, StudyReader.id == StudyAssignment.reader_id)
        .where(StudyReader.study_id == study_id)
        .group_by(key)
    )
    return {k: int(n) for k, n in s.execute(q)}


def response_rows(s: Session, study_id: int, with_rows: bool = False) -> list[tuple]:
    """(arm_id, case_id, reader_id, label, time_ms, confidence[, id, note, plays, answered_at]) per
    response, oldest first, as the driver's plain tuples (~200,000 ORM rows cost seconds)."""
    columns = [StudyResponse.arm_id, StudyResponse.case_id, StudyResponse.reader_id, StudyResponse.label,
               StudyResponse.time_ms, StudyResponse.confidence]  # fmt: skip
    if with_rows:
        columns += [StudyResponse.id, StudyResponse.note, StudyResponse.plays, StudyResponse.answered_at]
    query = select(*columns).where(StudyResponse.study_id == study_id).order_by(StudyResponse.id)
    if with_rows:
        return [tuple(r) for r in s.connection().execute(query)]
    conn = s.connection()
    # The only parameter is an integer id, so inlining it (literal binds) is safe.
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall()
    finally:
        cur.close()


def reader_vote_rows(
    s: Session, clip_ids: Sequence[int] | None = None, label_set: str | None = None
) -> list[tuple]:
    """(clip_id, study, arm, presentation, assistance, reader, label, confidence, answered_at) per
    answer about a clip (cases without a clip left out), oldest first."""
    q = (
        select(StudyCase.clip_id, Study.name, StudyArm.name, StudyArm.presentation, StudyArm.assistance,
               StudyReader.name, StudyResponse.label, StudyResponse.confidence, StudyResponse.answered_at)
        .join(StudyCase, StudyCase.id == StudyResponse.case_id)
        .join(StudyArm, StudyArm.id == StudyResponse.arm_id)
        .join(Study, Study.id == StudyResponse.study_id)
        .outerjoin(StudyReader, StudyReader.id == StudyResponse.reader_id)
        .where(StudyCase.clip_id.is_not(None))
        .order_by(StudyResponse.id)
    )  # fmt: skip
    if clip_ids is not None:
        q = q.where(StudyCase.clip_id.in_(list(clip_ids)))
    if label_set is not None:
        q = q.where(Study.label_set == label_set)
    return [tuple(r) for r in s.execute(q)]


# -- clips and models, as a study sees them ---------------------------------------------------------------
def current_values(s: Session, label_set: str, clip_ids: Sequence[int]) -> dict[int, str]:
    q = select(ClipCurrent.clip_id, ClipCurrent.value).where(
        ClipCurrent.label_set == label_set, ClipCurrent.clip_id.in_(list(clip_ids))
    )
    return dict(s.execute(q).all())


def clip_media(s: Session, clip_ids: Sequence[int]) -> dict[int, ClipMedia]:
    q = select(Clip.id, Clip.path, Clip.has_audio, Clip.n_frames, Clip.width, Clip.status).where(
        Clip.id.in_(list(clip_ids))
    )
    return {
        cid: ClipMedia(cid, path, bool(audio), bool(n and w), status)
        for cid, path, audio, n, w, status in s.execute(q)
    }


def model_version_name(s: Session, model_version_id: int) -> str | None:
    """ "name version" of a model version, or None when there is no such version."""
    mv = s.get(ModelVersion, model_version_id)
    return None if mv is None else f"{mv.name} {mv.version}"


def model_version_label_set(s: Session, model_version_id: int) -> str | None:
    """The label set a model version predicts ("continuous" for named continuous outputs), or None."""
    mv = s.get(ModelVersion, model_version_id)
    return None if mv is None else mv.label_set


def model_predictions(
    s: Session, model_version_id: int, clip_ids: Sequence[int]
) -> dict[int, tuple[str, float]]:
    """clip id -> (label, confidence) of that model version's whole-clip prediction."""
    q = select(ClipPrediction.clip_id, ClipPrediction.label, ClipPrediction.confidence).where(
        ClipPrediction.model_version_id == model_version_id, ClipPrediction.clip_id.in_(list(clip_ids))
    )
    return {c: (label, float(conf)) for c, label, conf in s.execute(q)}
