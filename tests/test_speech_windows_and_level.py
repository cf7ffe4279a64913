"""Issue 8, third pass: training windows come from speech, and the recording's gain is taken out.

Seed 004's trainer once read the first second of each file; in a RAVDESS file that second holds no
speech at all, so the research network learned from silence. Systems that read absolute level
(openSMILE functionals, log-mel means) answered one class for all of RAVDESS, whose speech sits
about 25 dB below EmoDB's. These tests pin both fixes on real files and on clips made here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from affectscope.models.clip_gate import window_weights
from affectscope.models.signals import ClipSignals, Track
from affectscope.models.systems.audio_level import MAX_BOOST_DB, REFERENCE_DB, level_gain, speech_level_db
from affectscope.models.systems.fusical_inputs import audio_frames
from affectscope.models.systems.window_inputs import audio_window
from affectscope.models.training import datasets as ds
from affectscope.models.training.loaders import AUDIO_RATE, AudioWindows, load_audio, speech_span

RATE = AUDIO_RATE


def _signals(x: np.ndarray) -> ClipSignals:
    return ClipSignals(
        "t", len(x) / RATE, 0, 0, np.zeros(0), [], {"audio": Track(np.arange(len(x)) / RATE, x)}
    )


def _padded_utterance(tmp_path: Path, lead: float = 1.0, speech: float = 1.5, tail: float = 1.2) -> Path:
    """Silence, noise bursts standing in for speech, silence: a RAVDESS-shaped file."""
    rng = np.random.default_rng(1)
    x = 1e-5 * rng.standard_normal(int((lead + speech + tail) * RATE))
    x[int(lead * RATE) : int((lead + speech) * RATE)] += 0.2 * rng.standard_normal(int(speech * RATE))
    path = tmp_path / "padded.wav"
    sf.write(path, x.astype(np.float32), RATE)
    return path


def test_training_windows_lie_in_the_speech_and_jitter_over_all_of_it(tmp_path: Path) -> None:
    path = _padded_utterance(tmp_path)
    x = load_audio(path)
    lo, hi = speech_span(x)
    assert abs(lo / RATE - 1.0) < 0.04 and abs(hi / RATE - 2.5) < 0.04
    sample = ds.Sample(path, 2, "x", "test")
    evaluation = AudioWindows([sample], hop_s=0.5, max_windows=3)
    starts = [st for _, st, _, _ in evaluation.items]
    # 1 s windows cover the 1.5 s of speech end to end, at most 0.5 s apart.
    assert abs(starts[0] - lo) < 1 and abs(starts[-1] + RATE - hi) < 1
    assert np.diff(starts).max() <= 0.5 * RATE and len(starts) <= 3
    # The old behaviour (whole file) still exists, and starts in the silence.
    assert AudioWindows([sample], hop_s=0.5, max_windows=3, speech_only=False).items[0][1] == 0
    # One jittered window per epoch ranges over all of the speech, never into the silence beyond it.
    train = AudioWindows([sample], hop_s=0.25, max_windows=1, jitter=True, seed=3)
    _, _, jlo, jhi = train.items[0]
    assert (jlo, jhi) == (lo, hi - RATE)
    drawn = [train.start(0) for _ in range(200)]
    assert jlo <= min(drawn) and max(drawn) <= jhi
    assert min(drawn) - jlo < 0.05 * RATE and jhi - max(drawn) < 0.05 * RATE
    img, label = train[0]
    assert img.shape[0] == 3 and label == 2


def test_a_ravdess_files_training_windows_are_windows_the_product_votes_with(shared_data: Path) -> None:
    files = sorted((shared_data / "ravdess_speech" / "Actor_05").glob("*.flac"))[:6]
    samples = [ds.Sample(f, 0, "05", "ravdess") for f in files]
    windows = AudioWindows(samples, hop_s=0.5, max_windows=3)
    for i, f in enumerate(files):
        x = load_audio(f)
        starts = np.array([st for k, st, _, _ in windows.items if k == i]) / RATE
        assert starts.min() > 0.5  # RAVDESS opens with about a second of silence
        assert (window_weights(_signals(x), starts, 1.0) > 0).all(), f.name


def test_gain_brings_a_quiet_recording_to_the_reference_level(shared_data: Path) -> None:
    loud = load_audio(next((shared_data / "emodb").glob("03a01Fa.wav")))
    quiet = (loud * 10 ** (-30 / 20)).astype(np.float32)  # 30 dB down: RAVDESS sits ~25 dB below EmoDB
    assert abs(speech_level_db(loud) - speech_level_db(quiet) - 30.0) < 0.2
    for x in (loud, quiet):
        assert abs(speech_level_db(x * level_gain(x)) - REFERENCE_DB) < 0.2
    # Silence keeps its level; the boost is bounded.
    assert level_gain(np.zeros(RATE, np.float32)) == 1.0
    whisper = (loud * 1e-3).astype(np.float32)  # speech at ≈ −81 dBFS: the boost stops at its bound
    assert abs(20 * np.log10(level_gain(whisper)) - MAX_BOOST_DB) < 1e-6
    # Every window of a clip gets the clip's gain, so the loudness contour inside the clip survives.
    sig_loud, sig_quiet = _signals(loud), _signals(quiet)
    a = audio_window(sig_quiet, 0.5, 1.5, REFERENCE_DB)
    b = audio_window(sig_loud, 0.5, 1.5, REFERENCE_DB)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    raw = audio_window(sig_quiet, 0.5, 1.5)
    np.testing.assert_allclose(a, raw * level_gain(sig_quiet.track("audio").values), rtol=1e-6)


def test_level_dependent_features_agree_across_recording_gains(shared_data: Path) -> None:
    loud = load_audio(next((shared_data / "emodb").glob("03a01Fa.wav")))
    quiet = (loud * 10 ** (-30 / 20)).astype(np.float32)
    f_loud = audio_frames(_signals(loud), 0.0, 2.0, level_db=REFERENCE_DB)
    f_quiet = audio_frames(_signals(quiet), 0.0, 2.0, level_db=REFERENCE_DB)
    np.testing.assert_allclose(f_quiet, f_loud, atol=1e-5)
    # Without the gain the quiet copy's features move (what the models trained on EmoDB saw).
    raw_quiet = audio_frames(_signals(quiet), 0.0, 2.0)
    assert float(np.abs(f_loud - raw_quiet).mean()) > 0.01
