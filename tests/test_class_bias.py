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


def test_fusicals_bias_shifts_its_fused_logits_and_the_product_path_decides_as_simulated(
    shared_data: Path,
) -> None:
    """Fusical's bias sits in its FC fusion's last layer: every fused output (speech here) moves by δ,
    and deciding the analysed windows with δ gives what the biased weights give through the product."""
    spec, model = load_model("fusical")
    samples = _clips(shared_data)
    mods = tuple(spec.modalities)
    delta = np.array([-0.6, 0.9, 0.0])
    shifted = class_bias.with_bias(spec, model, delta)
    assert torch.equal(model.decision_bias(), load_model("fusical")[1].decision_bias())  # shared: untouched
    clips = class_bias.analyse(spec, model, samples)
    for s, c in zip(samples, clips, strict=True):
        a = analyse_signals(spec, shifted, signals_for_file(s.path, mods))
        lp = np.log(c.fused) + delta
        assert np.allclose(np.asarray(a.fused), np.exp(lp) / np.exp(lp).sum(1, keepdims=True), atol=1e-5)
    biased = [analyse_signals(spec, shifted, signals_for_file(s.path, mods)) for s in samples]
    assert class_bias.decisions(model, clips, delta).tolist() == [a.clip_probs.argmax() for a in biased]


def test_the_fit_keeps_to_what_the_rule_admits() -> None:
    """``accept`` limits the search (a rule's recall floor, say); when it admits nothing, δ = 0."""
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1, 2], 10)
    clips = []
    for y in labels:
        p = rng.dirichlet(np.ones(3), size=3)
        p[:, y] += 0.5
        clips.append(class_bias.Windows(p / p.sum(1, keepdims=True), None))
    free = class_bias.fit(None, clips, labels)
    kept = class_bias.fit(None, clips, labels, accept=lambda d, r: abs(d[0]) <= 0.2 and abs(d[1]) <= 0.2)
    assert max(abs(kept["delta"][0]), abs(kept["delta"][1])) <= 0.2 and kept["admitted"] == 25
    assert kept["uar"] <= free["uar"] and free["admitted"] == len(class_bias.GRID) ** 2
    none = class_bias.fit(None, clips, labels, accept=lambda d, r: False)
    assert none["delta"] == [0.0, 0.0, 0.0] and none["admitted"] == 0 and none["uar"] == none["uar_without"]


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
