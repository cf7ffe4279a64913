"""Audio playback that drives the clock: the sound card is the master, as in media players.

When a default output device exists, playing at 1× streams the clip's decoded PCM (int16 mono) to a
``QAudioSink`` in push mode and installs itself as the clock's master: the position is the start
position plus ``processedUSecs()`` of the sink. Any other speed mutes the audio (no resampling: a
pitch-shifted or time-stretched voice misleads an emotion judgement) and the clock falls back to its
monotonic timer; so does a machine without an audio device (``QMediaDevices.defaultAudioOutput()
.isNull()``), and a clip without audio. ``status`` / ``status_changed`` say which, for the transport.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtMultimedia import QAudio, QAudioFormat, QAudioSink, QMediaDevices

from affectscope.app.qt.clock import QtClock
from affectscope.media import Audio

FEED_MS = 20


def audio_device_available() -> bool:
    return not QMediaDevices.defaultAudioOutput().isNull()


class AudioOutput(QObject):
    """Plays the current clip's audio in step with the clock (or explains why it does not)."""

    status_changed = Signal(str)

    def __init__(self, clock: QtClock, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.device = QMediaDevices.defaultAudioOutput()
        self.available = not self.device.isNull()
        self.audio: Audio | None = None
        self._pcm = b""
        self._sink: QAudioSink | None = None
        self._io = None
        self._offset = 0  # next byte of _pcm to push
        self._start_pos = 0.0
        self._feed = QTimer(self)
        self._feed.setInterval(FEED_MS)
        self._feed.timeout.connect(self._on_feed)
        self.status = ""
        clock.state_changed.connect(self._on_clock_changed)
        clock.seeked.connect(self._on_clock_changed)
        self._update_status()

    def set_audio(self, audio: Audio | None) -> None:
        self._stop()
        self.audio = audio
        if audio is not None and self.available:
            pcm = np.clip(np.asarray(audio.samples, dtype=np.float32).reshape(-1), -1, 1)
            self._pcm = (pcm * 32767).astype("<i2").tobytes()
        else:
            self._pcm = b""
        self._update_status()

    def close(self) -> None:
        self._stop()

    @property
    def active(self) -> bool:
        return self._sink is not None

    def _update_status(self) -> None:
        if self.audio is None:
            text = "Audio: no audio track"
        elif not self.available:
            text = "Audio: no output device (silent clock)"
        elif self.clock.rate != 1.0:
            text = f"Audio: muted at {self.clock.rate:g}× (plays at 1× only)"
        else:
            text = "Audio: on (device clock)"
        if text != self.status:
            self.status = text
            self.status_changed.emit(text)

    @Slot()
    def _on_clock_changed(self, *_args: object) -> None:
        self._update_status()
        should_play = (
            self.available and self.audio is not None and self.clock.playing and self.clock.rate == 1.0
        )
        if should_play:
            self._start(self.clock.position)  # (re)start from the clock's position after any seek
        else:
            self._stop()

    def _start(self, position: float) -> None:
        self._stop()
        audio = self.audio
        fmt = QAudioFormat()
        fmt.setSampleRate(int(audio.rate))
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not self.device.isFormatSupported(fmt):
            self.status = "Audio: the output device refuses this sample rate (silent clock)"
            self.status_changed.emit(self.status)
            return
        first = max(0, int(round((position - audio.start_time) * audio.rate)))
        self._offset = 2 * first
        self._start_pos = audio.start_time + first / audio.rate
        self._sink = QAudioSink(self.device, fmt, self)
        self._io = self._sink.start()
        self._on_feed()
        self._feed.start()
        sink, start = self._sink, self._start_pos
        self.clock.set_master(
            lambda: start + sink.processedUSecs() / 1e6 if sink.state() == QAudio.State.ActiveState else None
        )

    def _stop(self) -> None:
        self._feed.stop()
        if self._sink is not None:
            self.clock.set_master(None)
            self._sink.stop()
            self._sink.deleteLater()
            self._sink, self._io = None, None

    @Slot()
    def _on_feed(self) -> None:
        if self._sink is None or self._io is None:
            return
        free = self._sink.bytesFree()
        if free <= 0 or self._offset >= len(self._pcm):
            return
        chunk = self._pcm[self._offset : self._offset + (free // 2) * 2]
        written = self._io.write(chunk)
        if written > 0:
            self._offset += written
