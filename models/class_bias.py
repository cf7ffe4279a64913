"""A per-class bias on seed 004's audio logits, chosen on the development set (issue 19).

A network trained on one corpus meets speakers with other class priors and other ways of voicing each
class: on the English development speakers the shipped audio CNN (trained on EmoDB only) recalled
"neutral" 0.45 and "negative" 0.50. Adding δ to the logits of every audio window is a decision
threshold (a prior correction), which the declared protocol lets the development set choose. δ is
found by grid search through the product's own clip decision (speech-gated windows, seed 004's EWMA,
``inference.clip_decision``) on windows analysed once: for audio-only clips the system's output is
the audio logits, so ``softmax(log p + δ)`` is exactly what the biased network gives. The bias is
then written into the audio CNN's classifier bias, so every path (timelines, clip decisions, batch,
the window) reads the same network.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from affectscope.jobs import Job, ensure_job

#: δ for positive and neutral on this grid; negative's is 0 (only differences between classes matter)
GRID = np.round(np.arange(-1.5, 1.51, 0.1), 2)


@dataclass
class Windows:
    """One clip's window probabilities and vote weights, as ``analyse_signals`` gives them."""

    fused: np.ndarray  # (n, classes)
    votes: np.ndarray | None


def analyse(spec: Any, model: Any, samples: Sequence[Any], job: Job | None = None) -> list[Windows]:
    """Every sample's windows through the product path (speaker statistics first, as ``evaluate``)."""
    from affectscope.models.evaluation import adapt_to
    from affectscope.models.inference import analyse_signals, signals_for_file

    job = ensure_job(job)
    adapt_to(model, samples, spec, job)
    out = []
    for i, s in enumerate(samples):
        job.check()
        a = analyse_signals(spec, model, signals_for_file(s.path, tuple(spec.modalities)), gate=True)
        out.append(Windows(np.asarray(a.fused, np.float64), a.vote_weights))
        job.progress(i + 1, len(samples), f"windows of {s.path.name}")
    return out


def decisions(model: Any, clips: Sequence[Windows], delta: np.ndarray) -> np.ndarray:
    """Each clip's decided class when every window's log-probabilities are shifted by ``delta``."""
    from affectscope.models.inference import clip_decision

    out = np.empty(len(clips), dtype=int)
    for i, c in enumerate(clips):
        lp = np.log(np.clip(c.fused, 1e-9, 1.0)) + delta
        p = np.exp(lp - lp.max(axis=1, keepdims=True))
        out[i] = clip_decision(model, p / p.sum(axis=1, keepdims=True), c.votes)[0].argmax()
    return out


def recalls(y: np.ndarray, pred: np.ndarray, classes: int) -> list[float]:
    return [float((pred[y == c] == c).mean()) for c in range(classes)]


def fit(model: Any, clips: Sequence[Windows], labels: Sequence[int], grid: np.ndarray = GRID) -> dict:
    """The δ (last class fixed at 0) with the best UAR over ``clips``; ties: the smallest |δ|."""
    y = np.asarray(labels)
    k = clips[0].fused.shape[1]
    best: tuple[tuple[float, float], np.ndarray, list[float]] | None = None
    for free in itertools.product(grid, repeat=k - 1):
        delta = np.array([*free, 0.0])
        rec = recalls(y, decisions(model, clips, delta), k)
        key = (float(np.mean(rec)), -float(np.abs(delta).sum()))
        if best is None or key > best[0]:
            best = (key, delta, rec)
    assert best is not None
    before = recalls(y, decisions(model, clips, np.zeros(k)), k)
    return {
        "delta": [float(d) for d in best[1]],
        "uar": best[0][0],
        "recalls": best[2],
        "uar_without": float(np.mean(before)),
        "recalls_without": before,
        "grid": [float(grid[0]), float(grid[-1]), float(round(grid[1] - grid[0], 4))],
    }


def with_bias(spec: Any, model: Any, delta: Sequence[float]) -> Any:
    """A new model of ``spec`` holding ``model``'s weights with ``delta`` written into its audio CNN's
    classifier bias (every path then reads it). New, not changed in place: ``load_model`` hands out one
    cached instance per weights file, which other callers in the process are using."""
    out = spec.build()
    out.load_state_dict(model.state_dict())
    out.speaker_norm = model.speaker_norm  # as its card said (``follow_card``)
    bias = out.audiovisual.audio.classifier.bias
    with torch.no_grad():
        bias += torch.as_tensor(list(delta), dtype=bias.dtype)
    return out.to(next(model.parameters()).device).eval()
