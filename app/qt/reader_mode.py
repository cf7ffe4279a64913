"""Reader mode: one case at a time, blinded, timed. A window of its own with nothing but the stimulus,
play/replay, the response controls and "case 12 of 60".

Blinding is structural: the view is built from a ``ReadingSession`` and the ``Stimulus`` it serves,
which carry no truth, no other answers and no browser; it holds no project, main window or clip list to
navigate with. Audio-only hides the picture (no frame view exists in the layout's visible part); video-only
never hands audio to the output. The model's answer is shown only when the stimulus carries one
(model-assisted arms). Time to answer runs from stimulus onset (first play) on ``time.monotonic``.
Every answer is committed by ``ReadingSession.answer`` before the next case appears.
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
from affectscope.app.services.studies import ReadingSession, Stimulus
from affectscope.errors import UserFacingError

PRESENTATION_TEXT = {"audio": "Listen", "video": "Watch (no sound)", "audiovisual": "Watch and listen"}


class ReaderView(QWidget):
    """The whole reading screen. ``answered(response_id)`` after each commit; ``finished`` at the end."""

    answered = Signal(int)
    finished = Signal()
    case_shown = Signal(int, int)  # position, total

    def __init__(self, session: ReadingSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(f"Affectscope reader mode - {session.reader}")
        self.stimulus: Stimulus | None = None
        self.onset: float | None = None
        self.plays = 0
        self.audio_loaded = False
        self._video = None
        self._range = (0.0, 0.0)
        self.clock = QtClock(self)
        self.audio_out = AudioOutput(self.clock, self)
        self.clock.position_changed.connect(self._on_position)

        self.progress = QLabel()
        self.progress.setObjectName("progress")
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.mode = QLabel()
        self.mode.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.frame = FrameView()
        self.listen = QLabel("Audio only: listen")
        self.listen.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.listen.setStyleSheet("font-size: 22px; color: #555;")
        self.no_media = QLabel("This case has no media in this project")
        self.no_media.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stage = QStackedWidget()
        for w in (self.frame, self.listen, self.no_media):
            self.stage.addWidget(w)
        self.stage.setMinimumSize(480, 300)
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.replay)
        self.assist = QLabel()
        self.assist.setObjectName("assistance")
        self.assist.setStyleSheet("background: #eef3ff; padding: 4px;")

        self.choices = QButtonGroup(self)
        self.choices.setExclusive(True)
        choice_row = QHBoxLayout()
        for i, label in enumerate(session.labels):
            b = QPushButton(f"{i + 1}  {label}" if i < 9 else label)
            b.setCheckable(True)
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
        self.note.returnPressed.connect(self.submit_answer)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.next_case()

    # -- cases -----------------------------------------------------------------------------------------
    def next_case(self) -> None:
        self._unload()
        self.stimulus = self.session.next_stimulus()
        if self.stimulus is None:
            self.progress.setText("Done - thank you")
            for w in (self.stage, self.play_button, self.assist, self.submit, self.note, self.confidence):
                w.setEnabled(False)
            self.finished.emit()
            return
        st = self.stimulus
        self.progress.setText(
            f"Session {st.session_index} of {st.n_sessions} \N{MIDDLE DOT} case {st.position} of {st.total}"
        )
        self.mode.setText(PRESENTATION_TEXT[st.presentation])
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
        self._load(st)
        self.plays = 0
        self.onset = None
        self.replay()
        self.case_shown.emit(st.position, st.total)

    def _load(self, st: Stimulus) -> None:
        if st.media_path is None:
            self.stage.setCurrentWidget(self.no_media)
            return
        from affectscope.media import VideoReader, load_audio
        from affectscope.media.audio import NoAudioError

        self.stage.setCurrentWidget(self.listen if st.presentation == "audio" else self.frame)
        duration = 0.0
        if st.presentation != "audio":
            self._video = VideoReader(st.media_path)
            duration = float(self._video.info.duration)
        if st.presentation != "video":  # video-only plays no sound: its audio is never decoded
            try:
                audio = load_audio(st.media_path)
                self.audio_out.set_audio(audio)
                self.audio_loaded = True
                duration = max(duration, audio.duration)
            except NoAudioError:
                self.status.setText("this clip has no sound")
        start, end = st.span if st.span else (0.0, duration)
        self._range = (start, end)
        self.clock.set_duration(end)

    def _unload(self) -> None:
        self.clock.pause()
        self.audio_out.set_audio(None)
        self.audio_loaded = False
        if self._video is not None:
            self._video.close()
            self._video = None
        self.frame.clear("")

    @Slot()
    def replay(self) -> None:
        """Play (first time: the stimulus onset) or replay from the start of the case."""
        if self.stimulus is None:
            return
        if self.onset is None:
            self.onset = time.monotonic()
        self.plays += 1
        self.play_button.setText("Replay (R)")
        if self.stimulus.media_path is None:
            return
        self.clock.seek(self._range[0])
        self._on_position(self._range[0])
        self.clock.play()

    @Slot(float)
    def _on_position(self, t: float) -> None:
        if t >= self._range[1] and self.clock.playing:
            self.clock.pause()
        if self._video is not None:
            try:
                _, rgb = self._video.frame_at(min(t, self._range[1] - 1e-3))
                self.frame.set_frame(rgb, 0, t)
            except UserFacingError:
                pass

    # -- answers ---------------------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        b = self.choices.button(index)
        if b is not None and b.isEnabled():
            b.setChecked(True)

    @Slot()
    def submit_answer(self) -> None:
        if self.stimulus is None:
            return
        choice = self.choices.checkedId()
        if choice < 0:
            self.status.setText("choose a label first (keys 1-9)")
            return
        elapsed = (time.monotonic() - (self.onset or time.monotonic())) * 1000.0
        try:
            rid = self.session.answer(
                self.stimulus,
                self.session.labels[choice],
                confidence=self.confidence.value(),
                note=self.note.text().strip() or None,
                time_ms=elapsed,
                plays=self.plays,
            )
        except UserFacingError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("saved")
        self.answered.emit(rid)
        self.next_case()

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        """Keys 1-9 choose a label, Return answers, R replays (the note field keeps its own typing)."""
        key, text = event.key(), event.text()
        if text.isdigit() and text != "0" and int(text) <= min(9, len(self.session.labels)):
            self.choose(int(text) - 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit_answer()
        elif key == Qt.Key.Key_R:
            self.replay()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self._unload()
        super().closeEvent(event)
