"""Imported models with named continuous outputs (issue 20, item 1): a valence/arousal model written here,
saved as ONNX and as TorchScript, declared by a spec with each output's range, imported, run on a clip
(its values as they are: no softmax), stored like imported continuous predictions, drawn as lanes over
the declared ranges, scored with CCC/Pearson against an imported reference, and drawn as a figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.analysis.continuous import ccc, pearson_r
from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from tests.byo_models import MelSentiment, MelValenceArousal, save_model, sentiment_spec, valence_arousal_spec
from tests.cli_json import cli_json
from tests.clipfactory import make_clip


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_valence_arousal_model_runs_stores_draws_and_is_scored(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from affectscope.app.services.predict import latest_predictions, predict_clip, stored_prediction
    from affectscope.db import predictions as pred_rows
    from affectscope.db.uow import unit_of_work
    from affectscope.models.exchange.inputs import contract_input
    from affectscope.models.exchange.spec import parse_spec
    from affectscope.models.inference import signals_for_file

    torch.manual_seed(0)
    file = save_model(MelValenceArousal(), tmp_path / f"va.{'onnx' if fmt == 'onnx' else 'pt'}", fmt)
    spec_file = tmp_path / "va.spec.json"
    spec_file.write_text(json.dumps(valence_arousal_spec(fmt)))
    name = f"va-{fmt}"
    doc = cli_json(capsys, "models", "import", str(file), "--spec", str(spec_file), "--name", name)
    assert doc["label_set"] == "continuous" and doc["labels"] == ["valence", "arousal"]
    listed = {r["name"]: r for r in cli_json(capsys, "models", "--no-params")["models"]}
    assert listed[name]["labels"] == ["valence", "arousal"] and listed[name]["label_set"] == "continuous"

    clips = tmp_path / "clips"
    clip = make_clip(clips / "talk.mp4", n_frames=100, fps=25, audio="speech", audio_rate=16000)
    where = ["--project", str(tmp_path / "proj")]
    with Project.init(tmp_path / "proj") as project:
        project.import_clips(clips)
    pred = cli_json(capsys, "predict", str(clip), "--model", name, *where)
    assert pred["labels"] == ["valence", "arousal"] and len(pred["times"]) == 7
    fused = np.array(pred["fused"])

    # the model's own numbers on the contract input, not squashed into probabilities
    torch.manual_seed(0)
    reference = MelValenceArousal().eval()
    fs = parse_spec(valence_arousal_spec(fmt), "va", {})
    signals = signals_for_file(clip, ("audio",))
    for k, centre in enumerate(pred["times"]):
        mel = torch.from_numpy(contract_input(signals, fs.inputs[0], centre - 0.5, centre + 0.5))
        with torch.no_grad():
            want = reference(mel)[0].numpy()
        assert np.allclose(fused[k], want, atol=1e-4), k
    assert fused[:, 1].min() > 0 and fused[:, 1].max() > 1.5  # arousal on its 0..10 scale, no softmax
    assert not np.allclose(fused.sum(1), 1.0)
    # the clip's value: the speech-weighted mean of its windows (the clip gate every model's decision uses)
    assert fused[:, 1].min() <= pred["whole_clip"]["probs"]["arousal"] <= fused[:, 1].max()
    assert pred["whole_clip"]["label"] is None  # values have no winning class

    # explanation reads class probabilities: refused for values, with one line (not numbers of a softmax)
    assert main(["explain", str(clip), "--model", name, "--method", "occlusion"]) == 2
    err = capsys.readouterr().err
    assert "gives continuous outputs (valence, arousal)" in err and err.count("\n") == 1

    # stored the way imported continuous predictions are, and drawn over the declared ranges
    with Project.open(tmp_path / "proj") as project:
        with unit_of_work(project.db) as s:
            version = pred_rows.versions_named(s, name)[-1]
        assert version.label_set == "continuous" and version.labels == ("valence", "arousal")
        assert version.config["kind"] == "continuous"
        assert version.config["ranges"] == {"valence": [-1.0, 1.0], "arousal": [0.0, 10.0]}
        lanes = {lane.name: lane for lane in stored_prediction(project, str(clip)).lanes}
        assert lanes["fused"].value_range == (-1.0, 10.0) and lanes["fused"].labels == ("valence", "arousal")
        assert np.allclose(lanes["fused"].probs, fused, atol=1e-6)
        # the browser's Prediction column lists classes: values are not offered as one ("arousal", 758 %)
        assert latest_predictions(project) == {}
        run = predict_clip(str(clip), name)  # the window's Run model: lanes over the same ranges
        assert next(lane for lane in run.lanes if lane.name == "fused").value_range == (-1.0, 10.0)

    # a reference trace over the same windows: CCC and r equal the direct formulas on the stored values
    rng = np.random.default_rng(3)
    gold = fused + rng.normal(scale=[0.05, 0.4], size=fused.shape) + [0.1, -0.5]
    rows = ["clip,start,end,valence,arousal"] + [
        f"talk.mp4,{t - 0.5!r},{t + 0.5!r},{v!r},{a!r}" for t, (v, a) in zip(pred["times"], gold, strict=True)
    ]
    (tmp_path / "gold.csv").write_text("\n".join(rows) + "\n")
    cli_json(
        capsys, "import", "predictions", str(tmp_path / "gold.csv"), *where, "--name", "gold", "--continuous"
    )
    report = cli_json(capsys, "evaluate", *where, "--model", name, "--reference", "gold")
    assert report["model"] == name and report["clips"] == 1
    for k, output in enumerate(("valence", "arousal")):
        got = report["outputs"][output]
        assert got["ccc"] == pytest.approx(ccc(fused[:, k], gold[:, k]), abs=1e-6)
        assert got["pearson_r"] == pytest.approx(pearson_r(fused[:, k], gold[:, k]), abs=1e-6)
        assert got["n_windows"] == 7
    out = tmp_path / "va.png"
    fig = cli_json(
        capsys, "figure", "continuous", *where, "--model", name, "--reference", "gold", "-o", str(out)
    )
    assert fig["kind"] == "continuous" and out.stat().st_size > 10_000


def test_continuous_specs_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from affectscope.models.exchange.spec import SpecError, parse_spec

    base = valence_arousal_spec("onnx")
    bad = {
        "empty range": ([{"name": "valence", "range": [1, 1]}], "lo < hi"),
        "reversed": ([{"name": "valence", "range": [1, -1]}], "lo < hi"),
        "infinite": ([{"name": "valence", "range": [0, float("inf")]}], "finite numbers"),
        "no range": ([{"name": "valence"}], "the range of 'valence'"),
        "twice": ([{"name": "v", "range": [0, 1]}, {"name": "v", "range": [0, 1]}], "named twice"),
        "none": ([], "'continuous' lists the outputs"),
    }
    for case, (outputs, message) in bad.items():
        with pytest.raises(SpecError, match=message):
            parse_spec({**base, "continuous": outputs}, case, {})
    with pytest.raises(SpecError, match="not both"):
        parse_spec({**base, "labels": ["a", "b"], "label_set": "sentiment3"}, "both", {})
    with pytest.raises(SpecError, match="continuous outputs take none"):
        parse_spec({**base, "ewma_alpha": 0.5}, "ewma", {})
    with pytest.raises(SpecError, match="output_kind must be values"):
        parse_spec({**base, "output_kind": "logits"}, "kind", {})
    spec = parse_spec(base, "ok", {})
    assert parse_spec(spec.to_json(), "again", {}) == spec  # what the models folder keeps reads back

    # a file with two outputs declared as three is refused before it runs, nothing stored
    torch.manual_seed(0)
    file = save_model(MelValenceArousal(), tmp_path / "va.onnx", "onnx")
    three = {**base, "continuous": [*base["continuous"], {"name": "dominance", "range": [-1, 1]}]}
    (tmp_path / "three.json").write_text(json.dumps(three))
    assert main(["models", "import", str(file), "--spec", str(tmp_path / "three.json"), "--name", "va3"]) == 2
    err = capsys.readouterr().err
    assert "output out has shape [1, 2] in the file; the spec says [1, 3]" in err and err.count("\n") == 1


def test_the_window_runs_a_continuous_model_and_shows_values_over_their_ranges(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    """Run model in the Models tab: lanes over the declared ranges, the whole clip and the bars as the
    outputs' values (before: "arousal" as the winning class and "758 %" on its bar)."""
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings
    from affectscope.models.exchange.importing import import_model

    torch.manual_seed(0)
    file = save_model(MelValenceArousal(), tmp_path / "va.onnx", "onnx")
    (tmp_path / "va.spec.json").write_text(json.dumps(valence_arousal_spec("onnx")))
    import_model(file, tmp_path / "va.spec.json", "va-window")
    mel = save_model(MelSentiment(), tmp_path / "mel.onnx", "onnx")
    (tmp_path / "mel.spec.json").write_text(json.dumps(sentiment_spec("onnx")))
    import_model(mel, tmp_path / "mel.spec.json", "mel-window")
    clip = make_clip(tmp_path / "talk.mp4", n_frames=75, fps=25, audio="speech", audio_rate=16000)
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.show()
    try:
        panel = window.models
        panel.model_box.setCurrentIndex(panel.model_box.findData("va-window"))
        with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
            window.load_clip(clip)
        with qtbot.waitSignal(panel.predicted, timeout=120000) as shown:
            panel.run_action.trigger()
        a = shown.args[0].analysis
        fused = panel.lanes.data["fused"]
        assert fused.labels == ("valence", "arousal") and fused.value_range == (-1.0, 10.0)
        assert np.allclose(fused.probs, a.fused)
        valence, arousal = a.clip_probs
        assert f"valence <b>{valence:.2f}</b> · arousal <b>{arousal:.2f}</b>" in panel.clip_label.text()
        bars = panel.clip_bars.bars
        assert bars["arousal"].format() == f"{arousal:.2f}" and "%" not in bars["valence"].format()
        # each bar filled over the declared ranges' union, -1..10
        assert bars["arousal"].value() == round((arousal + 1.0) / 11.0 * 1000)
        assert "%" not in panel.at_table.text()

        # a classifier run next: the valence/arousal run stays as a comparison lane, on its own scale
        panel.model_box.setCurrentIndex(panel.model_box.findData("mel-window"))
        with qtbot.waitSignal(panel.predicted, timeout=120000):
            panel.run_action.trigger()
        assert panel.lanes.data["fused"].value_range is None
        assert panel.lanes.data["va-window fused"].value_range == (-1.0, 10.0)
        assert "%" in panel.at_table.text()
    finally:
        window.workers.cancel_all()
        window.shutdown()


def test_batch_predict_records_a_continuous_version_with_its_ranges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch records the version before any clip runs (as a comparison or a study arm naming the model
    would): the record carries the outputs' kind and ranges whoever makes it, so the lanes keep them."""
    from affectscope.app.services import batch_tasks
    from affectscope.app.services.predict import stored_prediction
    from affectscope.app.services.prediction_io import find_version
    from affectscope.models.exchange.importing import import_model

    # the process's load counter is the batch tests' to read: this test's loads stay out of it
    monkeypatch.setattr(batch_tasks, "MODEL_LOADS", {})
    torch.manual_seed(0)
    file = save_model(MelValenceArousal(), tmp_path / "va.pt", "torchscript")
    (tmp_path / "va.spec.json").write_text(json.dumps(valence_arousal_spec("torchscript")))
    import_model(file, tmp_path / "va.spec.json", "va-batch")
    clips = tmp_path / "clips"
    for name in ("a", "b"):
        make_clip(clips / f"{name}.mp4", n_frames=50, fps=25, audio="speech", audio_rate=16000)
    with Project.init(tmp_path / "proj") as project:
        project.import_clips(clips)
    where = ["--project", str(tmp_path / "proj"), "--model", "va-batch"]
    doc = cli_json(capsys, "batch", "predict", *where)
    assert doc["done"] == 2 and doc["labels"] == ["valence", "arousal"]
    for r in doc["results"]:  # values, no class and no confidence
        assert r["label"] is None and r["confidence"] is None and set(r["values"]) == {"valence", "arousal"}
        assert 0 < r["values"]["arousal"] < 10
    with Project.open(tmp_path / "proj") as project:
        version = find_version(project, "va-batch")
        assert version.config["kind"] == "continuous"
        assert version.config["ranges"] == {"valence": [-1.0, 1.0], "arousal": [0.0, 10.0]}
        fused = next(x for x in stored_prediction(project, str(clips / "a.mp4")).lanes if x.name == "fused")
        assert fused.value_range == (-1.0, 10.0)
    assert main(["batch", "evaluate", *where]) == 2
    err = capsys.readouterr().err
    assert "gives continuous outputs (valence, arousal)" in err and "--reference REF" in err
