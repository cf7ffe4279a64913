"""Transport controls: play/pause, frame and second steps, a position slider, a time field, speed.

All of them act on the clock (``QtClock``) and follow it back. The slider both shows and sets the
position, which invites an echo loop (position -> slider -> seek -> position ...): the slider's
value is set with its signals blocked, so only a user's move becomes a seek.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.clock import QtClock

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)
SLIDER_STEPS_PER_SECOND = 1000  # the slider holds milliseconds


def format_time(t: float) -> str:
    """``m:ss.mmm`` (``h:mm:ss.mmm`` past an hour)."""
    t = max(0.0, t)
    h, rest = divmod(t, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h)}:{int(m):02d}:{s:06.3f}" if h >= 1 else f"{int(m)}:{s:06.3f}"


def parse_time(text: str) -> float:
    """Seconds from ``12.5``, ``1:02.5`` or ``1:00:02``; ValueError with a readable message."""
    text = text.strip()
    if not re.fullmatch(r"(\d+:){0,2}\d+(\.\d*)?", text):
        raise ValueError(f"'{text}' is not a time: type seconds (12.5) or minutes:seconds (1:02.5)")
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


class Transport(QWidget):
    """Buttons, slider, time field and speed box bound to one clock."""

    step_requested = Signal(int)  # frames: +1 / -1
    error = Signal(str, str)  # title, message

    def __init__(self, clock: QtClock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        style = self.style()
        self.play_button = self._button(QStyle.StandardPixmap.SP_MediaPlay, "Play / pause (Space)")
        self.start_button = self._button(QStyle.StandardPixmap.SP_MediaSkipBackward, "Go to start (Home)")
        self.back_button = self._button(QStyle.StandardPixmap.SP_MediaSeekBackward, "Previous frame (←)")
        self.forward_button = self._button(QStyle.StandardPixmap.SP_MediaSeekForward, "Next frame (→)")
        self.end_button = self._button(QStyle.StandardPixmap.SP_MediaSkipForward, "Go to end (End)")
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setToolTip("Position: drag to seek")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.time_label = QLabel(format_time(0) + " / " + format_time(0), self)
        self.frame_label = QLabel("frame –", self)
        self.time_field = QLineEdit(self)
        self.time_field.setPlaceholderText("s or m:ss")  # the "Go to:" label says the rest
        self.time_field.setToolTip("Type a time and press Enter to jump there")
        # A fixed width: the box keeps its size whatever the labels around it say (issue 14, bug 5).
        self.time_field.setFixedWidth(self.fontMetrics().horizontalAdvance("00:00.000") + 36)
        self.time_field.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # never grabs the keys on its own
        self.speed_box = QComboBox(self)
        self.speed_box.setToolTip("Playback speed; audio plays only at 1×")
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.audio_label = QLabel("", self)
        self.audio_label.setObjectName("audioStatus")
        # Texts that change while the user works must not change the row's minimum width (which
        # narrowed the clip panel each time): fixed widths from the widest text, the audio note elides.
        fm = self.fontMetrics()
        self.time_label.setMinimumWidth(fm.horizontalAdvance("00:00.000 / 00:00.000") + 6)
        self.frame_label.setMinimumWidth(fm.horizontalAdvance("frame 00000/00000") + 6)
        self.audio_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.audio_label.setMinimumWidth(60)

        row = QHBoxLayout()
        row.setSpacing(4)
        for b in (
            self.start_button,
            self.back_button,
            self.play_button,
            self.forward_button,
            self.end_button,
        ):
            row.addWidget(b)
        row.addWidget(self.time_label)
        row.addWidget(self.frame_label)
        row.addStretch(1)
        row.addWidget(self.audio_label, 1)
        # Go to and Speed share the slider's row, so the transport's minimum width (and with it the
        # window's) stays small enough for a laptop screen.
        top = QHBoxLayout()
        top.addWidget(self.slider, 1)
        top.addWidget(QLabel("Go to:", self))
        top.addWidget(self.time_field)
        top.addWidget(QLabel("Speed:", self))
        top.addWidget(self.speed_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 2)
        layout.addLayout(top)
        layout.addLayout(row)

        self.play_button.clicked.connect(self._on_play_clicked)
        self.start_button.clicked.connect(self._on_start_clicked)
        self.end_button.clicked.connect(self._on_end_clicked)
        self.back_button.clicked.connect(self._on_back_clicked)
        self.forward_button.clicked.connect(self._on_forward_clicked)
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.time_field.returnPressed.connect(self._on_time_entered)
        self.speed_box.currentIndexChanged.connect(self._on_speed_changed)
        clock.position_changed.connect(self._on_position_changed)
        clock.state_changed.connect(self._on_state_changed)
        self._on_state_changed()

    def _button(self, icon: QStyle.StandardPixmap, tip: str) -> QToolButton:
        # Tool buttons, as media controls are: five push buttons took 34 px each, which with the rest
        # of the row left the clip list no room for its Label and Prediction columns at 1024 px.
        b = QToolButton(self)
        b.setIcon(self.style().standardIcon(icon))
        b.setToolTip(tip)
        # Buttons never take focus, so Space and arrows reach the window's shortcuts.
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return b

    def set_frame_text(self, index: int, n_frames: int) -> None:
        self.frame_label.setText(f"frame {index + 1}/{n_frames}" if index >= 0 else "frame –")

    # ---------------------------------------------------------------- clock -> view
    @Slot(float)
    def _on_position_changed(self, t: float) -> None:
        self.slider.blockSignals(True)  # the echo guard: showing the position is not a seek
        self.slider.setValue(int(round(t * SLIDER_STEPS_PER_SECOND)))
        self.slider.blockSignals(False)
        self.time_label.setText(f"{format_time(t)} / {format_time(self.clock.duration)}")

    @Slot()
    def _on_state_changed(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, int(round(self.clock.duration * SLIDER_STEPS_PER_SECOND)))
        self.slider.blockSignals(False)
        self.play_button.setIcon(self._pause_icon if self.clock.playing else self._play_icon)
        i = SPEEDS.index(self.clock.rate) if self.clock.rate in SPEEDS else -1
        if i >= 0 and i != self.speed_box.currentIndex():
            self.speed_box.blockSignals(True)
            self.speed_box.setCurrentIndex(i)
            self.speed_box.blockSignals(False)
        self._on_position_changed(self.clock.position)

    # ---------------------------------------------------------------- user -> clock
    @Slot(int)
    def _on_slider_changed(self, value: int) -> None:
        self.clock.seek(value / SLIDER_STEPS_PER_SECOND)

    @Slot()
    def _on_play_clicked(self) -> None:
        self.clock.toggle()

    @Slot()
    def _on_start_clicked(self) -> None:
        self.clock.seek(0.0)

    @Slot()
    def _on_end_clicked(self) -> None:
        self.step_requested.emit(10**9)  # the player turns "past the end" into the last frame

    @Slot()
    def _on_back_clicked(self) -> None:
        self.step_requested.emit(-1)

    @Slot()
    def _on_forward_clicked(self) -> None:
        self.step_requested.emit(1)

    @Slot()
    def _on_time_entered(self) -> None:
        try:
            t = parse_time(self.time_field.text())
        except ValueError as exc:
            self.error.emit("Not a time", str(exc))
            return
        if t > self.clock.duration:
            self.error.emit(
                "Past the end",
                f"{format_time(t)} is past the clip's end ({format_time(self.clock.duration)}).",
            )
            return
        self.clock.seek(t)
        self.time_field.clearFocus()  # hand the keys back to the window's shortcuts

    @Slot(int)
    def _on_speed_changed(self, index: int) -> None:
        self.clock.set_rate(float(self.speed_box.itemData(index)))
