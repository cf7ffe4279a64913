"""Span editing on the label lane in the real window, offscreen, on a real SQLite project: click a span to
select it, drag its right edge with the mouse, relabel it with a number key and from its right-click menu,
move its edges to the playhead with [ and ], delete it; Ctrl+Z takes each back; the history keeps every
row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from affectscope.app.cli.main import main
from affectscope.app.qt.help_dialog import key_rows
from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.commands import clip_history
from affectscope.app.services.project import Project
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip

WAIT = 10000


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    make_clip(tmp_path / "a.mp4", n_frames=50, fps=25)
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    w.resize(1000, 700)
    with qtbot.waitSignal(w.ready, timeout=30000):
        w.open_path(tmp_path / "a.mp4")
    w.show()
    with qtbot.waitActive(w):
        w.activateWindow()
    with qtbot.waitSignal(w.session.project_opened, timeout=30000):
        w.labelling.create_button.click()
    qtbot.waitUntil(lambda: w.labelling.state is not None, timeout=WAIT)
    w.player.view.setFocus()
    yield w
    w.shutdown()
    w.close()


def _commit(qtbot, panel):  # noqa: ANN001, ANN202
    """Wait for the state that a committed change (not a plain refresh) brings."""
    return qtbot.waitSignal(
        panel.state_changed, timeout=WAIT, check_params_cb=lambda st: st.change is not None
    )


def _point(window: MainWindow, t: float) -> QPoint:
    """Where time ``t`` is on the label lane, in its viewport's pixels (mid-height)."""
    lane = window.timeline.lane("Labels")
    scene = lane.plot.getViewBox().mapViewToScene(QPointF(t, 0.5))
    return lane.widget.mapFromScene(scene)


def _spans(panel) -> list[tuple]:  # noqa: ANN001
    return [(s.value, round(s.start, 3), round(s.end, 3)) for s in panel.lane.spans]


def _stored(folder: Path) -> list[tuple]:
    with Project.open(folder) as project:
        from affectscope.db import labels as label_rows
        from affectscope.db.uow import unit_of_work

        with unit_of_work(project.db) as s:
            spans = label_rows.current_spans(s, None, project.label_set)
    return [(s.value, round(s.start, 3), round(s.end, 3), s.annotator) for s in spans]


def _mark_span(window: MainWindow, qtbot, t0: float, t1: float, key: Qt.Key) -> None:
    panel = window.labelling
    window.clock.seek(t0)
    qtbot.keyClick(window, Qt.Key.Key_I)
    window.clock.seek(t1)
    qtbot.keyClick(window, Qt.Key.Key_O)
    with _commit(qtbot, panel):
        qtbot.keyClick(window, key)


def test_select_drag_relabel_delete_and_undo(window: MainWindow, qtbot, capsys) -> None:  # noqa: ANN001
    panel = window.labelling
    folder = Path(panel.project.folder)
    _mark_span(window, qtbot, 0.4, 1.2, Qt.Key.Key_1)
    assert _spans(panel) == [("positive", 0.4, 1.2)] and panel.lane.selected is None
    viewport = window.timeline.lane("Labels").widget.viewport()

    # Click inside the span: it is selected, its edges become draggable, the hint says what keys do.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=_point(window, 0.8))
    qtbot.waitUntil(lambda: panel.lane.selected is not None, timeout=WAIT)
    assert panel.lane.selected.value == "positive"
    assert panel.lane.regions[panel.lane.selected.id].movable
    assert "drag its edges" in panel.marks_label.text()

    # Drag the right edge from 1.2 s to 1.6 s: committed, stored, drawn, still selected.
    start, end = _point(window, 1.2), _point(window, 1.6)
    with _commit(qtbot, panel):
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
        for i in range(1, 9):
            qtbot.mouseMove(viewport, start + (end - start) * (i / 8))
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    ((value, s0, s1, who),) = _stored(folder)
    assert (value, s0, who) == ("positive", 0.4, "ann") and s1 == pytest.approx(1.6, abs=0.02)
    assert _spans(panel)[0][2] == pytest.approx(1.6, abs=0.02)
    assert panel.lane.selected is not None and panel.lane.selected.end == pytest.approx(1.6, abs=0.02)

    # A number key relabels the selected span (no marks pending), and Ctrl+Z takes it back.
    with _commit(qtbot, panel):
        qtbot.keyClick(window, Qt.Key.Key_3)
    assert [s[0] for s in _stored(folder)] == ["negative"]
    with _commit(qtbot, panel):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [s[0] for s in _spans(panel)] == ["positive"]
    # Undo the drag too: the span has its old edge again.
    with _commit(qtbot, panel):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _stored(folder) == [("positive", 0.4, 1.2, "ann")]

    # Delete (click to select, Delete) and undo.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=_point(window, 0.8))
    qtbot.waitUntil(lambda: panel.lane.selected is not None, timeout=WAIT)
    with _commit(qtbot, panel):
        qtbot.keyClick(window, Qt.Key.Key_Delete)
    assert _spans(panel) == [] and _stored(folder) == [] and panel.lane.selected is None
    with _commit(qtbot, panel):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _stored(folder) == [("positive", 0.4, 1.2, "ann")]

    # Every row is kept: who, when, what it replaced.
    rows = clip_history(panel.project.db, panel.state.clip.id)
    edits = [r for r in reversed(rows) if r.edit is not None]
    assert [(r.edit, r.value, r.annotator, r.undone) for r in edits] == [
        ("move", "positive", "ann", True),
        ("relabel", "negative", "ann", True),
        ("delete", "positive", "ann", True),
    ]
    first = rows[-1]
    assert edits[0].replaces_id == first.id and (edits[0].previous_start, edits[0].previous_end) == (0.4, 1.2)
    assert all(r.created_at is not None for r in rows) and [r.action for r in rows].count("undo") == 3
    assert "moved span “positive” 0.400–1.200 s → " in panel.history.list.item(rows.index(edits[0])).text()
    # The command line's history names the edits too.
    capsys.readouterr()
    assert main(["history", "a.mp4", "--project", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(r["edit"], r["replaces_id"]) for r in doc if r["edit"]] == [
        (e.edit, e.replaces_id) for e in reversed(edits)
    ]


def test_keyboard_edges_menu_and_help(window: MainWindow, qtbot) -> None:
    panel = window.labelling
    folder = Path(panel.project.folder)
    _mark_span(window, qtbot, 0.2, 0.6, Qt.Key.Key_2)
    _mark_span(window, qtbot, 1.0, 1.8, Qt.Key.Key_1)
    # E selects the span under the playhead; ] and [ move its edges to the playhead.
    window.clock.seek(1.4)
    qtbot.keyClick(window, Qt.Key.Key_E)
    assert panel.lane.selected is not None and panel.lane.selected.value == "positive"
    window.clock.seek(1.92)
    with _commit(qtbot, panel):
        qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    window.clock.seek(0.96)
    with _commit(qtbot, panel):
        qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert _stored(folder) == [("neutral", 0.2, 0.6, "ann"), ("positive", 0.96, 1.92, "ann")]
    # An edge past the other one is refused before anything is written.
    window.clock.seek(0.1)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert _stored(folder)[1] == ("positive", 0.96, 1.92, "ann")

    # Right click on the other span: its menu relabels it.
    viewport = window.timeline.lane("Labels").widget.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.RightButton, pos=_point(window, 0.4))
    qtbot.waitUntil(lambda: panel.spans.menu is not None, timeout=WAIT)
    assert panel.lane.selected.value == "neutral"
    change_menu = panel.spans.menu.actions()[0].menu()
    negative = [a for a in change_menu.actions() if a.text() == "negative"][0]
    with _commit(qtbot, panel):
        negative.trigger()
    panel.spans.menu.close()
    assert _stored(folder)[0] == ("negative", 0.2, 0.6, "ann")
    # Esc deselects: number keys label the clip again.
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert panel.lane.selected is None
    with _commit(qtbot, panel):
        qtbot.keyClick(window, Qt.Key.Key_2)
    assert panel.current_label.text().startswith("neutral")
    assert [s[0] for s in _stored(folder)] == ["negative", "positive"]

    keys = dict(key_rows(window))
    assert {"E", "[", "]", "Del"} <= set(keys) and "selected span" in keys["Del"]
