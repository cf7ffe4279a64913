"""Waveform redraw time on the real widget, offscreen: the min/max pyramid over 2 h of 48 kHz audio
against plotting the samples with pyqtgraph, measured in the same run.

Each step changes the visible range (zoom in/out by 2x around the centre, or pan by 10 %) and
repaints the lane synchronously; we report the median and 95th percentile per step. The baselines
cannot hold two hours (pyqtgraph keeps a float64 x array: 2.8 GB for 2 h at 48 kHz), so they run on
shorter audio: "naive" plots every sample (1 min), "pg peak" is pyqtgraph's own clip-to-view + peak
downsampling (10 min, the STACK.md recipe). Usage: python bench/bench_waveform.py [--hours 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from affectscope.app.qt.clock import QtClock  # noqa: E402
from affectscope.app.qt.timeline import TimelineView  # noqa: E402
from affectscope.app.qt.waveform_lane import WaveformLane  # noqa: E402
from affectscope.media.waveform import WaveformEnvelope  # noqa: E402

RATE = 48000


def signal(seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like bursts: noise under a slow random envelope (float32)."""
    n = int(seconds * RATE)
    rng = np.random.default_rng(seed)
    out = rng.standard_normal(n, dtype=np.float32)
    env = np.repeat(rng.random(n // 4800 + 1, dtype=np.float32), 4800)[:n]
    out *= env * 0.3
    return out


def steps(duration: float) -> list[tuple[float, float]]:
    """Zoom in 2x eight times around the middle, pan 10 % twenty times, zoom back out."""
    ranges, c, w = [], duration / 2, duration
    ranges.append((0.0, duration))
    for _ in range(8):
        w /= 2
        ranges.append((c - w / 2, c + w / 2))
    for k in range(1, 21):
        x0 = c - w / 2 + (0.1 * w) * k * (1 if k % 2 else -1) * 0.5
        ranges.append((x0, x0 + w))
    for _ in range(8):
        w *= 2
        ranges.append((max(0.0, c - w / 2), min(duration, c + w / 2)))
    return ranges


def run(view: TimelineView, lane_name: str, duration: float) -> list[float]:
    widget = view.lane(lane_name).widget
    times = []
    for t0, t1 in steps(duration):
        start = time.perf_counter()
        view.set_view_range(t0, t1)
        widget.viewport().repaint()
        times.append((time.perf_counter() - start) * 1000)
    return times


def make_view(duration: float) -> TimelineView:
    clock = QtClock()
    view = TimelineView(clock)
    view.resize(1400, 260)
    view.show()
    clock.set_duration(duration)
    return view


def pyramid(seconds: float) -> tuple[list[float], float]:
    x = signal(seconds)
    start = time.perf_counter()
    env = WaveformEnvelope(x, RATE)
    build = time.perf_counter() - start
    view = make_view(seconds)
    lane = WaveformLane()
    view.add_lane("Waveform", lane)
    view.set_duration(seconds)
    lane.set_envelope(env)
    QApplication.processEvents()
    out = run(view, "Waveform", seconds)
    view.close()
    return out, build


def pg_curve(seconds: float, downsample: bool) -> list[float]:
    y = signal(seconds)
    view = make_view(seconds)
    item = pg.PlotDataItem(pen=pg.mkPen((90, 180, 255)))
    if downsample:  # set after creation (pyqtgraph 0.14 raises on plot(..., clipToView=True))
        item.setClipToView(True)
        item.setDownsampling(auto=True, method="peak")
    view.add_lane("Waveform", item)
    view.set_duration(seconds)
    item.setData(np.arange(len(y), dtype=np.float64) / RATE, y)
    QApplication.processEvents()
    out = run(view, "Waveform", seconds)
    view.close()
    return out


def summary(name: str, seconds: float, ms: list[float]) -> float:
    med = statistics.median(ms)
    p95 = sorted(ms)[int(0.95 * (len(ms) - 1))]
    print(
        f"{name:<28} {seconds / 60:8.1f} min  median {med:8.2f} ms  p95 {p95:8.2f} ms  max {max(ms):8.2f} ms"
    )
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    args = parser.parse_args()
    QApplication.instance() or QApplication([])
    seconds = args.hours * 3600
    print(f"waveform redraw per zoom/pan step, 1400 px wide lane, {RATE} Hz, {len(steps(60))} steps each")
    pyr, build = pyramid(seconds)
    med_pyr = summary("pyramid (ours)", seconds, pyr)
    print(f"{'':<28} pyramid build once: {build:.2f} s for {seconds * RATE / 1e6:.0f} M samples")
    med_peak = summary("pg clipToView+peak", 600, pg_curve(600, True))
    med_naive = summary("naive full plot", 60, pg_curve(60, False))
    print(f"ratio naive(1 min) / pyramid({args.hours:g} h): {med_naive / med_pyr:8.1f}x")
    print(f"ratio pg peak(10 min) / pyramid({args.hours:g} h): {med_peak / med_pyr:8.1f}x")
    naive_2h = med_naive * seconds / 60 / 1000
    print(f"naive extrapolated to {args.hours:g} h (x{seconds / 60:.0f} samples): ~{naive_2h:.0f} s per step")


if __name__ == "__main__":
    main()
