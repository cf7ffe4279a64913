"""The reader session as a kiosk: full screen on its own, every other window of the application hidden
(not just disabled) while it runs, and nothing on it but the case screen (app/qt/reader_mode.py) and
the pages around it: an audio check (a tone the reader confirms; none when every arm is video-only),
breaks between sessions (the study's break, or what is left of its washout between arms), pause (Esc
asks: resume or quit) and the end.

Quitting keeps every answer: each is committed when given; the case on screen stays unanswered and is
served first next time. The reader is fixed by whoever starts the kiosk; nothing on it changes who.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from affectscope.app.qt.audio_output import AudioOutput, audio_device_available
from affectscope.app.qt.clock import QtClock
from affectscope.app.qt.reader_mode import ReaderView
from affectscope.app.services.reading import ReadingSession
from affectscope.media import Audio

TONE_HZ = 440.0
TONE_S = 1.5


def check_tone(rate: int = 44100) -> Audio:
    """A soft 440 Hz tone with 50 ms fades (no clicks) for the audio check."""
    t = np.arange(int(TONE_S * rate)) / rate
    ramp = np.clip(np.minimum(t, TONE_S - t) / 0.05, 0, 1)
    return Audio((0.25 * ramp * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32), rate, 0.0)


def _page(title: str, text: str, *buttons: QPushButton) -> tuple[QWidget, QLabel]:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addStretch(1)
    head = QLabel(title)
    head.setAlignment(Qt.AlignmentFlag.AlignCenter)
    head.setStyleSheet("font-size: 28px; font-weight: bold;")
    body = QLabel(text)
    body.setAlignment(Qt.AlignmentFlag.AlignCenter)
    body.setWordWrap(True)
    body.setStyleSheet("font-size: 17px;")
    layout.addWidget(head)
    layout.addWidget(body)
    for b in buttons:
        b.setMinimumHeight(40)
        b.setMinimumWidth(260)
        layout.addWidget(b, 0, Qt.AlignmentFlag.AlignCenter)
    layout.addStretch(2)
    return page, body


class ReaderKiosk(QWidget):
    """The whole screen of a reading session. ``closed`` when the reader quits or is done."""

    closed = Signal()

    def __init__(
        self, session: ReadingSession, audio_check: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Affectscope reader session")
        self.session = session
        self._hidden: list[QWidget] = []
        self._left = 0.0
        self.heard_tone: bool | None = None
        self.clock = QtClock(self)
        self.tone_out = AudioOutput(self.clock, self)

        self.play_tone = QPushButton("Play the tone again")
        self.play_tone.clicked.connect(self._play_tone)
        self.hear_yes = QPushButton("I hear it clearly - start")
        self.hear_yes.clicked.connect(lambda: self._tone_answer(True))
        self.hear_no = QPushButton("I do not hear it")
        self.hear_no.clicked.connect(lambda: self._tone_answer(False))
        self.check_page, self.check_text = _page(
            "Audio check",
            "A tone plays now. Set the volume so that you hear it clearly, then confirm.",
            self.play_tone, self.hear_yes, self.hear_no,
        )  # fmt: skip
        self.continue_button = QPushButton("Continue")
        self.continue_button.clicked.connect(self._end_break)
        self.break_page, self.break_text = _page("Break", "", self.continue_button)
        self.resume_button = QPushButton("Resume  (Esc)")
        self.resume_button.clicked.connect(self.resume)
        self.quit_button = QPushButton("Quit - every answer so far is saved")
        self.quit_button.clicked.connect(self.quit_session)
        self.pause_page, _ = _page(
            "Paused", "The timer is stopped. Resume, or quit and come back later.",
            self.resume_button, self.quit_button,
        )  # fmt: skip
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.quit_session)
        self.done_page, self.done_text = _page("Done - thank you", "", self.close_button)

        self.view = ReaderView(session, start=False)
        self.view.break_due.connect(self._start_break)
        self.view.pause_asked.connect(self.pause)
        self.view.finished.connect(self._on_finished)
        self.pages = QStackedWidget()
        for w in (self.check_page, self.view, self.break_page, self.pause_page, self.done_page):
            self.pages.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(self.pages)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self._paused_from: QWidget | None = None
        silent = all(a.presentation == "video" for a in session.arms.values())  # nothing to hear
        if audio_check and not silent:
            self.pages.setCurrentWidget(self.check_page)
        else:
            self.begin()

    # -- showing ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Hide every other window of the application, then take the whole screen."""
        self._hidden = [
            w for w in QApplication.topLevelWidgets() if w is not self and w.isVisible() and w.isWindow()
        ]
        for w in self._hidden:
            w.hide()
        self.showFullScreen()
        self.activateWindow()
        if self.pages.currentWidget() is self.check_page:
            self._play_tone()

    def _restore(self) -> None:
        for w in self._hidden:
            w.show()
        self._hidden = []

    # -- audio check --------------------------------------------------------------------------------------
    @Slot()
    def _play_tone(self) -> None:
        tone = check_tone()
        self.tone_out.set_audio(tone)
        self.clock.set_duration(tone.duration)
        self.clock.seek(0.0)
        self.clock.play()
        if not audio_device_available():
            self.check_text.setText(
                "This computer has no sound output. Connect headphones or speakers and tell whoever runs "
                "the study before going on."
            )

    def _tone_answer(self, heard: bool) -> None:
        self.heard_tone = heard
        if heard:
            self.clock.pause()
            self.tone_out.set_audio(None)
            self.begin()
        else:
            self.check_text.setText(
                "Turn the volume up or check the headphones, then play the tone again. If you still hear "
                "nothing, tell whoever runs the study."
            )

    def begin(self) -> None:
        self.pages.setCurrentWidget(self.view)
        self.view.next_case()
        self.view.setFocus()

    # -- breaks -------------------------------------------------------------------------------------------
    @Slot(float)
    def _start_break(self, seconds: float) -> None:
        self._left = seconds
        self.pages.setCurrentWidget(self.break_page)
        self._tick()
        self._timer.start()

    def _tick(self) -> None:
        left = max(0.0, self._left)
        if left > 0:
            self._left -= self._timer.interval() / 1000.0
        done = left <= 0
        self.continue_button.setEnabled(done)
        if done:
            self._timer.stop()
            self.break_text.setText("The break is over. Continue when you are ready.")
        else:
            self.break_text.setText(
                f"Take a break before the next session: {_duration(left)} left. You may quit now and come "
                "back later; every answer is saved."
            )

    @Slot()
    def _end_break(self) -> None:
        if self._left > 0:
            return
        self.pages.setCurrentWidget(self.view)
        self.view.show_next()
        self.view.setFocus()

    # -- pause and quit -----------------------------------------------------------------------------------
    @Slot()
    def pause(self) -> None:
        if self.pages.currentWidget() is self.pause_page:
            return
        self._paused_from = self.pages.currentWidget()
        self.view.pause()
        self.pages.setCurrentWidget(self.pause_page)
        self.resume_button.setFocus()

    @Slot()
    def resume(self) -> None:
        self.pages.setCurrentWidget(self._paused_from or self.view)
        self.view.resume()

    @Slot()
    def quit_session(self) -> None:
        self.close()

    def _on_finished(self) -> None:
        answered, total = self.session.progress()
        skipped = len(self.session.skipped)
        text = f"You have answered {answered} of {total} cases."
        if skipped:
            text += f" {skipped} case(s) were skipped because their media could not be shown."
        self.done_text.setText(text)
        self.pages.setCurrentWidget(self.done_page)

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            if self.pages.currentWidget() is self.pause_page:
                self.resume()
            elif self.pages.currentWidget() is not self.done_page:
                self.pause()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self._timer.stop()
        self.clock.pause()
        self.tone_out.set_audio(None)
        self.view.close()
        self._restore()
        super().closeEvent(event)
        self.closed.emit()


def _duration(seconds: float) -> str:
    s = int(math.ceil(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
