"""Issue 20: imported versions in the Retrain tab. A colleague's imported predictions and an imported ONNX
model with stored predictions are rows of the versions table, marked as imported, and Compare between
either and a retrained version gives what ``versions compare`` gives (the same service call). Before, the
table listed the shipped row and retrained versions only: imported versions compared from the CLI alone.
Continuous imports have no classes to score by UAR and are not listed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from affectscope import strict_json
from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services import retrain as rt
from affectscope.app.services.commands import LabelCommand
from affectscope.app.services.imported_versions import imported_rows
from affectscope.app.services.prediction_io import import_predictions
from affectscope.app.services.project import Project
from affectscope.db import lineage as lineage_rows
from affectscope.db import predictions as pred_rows
from affectscope.db.label_sets import utcnow
from affectscope.db.uow import unit_of_work
from tests.byo_models import MelSentiment, save_model, sentiment_spec
from tests.cli_json import cli_json
from tests.clipfactory import make_clip
from tests.queue_project import SENTIMENT, make_project
from tests.window_factory import opened_window

pytest_plugins = ["tests.db_backends"]  # the backend_url fixture: SQLite and PostgreSQL
WRONG = {"positive": "negative", "neutral": "positive", "negative": "neutral"}


@pytest.fixture
def folder(tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A labelled project holding three imports: a colleague's clip decisions (right on every other
    clip), a valence/arousal trace (continuous) and an ONNX model written here, run on one clip."""
    project = make_project(tmp_path, shared_data, per_class=4)
    folder = project.folder
    names = sorted(Path(c.path).name for c in project.clips())
    project.close()
    said = [SENTIMENT[n[5]] if k % 2 == 0 else WRONG[SENTIMENT[n[5]]] for k, n in enumerate(names)]
    rows = ["clip,start,end,label"] + [f"{n},,,{s}" for n, s in zip(names, said, strict=True)]
    (tmp_path / "colleague.csv").write_text("\n".join(rows) + "\n")
    where = ["--project", str(folder)]
    cli_json(capsys, "import", "predictions", str(tmp_path / "colleague.csv"), *where, "--name", "colleague",
        "--label-set", "sentiment3")  # fmt: skip
    (tmp_path / "va.csv").write_text(f"clip,start,end,valence,arousal\n{names[0]},0.0,1.0,0.2,0.4\n")
    cli_json(
        capsys, "import", "predictions", str(tmp_path / "va.csv"), *where, "--name", "va", "--continuous"
    )
    torch.manual_seed(0)
    file = save_model(MelSentiment(), tmp_path / "mynet.onnx", "onnx")
    (tmp_path / "mynet.spec.json").write_text(json.dumps(sentiment_spec("onnx")))
    cli_json(
        capsys, "models", "import", str(file), "--spec", str(tmp_path / "mynet.spec.json"), "--name", "mynet"
    )
    cli_json(capsys, "predict", str(folder / names[0]), "--model", "mynet", *where)  # stored in the project
    return folder


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch, folder: Path):  # noqa: ANN001
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "dana")
    yield from opened_window(qtbot, folder)


def _compare_in_window(panel, qtbot, a: int, b: int) -> dict:  # noqa: ANN001
    panel.a_box.setCurrentIndex(panel.a_box.findData(a))
    panel.b_box.setCurrentIndex(panel.b_box.findData(b))
    with qtbot.waitSignal(panel.compared, timeout=300000) as cmp:
        panel.compare()
    return json.loads(strict_json.dumps(cmp.args[0]))  # as the CLI prints it


def test_imported_versions_are_rows_compared_as_versions_compare_does(
    window: MainWindow, qtbot, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    panel, project = window.retrain, window.session.project
    window.inspector.setCurrentWidget(panel)
    window.resizeDocks([window.inspector_dock], [560], Qt.Orientation.Horizontal)
    texts = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert len(texts) == 3 and texts[0].endswith("(shipped)")
    assert texts[1].endswith(": colleague (imported predictions)")
    assert texts[2].endswith(": mynet (imported ONNX)")
    assert not any("va" in t.split(": ")[1] for t in texts)  # continuous: no UAR to compare
    assert "stored predictions of 1 clips" in panel.table.item(2, 0).toolTip()
    assert [panel.table.item(r, 1).text() for r in (1, 2)] == ["— (Compare)"] * 2
    colleague_id, mynet_id = (int(t.split(":")[0]) for t in texts[1:])
    assert panel.a_box.findData(colleague_id) >= 0 and panel.b_box.findData(mynet_id) >= 0
    assert not panel.compare_button.isEnabled()  # nothing trained here to score them on yet

    panel.model_box.setCurrentIndex(panel.model_box.findData(rt.QUICK_MODEL))
    panel.epochs.setValue(8)
    with qtbot.waitSignal(panel.trained, timeout=120000) as trained:
        panel.train()
    v1 = trained.args[0].model_version_id
    assert panel.table.rowCount() == 4 and panel.table.item(3, 0).text().startswith(f"{v1}: ")
    assert panel.table.item(1, 0).text() == texts[1]  # imported rows stay marked after a refresh
    assert "shipped" in panel.a_box.currentText() and panel.b_box.currentData() == v1  # defaults kept
    with unit_of_work(project.db) as s:
        heldout = lineage_rows.lineage(s, v1).heldout
    held = sorted(c for c, _, _ in heldout)
    truth = {c: t for c, t, _ in heldout}
    where = ["--project", str(folder)]

    # The colleague's stored decisions against v1, on v1's held-out clips: as the CLI compares them.
    doc = _compare_in_window(panel, qtbot, colleague_id, v1)
    assert doc == cli_json(capsys, "versions", "compare", "colleague", str(v1), *where)
    names = {c.id: Path(c.path).name for c in project.clips()}
    order = sorted(names.values())
    said = {c: truth[c] if order.index(names[c]) % 2 == 0 else WRONG[truth[c]] for c in held}
    assert doc["clips"] == held and doc["version_a"] == colleague_id
    assert doc["a"]["accuracy"] == pytest.approx(np.mean([said[c] == truth[c] for c in held]))
    assert doc["b"]["accuracy"] == pytest.approx(np.mean([t == p for _, t, p in heldout]))
    assert "Imported predictions colleague: contamination unknown" in panel.compare_label.text()

    # The ONNX file predicts the held-out clips it lacks (stored), then compares like the CLI.
    doc = _compare_in_window(panel, qtbot, mynet_id, v1)
    assert doc["clips"] == held and doc["version_a"] == mynet_id
    with unit_of_work(project.db) as s:
        predicted = set(lineage_rows.version_clip_probs(s, mynet_id))
    assert set(held) <= predicted
    assert doc == cli_json(capsys, "versions", "compare", "mynet", str(v1), *where)
    assert "Imported ONNX mynet:" in panel.compare_label.text()

    # The imported file run from the Models tab is the model in use: one row, marked both ways.
    window.models.choose_model("mynet")
    texts = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert texts[0] == f"{mynet_id}: mynet (imported ONNX, in use)" and len(texts) == 3
    assert texts[1].endswith("colleague (imported predictions)") and texts[2].startswith(f"{v1}: ")
    assert (panel.a_box.currentData(), panel.b_box.currentData()) == (mynet_id, v1)


def test_only_imported_versions_with_stored_predictions_of_the_label_set_are_listed(
    backend_url: str, tmp_path: Path
) -> None:
    """The query behind the rows, on SQLite and PostgreSQL: versions not trained here that have clip
    predictions; of those, the service keeps what came from outside (imported file or predictions)."""
    make_clip(tmp_path / "clips" / "a.mp4", n_frames=25, fps=25)
    make_clip(tmp_path / "clips" / "b.mp4", n_frames=25, fps=25)
    with Project.init(tmp_path / "proj", db_url=backend_url) as project:
        project.import_clips(tmp_path / "clips")
        project.choose_label_set("sentiment3")
        a, b = project.clip("a.mp4").id, project.clip("b.mp4").id
        LabelCommand(project.db, a, "sentiment3", "positive", "ann").do()
        (tmp_path / "c.csv").write_text("clip,start,end,label\na.mp4,,,positive\nb.mp4,,,neutral\n")
        colleague = import_predictions(project, tmp_path / "c.csv", "colleague", label_set="sentiment3")
        (tmp_path / "va.csv").write_text("clip,start,end,valence\na.mp4,0.0,0.5,0.1\n")
        import_predictions(project, tmp_path / "va.csv", "va", continuous=True)
        labels = ["positive", "neutral", "negative"]
        with unit_of_work(project.db, write=True) as s:

            def version(name: str, weights: str, clips: list[int]) -> int:
                v = pred_rows.record_model_version(
                    s, name, name, "sentiment3", labels, name, {"weights": weights}
                )
                for c in clips:
                    pred_rows.add_predictions(s, v.id, c, clip_probs=[0.5, 0.3, 0.2])
                return v.id

            mynet = version("mynet", str(tmp_path / "mynet" / "0123abcd.onnx"), [a])
            script = version("scripted", str(tmp_path / "scripted" / "0123abcd.pt"), [a, b])
            version("never-run", str(tmp_path / "other" / "0123abcd.onnx"), [])
            shipped = version("lightweight-streaming", str(tmp_path / "w.safetensors"), [a, b])
            retrained = version("audio-logmel-linear", str(tmp_path / "q.npz"), [a])
            lineage_rows.record_lineage(
                s, retrained, "latest", [], utcnow(), {}, [(a, "positive", "positive")], {}, "test"
            )
            lineage_rows.activate(s, "sentiment3", mynet)
        with unit_of_work(project.db) as s:
            found = lineage_rows.untrained_versions_with_predictions(s, "sentiment3")
        assert [(r.id, n) for r, n in found] == [
            (colleague.model_version_id, 2),
            (mynet, 1),
            (script, 2),
            (shipped, 2),
        ]
        rows = imported_rows(project)
    assert [(r["name"], r["imported"], r["n_clips"], r["active"]) for r in rows] == [
        ("colleague", "predictions", 2, False),
        ("mynet", "onnx", 1, True),
        ("scripted", "torchscript", 2, False),
    ]
    assert all(r["uar"] is None and not r["shipped"] for r in rows)
