"""Audio playback that drives the clock: the sound card is the master, as in media players.

When a default output device exists, playing at 1× hands the clip's decoded PCM (int16 mono), from the
playhead on, to a ``QAudioSink`` in pull mode (the sink reads a buffer on its own thread, so a busy
GUI thread cannot starve it: in push mode, fed by a 20 ms timer, every stall was a gap in the voice)
and installs itself as the clock's master: the position is the start position plus
what the server has played of the sink's stream (``services.heard_estimate``: from
``processedUSecs()``, what was handed over, and when). So the picture waits while the sound
server starts the stream (it took 1.5 s under load: the picture used to run ahead on the timer and,
at the clip's end, stopped the sound after its first half second) and holds through an underrun.
Once every sample was handed over the timer finishes the picture from there, and the sink is left to
drain what the server still holds instead of being cut. (PySide6 ≥ 6.8 reports ``QtAudio.State``,
which never equals ``QAudio.State``: comparing with the latter had left the device clock unused.)

The server's queue is 200 ms (``PULSE_LATENCY_MSEC``, unless the user set it). Qt asked PulseAudio
for 21 ms, which a starved machine underran: speech was lost or displaced (45-94 % of the voiced
sound, offsets to -102 ms, ``bench/bench_sound.py --starve``; CI once failed on it). bench_sound.py
measures all this through a PulseAudio null sink.

Any other speed mutes the audio (no resampling: a pitch-shifted or time-stretched voice misleads an
emotion judgement) and the clock falls back to its monotonic timer; so does a machine without an
audio device (``QMediaDevices.defaultAudioOutput().isNull()``), and a clip without audio.
``status`` / ``status_changed`` say which, for the transport.
"""

from __future__ import annotations

import os
import time

import numpy as np
from PySide6 import QtMultimedia
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QTimer, Signal, Slot
from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

from affectscope.app.qt.clock import QtClock
from affectscope.app.services.heard_estimate import HeardEstimate
from affectscope.media import Audio

DRAIN_MS = 900  # at the clip's end the server still holds up to this much: let it play out
STARTUP_S = 3.0  # a stream that has not started by then is given up as the clock (the timer takes over)
SERVER_QUEUE_MS = "200"  # libpulse reads PULSE_LATENCY_MSEC: Qt's 21 ms underran on a busy machine
State = getattr(QtMultimedia, "QtAudio", getattr(QtMultimedia, "QAudio", None)).State


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
        os.environ.setdefault("PULSE_LATENCY_MSEC", SERVER_QUEUE_MS)  # read as each stream connects
        self.audio: Audio | None = None
        self._pcm = b""
        self._sink: QAudioSink | None = None
        self._source: QBuffer | None = None  # what the sink reads: the PCM from the start position on
        self._start_pos = 0.0
        self._started = 0.0  # monotonic time of the sink's start
        self._heard = HeardEstimate(None)  # how much of the sink's stream has been heard
        self._draining: list[tuple[QAudioSink, QBuffer | None]] = []
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
            # Played to the end: what the server still buffers plays out; a pause or seek cuts at once.
            self._stop(drain=self.clock.position >= self.clock.duration - 1e-6)

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
        self._start_pos = audio.start_time + first / audio.rate
        source = QBuffer(self)
        source.setData(QByteArray(self._pcm[2 * first :]))
        source.open(QIODevice.OpenModeFlag.ReadOnly)
        self._source = source
        self._sink = QAudioSink(self.device, fmt, self)
        self._sink.start(source)
        self._started = time.monotonic()
        # What start() handed over at once is the server's first fill: queued, not yet heard.
        self._heard = HeardEstimate(self._sink.processedUSecs() / 1e6)
        self.clock.set_master(self.device_position)

    def device_position(self) -> float | None:
        """Media seconds of the sound the server has played (the clock's master), or None when the
        timer should drive: no sink, every sample played out, or a stream that never started."""
        sink = self._sink
        if sink is None:
            return None
        state = sink.state()
        now = time.monotonic()
        played = self._heard.update(sink.processedUSecs() / 1e6, now)
        if state == State.ActiveState:
            if played == 0.0 and now - self._started > STARTUP_S:
                return None
            return self._start_pos + played
        if state == State.IdleState and self._source is not None and not self._source.atEnd():
            return self._start_pos + played  # an underrun mid-clip: hold until the feed catches up
        return None

    def _stop(self, drain: bool = False) -> None:
        if self._sink is not None:
            self.clock.set_master(None)
            sink, source = self._sink, self._source
            self._sink, self._source = None, None
            if drain:
                self._draining.append((sink, source))
                QTimer.singleShot(DRAIN_MS, lambda: self._drained(sink))
            else:
                self._finish(sink, source)
        if not drain:
            while self._draining:  # a new play or a seek: nothing of the old sound goes on
                self._finish(*self._draining.pop())

    def _drained(self, sink: QAudioSink) -> None:
        for pair in list(self._draining):
            if pair[0] is sink:
                self._draining.remove(pair)
                self._finish(*pair)

    @staticmethod
    def _finish(sink: QAudioSink, source: QBuffer | None) -> None:
        sink.stop()
        sink.deleteLater()
        if source is not None:
            source.close()
            source.deleteLater()
