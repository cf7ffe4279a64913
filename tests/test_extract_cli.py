"""``affectscope extract``: the --json contract, the cache on the second run, errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from tests.clipfactory import make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("cli") / "c.mp4", n_frames=25, fps=25, audio="speech")


def test_extract_json_then_cache_hit(clip: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["extract", str(clip), "--json", "--modalities", "faces,vad,laughter", "--rate", "5"]
    assert main([*args, "--project", str(tmp_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["clip"] == str(clip) and doc["cache_hit"] is False
    assert doc["frames_analysed"] == 5 and doc["faces_per_frame_max"] == 0
    assert doc["duration"] == pytest.approx(1.0, abs=0.05)
    assert doc["tracks"]["expression_mean"] == {"n": 0, "rate_hz": None, "reason": "no face found"}
    vad = doc["tracks"]["vad"]
    assert vad["n"] > 20 and vad["rate_hz"] == pytest.approx(31.25, rel=1e-3)
    assert vad["mean"] > 0.6  # the clip is speech throughout (0.90 measured); was "0 <= mean <= 1"
    assert doc["tracks"]["face_count"]["mean"] == 0.0
    assert "pose" not in doc["tracks"]
    assert set(doc["extractor_versions"]) >= {"faces", "expression", "vad", "laughter"}
    assert main([*args, "--project", str(tmp_path)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["cache_hit"] is True and again["seconds"] < 1.0
    assert again["tracks"] == doc["tracks"]
    assert doc["more_faces"] is False
    # The second face detector is its own analysis: not the cached one, and it says so.
    assert main(["extract", str(clip), "--json", "--modalities", "faces", "--rate", "5", "--more-faces"]) == 0
    more = json.loads(capsys.readouterr().out)
    assert more["more_faces"] is True and more["cache_hit"] is False and more["frames_analysed"] == 5


def test_voice_activity_tells_silence_from_speech(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The speech clip above scores above 0.6 on average; the same length of digital silence scores
    near 0 (0.005 measured), so the VAD summary says something (issue 23 item 9)."""
    import numpy as np

    silent = make_clip(tmp_path / "silent.mp4", n_frames=25, fps=25, audio=np.zeros(48000, np.float32))
    args = ["extract", str(silent), "--json", "--modalities", "vad", "--rate", "5"]
    assert main([*args, "--project", str(tmp_path)]) == 0
    vad = json.loads(capsys.readouterr().out)["tracks"]["vad"]
    assert vad["n"] > 20 and vad["mean"] < 0.1


def test_extract_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], clip: Path) -> None:
    assert main(["extract", str(tmp_path / "missing.mp4"), "--json"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["extract", str(clip), "--modalities", "faces,smell"]) == 2
    assert "unknown modalities smell" in capsys.readouterr().err
    bad = tmp_path / "bad.mp4"
    bad.write_text("text\n" * 100)
    assert main(["extract", str(bad), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("affectscope: error:") and "Traceback" not in err
