"""Issue 22 item 11: the shipped model in use is a row of the Retrain tab's versions table, compared with
a retrained version on the clips that version held out, and the model to retrain defaults to the model
in use. Before, the table listed retrained versions only (a retrain could not be compared with what it
would replace) and ``compare`` refused any version without lineage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from affectscope.app.cli.main import main
from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services import retrain as rt
from affectscope.db import lineage as lineage_rows
from affectscope.db.uow import unit_of_work
from tests.queue_project import make_project
from tests.window_factory import opened_window

SHIPPED = "lightweight-streaming"


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_data: Path):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "dana")
    project = make_project(tmp_path, shared_data, per_class=4)
    folder = project.folder
    project.close()
    yield from opened_window(qtbot, folder)


def test_the_shipped_model_is_a_version_compared_on_held_out_clips(window: MainWindow, qtbot, capsys) -> None:
    panel, project = window.retrain, window.session.project
    window.inspector.setCurrentWidget(panel)
    window.resizeDocks([window.inspector_dock], [560], Qt.Orientation.Horizontal)
    # Before any retrain: the shipped model in use is listed, active, and is what a retrain would train.
    assert panel.table.rowCount() == 1
    assert panel.table.item(0, 0).text().endswith(f"{SHIPPED} (shipped)")
    assert panel.table.item(0, 4).text() == "●"
    assert panel.model_box.currentData() == SHIPPED
    assert not panel.compare_button.isEnabled()  # nothing to compare the shipped row with yet
    # Another model in the Models tab: its shipped row replaces the first, and the default follows it.
    window.models.choose_model("egemaps-linear")
    assert panel.model_box.currentData() == "egemaps-linear"
    assert panel.table.item(0, 0).text().endswith("egemaps-linear (shipped)")
    window.models.choose_model(SHIPPED)
    assert panel.model_box.currentData() == SHIPPED and panel.table.rowCount() == 1
    shipped_id = panel.a_box.currentData()

    panel.model_box.setCurrentIndex(panel.model_box.findData(rt.QUICK_MODEL))  # seconds, not minutes
    panel.epochs.setValue(8)
    with qtbot.waitSignal(panel.trained, timeout=120000) as trained:
        panel.train()
    v1 = trained.args[0].model_version_id
    assert panel.table.rowCount() == 2 and panel.table.item(1, 0).text().startswith(f"{v1}: ")
    assert panel.table.item(0, 4).text() == "●"  # v1 is not active yet: the shipped model still is
    # The compare boxes default to the shipped model (A) against the newest retrain (B).
    assert (panel.a_box.currentData(), panel.b_box.currentData()) == (shipped_id, v1)
    assert "shipped" in panel.a_box.currentText() and panel.compare_button.isEnabled()

    with qtbot.waitSignal(panel.compared, timeout=300000) as cmp:
        panel.compare()
    doc = cmp.args[0]
    with unit_of_work(project.db) as s:
        lin = lineage_rows.lineage(s, v1)
        probs = lineage_rows.version_clip_probs(s, shipped_id)
        labels = lineage_rows.version_record(s, shipped_id).labels
    held = sorted(c for c, _, _ in lin.heldout)
    assert doc["clips"] == held and doc["n"] == len(held) > 0
    # The shipped model was predicted on the held-out clips and stored as its own version's rows; its
    # accuracy in the comparison is the one those stored predictions give against v1's snapshot.
    assert set(held) <= set(probs)
    truth = {c: t for c, t, _ in lin.heldout}
    right = [labels[int(np.argmax(probs[c][0]))] == truth[c] for c in held]
    assert doc["a"]["accuracy"] == pytest.approx(np.mean(right))
    assert doc["b"]["accuracy"] == pytest.approx(np.mean([t == p for _, t, p in lin.heldout]))
    assert "contamination" in doc and "Shipped weights:" in panel.compare_label.text()
    assert "McNemar p" in panel.compare_label.text()

    # The command line lists the same shipped row (on request) and compares the same way.
    folder = str(project.folder)
    assert main(["versions", "--project", folder, "--shipped", SHIPPED, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["versions"]
    assert [(v["model_version_id"], v["shipped"], v["active"]) for v in listed] == [
        (shipped_id, True, True),
        (v1, False, False),
    ]
    assert main(["versions", "compare", str(shipped_id), str(v1), "--project", folder, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["clips"] == held and cli["a"]["accuracy"] == pytest.approx(doc["a"]["accuracy"])
    assert main(["versions", "--project", folder, "--shipped", "no-such-model"]) == 2
    assert "ships no weights" in capsys.readouterr().err
