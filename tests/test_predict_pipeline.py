"""The inference pipeline: windows over a clip, per-modality and fused timelines, EWMA, progress, cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.errors import WeightsError
from affectscope.jobs import Cancelled, Job
from affectscope.models.inference import analyse_clip, analyse_signals, load_model, window_starts
from affectscope.models.signals import ClipSignals, Track
from affectscope.models.systems.lightweight import ewma


def _signals(duration: float = 3.0) -> ClipSignals:
    rng = np.random.default_rng(1)
    times = np.arange(0, duration, 0.1)
    n = int(duration * 16000)
    tracks = {
        "face_crop96": Track(times, rng.integers(0, 255, (len(times), 96, 96, 3), dtype=np.uint8)),
        "mouth_crop28": Track(times, rng.integers(0, 255, (len(times), 28, 28, 3), dtype=np.uint8)),
        "audio": Track(np.arange(n) / 16000, (0.1 * rng.standard_normal(n)).astype(np.float32)),
    }
    return ClipSignals("h", duration, 320, 240, times, [[] for _ in times], tracks)


@pytest.fixture(scope="module")
def untrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from affectscope.models.registry import get
    from affectscope.models.weights import save_state

    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("w") / "random.safetensors"
    save_state(get("lightweight-streaming").build(), path)
    return path


def test_windows_cover_the_clip() -> None:
    assert window_starts(0.5, 1.0, 0.25).tolist() == [0.0]
    starts = window_starts(3.0, 1.0, 0.25)
    assert starts[0] == 0 and starts[-1] == pytest.approx(2.0) and np.allclose(np.diff(starts), 0.25)


def test_analysis_timelines_ewma_and_progress(untrained: Path) -> None:
    spec, model = load_model("lightweight-streaming", untrained)
    seen: list[tuple[int, int]] = []
    job = Job(on_progress=lambda d, t, m: seen.append((d, t)))
    a = analyse_signals(spec, model, _signals(), job, batch_size=4)
    assert a.labels == ("positive", "neutral", "negative")
    assert a.times.tolist() == pytest.approx((np.arange(9) * 0.25 + 0.5).tolist())
    assert a.fused.shape == (9, 3) and np.allclose(a.fused.sum(1), 1, atol=1e-5)
    assert set(a.per_modality) >= {"face", "audio"} and a.per_modality["audio"].shape == (9, 3)
    assert np.allclose(a.accumulated, ewma(a.fused, model.ewma_alpha, y0=np.zeros(3)))
    # Noise throughout: every window votes, each by its share of speech; the decision is the weighted
    # mean of the renormalised EWMA timeline.
    w = a.vote_weights
    assert a.votes.all() and ((w > 0) & (w <= 1)).all()
    rows = a.accumulated / a.accumulated.sum(1, keepdims=True)
    assert np.allclose(a.clip_probs, (rows * w[:, None]).sum(0) / w.sum())
    assert a.clip_label == a.labels[int(a.clip_probs.argmax())]
    assert a.hidden["face"].shape == (9, 3) and a.hidden["mouth"].shape == (9, 1)
    assert seen[-1] == (9, 9) and len(seen) == 3  # batches of 4: 4, 8, 9
    doc = a.to_json()
    assert len(doc["fused"]) == 9 and set(doc["whole_clip"]["probs"]) == set(a.labels)


def test_cancel_stops_between_batches(untrained: Path) -> None:
    spec, model = load_model("lightweight-streaming", untrained)
    job = Job(on_progress=lambda d, t, m: job.cancel())
    with pytest.raises(Cancelled):
        analyse_signals(spec, model, _signals(), job, batch_size=2)
    assert job.done == 2


def test_missing_weights_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="affectscope train"):
        load_model("lightweight-streaming", tmp_path / "none.safetensors")


def test_audio_file_prediction(shared_data: Path, untrained: Path) -> None:
    wav = shared_data / "emodb" / "03a01Fa.wav"
    a = analyse_clip(wav, "lightweight-streaming", weights=untrained)
    assert a.fused.shape[0] == len(window_starts(2.0, 1.0, 0.25))
    # No face in an audio file: the audio network decides every window.
    assert np.allclose(a.fused, a.per_modality["audio"], atol=1e-6)


@pytest.mark.slow
def test_real_clip_prediction(shared_data: Path, untrained: Path) -> None:
    clip = shared_data / "clips" / "vgaf_val_1_1_negative.mp4"
    a = analyse_clip(clip, "lightweight-streaming", weights=untrained)
    assert a.fused.shape == (17, 3)  # 5 s, 1 s windows every 0.25 s
    assert a.times[0] == pytest.approx(0.5) and a.times[-1] == pytest.approx(4.5)
    # The clip decision is the EWMA timeline (renormalised from y0 = 0) averaged over the windows that
    # voted (speech or a face, models/clip_gate.py), each by its weight; the timeline holds through
    # the others.
    assert a.votes is not None and a.votes.any()
    on, w = a.votes, a.vote_weights[a.votes]
    rows = a.accumulated[on] / a.accumulated[on].sum(1, keepdims=True)
    assert np.isfinite(a.fused).all() and np.allclose((rows * w[:, None]).sum(0) / w.sum(), a.clip_probs)
