"""``affectscope explain --json``: the stable contract of docs/cli.md (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from affectscope.app.cli.main import main

KEYS = {
    "model",
    "labels",
    "target",
    "time",
    "method",
    "modalities",
    "fused_all",
    "fused_none",
    "maps",
    "keypoints",
}


def test_explain_face_image_with_ig(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    face = sorted((shared_data / "fer2013" / "test_sample" / "happy").glob("*.jpg"))[0]
    out = tmp_path / "maps"
    args = [
        "explain",
        str(face),
        "--model",
        "fer-mini-xception",
        "--at",
        "0",
        "--method",
        "ig",
        "-o",
        str(out),
    ]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= KEYS
    assert doc["model"] == "fer-mini-xception" and doc["method"] == "ig" and doc["time"] == 0.0
    assert doc["target"] in doc["labels"] and len(doc["labels"]) == 7
    face_row = doc["modalities"]["face"]
    assert face_row["shapley"] == pytest.approx(doc["fused_all"] - doc["fused_none"], abs=1e-6)
    m = doc["maps"]["face"]
    assert m["kind"] == "image" and m["shape"] == [64, 64] and m["method"] == "ig"
    assert m["convergence_delta"] is not None and m["convergence_delta"] >= 0
    npy, png = (Path(p) for p in m["paths"])
    assert np.load(npy).shape == (64, 64) and png.stat().st_size > 0
    assert doc["keypoints"] is None


def test_explain_speech_with_seed004_whole_clip_and_windows(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = shared_data / "emodb" / "03a01Wa.wav"
    assert main(["explain", str(wav), "--all-windows", "--target", "negative", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= KEYS
    assert doc["model"] == "lightweight-streaming" and doc["time"] is None and doc["maps"] == {}
    assert doc["target"] == "negative" and set(doc["modalities"]) == {"face", "mouth", "audio"}
    total = sum(r["shapley"] for r in doc["modalities"].values())
    assert total == pytest.approx(doc["fused_all"] - doc["fused_none"], abs=1e-6)
    # No face in a speech file: the face cannot have moved the decision.
    assert doc["modalities"]["face"]["shapley"] == pytest.approx(0.0, abs=1e-9)
    assert doc["modalities"]["audio"]["gate"] is not None
    assert len(doc["windows"]) >= 2
    w = doc["windows"][0]
    assert set(w) == {"time", "target", "modalities", "fused_all", "fused_none"}


def test_explain_rejects_unknown_target(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = shared_data / "emodb" / "03a01Wa.wav"
    assert main(["explain", str(wav), "--target", "joy", "--json"]) == 2
    assert "unknown target" in capsys.readouterr().err
