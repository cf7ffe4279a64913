"""A clone without the research data passes (data tests skip, named); CI / AFFECTSCOPE_REQUIRE_DATA insist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clipfactory import DEMO_SPEECH, make_clip
from tests.conftest import REPO, data_required

_PROBE = "def test_needs(shared_data):\n    assert shared_data.is_dir()\n"


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    test = REPO / "tests" / f"test_zz_probe_{tmp_path.name}.py"
    test.write_text(_PROBE)
    try:
        base = {k: v for k, v in os.environ.items() if k not in ("CI", "AFFECTSCOPE_REQUIRE_DATA")}
        base.update(AFFECTSCOPE_SHARED_DATA=str(tmp_path / "absent"), **env)
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(test)],
            cwd=REPO,
            env=base,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        test.unlink()


def test_missing_data_skips_with_a_named_reason(tmp_path: Path) -> None:
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "1 skipped" in proc.stdout and "needs the research data" in proc.stdout


def test_missing_data_fails_where_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = _run(tmp_path, AFFECTSCOPE_REQUIRE_DATA="1")
    assert proc.returncode != 0 and "required: CI or AFFECTSCOPE_REQUIRE_DATA" in proc.stdout
    # CI (set to "true" by the CI runner) insists the same way; "0"/"false" do not.
    for var in ("CI", "AFFECTSCOPE_REQUIRE_DATA"):
        monkeypatch.delenv("CI", raising=False)
        monkeypatch.delenv("AFFECTSCOPE_REQUIRE_DATA", raising=False)
        assert not data_required()
        monkeypatch.setenv(var, "false")
        assert not data_required()
        monkeypatch.setenv(var, "true")
        assert data_required()


def test_speech_clips_carry_the_shipped_emodb_speech(tmp_path: Path) -> None:
    import numpy as np

    from affectscope.media.audio import load_audio

    assert sorted(DEMO_SPEECH.glob("*.wav")), "resources/demo ships EmoDB speech"
    clip = make_clip(tmp_path / "s.mp4", n_frames=50, audio="speech")
    samples = load_audio(clip, rate=16000).samples
    # Speech, not a tone: energy comes and goes (pauses) and the spectrum is not one line.
    frames = samples[: len(samples) // 400 * 400].reshape(-1, 400)
    rms = np.sqrt((frames**2).mean(axis=1))
    assert rms.max() > 0.01 and rms.min() < 0.2 * rms.max()
    spectrum = np.abs(np.fft.rfft(samples))
    assert spectrum.max() < 0.02 * spectrum.sum()
