"""Seed 004's per-class audio bias (issue 19): the simulated decision is the product path's, exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from affectscope.models import class_bias
from affectscope.models.inference import analyse_signals, load_model, signals_for_file
from affectscope.models.training import datasets as ds


def _clips(shared_data: Path) -> list[ds.Sample]:
    emodb = [s for s in ds.emodb(shared_data / "emodb") if s.speaker == "emodb:09"]
    return emodb[::7]  # six files of the development speaker


def test_the_bias_search_decides_as_the_biased_network_does(shared_data: Path) -> None:
    """Shifting the analysed windows' log-probabilities by δ and deciding with ``clip_decision`` gives
    the same classes as writing δ into the network and running the product path again."""
    samples = _clips(shared_data)
    spec, model = load_model("lightweight-streaming")
    clips = class_bias.analyse(spec, model, samples)
    assert len(clips) == len(samples) >= 5
    mods = tuple(spec.modalities)
    plain = [analyse_signals(spec, model, signals_for_file(s.path, mods)) for s in samples]
    assert class_bias.decisions(model, clips, np.zeros(3)).tolist() == [a.clip_probs.argmax() for a in plain]
    delta = np.array([1.2, -0.8, 0.0])
    shifted = class_bias.with_bias(spec, model, delta)
    biased = [analyse_signals(spec, shifted, signals_for_file(s.path, mods)) for s in samples]
    assert class_bias.decisions(model, clips, delta).tolist() == [a.clip_probs.argmax() for a in biased]
    assert any(a.clip_probs.argmax() != b.clip_probs.argmax() for a, b in zip(plain, biased, strict=True))


def test_with_bias_shifts_every_audio_logit_of_a_copy_by_delta() -> None:
    """The loaded model is shared (``load_model`` caches it): the biased one is a copy, and the shared
    one is untouched (a first version changed it in place, and later tests read a biased network)."""
    spec, model = load_model("lightweight-streaming")
    x = torch.rand(4, 3, model.spectrogram_size, model.spectrogram_size)
    with torch.no_grad():
        before = model.audiovisual.audio(x)
        after = class_bias.with_bias(spec, model, [0.3, -0.2, 0.0]).audiovisual.audio(x)
        assert torch.equal(model.audiovisual.audio(x), before)
    assert torch.allclose(after - before, torch.tensor([0.3, -0.2, 0.0]).expand(4, 3), atol=1e-5)
    assert load_model("lightweight-streaming")[1] is model


def test_the_fit_finds_the_bias_that_undoes_a_known_shift() -> None:
    """Windows whose true class was pushed down by a known bias: the search recovers balanced recalls."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 20)
    clips = []
    for y in labels:
        logits = rng.normal(0, 0.3, (5, 3))
        logits[:, y] += 1.0
        logits += np.array([-1.5, 0.0, 0.0])  # "positive" suppressed, as a foreign corpus might
        p = np.exp(logits)
        clips.append(class_bias.Windows(p / p.sum(1, keepdims=True), None))
    fitted = class_bias.fit(None, clips, labels)
    assert fitted["uar_without"] < 0.8 and fitted["recalls_without"][0] < 0.5
    assert fitted["uar"] > 0.95 and fitted["delta"][0] > 0.5 and fitted["delta"][2] == 0.0


def test_averaging_seeds_is_the_normalised_geometric_mean_of_the_windows() -> None:
    """``packaging/seed004_seed_average.py``: one network averaged with itself is itself; two average
    their log-probabilities window by window (a product of experts), and the vote weights are kept."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "packaging" / "seed004_seed_average.py"
    spec = importlib.util.spec_from_file_location("seed004_seed_average", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    a = class_bias.Windows(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]), np.array([1.0, 0.5]))
    b = class_bias.Windows(np.array([[0.1, 0.2, 0.7], [0.1, 0.8, 0.1]]), np.array([1.0, 0.5]))
    same = module.average([[a], [a]])[0]
    assert np.allclose(same.fused, a.fused) and same.votes is a.votes
    mixed = module.average([[a], [b]])[0].fused
    want = np.sqrt(a.fused * b.fused)
    assert np.allclose(mixed, want / want.sum(axis=1, keepdims=True))
    assert mixed[0, 0] == mixed[0, 2]  # 0.7·0.1 on both sides: the two networks cancel
