"""One reader's sitting without Qt: serve the next case of their stored order, loaded and checked before
it is shown, commit each answer when given, and resume where the reader left off.

What the reader mode is given is a ``Stimulus`` (the case's presentation, "case 12 of 60", an opaque case
key and, only in a model-assisted arm, the model's answer) and a ``CaseMedia`` (decoded frames and sound
behind methods). Never the truth, other readers' answers, the clip's labels, its id in the browser, its
file name or path: corpus file names encode the emotion (EmoDB ``...Fa``, CREMA-D ``_HAP_``).

A case whose media cannot be opened when its turn comes (moved, deleted, no sound in an audio arm) is
skipped visibly (``skipped``), never answered blind; it stays unanswered and is offered again next time.
Practice cases come first when the reader has answered nothing yet; their answers are never stored.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from affectscope.app.services.studies import StudyError, find_study
from affectscope.db import studies as rows
from affectscope.db.engine import Database
from affectscope.db.label_sets import utcnow
from affectscope.db.studies import CaseRecord
from affectscope.db.uow import unit_of_work


@dataclass(frozen=True)
class Assistance:
    """What a model-assisted arm shows: the model's answer and its confidence (0-1)."""

    label: str
    confidence: float
    model: str


@dataclass(frozen=True)
class Stimulus:
    """Everything the reader mode is given for one case: nothing to navigate with, no truth, no name."""

    reader: str
    position: int  # 1-based within the session (practice: within the practice cases)
    total: int
    session_index: int  # 1-based
    n_sessions: int
    presentation: str
    case_key: str  # opaque: says nothing of the clip
    span: tuple[float, float] | None
    labels: tuple[str, ...]
    assistance: Assistance | None
    practice: bool = False
    arm_id: int = field(default=0, repr=False)
    case_id: int = field(default=0, repr=False)


class CaseMedia:
    """A case's decoded media, behind methods: the reader mode never learns where it came from."""

    def __init__(self, video: object | None, audio: object | None, span: tuple[float, float] | None) -> None:
        self._video = video
        self.audio = audio  # media.Audio or None (video-only arms never decode sound)
        duration = float(video.info.duration) if video is not None else 0.0
        if audio is not None:
            duration = max(duration, float(audio.duration))
        self.range = span if span else (0.0, duration)

    @property
    def has_picture(self) -> bool:
        return self._video is not None

    def frame_at(self, t: float) -> np.ndarray | None:
        if self._video is None:
            return None
        return self._video.frame_at(min(t, self.range[1] - 1e-3))[1]

    def close(self) -> None:
        if self._video is not None:
            self._video.close()
            self._video = None


@dataclass(frozen=True)
class _Case:
    clip_id: int | None
    span: tuple[float, float] | None
    practice: bool


@dataclass(frozen=True)
class Skip:
    """A case left out when its turn came, and why (shown to the reader; the case stays unanswered)."""

    case_key: str
    session_index: int
    reason: str


def case_key(study_id: int, case_id: int, seed: int) -> str:
    return "case-" + hashlib.sha256(f"{study_id}:{case_id}:{seed}".encode()).hexdigest()[:8]


def load_media(path: str | None, presentation: str, span: tuple[float, float] | None) -> CaseMedia:
    """Open what the presentation needs; raises StudyError saying why it cannot be shown."""
    from affectscope.media import MediaError, NoAudioError, VideoReader, load_audio

    if path is None:
        raise StudyError("this case has no media in this project")
    video = audio = None
    try:
        if presentation != "audio":
            video = VideoReader(path)
        if presentation != "video":  # video-only plays no sound: its audio is never decoded
            audio = load_audio(path)
    except NoAudioError:
        if video is not None:
            video.close()
        raise StudyError("its media has no sound") from None
    except (MediaError, OSError):
        if video is not None:
            video.close()
        raise StudyError("its media file is missing or unreadable") from None
    return CaseMedia(video, audio, span)


class ReadingSession:
    """One reader's sitting: serves the next unanswered case of their order and commits each answer.

    Resuming is just opening a new ReadingSession: what is answered is in the database and is skipped.
    """

    def __init__(self, db: Database, study: str | int, reader: str, preview: bool = False) -> None:
        self.db = db
        self.preview = preview  # a look at the screen (screenshot): records no sitting
        with unit_of_work(db) as s:
            st = find_study(s, study)
            r = next((x for x in rows.study_readers(s, st.id) if x.name == reader), None)
            if r is None:
                raise StudyError(f"{reader!r} is not a reader of study {st.name!r}; add them first")
            self.study = st
            self.arms = {a.id: a for a in rows.study_arms(s, st.id)}
            cases = rows.study_cases(s, st.id, practice=None)
            self.steps = rows.reader_steps(s, r.id)
        self.study_id, self.reader_id, self.reader = st.id, r.id, r.name
        self.labels = tuple(st.labels)
        # Only what serving needs: no case ref (a corpus file name says the emotion), no path; the media
        # path is looked up when a case is opened and handed to the decoder, never kept.
        self.cases = {c.id: _Case(c.clip_id, _span(c), c.practice) for c in cases}
        self.practice = [cid for cid, c in self.cases.items() if c.practice]
        self.n_sessions = 1 + max((step[0] for step in self.steps), default=-1)
        self.per_session: dict[int, int] = defaultdict(int)
        for si, *_ in self.steps:
            self.per_session[si] += 1
        self.session_row: int | None = None
        self._session_arm: int | None = None
        self.skipped: list[Skip] = []
        self.media: CaseMedia | None = None  # of the stimulus served last
        self.answered_this_sitting = 0
        self._served_session: int | None = None  # session index of the case served last, and before it
        self._previous_session: int | None = None

    def answered(self) -> set[tuple[int, int]]:
        with unit_of_work(self.db) as s:
            return rows.answered_pairs(s, self.reader_id)

    def progress(self) -> tuple[int, int]:
        """(answered, total) over all sessions."""
        return len(self.answered()), len(self.steps)

    def practice_stimuli(self) -> list[Stimulus]:
        """The practice cases, offered before the first real case of a reader who has answered nothing."""
        if not self.practice or self.answered():
            return []
        n = len(self.practice)
        return [
            Stimulus(self.reader, k + 1, n, 1, self.n_sessions, "audiovisual",
                     case_key(self.study_id, cid, self.study.seed), self.cases[cid].span, self.labels, None,
                     True, 0, cid)
            for k, cid in enumerate(self.practice)
        ]  # fmt: skip

    def next_stimulus(self, load: bool = False) -> Stimulus | None:
        """The next case to read, or None when nothing is left to read in this sitting. With ``load`` (the
        reader mode) its media is opened into ``media`` first, and a case that cannot be shown is skipped
        and listed in ``skipped``."""
        done = self.answered()
        skipped = {(k.case_key, k.session_index) for k in self.skipped}
        self._drop_media()
        for si, pos, arm_id, case_id in self.steps:
            if (arm_id, case_id) in done:
                continue
            st = self._stimulus(si, pos, arm_id, case_id)
            if (st.case_key, st.session_index) in skipped:
                continue
            if load:
                try:
                    self.media = self.open_media(st)
                except StudyError as exc:
                    self.skipped.append(Skip(st.case_key, st.session_index, str(exc)))
                    skipped.add((st.case_key, st.session_index))
                    continue
            self._enter_arm(arm_id)
            self._previous_session, self._served_session = self._served_session, st.session_index
            return st
        self._close_session()
        return None

    def open_media(self, st: Stimulus) -> CaseMedia:
        c = self.cases[st.case_id]
        presentation = st.presentation if not st.practice else self._practice_presentation()
        path = None
        if c.clip_id is not None:
            with unit_of_work(self.db) as s:
                found = rows.clip_media(s, [c.clip_id]).get(c.clip_id)
            path = found.path if found else None
        return load_media(path, presentation, c.span)

    def _practice_presentation(self) -> str:
        first = self.arms[self.steps[0][2]] if self.steps else None
        return first.presentation if first else "audiovisual"

    def _drop_media(self) -> None:
        if self.media is not None:
            self.media.close()
            self.media = None

    def wait_before(self, st: Stimulus, now: datetime | None = None) -> float:
        """Seconds the reader must pause before ``st``: the study's break when this sitting moves on to a
        new session, and what is left of the washout when ``st`` opens an arm the reader has not answered
        in yet, counted from their last answer in another arm (also across sittings)."""
        if st.practice:
            return 0.0
        wait = 0.0
        moved_on = self._previous_session is not None and self._previous_session != st.session_index
        if moved_on and self.answered_this_sitting:
            wait = self.study.break_s
        if self.study.washout_s > 0:
            done = self.answered()
            if not any(a == st.arm_id for a, _ in done):
                with unit_of_work(self.db) as s:
                    last = [
                        rows.last_answer_in_arm(s, self.reader_id, a) for a in self.arms if a != st.arm_id
                    ]
                last = [t for t in last if t is not None]
                if last:
                    since = ((now or utcnow()) - max(last)).total_seconds()
                    wait = max(wait, self.study.washout_s - since)
        return max(0.0, wait)

    def _stimulus(self, si: int, pos: int, arm_id: int, case_id: int) -> Stimulus:
        arm, case = self.arms[arm_id], self.cases[case_id]
        help_ = None
        if arm.assistance == "model" and case.clip_id is not None:
            with unit_of_work(self.db) as s:
                pred = rows.model_predictions(s, arm.model_version_id, [case.clip_id]).get(case.clip_id)
                model = rows.model_version_name(s, arm.model_version_id) if pred else None
            if pred is not None:
                help_ = Assistance(pred[0], pred[1], model or "")
        return Stimulus(
            reader=self.reader, position=pos + 1, total=self.per_session[si], session_index=si + 1,
            n_sessions=self.n_sessions, presentation=arm.presentation,
            case_key=case_key(self.study_id, case_id, self.study.seed), span=case.span,
            labels=self.labels, assistance=help_, arm_id=arm_id, case_id=case_id,
        )  # fmt: skip

    def _enter_arm(self, arm_id: int) -> None:
        """A new arm: a new session row (the previous one ends)."""
        if self._session_arm == arm_id or self.preview:
            return
        with unit_of_work(self.db, write=True) as s:
            if self.session_row is not None:
                rows.close_session(s, self.session_row, utcnow())
            self.session_row = rows.open_session(s, self.reader_id, arm_id, utcnow())
        self._session_arm = arm_id

    def _close_session(self) -> None:
        self._drop_media()
        if self.session_row is None:
            return
        with unit_of_work(self.db, write=True) as s:
            rows.close_session(s, self.session_row, utcnow())
        self.session_row, self._session_arm = None, None

    def close(self) -> None:
        """End the sitting: every answer given is already stored."""
        self._close_session()

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
    ) -> int | None:
        """Commit one answer (durable when this returns); returns the response id (None for practice)."""
        check_answer(self.labels, label, confidence, time_ms)
        if stimulus.practice:
            return None
        if self.preview:
            raise StudyError("a preview of the reader's screen takes no answers")
        with unit_of_work(self.db, write=True) as s:
            rid = rows.insert_response(
                s,
                study_id=self.study_id, arm_id=stimulus.arm_id, case_id=stimulus.case_id,
                reader_id=self.reader_id, session_id=self.session_row, label=label,
                confidence=None if confidence is None else int(confidence), note=(note or None),
                time_ms=None if time_ms is None else float(time_ms), plays=int(plays),
                answered_at=answered_at or utcnow(),
            )  # fmt: skip
        if rid is None:
            raise StudyError(f"{self.reader} has already answered this case; answers are final")
        self.answered_this_sitting += 1
        return rid


def check_answer(
    labels: tuple[str, ...], label: str, confidence: float | None, time_ms: float | None
) -> None:
    """What every answer must be, live or imported."""
    if label not in labels:
        raise StudyError(f"{label!r} is not one of this study's labels: {', '.join(labels)}")
    if confidence is not None and not (np.isfinite(confidence) and 0 <= confidence <= 100):
        raise StudyError(f"confidence must be 0-100, not {confidence}")
    if time_ms is not None and not (np.isfinite(time_ms) and time_ms >= 0):
        raise StudyError(f"time_ms must be a time in milliseconds, 0 or more, not {time_ms}")


def _span(c: CaseRecord) -> tuple[float, float] | None:
    return None if c.start_ms is None else (c.start_ms / 1000.0, c.end_ms / 1000.0)
