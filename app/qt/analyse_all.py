"""Analyse ▸ Analyse all clips: perception for every readable clip of the open folder or project, in the
worker (status-bar progress and Cancel), one clip after the other into the cache the Perception tab
and Run model read (the work itself: ``app/services/perception.analyse_all``). A clip that fails is
reported and skipped; cancelling keeps what is done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence

from affectscope.app.qt.clip_browser import Column
from affectscope.app.services.perception import AllDone, analyse_all

ANALYSED_COLUMN = Column(
    "analysed", "Analysed", lambda r: r.extra.get("analysed", ""), tooltip="perception cached for this clip"
)


class AnalyseAll:
    """The action and its bookkeeping; ``start()`` returns the worker handle (None if nothing to do)."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.handle = None
        self.last: AllDone | None = None
        window.browser.model.add_column(ANALYSED_COLUMN)
        self.action = QAction("Analyse &all clips", window)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.action.triggered.connect(self.start)
        menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&Analyse"), None)
        (menu or window.menuBar().addMenu("&Analyse")).addAction(self.action)
        window.addAction(self.action)

    def paths(self) -> list[str]:
        return [str(r.path) for r in self.window.browser.model.rows if not r.error]

    def start(self) -> Any:
        paths = self.paths()
        if not paths or self.handle is not None:
            return None
        self.action.setEnabled(False)
        rate = float(self.window.perception.rate_hz)
        self.handle = self.window.workers.start(
            analyse_all,
            (paths, rate),
            {"more_faces": bool(getattr(self.window.perception, "more_faces", False))},
            title=f"Analysing {len(paths)} clips",
            on_partial=self._on_clip,
            on_finished=self._on_finished,
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
        )
        return self.handle

    def _on_clip(self, item: tuple[str, bool, str]) -> None:
        path, ok, message = item
        self.window.browser.model.set_value(path, "analysed", "yes" if ok else "failed")
        panel = self.window.perception
        if ok and panel.path is not None and Path(panel.path) == Path(path) and panel.signals is None:
            panel.set_clip(panel.path)  # the open clip is done: show it from the cache

    def _over(self) -> None:
        self.handle = None
        self.action.setEnabled(True)

    def _on_finished(self, done: AllDone) -> None:
        self._over()
        self.last = done
        self.window.statusBar().showMessage(done.sentence(), 15000)

    def _on_failed(self, exc: BaseException) -> None:
        self._over()
        self.window.show_error("Analyse all clips failed", str(exc))

    def _on_cancelled(self) -> None:
        self._over()
        self.window.statusBar().showMessage(
            "Analyse all clips cancelled: the clips done so far are kept", 15000
        )


def install_analyse_all(window: Any) -> AnalyseAll:
    window.analyse_all = AnalyseAll(window)
    return window.analyse_all
