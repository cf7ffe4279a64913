"""Soak the main window: thousands of random user actions from a fixed seed, watching for trouble.

A lab leaves the window open all day. This drives a real ``MainWindow`` the way a restless person would
(open clips, play, seek, step, label, mark spans, undo/redo, analyse, run the model, switch tabs, resize,
dismiss dialogs) and records what would end such a day early: exceptions that escape a slot, Qt's
warnings about threads and QObjects (a timer started from a worker, a child made across threads, a
thread destroyed while running), and memory that keeps growing (the RSS after every few actions).

The same driver serves the short CI test (tests/test_soak_gui.py, a few hundred actions) and the full
run (``affectscope soak --actions 20000 --out DIR``, which writes the RSS curve as CSV and PNG).
Analysing and running models are the heavy actions: they are a small share of the draw.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QThread, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

# Action name -> relative weight. Heavy ones (analyse, model) stay near 1 % of the draw each.
WEIGHTS: dict[str, float] = {
    "open": 6,
    "play": 8,
    "pause": 4,
    "seek": 12,
    "step": 12,
    "key": 8,  # transport keys through the window's shortcuts (Space, arrows, J/K/L, Home/End)
    "label": 8,
    "span": 4,
    "undo": 5,
    "redo": 3,
    "tab": 10,
    "resize": 5,
    "rate": 2,  # playback rate
    "dismiss": 3,  # close error dialogs, as a person would
    "idle": 6,
    "analyse": 1.2,
    "model": 1.2,
}
HEAVY = ("analyse", "model")
THREAD_WORDS = ("thread", "qobject")  # Qt's warnings about cross-thread use name one of these


def rss_bytes() -> int:
    """This process's resident set size (Linux /proc; ru_maxrss elsewhere, a peak not a level)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def wait_until(predicate: Callable[[], bool], timeout_ms: int) -> bool:
    """Process events until ``predicate()`` holds or ``timeout_ms`` passes; whether it held."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not predicate():
        if time.monotonic() > deadline:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        QThread.msleep(2)
    return True


def spin(ms: int) -> None:
    """Let the event loop run for ``ms`` milliseconds (timers, worker results, repaints)."""
    wait_until(lambda: False, ms)


@dataclass
class SoakReport:
    """What a soak run saw. ``rss`` rows are (action index, seconds since start, bytes)."""

    actions: int = 0
    seconds: float = 0.0
    counts: Counter = field(default_factory=Counter)
    rss: list[tuple[int, float, int]] = field(default_factory=list)
    qt_messages: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)  # heavy work that did not finish in its bound
    heavy: list[tuple[int, str]] = field(default_factory=list)  # (action index, name) of heavy actions

    @property
    def thread_warnings(self) -> list[str]:
        return [m for m in self.qt_messages if any(w in m.lower() for w in THREAD_WORDS)]

    def rss_mb(self, which: str) -> float:
        values = [r[2] for r in self.rss] or [0]
        picked = {"start": values[0], "end": values[-1], "max": max(values)}[which]
        return picked / 2**20

    def summary(self) -> dict:
        return {
            "actions": self.actions,
            "seconds": round(self.seconds, 1),
            "rss_start_mb": round(self.rss_mb("start"), 1),
            "rss_end_mb": round(self.rss_mb("end"), 1),
            "rss_max_mb": round(self.rss_mb("max"), 1),
            "exceptions": len(self.exceptions),
            "thread_warnings": len(self.thread_warnings),
            "qt_messages": len(self.qt_messages),
            "timeouts": len(self.timeouts),
            "counts": dict(sorted(self.counts.items())),
        }

    def write(self, out: Path) -> dict[str, Path]:
        """rss.csv (the curve), rss.png (its plot), messages.txt (Qt messages and exceptions)."""
        out.mkdir(parents=True, exist_ok=True)
        csv = out / "rss.csv"
        with csv.open("w") as f:
            f.write("action,seconds,rss_mb\n")
            for i, t, b in self.rss:
                f.write(f"{i},{t:.3f},{b / 2**20:.2f}\n")
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 4), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot([r[0] for r in self.rss], [r[2] / 2**20 for r in self.rss], lw=1, label="RSS")
        for name, colour in (("analyse", "tab:orange"), ("model", "tab:green")):
            xs = [i for i, n in self.heavy if n == name]
            if xs:  # where the heavy actions fell: steps in the curve usually sit on them
                ax.plot(
                    xs,
                    [0] * len(xs),
                    "|",
                    color=colour,
                    ms=12,
                    label=name,
                    transform=ax.get_xaxis_transform(),
                )
        ax.legend(loc="lower right")
        ax.set_xlabel("action")
        ax.set_ylabel("RSS (MiB)")
        ax.set_title(f"Soak: {self.actions} actions in {self.seconds / 60:.1f} min")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        png = out / "rss.png"
        fig.savefig(png)
        log = out / "messages.txt"
        lines = ["# Qt messages", *self.qt_messages, "# exceptions", *self.exceptions]
        log.write_text("\n".join(lines) + "\n")
        return {"csv": csv, "png": png, "messages": log}


class _Watch:
    """Collects Qt messages (a handler chained to the previous one) and exceptions that escape slots
    (PySide6 hands them to sys.excepthook; the previous hook still runs, so pytest-qt still sees them)."""

    def __init__(self, report: SoakReport) -> None:
        self.report = report

    def __enter__(self) -> _Watch:
        self._previous_handler = qInstallMessageHandler(self._on_message)
        self._previous_hook = sys.excepthook
        sys.excepthook = self._on_exception
        return self

    def __exit__(self, *exc: object) -> None:
        qInstallMessageHandler(self._previous_handler)
        sys.excepthook = self._previous_hook

    def _on_message(self, kind: QtMsgType, context: object, message: str) -> None:
        if kind != QtMsgType.QtDebugMsg:
            self.report.qt_messages.append(f"{kind.name}: {message}")
        if self._previous_handler is not None:
            self._previous_handler(kind, context, message)

    def _on_exception(self, kind: type, value: BaseException, tb: object) -> None:
        import traceback

        self.report.exceptions.append("".join(traceback.format_exception(kind, value, tb)))
        self._previous_hook(kind, value, tb)


class SoakDriver:
    """Random actions on ``window`` (a MainWindow) over ``clips``; ``run(n)`` returns a SoakReport.

    ``project`` (a folder) is opened for labelling first when given (created there if it is none yet).
    Heavy work is bounded by ``heavy_timeout_ms``: past it the job is cancelled and the overrun recorded,
    so the run never hangs.
    """

    def __init__(
        self,
        window,  # noqa: ANN001 - a MainWindow (imported lazily: it is heavy)
        clips: Sequence[Path],
        seed: int = 0,
        project: Path | None = None,
        heavy_timeout_ms: int = 60000,
        weights: dict[str, float] | None = None,
    ) -> None:
        if not clips:
            raise ValueError("the soak needs at least one clip")
        self.window = window
        self.clips = [Path(c) for c in clips]
        self.rng = random.Random(seed)
        self.project = project
        self.heavy_timeout_ms = heavy_timeout_ms
        weights = weights or WEIGHTS
        self.names = list(weights)
        self.weights = [weights[n] for n in self.names]
        self.report = SoakReport()
        self._started = False
        self._outcomes, self._outcomes_connected = 0, False

    # ------------------------------------------------------------------ run
    def run(
        self,
        n_actions: int,
        sample_every: int = 10,
        progress: Callable[[int, SoakReport], None] | None = None,
        weights_override: dict[str, float] | None = None,
        max_seconds: float | None = None,
    ) -> SoakReport:
        """``n_actions`` random actions; a fresh report each call (a warm-up run, then the measured one).
        ``weights_override`` replaces the draw's weights for this call (e.g. a warm-up of heavy actions);
        ``max_seconds`` stops early (the report says how many actions ran)."""
        report = self.report = SoakReport()
        names, weights = self.names, self.weights
        if weights_override is not None:
            names, weights = list(weights_override), list(weights_override.values())
        start = time.monotonic()
        with _Watch(report):
            self._start()
            report.rss.append((0, 0.0, rss_bytes()))
            for i in range(1, n_actions + 1):
                name = self.rng.choices(names, weights)[0]
                getattr(self, "_do_" + name)()
                if name in HEAVY:
                    report.heavy.append((i, name))
                report.counts[name] += 1
                report.actions = i
                spin(self.rng.choice((0, 1, 5, 20)))
                if i % sample_every == 0 or i == n_actions:
                    report.rss.append((i, time.monotonic() - start, rss_bytes()))
                    if progress is not None:
                        progress(i, report)
                if max_seconds is not None and time.monotonic() - start > max_seconds:
                    report.rss.append((i, time.monotonic() - start, rss_bytes()))
                    break
            self._settle()
        report.seconds = time.monotonic() - start
        return report

    def warm_up(self) -> None:
        """Open every clip, analyse it and run the model on it to the end: what stays loaded afterwards
        (torch, model weights, detectors, caches) is loaded, so later RSS growth means something."""
        with _Watch(self.report):
            self._start()
            for clip in self.clips:
                self._open(clip, wait=True)
                for panel, start in (
                    (self.window.perception, self.window.perception.analyse),
                    (self.window.models, self.window.models.run),
                ):
                    start()
                    wait_until(lambda p=panel: p.handle is None, self.heavy_timeout_ms)

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        w = self.window
        w.show()
        w.activateWindow()
        self._open(self.clips[0], wait=True)
        if self.project is not None:
            create = not (Path(self.project) / "affectscope.json").exists()
            w.session.open_project(self.project, create=create)
            wait_until(lambda: w.session.project is not None, 30000)

    def _settle(self) -> None:
        """End quietly: pause, cancel running jobs and wait for the workers to drain (bounded)."""
        w = self.window
        w.clock.pause()
        w.perception.cancel()
        w.models.cancel()
        if not wait_until(lambda: w.perception.handle is None and w.models.handle is None, 30000):
            self.report.timeouts.append("jobs still running 30 s after cancel at the end")
        self._do_dismiss()

    # ------------------------------------------------------------------ actions
    def _open(self, clip: Path, wait: bool) -> None:
        w = self.window
        if not self._outcomes_connected:  # the last load ends with one of these two signals
            w.current_clip_changed.connect(self._on_outcome)
            w.clip_failed.connect(self._on_outcome)
            self._outcomes_connected = True
        before = self._outcomes
        w.load_clip(clip)
        if wait and not wait_until(lambda: self._outcomes > before, 30000):
            self.report.timeouts.append(f"{clip.name} neither opened nor failed within 30 s")

    def _on_outcome(self, _path: str) -> None:
        self._outcomes += 1

    def _do_open(self) -> None:
        # Usually wait for the clip, sometimes not: a person clicking through the list mid-load.
        self._open(self.rng.choice(self.clips), wait=self.rng.random() < 0.7)

    def _do_play(self) -> None:
        self.window.clock.play()
        spin(self.rng.randint(10, 120))

    def _do_pause(self) -> None:
        self.window.clock.pause()

    def _duration(self) -> float:
        loaded = self.window.loaded
        return float(loaded.duration) if loaded is not None else 0.0

    def _do_seek(self) -> None:
        self.window.clock.seek(self.rng.uniform(0.0, max(self._duration(), 0.01)))

    def _do_step(self) -> None:
        player = self.window.player
        if self.rng.random() < 0.8:
            player.step(self.rng.choice((-1, 1, 1, 5)))
        else:
            player.step_seconds(self.rng.choice((-1.0, 1.0)))

    def _do_key(self) -> None:
        key, mods = self.rng.choice(
            [
                (Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier),
                (Qt.Key.Key_Home, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_End, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_J, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_K, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_L, Qt.KeyboardModifier.NoModifier),
            ]
        )
        QTest.keyClick(self.window, key, mods)

    def _do_label(self) -> None:
        self.window.labelling.key(self.rng.randint(1, 4))  # 4 may lie past the label set: a no-op

    def _do_span(self) -> None:
        panel, d = self.window.labelling, self._duration()
        a, b = sorted(self.rng.uniform(0.0, d) for _ in range(2))
        panel.mark_in(a)
        panel.mark_out(b)
        if self.rng.random() < 0.8:
            panel.key(self.rng.randint(1, 3))
        else:
            panel.clear_marks()

    def _do_undo(self) -> None:
        self.window.labelling.undo()

    def _do_redo(self) -> None:
        self.window.labelling.redo()

    def _do_tab(self) -> None:
        tabs = self.window.inspector
        tabs.setCurrentIndex(self.rng.randrange(tabs.count()))

    def _do_resize(self) -> None:
        self.window.resize(self.rng.randint(900, 1900), self.rng.randint(600, 1200))

    def _do_rate(self) -> None:
        self.window.clock.set_rate(self.rng.choice((0.5, 1.0, 1.5, 2.0, 4.0)))

    def _do_dismiss(self) -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                widget.close()

    def _do_idle(self) -> None:
        spin(self.rng.randint(20, 100))

    def _heavy(self, panel, start: Callable[[], None], name: str) -> None:  # noqa: ANN001
        start()
        if panel.handle is None:
            return  # nothing to do (no clip, or already running)
        if self.rng.random() < 0.25:  # a person who changes their mind
            spin(self.rng.randint(5, 200))
            panel.cancel()
        if not wait_until(lambda: panel.handle is None, self.heavy_timeout_ms):
            self.report.timeouts.append(f"{name} still running after {self.heavy_timeout_ms} ms")
            panel.cancel()
            wait_until(lambda: panel.handle is None, 30000)

    def _do_analyse(self) -> None:
        p = self.window.perception
        self._heavy(p, p.analyse, "analyse")

    def _do_model(self) -> None:
        m = self.window.models
        self._heavy(m, m.run, "model")
