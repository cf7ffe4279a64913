"""Issue 22, the ELAN habit of an annotation list: the Spans tab lists every span of the clip with typed,
editable start and end, label, annotator and a free-text comment; each typed edit is the same undoable
SpanEditCommand as a drag on the lane (Ctrl+Z takes it back), and a value that cannot be is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.qt.span_table import COMMENT, END, LABEL, START, parse_seconds
from affectscope.app.services.commands import LabelCommand, SpanEditCommand
from affectscope.app.services.project import Project
from affectscope.app.services.settings import Settings
from affectscope.db import labels as label_rows
from affectscope.db.uow import unit_of_work
from tests.clipfactory import make_clip

WAIT = 10000


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    make_clip(tmp_path / "a.mp4", n_frames=50, fps=25)
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.ready, timeout=30000):
        w.open_path(tmp_path / "a.mp4")
    w.show()
    with qtbot.waitSignal(w.session.project_opened, timeout=30000):
        w.labelling.create_button.click()
    qtbot.waitUntil(lambda: w.labelling.state is not None, timeout=WAIT)
    yield w
    w.shutdown()
    w.close()


def _commit(qtbot, panel):  # noqa: ANN001, ANN202
    return qtbot.waitSignal(
        panel.state_changed, timeout=WAIT, check_params_cb=lambda st: st.change is not None
    )


def test_typed_edits_are_the_lanes_undoable_commands(window: MainWindow, qtbot) -> None:
    panel, table = window.labelling, window.labelling.span_table
    assert window.inspector.tabText(window.inspector.indexOf(table)) == "Spans"
    panel.mark_in(0.2)
    panel.mark_out(0.8)
    with _commit(qtbot, panel):
        panel.label("positive")
    assert table.row_texts() == [("0.200", "0.800", "positive", "ann", "")]

    with _commit(qtbot, panel):
        table.edit_cell(0, END, "1.25")
    assert table.row_texts()[0][:2] == ("0.200", "1.250")
    assert [(s.start, s.end) for s in panel.lane.spans] == [(0.2, 1.25)]  # the lane shows the same span
    with _commit(qtbot, panel):
        table.edit_cell(0, COMMENT, "laughs at the end")
    with _commit(qtbot, panel):
        table.edit_cell(0, LABEL, "Negative")  # any case: the set's own spelling is stored
    with _commit(qtbot, panel):
        table.edit_cell(0, START, "0:00.5")  # m:ss as ELAN writes it; the comment stays with the span
    assert table.row_texts() == [("0.500", "1.250", "negative", "ann", "laughs at the end")]

    notes: list[str] = []
    panel.notice.connect(notes.append)
    table.edit_cell(0, START, "soon")
    table.edit_cell(0, END, "0.1")
    table.edit_cell(0, LABEL, "bored")
    assert len(notes) == 3 and "not a time" in notes[0] and "start before it ends" in notes[1]
    assert "not a label of this set" in notes[2]
    assert table.row_texts() == [("0.500", "1.250", "negative", "ann", "laughs at the end")]  # restored

    with _commit(qtbot, panel):  # Ctrl+Z takes the typed edits back one by one, as a drag's
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert table.row_texts() == [("0.200", "1.250", "negative", "ann", "laughs at the end")]
    for _ in range(2):
        with _commit(qtbot, panel):
            panel.undo()
    assert table.row_texts() == [("0.200", "1.250", "positive", "ann", "")]

    # Choosing a row selects the span on the lane and moves the playhead to its start.
    table.table.setCurrentCell(-1, -1)
    table.table.setCurrentCell(0, LABEL)
    assert panel.lane.selected is not None and panel.lane.selected.start == 0.2
    qtbot.waitUntil(lambda: abs(window.clock.position - 0.2) < 0.05, timeout=WAIT)


def test_comments_are_stored_carried_over_and_undone(tmp_path: Path) -> None:
    make_clip(tmp_path / "a.mp4", n_frames=50, fps=25)
    with Project.init(tmp_path) as p:
        p.import_clips(tmp_path)
        clip = p.clip(str(tmp_path / "a.mp4"))
        LabelCommand(p.db, clip.id, p.label_set, "neutral", "ann", span=(0.1, 0.5)).do()

        def spans() -> list[tuple]:
            with unit_of_work(p.db) as s:
                return [(x.value, x.start, x.end, x.comment) for x in label_rows.current_spans(s, [clip.id])]

        first = spans()
        with unit_of_work(p.db) as s:
            span_id = label_rows.current_spans(s, [clip.id])[0].id
        note = SpanEditCommand(p.db, span_id, "bo", comment="  sighs  ")
        note.do()
        assert spans() == [("neutral", 0.1, 0.5, "sighs")]
        with unit_of_work(p.db) as s:
            span_id = label_rows.current_spans(s, [clip.id])[0].id
        move = SpanEditCommand(p.db, span_id, "bo", end=0.9)
        move.do()
        assert spans() == [("neutral", 0.1, 0.9, "sighs")]  # a later edit keeps the comment
        move.undo()
        assert spans() == [("neutral", 0.1, 0.5, "sighs")]
        note.undo()
        assert spans() == first == [("neutral", 0.1, 0.5, "")]


def test_times_are_typed_as_seconds_or_minutes() -> None:
    assert parse_seconds("12.5") == 12.5 and parse_seconds("12,5") == 12.5
    assert parse_seconds("1:02.25") == 62.25 and parse_seconds("x") is None and parse_seconds("-1") is None
