"""Imported versions in retrain comparisons (issue 20, item 3): a colleague's imported predictions and an
imported ONNX model are compared with a version retrained in the project, on the clips that version held
out, by ``versions compare`` naming them. Before, compare took ids only, and an imported model's version
could not be predicted (its model file was loaded as if it were safetensors weights)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.app.cli.main import main
from affectscope.app.services import retrain as rt
from affectscope.app.services.project import Project
from affectscope.db import lineage as lineage_rows
from affectscope.db.uow import unit_of_work
from tests.byo_models import MelSentiment, save_model, sentiment_spec
from tests.queue_project import make_project


def _compare(capsys: pytest.CaptureFixture[str], folder: Path, a: str, b: str) -> dict:
    code = main(["versions", "compare", a, b, "--project", str(folder), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_imported_predictions_and_an_imported_model_compare_with_a_retrained_version(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, shared_data, per_class=4)
    folder = project.folder
    v1 = rt.retrain(project, epochs=8).model_version_id
    with unit_of_work(project.db) as s:
        heldout = lineage_rows.lineage(s, v1).heldout
    paths = {c.id: Path(c.path).name for c in project.clips()}
    project.close()
    held = sorted(c for c, _, _ in heldout)
    truth = {c: t for c, t, _ in heldout}
    retrained_right = np.mean([t == p for _, t, p in heldout])

    # a colleague's clip decisions for every clip: right on every other held-out clip, wrong on the rest
    wrong = {"positive": "negative", "neutral": "positive", "negative": "neutral"}
    said = {c: (truth[c] if k % 2 == 0 else wrong[truth[c]]) for k, c in enumerate(held)}
    rows = ["clip,start,end,label"] + [f"{paths[c]},,,{said.get(c, 'neutral')}" for c in sorted(paths)]
    (tmp_path / "colleague.csv").write_text("\n".join(rows) + "\n")
    assert main(["import", "predictions", str(tmp_path / "colleague.csv"), "--project", str(folder),
                 "--name", "colleague", "--label-set", "sentiment3"]) == 0  # fmt: skip
    capsys.readouterr()
    doc = _compare(capsys, folder, "colleague", str(v1))
    assert doc["clips"] == held and doc["n"] == len(held) >= 2
    assert doc["a"]["accuracy"] == pytest.approx(np.mean([said[c] == truth[c] for c in held]))
    assert doc["b"]["accuracy"] == pytest.approx(retrained_right)
    assert doc["version_b"] == v1

    # an imported model: predicted on the held-out clips (and only those), stored as its file's version
    torch.manual_seed(0)
    file = save_model(MelSentiment(), tmp_path / "mel.onnx", "onnx")
    (tmp_path / "mel.spec.json").write_text(json.dumps(sentiment_spec("onnx")))
    assert main(["models", "import", str(file), "--spec", str(tmp_path / "mel.spec.json"), "--name", "mel",
                 "--json"]) == 0  # fmt: skip
    imported = json.loads(capsys.readouterr().out)
    doc = _compare(capsys, folder, str(v1), "mel")
    with Project.open(folder) as p, unit_of_work(p.db) as s:
        mel_id = doc["version_b"]
        record = lineage_rows.version_record(s, mel_id)
        probs = lineage_rows.version_clip_probs(s, mel_id)
    assert record.name == "mel" and record.version == imported["version"]
    assert sorted(probs) == held  # predicted where compared, not over the whole project
    predicted = {c: record.labels[int(np.argmax(probs[c][0]))] for c in held}
    assert doc["clips"] == held and doc["a"]["accuracy"] == pytest.approx(retrained_right)
    assert doc["b"]["accuracy"] == pytest.approx(np.mean([predicted[c] == truth[c] for c in held]))
    # a second compare reads the stored predictions (same numbers, nothing predicted again)
    assert _compare(capsys, folder, str(v1), "mel")["b"] == doc["b"]

    # names that are no version are refused with one line
    assert main(["versions", "compare", "nobody", str(v1), "--project", str(folder)]) == 2
    assert "no predictions of 'nobody'" in capsys.readouterr().err
    assert main(["versions", "activate", "colleague", "--project", str(folder)]) == 2
    assert "takes a version id" in capsys.readouterr().err
