"""``affectscope models | predict | evaluate | train``: JSON shapes and actionable errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from affectscope.app.cli.main import main


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from affectscope.models.registry import get
    from affectscope.models.weights import save_state

    torch.manual_seed(5)
    path = tmp_path_factory.mktemp("w") / "random.safetensors"
    save_state(get("lightweight-streaming").build(), path)
    return path


def test_models_lists_systems_with_inputs_and_weights(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json", "--no-params"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["models"]}
    lw = rows["lightweight-streaming"]
    assert lw["seed"] == "004" and lw["modalities"] == ["face", "mouth", "audio"]
    assert lw["label_set"] == "sentiment3" and lw["input_rates"]["audio"] == 16000.0
    assert isinstance(lw["weights_present"], bool)
    assert "fer-mini-xception" in rows


def test_predict_json_shape(
    shared_data: Path, random_weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = shared_data / "emodb" / "03a01Fa.wav"
    assert (
        main(
            [
                "predict",
                str(wav),
                "--model",
                "lightweight-streaming",
                "--weights",
                str(random_weights),
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["labels"] == ["positive", "neutral", "negative"]
    assert doc["clip"] == str(wav)  # the path, never overwritten by the whole-clip prediction
    assert (
        len(doc["times"]) == len(doc["fused"]) == len(doc["accumulated"]) == len(doc["per_modality"]["audio"])
    )
    assert (
        doc["whole_clip"]["label"] in doc["labels"]
        and abs(sum(doc["whole_clip"]["probs"].values()) - 1) < 1e-4
    )


def test_evaluate_json_shape(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted((shared_data / "fer2013" / "test_sample" / "happy").glob("*.jpg"))[:3]
    files += sorted((shared_data / "fer2013" / "test_sample" / "sad").glob("*.jpg"))[:3]
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\n" + "".join(f"{f},{f.parent.name}\n" for f in files))
    assert (
        main(
            [
                "evaluate",
                "--model",
                "fer-mini-xception",
                "--manifest",
                str(manifest),
                "--labels",
                "sentiment3",
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["n"] == 6 and doc["label_set"] == "sentiment3"
    assert set(doc) >= {"accuracy", "macro_f1", "per_class", "confusion", "labels"}
    assert sum(map(sum, doc["confusion"])) == 6


def test_errors_are_messages_not_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(tmp_path / "nope.mp4")]) == 2
    assert "clip not found" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), "--model", "no-such-model"]) == 2
    assert "no model named" in capsys.readouterr().err
    assert main(["train", "lightweight-streaming", "--manifest", str(tmp_path / "m.csv"), "-o", "w.pt"]) == 2
    assert ".safetensors" in capsys.readouterr().err
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x80\x04not safetensors")
    wav = tmp_path / "x.wav"
    import numpy as np
    import soundfile as sf

    sf.write(wav, np.zeros(16000, np.float32), 16000)
    assert main(["predict", str(wav), "--weights", str(bad)]) == 2
    assert "not a readable safetensors" in capsys.readouterr().err
