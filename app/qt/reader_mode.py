"""Reader mode's case screen: one case at a time, blinded, timed: the stimulus, play/replay, the answer
keys, confidence, a note and "case 12 of 60" (no truth). The kiosk around it (app/qt/reader_kiosk.py)
adds full screen, the audio check, breaks and pause.

Blinding is structural: the view is built from a ``ReadingSession`` and the ``Stimulus`` and ``CaseMedia``
it serves, which carry no truth, no other answers, no browser, and no file name or path (an opaque case
key instead); it holds no project, main window or clip list to navigate with. Audio-only hides the
picture; video-only never decodes the sound. The model's answer is shown only when the stimulus carries
one (model-assisted arms). A case whose media cannot be opened is skipped and said so, never shown blank.
Time to answer runs from stimulus onset (first play) on ``time.monotonic``, less any time paused. Every
answer is committed by ``ReadingSession.answer`` before the next case appears; practice answers are not.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.audio_output import AudioOutput
from affectscope.app.qt.clock import QtClock
from affectscope.app.qt.frame_view import FrameView
from affectscope.app.services.reading import CaseMedia, ReadingSession, Stimulus
from affectscope.errors import UserFacingError

PRESENTATION_TEXT = {"audio": "Listen", "video": "Watch (no sound)", "audiovisual": "Watch and listen"}


class ReaderView(QWidget):
    """The case screen. ``answered(response_id)`` after each commit (0 for a practice case);
    ``break_due(seconds)`` when the next case must wait (the kiosk shows the break, then calls
    ``show_next``); ``pause_asked`` on Esc; ``finished`` when nothing is left."""

    answered = Signal(int)
    finished = Signal()
    case_shown = Signal(int, int)  # position, total
    break_due = Signal(float)
    pause_asked = Signal()

    def __init__(self, session: ReadingSession, parent: QWidget | None = None, start: bool = True) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Affectscope reader mode")
        self.stimulus: Stimulus | None = None
        self.media: CaseMedia | None = None
        self.onset: float | None = None
        self.paused_at: float | None = None
        self.paused_s = 0.0
        self.plays = 0
        self.audio_loaded = False
        self._pending: Stimulus | None = None
        self._practice = session.practice_stimuli()
        self.clock = QtClock(self)
        self.audio_out = AudioOutput(self.clock, self)
        self.clock.position_changed.connect(self._on_position)

        self.progress = QLabel()
        self.progress.setObjectName("progress")
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.mode = QLabel()
        self.mode.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mode.setStyleSheet("font-size: 16px;")
        self.frame = FrameView()
        self.listen = QLabel("Audio only: listen")
        self.listen.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.listen.setStyleSheet("font-size: 22px; color: #555;")
        self.no_media = QLabel("This case has no media in this project")
        self.no_media.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stage = QStackedWidget()
        for w in (self.frame, self.listen, self.no_media):
            self.stage.addWidget(w)
        self.stage.setMinimumSize(320, 200)
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.replay)
        self.assist = QLabel()
        self.assist.setObjectName("assistance")
        self.assist.setStyleSheet("background: #eef3ff; padding: 4px; font-size: 15px;")

        self.choices = QButtonGroup(self)
        self.choices.setExclusive(True)
        choice_row = QHBoxLayout()
        for i, label in enumerate(session.labels):
            b = QPushButton(f"{i + 1}  {label}" if i < 9 else label)
            b.setCheckable(True)
            b.setMinimumHeight(36)
            self.choices.addButton(b, i)
            choice_row.addWidget(b)
        self.confidence = QSlider(Qt.Orientation.Horizontal)
        self.confidence.setRange(0, 100)
        self.confidence.setValue(50)
        self.confidence_text = QLabel("confidence 50")
        self.confidence.valueChanged.connect(lambda v: self.confidence_text.setText(f"confidence {v}"))
        self.note = QLineEdit()
        self.note.setPlaceholderText("note (optional)")
        self.submit = QPushButton("Answer  \N{RETURN SYMBOL}")
        self.submit.clicked.connect(self.submit_answer)
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        hint = QLabel("keys 1-9 choose · Return answers · R replays · Esc pauses")
        hint.setStyleSheet("color: #777;")

        conf_row = QHBoxLayout()
        conf_row.addWidget(QLabel("sure?"))
        conf_row.addWidget(self.confidence, 1)
        conf_row.addWidget(self.confidence_text)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.mode)
        layout.addWidget(self.stage, 1)
        layout.addWidget(self.play_button)
        layout.addWidget(self.assist)
        layout.addLayout(choice_row)
        layout.addLayout(conf_row)
        layout.addWidget(self.note)
        layout.addWidget(self.submit)
        layout.addWidget(self.status)
        layout.addWidget(hint, 0, Qt.AlignmentFlag.AlignRight)
        self.note.returnPressed.connect(self.submit_answer)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        if start:
            self.next_case()

    # -- cases -----------------------------------------------------------------------------------------
    def next_case(self) -> None:
        """Serve the next case: practice first, then the order; a due break is asked for first."""
        self._unload()
        n_skipped = len(self.session.skipped)
        if self._practice:
            st = self._practice.pop(0)
            try:
                self.media = self.session.open_media(st)
            except UserFacingError as exc:
                self.status.setText(f"practice case skipped: {exc}")
                self.next_case()
                return
        else:
            st = self.session.next_stimulus(load=True)
            self.media = self.session.media
        skipped = self.session.skipped[n_skipped:]
        if skipped:  # visible, never answered blind: the case stays unanswered
            self.status.setText(
                f"{len(skipped)} case(s) skipped: {skipped[-1].reason}. They stay unanswered; "
                "tell whoever runs the study."
            )
        if st is None:
            self.stimulus = None
            self.progress.setText("Done - thank you")
            for w in (self.stage, self.play_button, self.assist, self.submit, self.note, self.confidence):
                w.setEnabled(False)
            self.finished.emit()
            return
        wait = self.session.wait_before(st)
        if wait > 0:
            self._pending = st
            self.stimulus = None
            self.break_due.emit(wait)
            return
        self._show(st)

    @Slot()
    def show_next(self) -> None:
        """After a break: show the case that waited for it."""
        if self._pending is not None:
            st, self._pending = self._pending, None
            self._show(st)

    def _show(self, st: Stimulus) -> None:
        self.stimulus = st
        if st.practice:
            self.progress.setText(f"Practice case {st.position} of {st.total} - not scored")
        else:
            self.progress.setText(
                f"Session {st.session_index} of {st.n_sessions} \N{MIDDLE DOT} case {st.position} of "
                f"{st.total}"
            )
        self.mode.setText(PRESENTATION_TEXT[st.presentation] if not st.practice else "Practice")
        self.choices.setExclusive(False)
        for b in self.choices.buttons():
            b.setChecked(False)
        self.choices.setExclusive(True)
        self.confidence.setValue(50)
        self.note.clear()
        self.assist.setVisible(st.assistance is not None)
        if st.assistance is not None:
            a = st.assistance
            self.assist.setText(f"Model ({a.model}) says: {a.label}  ({a.confidence * 100:.0f} % sure)")
        else:
            self.assist.clear()
        self._load()
        self.plays = 0
        self.onset = None
        self.paused_s = 0.0
        self.replay()
        self.case_shown.emit(st.position, st.total)

    def _load(self) -> None:
        m = self.media
        if m is None:
            self.stage.setCurrentWidget(self.no_media)
            return
        self.stage.setCurrentWidget(self.frame if m.has_picture else self.listen)
        if m.audio is not None:
            self.audio_out.set_audio(m.audio)
            self.audio_loaded = True
        self.clock.set_duration(m.range[1])

    def _unload(self) -> None:
        self.clock.pause()
        self.audio_out.set_audio(None)
        self.audio_loaded = False
        if self.media is not None and self.media is not self.session.media:
            self.media.close()  # a practice case's media (the session closes its own)
        self.media = None
        self.frame.clear("")

    @Slot()
    def replay(self) -> None:
        """Play (first time: the stimulus onset) or replay from the start of the case."""
        if self.stimulus is None or self.paused_at is not None:
            return
        if self.onset is None:
            self.onset = time.monotonic()
        self.plays += 1
        self.play_button.setText("Replay (R)")
        if self.media is None:
            return
        self.clock.seek(self.media.range[0])
        self._on_position(self.media.range[0])
        self.clock.play()

    @Slot(float)
    def _on_position(self, t: float) -> None:
        if self.media is None:
            return
        if t >= self.media.range[1] and self.clock.playing:
            self.clock.pause()
        if self.media.has_picture:
            try:
                rgb = self.media.frame_at(t)
                if rgb is not None:
                    self.frame.set_frame(rgb, 0, t)
            except UserFacingError:
                pass

    # -- pause ---------------------------------------------------------------------------------------------
    def pause(self) -> None:
        """Stop the sound and the answer timer (a pause does not count as time to answer)."""
        if self.paused_at is None:
            self.paused_at = time.monotonic()
            self.clock.pause()

    def resume(self) -> None:
        if self.paused_at is not None:
            self.paused_s += time.monotonic() - self.paused_at
            self.paused_at = None
        self.setFocus()

    # -- answers ---------------------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        b = self.choices.button(index)
        if b is not None and b.isEnabled():
            b.setChecked(True)

    @Slot()
    def submit_answer(self) -> None:
        if self.stimulus is None or self.paused_at is not None:
            return
        choice = self.choices.checkedId()
        if choice < 0:
            self.status.setText("choose a label first (keys 1-9)")
            return
        elapsed = (time.monotonic() - (self.onset or time.monotonic()) - self.paused_s) * 1000.0
        try:
            rid = self.session.answer(
                self.stimulus,
                self.session.labels[choice],
                confidence=self.confidence.value(),
                note=self.note.text().strip() or None,
                time_ms=max(0.0, elapsed),
                plays=self.plays,
            )
        except UserFacingError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("saved" if rid is not None else "practice answer (not scored)")
        self.answered.emit(rid or 0)
        self.next_case()

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        """Keys 1-9 choose a label, Return answers, R replays, Esc asks to pause (the note field keeps
        its own typing)."""
        key, text = event.key(), event.text()
        if key == Qt.Key.Key_Escape:
            self.pause_asked.emit()
        elif text.isdigit() and text != "0" and int(text) <= min(9, len(self.session.labels)):
            self.choose(int(text) - 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit_answer()
        elif key == Qt.Key.Key_R:
            self.replay()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self._unload()
        self.session.close()
        super().closeEvent(event)
