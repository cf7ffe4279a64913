"""Analyse all clips without a window (app/services/perception.py): one stage per clip on one bar, bad
files reported and skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from affectscope.app.services.perception import analyse_all
from affectscope.jobs import Job
from tests.clipfactory import make_clip


def test_analyse_all_goes_past_a_bad_file_clip_by_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFFECTSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    good = make_clip(tmp_path / "good.mp4", n_frames=10, fps=10)
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video\n")
    seen: list[tuple[int, str]] = []
    partials: list[tuple[str, bool, str]] = []
    job = Job(on_progress=lambda d, _t, m: seen.append((d, m)), on_partial=partials.append)
    done = analyse_all([str(bad), str(good)], rate_hz=2.0, job=job)
    assert done.analysed == [str(good)] and [p for p, _ in done.failed] == [str(bad)]
    assert done.sentence().startswith("Analysed 1 clip, 1 failed (bad.mp4: ")
    assert [(p, ok) for p, ok, _ in partials] == [(str(bad), False), (str(good), True)]
    assert any(m.startswith("clip 2/2 good.mp4") for _, m in seen)
    values = [d for d, _ in seen]
    assert values == sorted(values) and seen[-1] == (1000, done.sentence())
