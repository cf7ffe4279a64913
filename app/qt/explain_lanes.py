"""Timeline lanes for explanations: sound saliency, per-modality contribution, attention over time.

Added to the timeline once a clip's explainer is built (after a model run) and emptied, saying why,
when the clip changes: ``ExplainLanes.show(explainer, target, method)`` / ``clear(reason)``.

- "Sound saliency": the spectrogram saliency of every analysis window stitched over the clip
  (``models/explain/lanes.sound_saliency``, computed in a worker, filled in as windows arrive,
  the playhead's window first), placed directly under the "Spectrogram" lane with the same 0–8 kHz
  axis, so the heat sits under the sound it explains. A newer request (another class or method, a
  new clip) wins: older results are dropped, never drawn.
- "Modality contribution": one line per modality, its Shapley share of the fused probability of the
  clip's class in each window (a table lookup); a gap where the modality had no input.
- "Attention" (seeds 002, 003): last-layer attention over each window's time steps, 1 = uniform.

All are plot lanes of ``TimelineView``, so they share its x axis, zoom and playhead line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Signal

from affectscope.app.qt.lane_content import NotedLane, add_legend
from affectscope.app.qt.lane_controls import set_lane_order
from affectscope.app.qt.prediction_lanes import PALETTE

SOUND = "Sound saliency"
CONTRIBUTION = "Modality contribution"
ATTENTION = "Attention"
MODALITY_COLOURS = {
    "face": "#42a5f5",
    "mouth": "#ef5350",
    "audio": "#66bb6a",
    "visual": "#ffa726",
    "skeleton": "#ab47bc",
    "pose": "#ab47bc",
    "scene": "#8d6e63",
    "laughter": "#ffd740",
    "caption": "#26c6da",
    "c3d": "#ec407a",
}


def modality_colour(name: str, i: int) -> str:
    return MODALITY_COLOURS.get(name, PALETTE[i % len(PALETTE)])


class SoundSaliencyLane(NotedLane):
    """A time–frequency heat map (jet; signed maps blue − / red +) on the spectrogram's axes."""

    def __init__(self) -> None:
        super().__init__()
        self.image = pg.ImageItem(axisOrder="col-major")
        self.map: Any = None  # the TimeFrequencyMap drawn
        # The window the Explain tab shows at the playhead, outlined on the lane.
        self.window = pg.LinearRegionItem(
            movable=False, brush=pg.mkBrush(255, 255, 255, 18), pen=pg.mkPen((255, 255, 255, 170), width=1)
        )
        self.window.setVisible(False)

    def _add_items(self, plot: pg.PlotItem) -> None:
        plot.addItem(self.image)
        plot.addItem(self.window, ignoreBounds=True)

    def _set_axes(self, plot: pg.PlotItem) -> None:
        plot.setYRange(0, 8000, padding=0)
        plot.getAxis("left").setTicks([[(0, "0"), (4000, "4k"), (8000, "8k Hz")]])

    def set_map(self, tf: Any, reason: str = "") -> None:
        """Draw ``tf`` (a ``TimeFrequencyMap``; None: empty) with ``reason`` over it when set."""
        from affectscope.models.explain.render import colourise

        self.map = tf
        if tf is None or not np.isfinite(tf.values).any():
            self.image.clear()
        else:
            rgba = (colourise(tf.values) * 255).astype(np.uint8)  # NaN (not used) is transparent
            self.image.setImage(rgba, autoLevels=False, levels=(0, 255))
            t0 = float(tf.times[0]) - tf.column_seconds / 2
            self.image.setRect(QRectF(t0, 0.0, len(tf.times) * tf.column_seconds, tf.max_freq))
            if self.plot is not None:
                self.plot.setYRange(0, tf.max_freq, padding=0)
        self.say(reason)

    def set_window(self, span: tuple[float, float] | None) -> None:
        """Outline the playhead's explained window (None hides it)."""
        self.window.setVisible(span is not None)
        if span is not None:
            self.window.setRegion(span)

    def window_span(self) -> tuple[float, float] | None:
        return tuple(float(v) for v in self.window.getRegion()) if self.window.isVisible() else None


class ModalityLinesLane(NotedLane):
    """One line per modality over time with a legend; NaN draws a gap (a missing modality)."""

    note_at_bottom = True  # a note in the middle would hide the lines around 0

    def __init__(self, modalities: tuple[str, ...], zero_line: bool = True) -> None:
        super().__init__()
        self.modalities = modalities
        self.curves = [
            pg.PlotDataItem(pen=pg.mkPen(modality_colour(m, i), width=1.8), connect="finite", name=m)
            for i, m in enumerate(modalities)
        ]
        self.zero = (
            pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen((150, 150, 150), width=1)) if zero_line else None
        )
        self.y_range = (-1.0, 1.0)

    def _add_items(self, plot: pg.PlotItem) -> None:
        add_legend(plot, len(self.curves))
        for c in self.curves:
            plot.addItem(c)
        if self.zero is not None:
            plot.addItem(self.zero, ignoreBounds=True)

    def _set_axes(self, plot: pg.PlotItem) -> None:
        self._set_y(*self.y_range)

    def set_data(self, times: np.ndarray, values: dict[str, np.ndarray] | None, reason: str = "") -> None:
        """``values[modality]`` (N,) at ``times``; None empties the lane and says ``reason``."""
        finite = []
        for m, curve in zip(self.modalities, self.curves, strict=True):
            v = None if values is None else values.get(m)
            if v is None or len(times) == 0:
                curve.setData([], [])
                continue
            curve.setData(np.asarray(times, float), np.asarray(v, float))
            finite.extend(np.asarray(v, float)[np.isfinite(v)].tolist())
        if finite:
            self._set_y(min(min(finite), 0.0), max(max(finite), 0.0))
        self.say(reason)

    def curve_data(self, modality: str) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.curves[self.modalities.index(modality)].getData()
        return (np.zeros(0), np.zeros(0)) if xs is None else (xs, ys)

    def _set_y(self, lo: float, hi: float) -> None:
        """Ticks at the data's ends (and 0); the range a little wider so their labels are not cut."""
        self.y_range = (lo, hi)
        if self.plot is not None:
            pad = 0.12 * ((hi - lo) or 1.0)
            self.plot.setYRange(lo - pad, hi + pad, padding=0)
            ticks = sorted({round(v, 3) for v in (lo, 0.0, hi)} if lo < 0 < hi else {lo, hi})
            self.plot.getAxis("left").setTicks([[(v, f"{v:.2g}") for v in ticks], []])


def place_under(timeline: Any, name: str, above: str) -> None:
    """Move lane ``name`` directly under lane ``above`` (when both are there)."""
    names = [lane.name for lane in timeline.lanes]
    if name not in names or above not in names:
        return
    names.remove(name)
    names.insert(names.index(above) + 1, name)
    set_lane_order(timeline, names)


def unused_reason(signals: Any, unused: int, total: int) -> str:
    """Why audio had no say in ``unused`` of ``total`` windows: no sound at all, or a closed mouth."""
    audio = None if signals is None else signals.tracks.get("audio")
    if audio is None or len(audio) == 0:
        why = getattr(audio, "reason", "") or "no audio track"
        return f"no sound to explain ({why})"
    return f"audio had no say in {unused} of {total} windows (mouth closed)"


class ExplainLanes(QObject):
    """The explanation lanes on the window's timeline and their worker jobs (newest request wins)."""

    sound_ready = Signal(object)  # the complete TimeFrequencyMap drawn
    attention_ready = Signal(object)  # the AttentionLane drawn (or None)

    def __init__(self, timeline: Any, workers: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timeline, self.workers = timeline, workers
        self.sound: SoundSaliencyLane | None = None
        self.contribution: ModalityLinesLane | None = None
        self.attention: ModalityLinesLane | None = None
        self.contribution_data: Any = None
        self.explainer_signals: Any = None  # the shown explainer's signals (why sound is missing)
        # Every request bumps its lane's generation; results of older ones are dropped, never drawn.
        self.generation = {SOUND: 0, ATTENTION: 0}
        self.dropped = 0
        self._handles: dict[str, Any] = {}

    def names(self) -> list[str]:
        """The explanation lanes now on the timeline."""
        return [n for n, lane in self._lanes().items() if lane is not None]

    def _lanes(self) -> dict[str, Any]:
        return {SOUND: self.sound, CONTRIBUTION: self.contribution, ATTENTION: self.attention}

    def _cancel(self, name: str) -> None:
        self.generation[name] += 1
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def clear(self, reason: str) -> None:
        """Empty every lane (a new clip, a new run), saying ``reason``; running jobs are dropped."""
        for name in self.generation:
            self._cancel(name)
        self.contribution_data = None
        if self.sound is not None:
            self.sound.set_map(None, reason)
            self.sound.set_window(None)
        for lane in (self.contribution, self.attention):
            if lane is not None:
                lane.set_data(np.zeros(0), None, reason)

    def show(self, explainer: Any, target: str | None = None, method: str = "gradcam") -> None:
        """Add the lanes ``explainer`` can fill (taking away the others) and fill them: the
        contribution now, sound saliency and attention in workers."""
        from affectscope.models.explain.saliency import spectrogram_inputs

        self.clear("computing…")
        self.explainer_signals = getattr(explainer, "signals", None)
        sound = explainer.is_system and bool(spectrogram_inputs(explainer.model))
        attention = type(explainer.model).__name__ in ("SkeletonFusionSystem", "CrossModalSystem")
        mods = tuple(explainer.modalities)
        if self.contribution is None or self.contribution.modalities != mods:
            self._remove(CONTRIBUTION)
            self.contribution = ModalityLinesLane(mods)
            self.timeline.add_lane(CONTRIBUTION, self.contribution)
        if not sound:
            self._remove(SOUND)
        elif self.sound is None:
            self.sound = SoundSaliencyLane()
            self.timeline.add_lane(SOUND, self.sound, height=80)
            place_under(self.timeline, SOUND, "Spectrogram")
        if not attention or (self.attention is not None and self.attention.modalities != mods):
            self._remove(ATTENTION)
        if attention and self.attention is None:
            self.attention = ModalityLinesLane(mods, zero_line=False)
            self.timeline.add_lane(ATTENTION, self.attention)
        self.show_contribution(explainer, target)
        self.request_sound(explainer, target, method)
        if attention:
            from affectscope.models.explain.lanes import attention as attention_job

            self._start(ATTENTION, attention_job, (explainer,), self._on_attention)

    def _remove(self, name: str) -> None:
        if self._lanes()[name] is None:
            return
        self.timeline.remove_lane(name)
        setattr(self, {SOUND: "sound", CONTRIBUTION: "contribution", ATTENTION: "attention"}[name], None)

    def show_contribution(self, explainer: Any, target: str | None) -> None:
        """The contribution lane for ``target`` (None: the clip's predicted class), a table lookup."""
        from affectscope.models.explain.lanes import contributions

        if self.contribution is None:
            return
        data = contributions(explainer, target)
        self.contribution_data = data
        values = {m: data.values[:, j] for j, m in enumerate(data.modalities)}
        missing = [m for m in data.modalities if not np.isfinite(values[m]).any()]
        self.contribution.set_data(
            data.times, values, f"no {', '.join(missing)} in this clip" if missing else ""
        )
        self.timeline.lane(CONTRIBUTION).label.setText(f"{CONTRIBUTION} to p({data.target})")

    def request_sound(self, explainer: Any, target: str | None, method: str) -> None:
        """(Re)compute the sound-saliency lane for this class and method; the playhead's window first."""
        from affectscope.models.explain.lanes import sound_saliency

        if self.sound is None:
            return
        self._cancel(SOUND)
        self.sound.set_map(self.sound.map, "computing…")
        near = float(self.timeline.clock.position)
        self._start(SOUND, sound_saliency, (explainer, target, method, near), self._on_sound)

    def _start(self, name: str, fn: Any, args: tuple, done: Any) -> None:
        generation = self.generation[name]
        self._handles[name] = self.workers.start(
            fn,
            args,
            title=name,
            on_finished=lambda r: done(generation, r, True),
            on_partial=lambda r: done(generation, r, False),
            on_failed=lambda exc: self._on_failed(name, generation, exc),
        )

    def _on_sound(self, generation: int, tf: Any, complete: bool) -> None:
        if generation != self.generation[SOUND] or self.sound is None or tf is None:
            self.dropped += 1
            return
        note = "" if complete else f"{tf.done}/{tf.total} windows…"
        if tf.unused:
            note += f" gaps: {unused_reason(self.explainer_signals, tf.unused, tf.total)}"
        self.sound.set_map(tf, note.strip())
        self.timeline.lane(SOUND).label.setText(f"{SOUND}: {tf.method}, p({tf.target})")
        if complete:
            self.sound_ready.emit(tf)

    def _on_attention(self, generation: int, att: Any, complete: bool) -> None:
        if generation != self.generation[ATTENTION] or self.attention is None:
            self.dropped += 1
            return
        if att is None:
            self.attention.set_data(np.zeros(0), None, "no attention over time in this system")
        else:
            missing = [
                m for m in self.attention.modalities if not np.isfinite(att.values.get(m, np.zeros(0))).any()
            ]
            self.attention.set_data(
                att.times, att.values, f"no attention for {', '.join(missing)}" if missing else ""
            )
            self.timeline.lane(ATTENTION).label.setToolTip(att.what)
        if complete:
            self.attention_ready.emit(att)

    def _on_failed(self, name: str, generation: int, exc: BaseException) -> None:
        if generation != self.generation[name]:
            return
        if name == SOUND and self.sound is not None:
            self.sound.set_map(None, f"failed: {exc}")
        elif name == ATTENTION and self.attention is not None:
            self.attention.set_data(np.zeros(0), None, f"failed: {exc}")
