"""Go ▸ Next clip (Page Down), Previous clip (Page Up) and Next unlabelled clip (N), from the player.

Annotators coming from ELAN and BORIS step through a corpus from the player, not only by clicking
the list: these keys walk the clip browser in the order it shows (sorted and filtered as the user
left it), skip files that could not be read, and the browser's selection follows. "Unlabelled" is
the browser's Label column (the open project's current labels), so a clip labelled a moment ago is
skipped at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence

from affectscope.app.qt.clip_browser import ClipRow

KEYS = {
    "next": ("&Next clip", "PgDown", 1, False),
    "previous": ("&Previous clip", "PgUp", -1, False),
    "unlabelled": ("Next &unlabelled clip", "N", 1, True),
}


def unlabelled(row: ClipRow) -> bool:
    return not row.extra.get("label")


class ClipNavigation:
    """The Go menu's actions on ``window``; ``go(step, only_unlabelled)`` is what they call."""

    def __init__(self, window: Any) -> None:
        self.window = window
        menu = window.menuBar().addMenu("&Go")
        self.actions: dict[str, QAction] = {}
        for name, (text, key, step, only) in KEYS.items():
            action = QAction(text, window)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _=False, s=step, o=only: self.go(s, o))
            menu.addAction(action)
            window.addAction(action)  # the key works wherever the focus is (text fields keep theirs)
            self.actions[name] = action

    def current(self) -> str | None:
        """The clip the player shows (or is loading), else none."""
        loading = getattr(self.window, "_loading", None)
        loaded = getattr(self.window, "loaded", None)
        return loading or (str(loaded.path) if loaded is not None else None)

    def go(self, step: int, only_unlabelled: bool = False) -> str | None:
        """Open the clip ``step`` rows away in the browser; returns it, or None (and says why)."""
        browser = self.window.browser
        target = browser.neighbour(self.current(), step, unlabelled if only_unlabelled else None)
        if target is None:
            what = "unlabelled clip" if only_unlabelled else "clip"
            where = "after this one" if step > 0 else "before this one"
            self.window.statusBar().showMessage(f"No {what} {where} in the list", 5000)
            return None
        browser.select(target)
        self.window._on_clip_activated(target)
        return target


def install_clip_navigation(window: Any) -> ClipNavigation:
    navigation = ClipNavigation(window)
    window.clip_navigation = navigation
    return navigation
