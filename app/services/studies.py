"""Reader studies without Qt: design a study, give each reader a seeded order, serve one case at a time,
commit each answer when given, and resume where a reader left off.

Orders are stored (``study_assignments``) and reproducible: reader ``p`` (0-based position) reads, in a
crossed design, every arm in the rotated order ``arms[p:] + arms[:p]`` (a Latin-square rotation, so arm
order is counterbalanced over readers), each arm a separate session with its cases shuffled by
``numpy.random.default_rng([seed, p, arm])``. In a split design each reader reads each case once, case
``i`` in arm ``(i + p) % n_arms``, so every case is read in every arm by some reader.

What the reader mode may load is ``Stimulus``: the case's media, its presentation, the position ("case
12 of 60") and, only in a model-assisted arm, the model's answer. Never the truth, other readers'
answers, the clip's labels or its id in the browser (tests inspect it).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from affectscope import strict_json
from affectscope.db import clips as clip_rows
from affectscope.db.engine import Database
from affectscope.db.label_sets import get_label_set, utcnow
from affectscope.db.schema import Clip, ClipCurrent, ClipPrediction, ModelVersion
from affectscope.db.studies import (
    ASSISTANCE,
    DESIGNS,
    PRESENTATIONS,
    Study,
    StudyArm,
    StudyAssignment,
    StudyCase,
    StudyReader,
    StudyResponse,
    StudySession,
)
from affectscope.db.uow import unit_of_work
from affectscope.errors import UserFacingError


class StudyError(UserFacingError):
    """A study, arm, reader or answer that does not exist or does not fit the design."""


@dataclass(frozen=True)
class ArmSpec:
    name: str
    presentation: str = "audiovisual"  # audio | video | audiovisual
    assistance: str = "none"  # none | model
    model_version_id: int | None = None
    show_saliency: bool = False


@dataclass(frozen=True)
class CaseSpec:
    clip_id: int | None
    ref: str
    span: tuple[float, float] | None = None
    truth: str | None = None


@dataclass(frozen=True)
class Assistance:
    """What a model-assisted arm shows: the model's answer and its confidence (0-1)."""

    label: str
    confidence: float
    model: str


@dataclass(frozen=True)
class Stimulus:
    """Everything the reader mode is given for one case: nothing to navigate with, no truth."""

    reader: str
    position: int  # 1-based within the session
    total: int
    session_index: int  # 1-based
    n_sessions: int
    presentation: str
    media_path: str | None
    span: tuple[float, float] | None
    labels: tuple[str, ...]
    assistance: Assistance | None
    arm_id: int = field(repr=False)
    case_id: int = field(repr=False)


# -- design ---------------------------------------------------------------------------------------------
def select_cases(
    db: Database,
    label_set: str,
    *,
    refs: Sequence[str | int] | None = None,
    query: clip_rows.ClipQuery | None = None,
    per_label: int | None = None,
    seed: int = 0,
) -> list[CaseSpec]:
    """Cases by hand (``refs``: paths, names or ids), by filter (``query``), or a stratified random
    sample of ``per_label`` clips per current label (seeded). Truth is each clip's current label."""
    with unit_of_work(db) as s:
        if refs:
            ids = [clip_rows.find_clip(s, r).id for r in refs]
        else:
            q = query or clip_rows.ClipQuery(label_set=label_set, status="ok")
            ids = [c.id for c in clip_rows.list_clips(s, q)]
        current = dict(
            s.execute(
                select(ClipCurrent.clip_id, ClipCurrent.value).where(
                    ClipCurrent.label_set == label_set, ClipCurrent.clip_id.in_(ids)
                )
            ).all()
        )
        paths = dict(s.execute(select(Clip.id, Clip.path).where(Clip.id.in_(ids))).all())
    if per_label is not None:
        rng = np.random.default_rng(seed)
        strata: dict[str, list[int]] = defaultdict(list)
        for cid in sorted(ids):
            if cid in current:
                strata[current[cid]].append(cid)
        ids = []
        for value in sorted(strata):
            pool = strata[value]
            take = rng.choice(len(pool), size=min(per_label, len(pool)), replace=False)
            ids += [pool[i] for i in sorted(take)]
    return [CaseSpec(cid, Path(paths[cid]).name, None, current.get(cid)) for cid in ids]


def create_study(
    db: Database,
    name: str,
    label_set: str,
    arms: Sequence[ArmSpec],
    cases: Sequence[CaseSpec],
    *,
    design: str = "crossed",
    seed: int = 0,
    readers: Sequence[str] = (),
    description: str = "",
    source: str = "designed",
) -> int:
    """Create a study (labels frozen), its arms and cases, and the readers' orders; returns its id."""
    if design not in DESIGNS:
        raise StudyError(f"design must be one of {', '.join(DESIGNS)}, not {design!r}")
    if not arms:
        raise StudyError("a study needs at least one arm")
    if len({a.name for a in arms}) != len(arms):
        raise StudyError("arm names must differ")
    for a in arms:
        if a.presentation not in PRESENTATIONS:
            raise StudyError(
                f"presentation must be one of {', '.join(PRESENTATIONS)}, not {a.presentation!r}"
            )
        if a.assistance not in ASSISTANCE:
            raise StudyError(f"assistance must be one of {', '.join(ASSISTANCE)}, not {a.assistance!r}")
        if a.assistance == "model" and a.model_version_id is None:
            raise StudyError(f"arm {a.name!r} is model-assisted but names no model version")
    with unit_of_work(db, write=True) as s:
        if s.scalar(select(Study.id).where(Study.name == name)) is not None:
            raise StudyError(f"a study called {name!r} exists already; choose another name")
        labels = get_label_set(s, label_set)
        for c in cases:
            if c.truth is not None and c.truth not in labels:
                raise StudyError(f"case {c.ref}: truth {c.truth!r} is not in label set {label_set}")
        study = Study(
            name=name,
            label_set=label_set,
            labels_json=strict_json.dumps(list(labels)),
            design=design,
            seed=int(seed),
            source=source,
            description=description,
            created_at=utcnow(),
        )
        s.add(study)
        s.flush()
        for i, a in enumerate(arms):
            s.add(
                StudyArm(
                    study_id=study.id,
                    name=a.name,
                    position=i,
                    presentation=a.presentation,
                    assistance=a.assistance,
                    model_version_id=a.model_version_id,
                    show_saliency=a.show_saliency,
                )
            )
        s.add_all(
            StudyCase(
                study_id=study.id,
                position=i,
                clip_id=c.clip_id,
                ref=c.ref,
                start_ms=None if c.span is None else int(round(c.span[0] * 1000)),
                end_ms=None if c.span is None else int(round(c.span[1] * 1000)),
                truth=c.truth,
            )
            for i, c in enumerate(cases)
        )
        s.flush()
        study_id = study.id
    if readers:
        add_readers(db, study_id, readers)
    return study_id


def find_study(session, ref: str | int) -> Study:  # noqa: ANN001
    ref = str(ref)
    study = session.get(Study, int(ref)) if ref.isdigit() else None
    study = study or session.scalar(select(Study).where(Study.name == ref))
    if study is None:
        raise StudyError(
            f"no study {ref!r} in this project; list them with: affectscope study show --project DIR"
        )
    return study


def reader_order(
    design: str, seed: int, position: int, arm_ids: Sequence[int], case_ids: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    """The (session_index, position, arm_id, case_id) steps of reader ``position``: pure, from the seed."""
    n_arms = len(arm_ids)
    rotated = [(position + k) % n_arms for k in range(n_arms)]
    steps = []
    for session_index, a in enumerate(rotated):
        if design == "crossed":
            mine = list(case_ids)
        else:
            mine = [c for i, c in enumerate(case_ids) if (i + position) % n_arms == a]
        perm = np.random.default_rng([seed, position, a]).permutation(len(mine))
        steps += [(session_index, k, arm_ids[a], mine[j]) for k, j in enumerate(perm)]
    return steps


def add_readers(db: Database, study: str | int, names: Sequence[str]) -> list[str]:
    """Add readers (each with their stored, seeded order); readers already in the study are kept as is."""
    added = []
    with unit_of_work(db, write=True) as s:
        st = find_study(s, study)
        arm_ids = list(
            s.scalars(select(StudyArm.id).where(StudyArm.study_id == st.id).order_by(StudyArm.position))
        )
        case_ids = list(
            s.scalars(select(StudyCase.id).where(StudyCase.study_id == st.id).order_by(StudyCase.position))
        )
        existing = set(s.scalars(select(StudyReader.name).where(StudyReader.study_id == st.id)))
        position = s.scalar(select(func.count()).where(StudyReader.study_id == st.id)) or 0
        for name in names:
            name = name.strip()
            if not name or name in existing:
                continue
            reader = StudyReader(study_id=st.id, name=name, position=position, created_at=utcnow())
            s.add(reader)
            s.flush()
            s.add_all(
                StudyAssignment(reader_id=reader.id, arm_id=a, case_id=c, session_index=si, position=p)
                for si, p, a, c in reader_order(st.design, st.seed, position, arm_ids, case_ids)
            )
            existing.add(name)
            added.append(name)
            position += 1
    return added


# -- reading ---------------------------------------------------------------------------------------------
class ReadingSession:
    """One reader's sitting: serves the next unanswered case of their order and commits each answer.

    Resuming is just opening a new ReadingSession: what is answered is in the database and is skipped.
    """

    def __init__(self, db: Database, study: str | int, reader: str) -> None:
        self.db = db
        with unit_of_work(db) as s:
            st = find_study(s, study)
            r = s.scalar(select(StudyReader).where(StudyReader.study_id == st.id, StudyReader.name == reader))
            if r is None:
                raise StudyError(f"{reader!r} is not a reader of study {st.name!r}; add them first")
            self.study_id, self.reader_id, self.reader = st.id, r.id, r.name
            self.labels = tuple(json.loads(st.labels_json))
            self.steps = s.execute(
                select(
                    StudyAssignment.session_index,
                    StudyAssignment.position,
                    StudyAssignment.arm_id,
                    StudyAssignment.case_id,
                )
                .where(StudyAssignment.reader_id == r.id)
                .order_by(StudyAssignment.session_index, StudyAssignment.position)
            ).all()
            self.n_sessions = 1 + max((st_[0] for st_ in self.steps), default=-1)
            self.per_session = defaultdict(int)
            for si, *_ in self.steps:
                self.per_session[si] += 1
            self.session_row: int | None = None
            self._session_arm: int | None = None

    def answered(self) -> set[tuple[int, int]]:
        with unit_of_work(self.db) as s:
            return set(
                s.execute(
                    select(StudyResponse.arm_id, StudyResponse.case_id).where(
                        StudyResponse.reader_id == self.reader_id
                    )
                ).all()
            )

    def progress(self) -> tuple[int, int]:
        """(answered, total) over all sessions."""
        return len(self.answered()), len(self.steps)

    def next_stimulus(self) -> Stimulus | None:
        """The next case to read, or None when this reader has answered everything."""
        done = self.answered()
        for si, pos, arm_id, case_id in self.steps:
            if (arm_id, case_id) not in done:
                return self._stimulus(si, pos, arm_id, case_id)
        self._close_session()
        return None

    def _stimulus(self, si: int, pos: int, arm_id: int, case_id: int) -> Stimulus:
        with unit_of_work(self.db, write=self._session_arm != arm_id) as s:
            arm = s.get(StudyArm, arm_id)
            case = s.get(StudyCase, case_id)
            path = s.scalar(select(Clip.path).where(Clip.id == case.clip_id)) if case.clip_id else None
            help_ = None
            if arm.assistance == "model" and case.clip_id is not None:
                row = s.scalar(
                    select(ClipPrediction).where(
                        ClipPrediction.model_version_id == arm.model_version_id,
                        ClipPrediction.clip_id == case.clip_id,
                    )
                )
                if row is not None:
                    mv = s.get(ModelVersion, arm.model_version_id)
                    help_ = Assistance(row.label, float(row.confidence), f"{mv.name} {mv.version}")
            if self._session_arm != arm_id:  # a new arm: a new session row
                if self.session_row is not None:
                    prev = s.get(StudySession, self.session_row)
                    prev.ended_at = utcnow()
                sess = StudySession(reader_id=self.reader_id, arm_id=arm_id, started_at=utcnow())
                s.add(sess)
                s.flush()
                self.session_row, self._session_arm = sess.id, arm_id
            span = None if case.start_ms is None else (case.start_ms / 1000.0, case.end_ms / 1000.0)
            return Stimulus(
                reader=self.reader,
                position=pos + 1,
                total=self.per_session[si],
                session_index=si + 1,
                n_sessions=self.n_sessions,
                presentation=arm.presentation,
                media_path=path,
                span=span,
                labels=self.labels,
                assistance=help_,
                arm_id=arm_id,
                case_id=case_id,
            )

    def _close_session(self) -> None:
        if self.session_row is None:
            return
        with unit_of_work(self.db, write=True) as s:
            s.get(StudySession, self.session_row).ended_at = utcnow()
        self.session_row, self._session_arm = None, None

    def answer(
        self,
        stimulus: Stimulus,
        label: str,
        *,
        confidence: int | None = None,
        note: str | None = None,
        time_ms: float | None = None,
        plays: int = 1,
        answered_at: datetime | None = None,
    ) -> int:
        """Commit one answer (durable when this returns); returns the response id."""
        if label not in self.labels:
            raise StudyError(f"{label!r} is not one of this study's labels: {', '.join(self.labels)}")
        if confidence is not None and not 0 <= int(confidence) <= 100:
            raise StudyError(f"confidence must be 0-100, not {confidence}")
        try:
            with unit_of_work(self.db, write=True) as s:
                row = StudyResponse(
                    study_id=self.study_id,
                    arm_id=stimulus.arm_id,
                    case_id=stimulus.case_id,
                    reader_id=self.reader_id,
                    session_id=self.session_row,
                    label=label,
                    confidence=None if confidence is None else int(confidence),
                    note=(note or None),
                    time_ms=None if time_ms is None else float(time_ms),
                    plays=int(plays),
                    answered_at=answered_at or utcnow(),
                )
                s.add(row)
                s.flush()
                return row.id
        except IntegrityError:
            raise StudyError(f"{self.reader} has already answered this case; answers are final") from None


# -- reading back ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReaderVote:
    """One reader's answer about a clip (for relabel queues): which study/arm, who, what, how sure."""

    clip_id: int
    study: str
    arm: str
    presentation: str
    assistance: str
    reader: str | None  # None: an anonymous imported vote
    label: str
    confidence: int | None
    answered_at: datetime


def clip_reader_votes(
    db: Database, clip_ids: Sequence[int] | None = None, label_set: str | None = None
) -> dict[int, list[ReaderVote]]:
    """Every reader answer per clip (cases without a clip are left out), oldest first; with
    ``label_set``, only the answers of studies in that label set."""
    q = (
        select(
            StudyCase.clip_id,
            Study.name,
            StudyArm.name,
            StudyArm.presentation,
            StudyArm.assistance,
            StudyReader.name,
            StudyResponse.label,
            StudyResponse.confidence,
            StudyResponse.answered_at,
        )
        .join(StudyCase, StudyCase.id == StudyResponse.case_id)
        .join(StudyArm, StudyArm.id == StudyResponse.arm_id)
        .join(Study, Study.id == StudyResponse.study_id)
        .outerjoin(StudyReader, StudyReader.id == StudyResponse.reader_id)
        .where(StudyCase.clip_id.is_not(None))
        .order_by(StudyResponse.id)
    )
    if clip_ids is not None:
        q = q.where(StudyCase.clip_id.in_(list(clip_ids)))
    if label_set is not None:
        q = q.where(Study.label_set == label_set)
    out: dict[int, list[ReaderVote]] = defaultdict(list)
    with unit_of_work(db) as s:
        for row in s.execute(q):
            out[row[0]].append(ReaderVote(*row))
    return dict(out)


def list_studies(db: Database) -> list[dict]:
    with unit_of_work(db) as s:
        rows = s.scalars(select(Study).order_by(Study.id)).all()
        return [study_summary(s, st) for st in rows]


def study_summary(session, st: Study) -> dict:  # noqa: ANN001
    arms = session.scalars(
        select(StudyArm).where(StudyArm.study_id == st.id).order_by(StudyArm.position)
    ).all()
    readers = session.scalars(
        select(StudyReader).where(StudyReader.study_id == st.id).order_by(StudyReader.position)
    ).all()
    n_cases = session.scalar(select(func.count()).where(StudyCase.study_id == st.id))
    answered = dict(
        session.execute(
            select(StudyResponse.reader_id, func.count())
            .where(StudyResponse.study_id == st.id)
            .group_by(StudyResponse.reader_id)
        ).all()
    )
    todo = dict(
        session.execute(
            select(StudyAssignment.reader_id, func.count())
            .join(StudyReader, StudyReader.id == StudyAssignment.reader_id)
            .where(StudyReader.study_id == st.id)
            .group_by(StudyAssignment.reader_id)
        ).all()
    )
    return {
        "id": st.id,
        "name": st.name,
        "label_set": st.label_set,
        "labels": json.loads(st.labels_json),
        "design": st.design,
        "seed": st.seed,
        "source": st.source,
        "n_cases": int(n_cases or 0),
        "arms": [
            {
                "name": a.name,
                "presentation": a.presentation,
                "assistance": a.assistance,
                "model_version_id": a.model_version_id,
            }
            for a in arms
        ],
        "readers": [
            {"name": r.name, "answered": int(answered.get(r.id, 0)), "assigned": int(todo.get(r.id, 0))}
            for r in readers
        ],
        "n_responses": int(sum(answered.values())),
        "n_anonymous_responses": int(answered.get(None, 0)),
    }


def show_study(db: Database, study: str | int) -> dict:
    with unit_of_work(db) as s:
        return study_summary(s, find_study(s, study))
