"""Issue 22: speaker metadata drives the speaker-independent split of retrain AND of the evaluation of
a retrained version. On an EmoDB-named project (the speaker is the file name's first two digits,
recorded on import) retrain's "auto" split holds out whole speakers; an evaluation run of the version
it made scores that version's held-out clips only, whose speakers it never trained on, and says so
(run title, clip set, the Evaluation dock's line). Before, ``evaluate --model audio-logmel-linear``
after an activation scored every labelled clip, training clips included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services import evaluation_runs as runs
from affectscope.app.services import retrain as rt
from affectscope.db import lineage as lineage_rows
from affectscope.db.uow import unit_of_work
from tests.queue_project import make_project


@pytest.fixture
def project(tmp_path: Path, shared_data: Path):
    p = make_project(tmp_path, shared_data, per_class=4)
    yield p
    p.close()


def _held(project, version_id: int) -> set[int]:  # noqa: ANN001
    with unit_of_work(project.db) as s:
        return {c for c, _, _ in lineage_rows.lineage(s, version_id).heldout}


def _scored(project, run_id: int) -> set[int]:  # noqa: ANN001
    return set(runs.run_data(project, run_id)[1]["clip_id"].tolist())


def _speakers(project, clip_ids) -> set[str]:  # noqa: ANN001
    by_id = {c.id: c for c in project.clips()}
    return {by_id[c].speaker for c in clip_ids}


def test_auto_split_and_evaluation_hold_out_the_same_speakers(project, capsys) -> None:
    clips = project.clips()
    # The speakers come from the EmoDB file names on import: "emodb:" + the first two digits.
    assert {c.speaker for c in clips} == {f"emodb:{Path(c.path).name[:2]}" for c in clips}
    assert len({c.speaker for c in clips}) >= 3

    v1 = rt.retrain(project, rt.QUICK_MODEL, "latest", "auto", epochs=4)
    held = _held(project, v1.model_version_id)
    trained = {c.id for c in clips} - held
    assert v1.split["how"] == "speaker"
    assert set(v1.split["heldout_keys"]) == _speakers(project, held)
    assert not _speakers(project, held) & _speakers(project, trained)  # speaker-disjoint
    rt.activate(project, v1.model_version_id)  # now every clip has a prediction of v1

    # Named by its model: scored on its held-out clips only (was: all 12, its training clips included).
    run_id = runs.evaluate_project(project, rt.QUICK_MODEL)
    run = runs.get_run(project, run_id)
    scored = _scored(project, run_id)
    assert scored == held and run.n_items == len(held) < len(clips)
    assert run.model_version_id == v1.model_version_id
    assert run.clip_set["heldout_of"] == v1.model_version_id and run.clip_set["split"] == "speaker"
    assert not _speakers(project, scored) & _speakers(project, trained)
    assert f"held out by v{v1.model_version_id}" in runs.list_runs(project)[-1].title

    # A version never made active has no stored predictions: they are made for its held-out clips only.
    v2 = rt.retrain(project, rt.QUICK_MODEL, "latest", "clip", epochs=4)
    run2 = runs.evaluate_project(project, "", version=v2.model_version_id)
    held2 = _held(project, v2.model_version_id)
    assert _scored(project, run2) == held2
    with unit_of_work(project.db) as s:
        assert set(lineage_rows.version_clip_probs(s, v2.model_version_id)) == held2

    # The command line reports the same clips.
    args = ["evaluate", "--project", str(project.folder), "--model", rt.QUICK_MODEL, "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n"] == len(held2)  # the newest version of that name: v2


def test_the_evaluation_dock_scores_a_retrained_version_on_its_held_out_clips(
    qtbot, project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "dana")
    folder = project.folder
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.session.project_opened, timeout=60000):
            window.open_path(folder)
        view, opened = window.evaluation, window.session.project
        # Tried as a new user: the dock offered the first registered model (fusical), not the one in use.
        assert view.model_combo.currentText() == window.models.model_name == "lightweight-streaming"
        window.models.choose_model("egemaps-linear")
        assert view.model_combo.currentText() == "egemaps-linear"
        v1 = rt.retrain(opened, rt.QUICK_MODEL, "latest", "auto", epochs=4).model_version_id
        window.retrain.refresh_versions()  # what a training in the Retrain tab ends with
        index = view.model_combo.findData(v1)
        assert index >= 0 and "held-out clips" in view.model_combo.itemText(index)
        view.model_combo.setCurrentIndex(index)
        with qtbot.waitSignal(view.evaluated, timeout=120000) as done:
            view.start_evaluation()
        run_id = done.args[0]
        assert _scored(opened, run_id) == _held(opened, v1)
        line = view.contamination.text()
        assert line.startswith(f"Scored on the clips retrained version {v1} held out (speaker split: emodb:")
        assert "held out by v" in view.run_combo.currentText()
        # Issue 22 item 7: the browser's Prediction column follows a run (it was not refreshed after one):
        # the held-out clips now show the version's decision, the others nothing.
        with unit_of_work(opened.db) as s:
            said = {c: p for c, _, p in lineage_rows.lineage(s, v1).heldout}
        rows = {c.id: window.browser.model.row_for(c.path) for c in opened.clips()}
        qtbot.waitUntil(
            lambda: all(rows[c].extra.get("prediction") == p for c, p in said.items()), timeout=30000
        )
        assert all(not rows[c].extra.get("prediction") for c in rows if c not in said)
    finally:
        window.workers.cancel_all()
        window.shutdown()
