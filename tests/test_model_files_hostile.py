"""Hostile TorchScript files are refused before anything reads them as Python (issue 20, item 6), and the
device an imported file runs on is chosen explicitly and reported (item 5).

Each hostile file is real: the plain pickle runs its payload under ``torch.load`` (shown here, in a
temporary folder), the crafted archive carries the same payload in its data.pkl. ``models import``
must exit 2 with one line and the payload's marker file must never appear."""

from __future__ import annotations

import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import pytest
import torch

from affectscope.app.cli.main import main
from affectscope.models.exchange.archive import ArchiveError, check_pickle, check_torchscript_archive
from tests.byo_models import MelSentiment, save_model, sentiment_spec
from tests.clipfactory import make_clip


class _Payload:
    """Unpickling this writes a marker file: what a hostile model file would do with any code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.write_text, (self.marker, "ran"))


def _hostile_files(tmp_path: Path, marker: Path) -> dict[str, Path]:
    torch.manual_seed(0)
    good = save_model(MelSentiment(), tmp_path / "good.pt", "torchscript")
    files = {}
    plain = tmp_path / "plain.pt"
    torch.save({"model": _Payload(marker)}, plain)
    files["plain pickle"] = plain
    crafted = tmp_path / "crafted.pt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(crafted, "w") as dst:
        for entry in src.namelist():
            data = src.read(entry)
            dst.writestr(
                entry, pickle.dumps(_Payload(marker), protocol=2) if entry.endswith("/data.pkl") else data
            )
    files["zip with a malicious data.pkl"] = crafted
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    files["truncated"] = truncated
    noise = tmp_path / "noise.pt"
    noise.write_bytes(os.urandom(8192))
    files["random bytes"] = noise
    return files


def test_hostile_torchscript_files_are_refused_and_never_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from affectscope.models.exchange.store import models_dir

    marker = tmp_path / "MARKER"
    files = _hostile_files(tmp_path, marker)
    # the payload is live: torch.load of the plain pickle runs it (this is what importing must never do)
    torch.load(files["plain pickle"], weights_only=False)
    assert marker.read_text() == "ran"
    marker.unlink()

    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(sentiment_spec("torchscript")))
    expected = {
        "plain pickle": "no TorchScript code: it looks like torch.save of a Python object",
        "zip with a malicious data.pkl": "data.pkl would import the Python object __builtin__.getattr",
        "truncated": "not a TorchScript archive (not a whole zip file",
        "random bytes": "not a TorchScript archive (not a whole zip file",
    }
    for what, file in files.items():
        code = main(["models", "import", str(file), "--spec", str(spec), "--name", "hostile"])
        err = capsys.readouterr().err
        assert code == 2, (what, err)
        assert err.count("\n") == 1 and expected[what] in err, (what, err)
        assert not marker.exists(), what
    assert not (models_dir() / "hostile").exists()  # nothing stored


def test_the_archive_check_passes_real_exports_and_refuses_other_globals(tmp_path: Path) -> None:
    torch.manual_seed(0)
    check_torchscript_archive(save_model(MelSentiment(), tmp_path / "ok.pt", "torchscript"))
    scripted = tmp_path / "scripted.pt"
    torch.jit.script(MelSentiment()).save(str(scripted))
    check_torchscript_archive(scripted)
    for payload in (pickle.dumps(os.system, protocol=2), pickle.dumps(print, protocol=4)):
        with pytest.raises(ArchiveError, match="refused|opcode STACK_GLOBAL"):
            check_pickle(payload, "x.pkl")
    with pytest.raises(ArchiveError, match="damaged pickle"):
        check_pickle(b"\x80\x02c", "x.pkl")


def test_onnx_picks_cuda_when_offered_and_says_which_provider_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnxruntime as ort

    from affectscope.models import inference
    from affectscope.models.exchange.runtime import ImportedSystem, onnx_providers

    assert onnx_providers(["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert onnx_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert onnx_providers(["TensorrtExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    # TorchScript: load_model moves the module to inference.device(), CUDA when torch sees a GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert inference.device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert inference.device().type == "cpu"
    monkeypatch.undo()

    torch.manual_seed(0)
    file = save_model(MelSentiment(), tmp_path / "m.onnx", "onnx")
    asked: list[list[str]] = []
    real_session = ort.InferenceSession

    def session(path, providers=None, **kw):  # noqa: ANN001, ANN202
        asked.append(list(providers or []))
        # no GPU here: onnxruntime cannot start CUDA, falls back to CPU (with a warning) and says so
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return real_session(path, providers=providers)

    monkeypatch.setattr(
        ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    monkeypatch.setattr(ort, "InferenceSession", session)
    model = ImportedSystem(str(file), sentiment_spec("onnx"))
    assert asked == [["CUDAExecutionProvider", "CPUExecutionProvider"]]
    assert model.runs_on == {"engine": "onnxruntime", "provider": "CPUExecutionProvider", "device": "cpu"}
    monkeypatch.undo()

    # predict --json reports where each model ran
    spec = tmp_path / "m.spec.json"
    spec.write_text(json.dumps(sentiment_spec("onnx")))
    assert main(["models", "import", str(file), "--spec", str(spec), "--name", "mel-onnx"]) == 0
    pt = save_model(MelSentiment(), tmp_path / "m.pt", "torchscript")
    spec.write_text(json.dumps(sentiment_spec("torchscript")))
    assert main(["models", "import", str(pt), "--spec", str(spec), "--name", "mel-ts"]) == 0
    capsys.readouterr()
    clip = make_clip(tmp_path / "talk.mp4", n_frames=50, fps=25, audio="speech", audio_rate=16000)
    want = {
        "mel-onnx": {"engine": "onnxruntime", "provider": "CPUExecutionProvider", "device": "cpu"},
        "mel-ts": {"engine": "torchscript", "provider": "torch", "device": "cpu"},
    }
    for name, device in want.items():
        assert main(["predict", str(clip), "--model", name, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["device"] == device
