"""The main window on a made project, for the GUI tests that need one and its clean shutdown.

Two forms, as the tests need them: ``shown_window`` shows the window first and then opens the
project (what a user starting the application sees: its geometry tests depend on that order);
``opened_window`` opens the project and then shows it (the Retrain tab's tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.project import Project
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip


def two_clip_project(folder: Path) -> Path:
    """``folder`` made a project of two short clips, a.mp4 and b.mp4 (15 frames at 25 fps)."""
    for name in ("a", "b"):
        make_clip(folder / f"{name}.mp4", n_frames=15, fps=25)
    with Project.init(folder) as p:
        p.import_clips(folder)
    return folder


def shown_window(qtbot, folder: Path, ready: bool = False) -> Iterator[MainWindow]:  # noqa: ANN001
    """Shown, then ``folder`` opened (and its first clip's labels loaded with ``ready``)."""
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.session.project_opened, timeout=30000):
        w.open_path(folder)
    if ready:
        qtbot.waitUntil(lambda: w.labelling.state is not None, timeout=30000)
    yield w
    w.workers.cancel_all()
    w.shutdown()


def opened_window(qtbot, folder: Path) -> Iterator[MainWindow]:  # noqa: ANN001
    """``folder`` opened, then the window shown; closed after the test."""
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.session.project_opened, timeout=60000):
        w.open_path(folder)
    w.show()
    yield w
    w.shutdown()
    w.close()
