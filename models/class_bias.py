"""A per-class bias on a system's logits, chosen on the development set (issue 19).

Seed 004: on its audio logits. Fusical (seed 000): on its fused logits (the FC fusion's last bias),
where "negative" was recalled 0.17 on the development speech. Each system names the bias it shifts
(``decision_bias``). What follows was written for seed 004, the first user; fusical's windows are
shifted the same way, since its fused output is the softmax of those logits.


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
from collections.abc import Callable, Mapping, Sequence
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


def fit(
    model: Any,
    clips: Sequence[Windows],
    labels: Sequence[int],
    grid: np.ndarray = GRID,
    accept: Callable[[np.ndarray, list[float]], bool] | None = None,
) -> dict:
    """The δ (last class fixed at 0) with the best UAR over ``clips``; ties: the smallest |δ|.
    ``accept(δ, recalls)`` limits the search to the δ a declared rule admits; with none admitted the
    answer is δ = 0 and ``"admitted": 0``."""
    y = np.asarray(labels)
    k = clips[0].fused.shape[1]
    best: tuple[tuple[float, float], np.ndarray, list[float]] | None = None
    admitted = 0
    for free in itertools.product(grid, repeat=k - 1):
        delta = np.array([*free, 0.0])
        rec = recalls(y, decisions(model, clips, delta), k)
        if accept is not None and not accept(delta, rec):
            continue
        admitted += 1
        key = (float(np.mean(rec)), -float(np.abs(delta).sum()))
        if best is None or key > best[0]:
            best = (key, delta, rec)
    before = recalls(y, decisions(model, clips, np.zeros(k)), k)
    if best is None:
        best = ((float(np.mean(before)), 0.0), np.zeros(k), before)
    return {
        "delta": [float(d) for d in best[1]],
        "uar": best[0][0],
        "recalls": best[2],
        "uar_without": float(np.mean(before)),
        "recalls_without": before,
        "grid": [float(grid[0]), float(grid[-1]), float(round(grid[1] - grid[0], 4))],
        "admitted": admitted,
    }


def with_bias(spec: Any, model: Any, delta: Sequence[float]) -> Any:
    """A new model of ``spec`` holding ``model``'s weights with ``delta`` written into the bias the
    system names (``decision_bias``: seed 004's audio classifier, fusical's last fusion layer), so every
    path reads it. New, not changed in place: ``load_model`` hands out one cached instance per weights
    file, which other callers in the process are using."""
    out = spec.build()
    out.load_state_dict(model.state_dict())
    if hasattr(model, "speaker_norm"):
        out.speaker_norm = model.speaker_norm  # as its card said (``follow_card``)
    bias = out.decision_bias()
    with torch.no_grad():
        bias += torch.as_tensor(list(delta), dtype=bias.dtype)
    return out.to(next(model.parameters()).device).eval()


def record(
    card: dict[str, Any],
    fitted: Mapping[str, Any],
    labels: Sequence[str],
    dev: Sequence[Any],
    what: str,
    how: str,
    where: str,
    note: str,
    command: str,
) -> dict[str, Any]:
    """``card`` told that a bias on ``where`` was fitted on ``dev`` (``what``, through ``how``):
    ``decision_bias``, the development clips as tuning data, a known limit, the honest figures dropped
    (they are measured again), the networks' own code kept apart from the code that wrote the biased
    weights."""
    from affectscope.models import provenance

    card["decision_bias"] = {
        **fitted,
        "labels": list(labels),
        "chosen_on": f"{what} (n = {len(dev)}), {how}",
        "note": note,
    }
    card["data_records"] = provenance.merge_records(
        provenance.records_of(card),
        provenance.data_records((), (), dev, notes={"tuning": f"decision bias chosen on {what}"}),
    )
    card["known_limits"] = [
        *card.get("known_limits", []),
        f"A per-class bias {list(fitted['delta'])} on {where} was chosen on the development set "
        f"(UAR {fitted['uar_without']:.3f} -> {fitted['uar']:.3f} there, optimistic).",
    ]
    card.pop("honest", None)  # measured again for these weights by packaging/honest_cards.py
    card["code_of_the_networks"] = {k: card.pop(k) for k in ("code", "code_version", "date") if k in card}
    card["command"] = f"{command}, on the weights of: {card.get('command')}"
    return card
