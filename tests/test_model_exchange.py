"""Model files out and in (issue 20, items 1-2): every shipped system exported to ONNX and TorchScript,
imported back, and run by the same inference path on a real clip within 1e-4 of PyTorch; a small model
written here, exported by torch and imported with a spec of perception-contract inputs, predicts and
stores; a file whose inputs or outputs differ from its spec is refused before it runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from affectscope.app.cli.main import main
from affectscope.models.exchange.spec import SpecError
from affectscope.models.inference import analyse_signals, load_model, perception_modalities
from affectscope.models.registry import all_specs
from tests.byo_models import write_model
from tests.cli_json import cli_json
from tests.clipfactory import make_clip

SHIPPED = [s.name for s in all_specs() if s.seed not in ("perception", "imported") and s.weights]


@pytest.fixture(scope="module")
def real_signals(shared_data: Path):
    """Every perception track of a real clip with faces and speech (VGAF, 5 s), extracted once."""
    from affectscope.models.extractors.pipeline import extract_clip

    modalities = perception_modalities(tuple(m for s in all_specs() for m in s.modalities))
    return extract_clip(shared_data / "clips" / "vgaf_val_1_1_negative.mp4", modalities)


def _present(batch: dict, head: str) -> np.ndarray:
    """Windows in which a head's modality was there: its mask, or every mask for a joint head."""
    masks = {
        k[: -len("_mask")]: v.numpy().reshape(len(v), -1).max(1) > 0
        for k, v in batch.items()
        if k.endswith("_mask")
    }
    return masks.get(head, np.logical_and.reduce(list(masks.values())))


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_system_round_trips_on_a_real_clip(
    name: str, fmt: str, real_signals, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    out = tmp_path / f"{name}.{'onnx' if fmt == 'onnx' else 'pt'}"
    exported = cli_json(capsys, "models", "export", name, "--format", fmt, "-o", str(out))
    assert exported["max_abs_diff"] <= 1e-4 and Path(exported["spec"]).is_file()
    imported = cli_json(
        capsys, "models", "import", str(out), "--spec", exported["spec"], "--name", f"{name}-{fmt}"
    )
    assert imported["new"] and imported["label_set"] == "sentiment3"

    spec, model = load_model(name)
    ispec, imodel = load_model(f"{name}-{fmt}")
    want = analyse_signals(spec, model, real_signals)
    got = analyse_signals(ispec, imodel, real_signals)
    assert got.times.tolist() == want.times.tolist()
    assert np.abs(got.fused - want.fused).max() <= 1e-4
    assert np.abs(got.clip_probs - want.clip_probs).max() <= 1e-4
    # per-modality heads where their modality was present (a system computes nothing for an absent one)
    win = float(want.window[0])
    starts = want.times - win / 2
    batch = model.batch_from_windows([(real_signals, float(t), float(t) + win) for t in starts])
    for head, probs in want.per_modality.items():
        here = _present(batch, head)
        assert np.abs(got.per_modality[head][here] - probs[here]).max(initial=0) <= 1e-4, head

    listed = {r["name"]: r for r in cli_json(capsys, "models", "--no-params")["models"]}
    assert listed[f"{name}-{fmt}"]["weights_present"] and listed[f"{name}-{fmt}"]["seed"] == "imported"


class TinyFaceVoice(nn.Module):
    """A model of one's own: grey face crops (T, 64, 64) and a log-mel (40, 101) -> 3 sentiment logits,
    its classes in its own order (negative, neutral, positive)."""

    def __init__(self) -> None:
        super().__init__()
        self.face = nn.Sequential(nn.Flatten(), nn.Linear(4 * 64 * 64, 8), nn.Tanh())
        self.voice = nn.Sequential(nn.Flatten(), nn.Linear(40 * 101, 8), nn.Tanh())
        self.out = nn.Linear(16, 3)

    def forward(self, face: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([self.face(face), self.voice(mel)], dim=1))


def _tiny_spec(fmt: str, face_shape: list[int]) -> dict:
    return {
        "spec_version": 1,
        "format": fmt,
        "name": "tiny",
        "labels": ["negative", "neutral", "positive"],
        "label_set": "sentiment3",
        "window_seconds": 1.0,
        "hop_seconds": 0.5,
        "output_kind": "logits",
        "inputs": [
            {"name": "face", "shape": face_shape, "source": "face_crop64", "normalise": {"scale": 1 / 255}},
            {"name": "mel", "shape": [1, 40, 101], "source": "log_mel"},
        ],
        "outputs": [{"name": "logits", "lane": "fused"}],
    }


def _write_tiny(tmp_path: Path, fmt: str) -> Path:
    torch.manual_seed(0)
    model = TinyFaceVoice().eval()
    args = (torch.rand(1, 4, 64, 64), torch.randn(1, 40, 101))
    path = tmp_path / ("tiny.onnx" if fmt == "onnx" else "tiny.pt")
    return write_model(model, path, fmt, args, ["face", "mel"], "logits")


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_small_model_of_ones_own_is_imported_run_and_stored(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from affectscope.app.services.analysis_store import load_stored_analysis
    from affectscope.app.services.project import Project
    from affectscope.models.exchange.inputs import contract_input
    from affectscope.models.inference import signals_for_file

    file = _write_tiny(tmp_path, fmt)
    spec_file = tmp_path / "tiny.spec.json"
    spec_file.write_text(json.dumps(_tiny_spec(fmt, [1, 4, 64, 64])))
    doc = cli_json(capsys, "models", "import", str(file), "--spec", str(spec_file), "--name", f"tiny-{fmt}")
    assert doc["inputs"] == ["face", "mel"] and doc["window_seconds"] == 1.0
    again = cli_json(capsys, "models", "import", str(file), "--spec", str(spec_file), "--name", f"tiny-{fmt}")
    assert not again["new"] and again["version"] == doc["version"]

    clips = tmp_path / "clips"
    clip = make_clip(clips / "talk.mp4", n_frames=75, fps=25, audio="speech", audio_rate=16000)
    with Project.init(tmp_path / "proj") as project:
        project.import_clips(clips)
    pred = cli_json(
        capsys, "predict", str(clip), "--model", f"tiny-{fmt}", "--project", str(tmp_path / "proj")
    )
    assert pred["labels"] == ["positive", "neutral", "negative"] and len(pred["times"]) == 5

    # the same numbers from the contract inputs and the PyTorch module, classes put in the set's order
    torch.manual_seed(0)
    reference = TinyFaceVoice().eval()
    spec, _ = load_model(f"tiny-{fmt}")
    signals = signals_for_file(clip, tuple(spec.modalities))
    from affectscope.models.exchange.spec import parse_spec
    from affectscope.models.registry import LABEL_SETS

    fs = parse_spec(_tiny_spec(fmt, [1, 4, 64, 64]), "tiny", LABEL_SETS)
    t0 = pred["times"][2] - 0.5
    face, mel = (torch.from_numpy(contract_input(signals, i, t0, t0 + 1.0)) for i in fs.inputs)
    with torch.no_grad():
        p = torch.softmax(reference(face, mel), 1)[0].numpy()[[2, 1, 0]]
    assert np.allclose(pred["fused"][2], p, atol=1e-4)

    # modality bars mask inputs: a masked modality reads what perception gives when it is missing
    bars = cli_json(
        capsys,
        "explain",
        str(clip),
        "--model",
        f"tiny-{fmt}",
        "--method",
        "occlusion",
        "--target",
        "negative",
    )
    assert (
        set(bars["modalities"]) == {"face", "audio"} and bars["modalities"]["face"]["shapley"] == 0.0
    )  # no face
    assert bars["modalities"]["audio"]["shapley"] == pytest.approx(
        bars["fused_all"] - bars["fused_none"], abs=1e-5
    )
    assert abs(bars["modalities"]["audio"]["shapley"]) > 1e-4

    with Project.open(tmp_path / "proj") as project:
        stored = load_stored_analysis(project, clip)
    assert stored.model == f"tiny-{fmt}" and stored.fused.shape == (5, 3)
    assert stored.version == doc["version"]  # the file's SHA-256 names the version, as weights do


def test_a_file_that_differs_from_its_spec_is_refused_before_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from affectscope.models.exchange.store import models_dir

    file = _write_tiny(tmp_path, "onnx")
    base = _tiny_spec("onnx", [1, 4, 64, 64])
    cases = {
        "shape": (_tiny_spec("onnx", [1, 3, 64, 64]), "input face has shape [1, 4, 64, 64] in the file"),
        "name": ({**base, "inputs": [
            {"name": "faces", "shape": [1, 4, 64, 64], "source": "face_crop64"},
            {"name": "mel", "shape": [1, 40, 101], "source": "log_mel"}]}, "takes inputs ['face', 'mel']"),
        "outputs": ({**base, "outputs": [{"name": "logits"}, {"name": "face", "lane": "face"}]},
                    "gives outputs ['logits']"),
        "labels": ({**base, "labels": ["happy", "sad", "neutral"]}, "must be exactly the labels"),
        "source": ({**base, "inputs": [
            {"name": "face", "shape": [1, 4, 64, 64], "source": "face_crop128"},
            {"name": "mel", "shape": [1, 40, 101], "source": "log_mel"}]}, "not a perception contract name"),
        "version": ({**base, "spec_version": 2}, "this Affectscope reads version 1"),
    }  # fmt: skip
    for case, (spec, message) in cases.items():
        spec_file = tmp_path / f"{case}.spec.json"
        spec_file.write_text(json.dumps(spec))
        assert main(["models", "import", str(file), "--spec", str(spec_file), "--name", f"bad-{case}"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (case, err)
        assert not (models_dir() / f"bad-{case}").exists()
    assert main(["models", "import", str(file), "--spec", str(tmp_path / "name.spec.json"),
                 "--name", "lightweight-streaming"]) == 2  # fmt: skip
    with pytest.raises(SpecError, match="'inputs' lists no input"):
        from affectscope.models.exchange.spec import parse_spec

        parse_spec(
            {**_tiny_spec("onnx", [1, 4, 64, 64]), "inputs": []},
            "x",
            {"sentiment3": ("positive", "neutral", "negative")},
        )


def test_modality_bars_of_an_imported_export_equal_the_systems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shapley and leave-one-out bars mask modalities through the batch the system builds, so an
    imported export (ONNX) gets the same bars as the PyTorch system."""
    out = tmp_path / "lw.onnx"
    exported = cli_json(
        capsys, "models", "export", "lightweight-streaming", "--format", "onnx", "-o", str(out)
    )
    cli_json(capsys, "models", "import", str(out), "--spec", exported["spec"], "--name", "lw-bars")
    clip = make_clip(tmp_path / "talk.mp4", n_frames=75, fps=25, audio="speech", audio_rate=16000)
    args = [str(clip), "--method", "occlusion", "--target", "negative"]
    want = cli_json(capsys, "explain", *args, "--model", "lightweight-streaming")
    got = cli_json(capsys, "explain", *args, "--model", "lw-bars")
    assert set(got["modalities"]) == set(want["modalities"]) == {"face", "mouth", "audio"}
    for m, bars in want["modalities"].items():
        for kind in ("shapley", "leave_one_out"):
            assert got["modalities"][m][kind] == pytest.approx(bars[kind], abs=1e-4), (m, kind)
    assert abs(want["modalities"]["audio"]["shapley"]) > 1e-3  # the speech moved the decision
    assert got["fused_all"] == pytest.approx(want["fused_all"], abs=1e-4)


def test_the_window_offers_an_imported_model_and_runs_it(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    """Chosen in the Models tab's list like a built-in system, run by Run model in the worker, drawn
    as lanes."""
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings
    from affectscope.models.exchange.importing import import_model

    file = _write_tiny(tmp_path, "onnx")
    spec_file = tmp_path / "tiny.spec.json"
    spec_file.write_text(json.dumps(_tiny_spec("onnx", [1, 4, 64, 64])))
    import_model(file, spec_file, "tiny-window")
    clip = make_clip(tmp_path / "talk.mp4", n_frames=50, fps=25, audio="speech", audio_rate=16000)
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.show()
    try:
        box = window.models.model_box
        index = box.findData("tiny-window")
        assert index >= 0, [box.itemData(i) for i in range(box.count())]
        box.setCurrentIndex(index)
        with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
            window.load_clip(clip)
        with qtbot.waitSignal(window.models.predicted, timeout=120000) as shown:
            window.models.run_action.trigger()
        prediction = shown.args[0]
        assert prediction.analysis.model == "tiny-window" and len(prediction.analysis.times) == 3
        fused = window.models.lanes.data["fused"]
        assert fused.labels == ("positive", "neutral", "negative") and fused.probs.shape == (3, 3)
        assert np.allclose(fused.probs.sum(1), 1.0, atol=1e-5)
    finally:
        window.workers.cancel_all()
        window.shutdown()


def test_gradients_reach_a_torchscript_import_and_an_onnx_one_says_it_has_none(tmp_path: Path) -> None:
    """captum's gradient methods need gradients through the model: TorchScript keeps them; ONNX files
    have none, and say so instead of failing inside autograd (the traceback explain gave before)."""
    from affectscope.models.exchange.runtime import ImportedSystem, ModelFileError

    spec = _tiny_spec("torchscript", [1, 4, 64, 64])
    scripted = ImportedSystem(str(_write_tiny(tmp_path, "torchscript")), spec)
    face = torch.rand(1, 4, 64, 64, requires_grad=True)
    scripted({"face": face, "mel": torch.randn(1, 40, 101)}).logits[0, 0].backward()
    assert face.grad is not None and float(face.grad.abs().sum()) > 0
    onnx_model = ImportedSystem(str(_write_tiny(tmp_path, "onnx")), {**spec, "format": "onnx"})
    with pytest.raises(ModelFileError, match="use --method occlusion"):
        onnx_model({"face": torch.rand(1, 4, 64, 64, requires_grad=True), "mel": torch.randn(1, 40, 101)})
