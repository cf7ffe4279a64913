"""A clip with some undecodable frames is analysed with those frames as gaps, and their count reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from affectscope.errors import MediaError
from affectscope.media import UndecodableFrameError, VideoReader
from affectscope.models.extractors.pipeline import extract_clip
from tests.clipfactory import damage_frames, make_clip, read_index

BAD = [5, 10, 30]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("damaged")
    good = make_clip(d / "good.mp4", n_frames=50, fps=25, gop=25, bframes=False, audio="speech")
    return damage_frames(good, d / "damaged.mp4", BAD)


def test_reader_refuses_only_the_damaged_frames(damaged: Path) -> None:
    with VideoReader(damaged) as reader:
        refused = []
        for i in range(len(reader)):
            try:
                rgb = reader.frame(i)
            except UndecodableFrameError as exc:
                assert exc.index == i and "cannot be decoded" in str(exc)
                refused.append(i)
                continue
            assert rgb.shape == (240, 320, 3)
            # Frames that depend on a lost one come out glitched (as in a player); the rest are exact.
            if i < BAD[0] or 25 <= i < BAD[2]:
                assert read_index(rgb) == i
        assert refused == BAD and reader.bad_packets >= len(BAD)
        # Asking again is answered at once (known bad), and the neighbours still decode exactly.
        with pytest.raises(UndecodableFrameError):
            reader.frame(10)
        assert read_index(reader.frame(9)) == 9


def test_extract_keeps_the_clip_and_counts_the_gaps(damaged: Path, tmp_path: Path) -> None:
    signals = extract_clip(damaged, modalities=("faces", "audio"), rate_hz=25, project_dir=tmp_path)
    assert signals.undecodable_frames == len(BAD)
    assert np.allclose(signals.undecodable_times, np.array(BAD) / 25)
    count = signals.tracks["face_count"].values
    assert np.isnan(count[BAD]).all() and (count[[0, 1, 20, 49]] == 0).all()  # gap vs "no face"
    assert len(signals.frame_times) == 50 and len(signals.tracks["audio"]) > 0
    again = extract_clip(damaged, modalities=("faces", "audio"), rate_hz=25, project_dir=tmp_path)
    assert again.from_cache and again.undecodable_times == signals.undecodable_times


def test_extract_json_reports_undecodable_frames(damaged: Path, tmp_path: Path, capsys) -> None:
    from affectscope.app.cli.main import main

    rc = main(["extract", str(damaged), "--modalities", "faces", "--rate", "25", "--no-cache", "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["undecodable_frames"] == len(BAD) and doc["frames_analysed"] == 50


def test_a_clip_with_no_decodable_frame_is_still_refused(tmp_path: Path) -> None:
    good = make_clip(tmp_path / "g.mp4", n_frames=6, fps=25, gop=25, bframes=False)
    bad = damage_frames(good, tmp_path / "all-bad.mp4", list(range(6)))
    with pytest.raises(MediaError, match="damaged"):
        extract_clip(bad, modalities=("faces",), rate_hz=25, use_cache=False)


def test_window_reports_the_gaps(qtbot, damaged: Path) -> None:
    from affectscope.app.qt.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    try:
        panel = window.perception
        panel.rate_hz = 25.0
        with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
            window.load_clip(damaged)  # the window opens the damaged clip
        qtbot.waitUntil(lambda: window.player.view.frame is not None, timeout=10000)
        with qtbot.waitSignal(panel.analysed, timeout=120000):
            panel.analyse_action.trigger()
        assert "3 undecodable" in panel.status.text()
        assert panel.reasons.text().startswith("3 frames undecodable")
    finally:
        window.workers.cancel_all()
        window.workers.shutdown()
