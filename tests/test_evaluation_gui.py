"""The Evaluation view: a clicked confusion cell lists exactly its clips; opening one moves the
player to the window where the model was most confident in a wrong class; clips go to the relabel
queue; charts draw; Export figure… previews and saves; the window can start an evaluation run."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from affectscope.app.qt.evaluation_view import CHART_TABS, EvaluationView
from affectscope.app.qt.main_window import MainWindow
from affectscope.app.qt.workers import Workers
from affectscope.app.services import evaluation_runs as runs
from tests.evalfactory import make_eval_project


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory):
    project, facts = make_eval_project(tmp_path_factory.mktemp("evgui"), n_clips=12, seed=3)
    run_id = runs.evaluate_project(project, "lightweight-streaming")
    yield project, facts, run_id
    project.close()


@pytest.fixture
def view(qtbot, stored):
    project, *_ = stored
    workers = Workers(None, synchronous=True)
    v = EvaluationView(workers)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    v.set_project(project)
    return v


def _click_cell(qtbot, view: EvaluationView, i: int, j: int) -> None:
    rect = view.matrix.visualItemRect(view.matrix.item(i, j))
    qtbot.mouseClick(view.matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_clicked_cell_lists_exactly_the_clips_whose_labels_match_it(
    qtbot, view: EvaluationView, stored
) -> None:
    project, facts, run_id = stored
    assert view.run_id == run_id
    seen = set()
    for i in range(3):
        for j in range(3):
            with qtbot.waitSignal(view.cell_listed, timeout=5000) as blocker:
                _click_cell(qtbot, view, i, j)
            want = {c for c in facts["true"] if facts["true"][c] == i and facts["pred"][c] == j}
            assert blocker.args == [i, j, len(want)]
            assert set(view.listed_clip_ids()) == want and len(view.listed_clip_ids()) == len(want)
            assert view.matrix.item(i, j).text() == str(len(want))
            seen |= want
    assert seen == set(facts["true"])  # every clip is in exactly one cell
    view.rows_radio.setChecked(True)
    row0 = sum(1 for c in facts["true"] if facts["true"][c] == 0)
    n00 = sum(1 for c in facts["true"] if facts["true"][c] == 0 and facts["pred"][c] == 0)
    assert view.matrix.item(0, 0).text() == f"{n00 / row0:.2f}\n({n00})"


def test_opening_a_listed_clip_asks_for_its_worst_window_and_cells_go_to_relabel(qtbot, view, stored) -> None:
    project, facts, run_id = stored
    cell = next(
        (t, p) for t in range(3) for p in range(3) if t != p and runs.cell_clips(project, run_id, t, p)
    )
    view.show_cell(*cell)
    first = view.clip_model.items[0]
    assert first.confidence == max(item.confidence for item in view.clip_model.items)
    with qtbot.waitSignal(view.open_clip_at, timeout=5000) as blocker:
        view.open_button.click()
    assert blocker.args == [first.path, pytest.approx(first.worst_t)]
    with qtbot.waitSignal(view.clips_sent, timeout=5000) as sent:
        view.relabel_button.click()
    assert sent.args[0] == "relabel" and sent.args[1] == view.listed_clip_ids()
    assert any(
        ids == view.listed_clip_ids() for _, _, ids in runs.pending_clip_selections(project, "relabel")
    )


def test_charts_draw_and_export_figure_saves_with_its_spec(qtbot, view, stored, tmp_path: Path) -> None:
    for index in range(1, view.tabs.count()):
        view.tabs.setCurrentIndex(index)
        chart = view.charts[view.current_kind()]
        assert chart.pixmap() is not None and not chart.pixmap().isNull(), view.current_kind()
    view.tabs.setCurrentIndex(1)
    dialog = view.export_current()
    qtbot.addWidget(dialog)
    assert dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull()
    small = dialog.preview.pixmap().width()
    dialog.width_choice.setCurrentIndex(2)  # double column: a wider preview
    assert dialog.preview.pixmap().width() > small * 1.8
    result = dialog.export_to(tmp_path / "per-class.svg")
    assert (
        Path(result["output"]).is_file() and Path(result["spec"]).is_file() and result["kind"] == "per-class"
    )
    view.grab().save(str(tmp_path / "view.png"))


def test_window_starts_a_run_and_opens_a_clip_at_its_worst_window(qtbot, stored) -> None:
    project, facts, run_id = stored
    window = MainWindow(synchronous_workers=False)
    qtbot.addWidget(window)
    window.show()
    try:
        view = window.evaluation
        assert window.evaluation_dock.toggleViewAction().text() == "Evaluation"
        view.set_project(project)
        before = len(runs.list_runs(project))
        with qtbot.waitSignal(view.run_shown, timeout=120000):
            view.start_button.click()
            assert view.cancel_button.isEnabled()  # off the GUI thread
        assert len(runs.list_runs(project)) == before + 1 and view.run_id == runs.list_runs(project)[-1].id
        cell = next(
            (t, p)
            for t in range(3)
            for p in range(3)
            if t != p and runs.cell_clips(project, view.run_id, t, p)
        )
        view.show_cell(*cell)
        item = view.clip_model.items[0]
        view.open_selected()
        # The seek is clamped to the clip: a 1 s clip's worst window can be stamped past its end
        # (the model's window is longer than the clip), and the player then stops at the end.
        qtbot.waitUntil(
            lambda: (
                window.loaded is not None
                and str(window.loaded.path) == item.path
                and abs(window.clock.position - min(item.worst_t, window.loaded.duration)) < 1e-6
            ),
            timeout=30000,
        )
        # File > Export figure…: the clip panel of the open clip, its frame at the playhead.
        window.session.model.open(project, [])  # the project's session, as opening it from the window does
        window.export_figure_action.trigger()
        dialog = window.figure_dialog
        assert dialog.spec["kind"] == "clip" and dialog.spec["frame_t"] == pytest.approx(
            window.clock.position
        )
        assert dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull()
        dialog.kind_choice.setCurrentIndex(1)
        assert dialog.spec["kind"] == "modality" and not dialog.preview.pixmap().isNull()
        out = Path(project.folder) / "clip-modality.pdf"
        assert dialog.export_to(out)["kind"] == "modality" and out.read_bytes().startswith(b"%PDF")
        dialog.close()
    finally:
        window.workers.cancel_all()
        window.shutdown()


def test_confusion_tab_heads_with_uar_accuracy_and_macro_f1(view: EvaluationView, stored) -> None:
    """Issue 22 item 10: the Confusion tab had no headline numbers; they match scikit-learn's."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    _project, facts, run_id = stored
    view.show_run(run_id)  # the fixture's run (another test adds a run of its own)
    true = [facts["true"][c] for c in sorted(facts["true"])]
    pred = [facts["pred"][c] for c in sorted(facts["true"])]
    text = view.headline.text()
    assert f"UAR {balanced_accuracy_score(true, pred):.1%}" in text
    assert f"accuracy {sum(t == p for t, p in zip(true, pred, strict=True)) / len(true):.1%}" in text
    assert f"macro-F1 {f1_score(true, pred, average='macro', labels=[0, 1, 2], zero_division=0):.3f}" in text
    assert f"{len(true)} clips" in text


def test_charts_fit_their_tab_and_redraw_when_it_grows(qtbot, view: EvaluationView, stored) -> None:
    """Issue 22 item 10: a chart drawn while its tab was small stayed tiny (the per-class figure) and one
    larger than its tab was cut (the modality figure's axis labels)."""
    _project, _facts, run_id = stored
    view.show_run(run_id)
    view.resize(520, 420)
    view.tabs.setCurrentIndex(1 + [k for _t, k in CHART_TABS].index("modality"))
    chart = view.charts["modality"]
    qtbot.waitUntil(lambda: not chart.pixmap().isNull(), timeout=60000)
    small = chart.pixmap().size()
    assert small.width() <= chart.width() and small.height() <= chart.height()  # nothing cut
    view.resize(1100, 800)
    qtbot.waitUntil(lambda: chart.pixmap().width() > small.width() * 1.3, timeout=60000)
    big = chart.pixmap().size()
    assert big.width() <= chart.width() and big.height() <= chart.height()
