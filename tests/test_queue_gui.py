"""Working the relabel queue in the real window, keyboard only: ten clips labelled, skipped, flagged,
each opened at its most telling moment; undo takes the queue back; the screenshot is looked at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services import retrain as rt
from affectscope.app.services.project import Project
from affectscope.app.services.settings import Settings
from affectscope.db import labels as label_rows
from affectscope.db import lineage as lineage_rows
from affectscope.db.uow import unit_of_work
from tests.queue_project import make_project

# Screenshots for docs/ are written only when asked ($AFFECTSCOPE_SHOTS=docs/screenshots): a test run
# must not rewrite tracked files.
SHOTS = Path(os.environ.get("AFFECTSCOPE_SHOTS", "/nonexistent-affectscope-shots"))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    project = make_project(tmp_path_factory.mktemp("queue-gui"), shared_data, per_class=4)
    first = rt.retrain(project, epochs=6)
    rt.activate(project, first.model_version_id)
    folder = project.folder
    project.close()
    return folder


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "carol")
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    yield w
    w.shutdown()
    w.close()


def _settled(window: MainWindow, item) -> bool:  # noqa: ANN001
    lab = window.labelling
    path = str(Path(item.path).resolve())
    return (
        window.loaded is not None
        and str(Path(window.loaded.path).resolve()) == path
        and lab.clip_path == path
        and lab.state is not None
        and lab.state.clip.path == path
        and window.queue._pending_moment is None
    )


def test_ten_clips_with_the_keyboard_only(window: MainWindow, qtbot, clips: Path) -> None:
    with qtbot.waitSignal(window.session.project_opened, timeout=60000):
        window.open_path(clips)
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    window.player.view.setFocus()
    panel = window.queue
    window.resizeDocks([window.inspector_dock], [560], Qt.Orientation.Horizontal)  # room for the reasons
    assert panel.start_button.isEnabled() and panel.version_box.count() == 2

    with qtbot.waitSignal(panel.queue_ready, timeout=60000):
        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ShiftModifier)
    queue = panel.queue
    assert queue.by == "combined" and len(queue.items) == 12
    assert panel.progress_label.text().startswith("0 of 12 done")

    keys = [Qt.Key.Key_3, Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, "S", Qt.Key.Key_2, "F", Qt.Key.Key_1]
    keys += [Qt.Key.Key_2, Qt.Key.Key_3]
    worked = []
    for key in keys:
        item = panel.current()
        qtbot.waitUntil(lambda item=item: _settled(window, item), timeout=60000)
        # Opened at its most telling moment: the highest-entropy window of the active version.
        assert window.clock.position == pytest.approx(item.moment or 0.0, abs=0.15)
        worked.append(item)
        if key == "S":
            with qtbot.waitSignal(panel.item_opened, timeout=10000):
                qtbot.keyClick(window, Qt.Key.Key_S)
        elif key == "F":
            with qtbot.waitSignal(panel.item_opened, timeout=10000):
                qtbot.keyClick(window, Qt.Key.Key_F)
        else:
            with qtbot.waitSignal(panel.item_opened, timeout=30000):
                qtbot.keyClick(window, key)
    assert len({i.clip_id for i in worked}) == 10
    assert any((i.moment or 0) > 0 for i in worked)  # not every clip opens at its start
    assert panel.progress_label.text().startswith("9 of 12 done (1 flagged)")
    window.grab().save(str(SHOTS / "queue.png")) if SHOTS.is_dir() else None

    values = {Qt.Key.Key_1: "positive", Qt.Key.Key_2: "neutral", Qt.Key.Key_3: "negative"}
    labelled = [(i, values[k]) for i, k in zip(worked, keys, strict=True) if k in values]
    with Project.open(clips) as project, unit_of_work(project.db) as s:
        mine = label_rows.history(s, annotator="carol")
        assert sorted((r.clip_id, r.value) for r in mine) == sorted((i.clip_id, v) for i, v in labelled)
        assert lineage_rows.flagged_clips(s, "sentiment3") == {worked[keys.index("F")].clip_id}

    # Undo: the last label is taken back and the queue returns to that clip.
    last = labelled[-1][0]
    with qtbot.waitSignal(panel.item_opened, timeout=30000):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.current().clip_id == last.clip_id
    assert panel.progress_label.text().startswith("8 of 12 done")


def test_clips_sent_from_an_evaluation_become_the_queue(window: MainWindow, qtbot, clips: Path) -> None:
    """A confusion cell's clips sent to the relabel queue are offered there and the queue holds only them."""
    from affectscope.app.services import evaluation_runs

    with qtbot.waitSignal(window.session.project_opened, timeout=60000):
        window.open_path(clips)
    project = window.session.project
    chosen = [c.id for c in project.clips()][:3]
    sid = evaluation_runs.send_clips(project, "relabel", chosen, "run 1: true negative, predicted positive")
    window.evaluation.clips_sent.emit("relabel", chosen)
    panel = window.queue
    assert window.inspector.currentWidget() is panel
    assert (
        panel.selection_box.currentData() == chosen
        and f"#{sid}: 3 clips" in panel.selection_box.currentText()
    )
    with qtbot.waitSignal(panel.queue_ready, timeout=60000):
        panel.start()
    assert sorted(i.clip_id for i in panel.queue.items) == sorted(chosen)
    panel.selection_box.setCurrentIndex(0)  # all clips again
    with qtbot.waitSignal(panel.queue_ready, timeout=60000):
        panel.start()
    assert len(panel.queue.items) == len(project.clips())


def test_an_undefined_score_is_a_dash_not_nan() -> None:
    """Issue 22 item 10: the queue table showed a raw "nan" as an unlabelled clip's score."""
    from affectscope.app.qt.queue_panel import score_text

    assert score_text(float("nan")) == "–" and score_text(None) == "–" and score_text(float("inf")) == "–"
    assert score_text(0.12345) == "0.123"
