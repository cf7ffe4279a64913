"""The Project and Help menus (issue 14): new and open project, Open Recent, the demo as a real writable
project in the user's data folder walked with the keyboard as the README says, labels exported and
imported from the window, and a keyboard sheet (F1) that lists the keys that really work."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from affectscope.app.qt.help_dialog import tour_markdown
from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitActive(w):
        w.activateWindow()
    yield w
    w.workers.cancel_all()
    w.shutdown()


def test_help_sheet_lists_the_keys_that_work_and_the_tour(window: MainWindow, qtbot) -> None:
    window.player.view.setFocus()
    qtbot.keyClick(window.player.view, Qt.Key.Key_F1)
    qtbot.waitUntil(
        lambda: getattr(window, "help_dialog", None) is not None and window.help_dialog.isVisible()
    )
    rows = dict(window.help_dialog.rows())
    assert rows["Space"] == "play / pause" and rows["Right"] == "next frame"
    assert rows["1–9"].startswith("label the clip") and rows["I"].startswith("mark")
    assert rows["Ctrl+R"] == "Run model" and rows["Ctrl+E"] == "Analyse clip" and "F1" in rows
    assert all(what for what in rows.values()), rows  # every key says what it does
    tour = window.help_dialog.tour.toPlainText()
    assert "Clip browser" in tour and "Inspector" in tour
    assert "![" not in tour_markdown() and "Span editing" in tour  # no broken README screenshots
    window.help_dialog.close()


def test_new_open_and_recent_projects(window: MainWindow, qtbot, tmp_path: Path) -> None:
    make_clip(tmp_path / "clips" / "a.mp4", n_frames=20, fps=25)
    folder = tmp_path / "clips"
    menu = window.project_menu
    errors: list[str] = []
    window.error_shown.connect(lambda title, _m: errors.append(title))
    menu.open_project(str(folder))
    assert errors == ["Not a project"]
    with qtbot.waitSignal(window.session.notice, timeout=30000) as notice:
        menu.new_project(str(folder))
    assert "1 clip added" in notice.args[0] and (folder / "affectscope.json").is_file()
    menu.fill_recent()
    assert str(folder.resolve()) in [a.text() for a in menu.recent.actions()]
    window.session.model.close()  # a fresh session: the project closes
    with qtbot.waitSignal(window.session.project_opened, timeout=30000):
        menu.open_project(str(folder))
    assert window.session.project.folder == folder.resolve()


def test_demo_is_a_writable_project_in_the_data_folder_and_the_keyboard_walk_works(
    window: MainWindow, qtbot
) -> None:
    panel = window.labelling
    with qtbot.waitSignal(panel.session.project_opened, timeout=60000):
        window.project_menu.open_demo()
    data = Path(os.environ["AFFECTSCOPE_DATA_DIR"])
    assert panel.project.folder.is_relative_to(data.resolve())
    assert not panel.project.folder.is_relative_to(Path(os.environ["AFFECTSCOPE_CACHE_DIR"]).resolve())
    qtbot.waitUntil(lambda: window.is_ready and panel.state is not None, timeout=60000)
    window.player.view.setFocus()
    view = window.player.view
    # The README's walk: step a frame, label with 1, mark a span with I/O and label it, undo.
    first = view.frame_index
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: view.frame_index == first + 1)
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(view, Qt.Key.Key_1)
    assert panel.state.clip.label == "positive" and panel.state.clip.label_by == "ann"
    qtbot.keyClick(view, Qt.Key.Key_I)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.clock.position > 0.9)
    qtbot.keyClick(view, Qt.Key.Key_O)
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(view, Qt.Key.Key_3)
    assert [s.value for s in panel.state.spans] == ["negative"]
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.state.spans == [] and panel.state.clip.label == "positive"


def test_export_and_import_labels_from_the_window(window: MainWindow, qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    make_clip(folder / "a.mp4", n_frames=20, fps=25)
    make_clip(folder / "b.mp4", n_frames=20, fps=25)
    panel = window.labelling
    with qtbot.waitSignal(panel.session.project_opened, timeout=30000):
        window.project_menu.new_project(str(folder))
    qtbot.waitUntil(lambda: panel.state is not None, timeout=30000)
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        panel.label("negative")
    out = tmp_path / "labels.csv"
    with qtbot.waitCallback(timeout=30000) as done:
        handle = window.project_menu.export("csv", str(out))
        handle.finished.connect(done)  # queued from the worker: connecting after start is in time
    rows = list(csv.DictReader(out.open()))
    assert [(Path(r["path"]).name, r["label"], r["annotator"]) for r in rows] == [
        ("a.mp4", "negative", "ann")
    ]
    assert "Exported 1 labels" in window.statusBar().currentMessage()
    # Issue 22 item 4: a name typed with .eaf is ELAN (it was CSV), written as a folder of .eaf files.
    with qtbot.waitCallback(timeout=30000) as done:
        window.project_menu.export(None, str(tmp_path / "labels.eaf")).finished.connect(done)
    assert [f.name for f in (tmp_path / "labels").iterdir()] == ["a.eaf"]
    assert "<ANNOTATION_DOCUMENT" in (tmp_path / "labels" / "a.eaf").read_text()

    manifest = tmp_path / "in.csv"
    manifest.write_text(f"path,label,annotator\n{folder / 'b.mp4'},positive,bo\n")
    # the browser is refreshed after import
    with qtbot.waitSignal(panel.session.project_opened, timeout=30000):
        window.project_menu.import_(str(manifest))
    assert "Imported 1 labels" in window.statusBar().currentMessage()
    row = window.browser.model.row_for(folder / "b.mp4")
    qtbot.waitUntil(lambda: row.extra.get("label") == "positive" and row.extra.get("label_by") == "bo")


def test_export_format_follows_the_extension_and_the_name_follows_the_filter(qtbot, tmp_path: Path) -> None:
    """Issue 22 item 4: labels.eaf under the CSV filter gave CSV; the ELAN filter kept labels.csv."""
    from types import SimpleNamespace

    from PySide6.QtWidgets import QComboBox, QLineEdit, QMainWindow

    from affectscope.app.qt.project_menu import EXPORT_FILTERS, ProjectMenu, export_target

    assert export_target("/x/labels.eaf", EXPORT_FILTERS["csv"]) == ("eaf", Path("/x/labels"))
    assert export_target("/x/labels.json", EXPORT_FILTERS["csv"]) == ("json", Path("/x/labels.json"))
    assert export_target("/x/labels", EXPORT_FILTERS["json"]) == ("json", Path("/x/labels.json"))
    assert export_target("/x/labels", EXPORT_FILTERS["eaf"]) == ("eaf", Path("/x/labels"))
    host = QMainWindow()
    qtbot.addWidget(host)
    host.settings = Settings()
    dialog = ProjectMenu(host).export_dialog(SimpleNamespace(folder=tmp_path))
    qtbot.addWidget(dialog)
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    combo = dialog.findChild(QComboBox, "fileTypeCombo")
    assert name.text() == "labels.csv"
    for fmt in ("eaf", "json", "csv"):
        index = list(EXPORT_FILTERS).index(fmt)
        combo.setCurrentIndex(index)
        combo.activated.emit(index)  # what choosing the filter with the mouse sends
        assert name.text() == f"labels.{fmt}"
        assert export_target(str(tmp_path / name.text()), dialog.selectedNameFilter())[0] == fmt
