"""Help ▸ Keyboard (F1 or ?) and Help ▸ Tour: the keys and the README's tour, from inside the window.

The cheat sheet is read from the window's own shortcuts and menu actions when it opens, so it lists
exactly the keys that work (a panel that adds a shortcut appears without editing this file); the
descriptions below only name them. The tour is the README's "Using the window" section, rendered as
Markdown; an installed copy without the README shows a short built-in version.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

# What each key does (shortcuts are QShortcut objects without text of their own).
DESCRIPTIONS = {
    "Space": "play / pause",
    "Right": "next frame",
    "Left": "previous frame",
    "Shift+Right": "one second forward",
    "Shift+Left": "one second back",
    "Home": "go to the start",
    "End": "go to the last frame",
    "J": "pause and step one second back",
    "K": "pause",
    "L": "play; again for 2× and 4×",
    "I": "mark the span's in point",
    "O": "mark the span's out point",
    "Esc": "clear the span marks and the span selection",
    "E": "select the labelled span at the playhead (again: the next one there)",
    "[": "selected span: start at the playhead",
    "]": "selected span: end at the playhead",
    "Del": "delete the selected span",
    "Backspace": "delete the selected span",
    "Ctrl+Z": "undo your newest label or span edit",
    "Ctrl+Shift+Z": "redo",
    "F1": "this keyboard sheet",
    "?": "this keyboard sheet",
    "Shift+Q": "start the relabel queue (Queue tab)",
    "S": "skip this clip in the relabel queue",
    "F": "flag this clip in the relabel queue",
}
README = Path(__file__).resolve().parents[2] / "README.md"
TOUR_FALLBACK = """# Using the window

Open a folder of clips (File ▸ Open folder, Ctrl+O) or a project (Project ▸ Open project).
The clip list is on the left, the player in the centre, the timelines below it and the inspector on
the right. Analyse clip (Ctrl+E) finds faces, pose, voice and laughter; Run model (Ctrl+R) runs the
chosen system; press 1–9 to label the clip, I and O first to label a span; click a span on the
label lane to select it, drag its edges, press a number to relabel it or Delete to remove it;
Ctrl+Z undoes.
"""


def _text(seq: QKeySequence) -> str:
    return seq.toString(QKeySequence.SequenceFormat.PortableText)


def key_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """(key, what it does) for every enabled shortcut and menu action of ``window``, in a stable order."""
    rows: dict[str, str] = {}
    for sc in window.findChildren(QShortcut):
        key = _text(sc.key())
        if key and sc.isEnabled():
            digit = key.isdigit() and len(key) == 1
            rows.setdefault(
                "1–9" if digit else key,
                "label the clip (or the marked span; a selected span gets that label)"
                if digit
                else DESCRIPTIONS.get(key, ""),
            )
    for action in window.findChildren(QAction):
        for seq in action.shortcuts():
            key = _text(seq)
            if key:
                rows.setdefault(key, action.text().replace("&", "").rstrip("…"))
    return sorted(rows.items(), key=lambda kv: (len(kv[0]) > 1 and not kv[0][0].isdigit(), kv[0]))


def tour_markdown() -> str:
    """The README's "Using the window" section (up to the next ## heading), or a short fallback."""
    try:
        text = README.read_text(encoding="utf-8")
    except OSError:
        return TOUR_FALLBACK
    start = text.find("## Using the window")
    if start < 0:
        return TOUR_FALLBACK
    end = text.find("\n## ", start + 3)
    section = text[start : end if end > 0 else None].replace("## ", "# ", 1)
    # The README's screenshots are pictures of this very window, and their relative paths do not
    # resolve in the dialog (they drew as broken images): the tour leaves them out.
    return "\n".join(line for line in section.splitlines() if not line.startswith("!["))


class HelpDialog(QDialog):
    """Two tabs: the keyboard sheet and the tour. Non-modal: the window stays usable beside it."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Affectscope help")
        self.tabs = QTabWidget(self)
        rows = key_rows(window)
        self.keys = QTableWidget(len(rows), 2, self)
        self.keys.setHorizontalHeaderLabels(["Key", "Does"])
        self.keys.verticalHeader().setVisible(False)
        self.keys.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, (key, what) in enumerate(rows):
            self.keys.setItem(i, 0, QTableWidgetItem(key))
            self.keys.setItem(i, 1, QTableWidgetItem(what))
        self.keys.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.keys.horizontalHeader().setStretchLastSection(True)
        self.tour = QTextBrowser(self)
        self.tour.setMarkdown(tour_markdown())
        self.tour.setOpenExternalLinks(True)
        self.tabs.addTab(self.keys, "Keyboard")
        self.tabs.addTab(self.tour, "Tour")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(560, 520)

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.keys.item(i, 0).text(), self.keys.item(i, 1).text()) for i in range(self.keys.rowCount())
        ]


def install_help(window: QMainWindow) -> QAction:
    """Add Help ▸ Keyboard shortcuts (F1, ?) and Help ▸ Tour to ``window``; returns the keyboard action."""
    menu = window.menuBar().addMenu("&Help")
    keys = QAction("&Keyboard shortcuts…", window)
    keys.setShortcuts([QKeySequence("F1"), QKeySequence("?")])
    keys.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    tour = QAction("&Tour of the window…", window)

    def show(tab: int) -> None:
        dialog = HelpDialog(window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.tabs.setCurrentIndex(tab)
        dialog.show()
        window.help_dialog = dialog

    keys.triggered.connect(lambda: show(0))
    tour.triggered.connect(lambda: show(1))
    menu.addAction(keys)
    menu.addAction(tour)
    window.addAction(keys)
    return keys
