"""Retrain one modality of a trained system alone, leaving every input without it untouched (issue 19).

Seeds 000 and 002 read their branches' features through one linear layer at the fusion's input. An
input without a modality (speech alone) feeds zeros into that modality's columns, so its decision
depends only on the other branches, the other columns and the layers after them. Training the
modality's branch and its own columns, with everything else frozen and in eval mode (batch-norm
statistics and dropout included), gives the face heads new training images while every speech-only
decision stays bit-identical: the speech figures that judged the weights still hold.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from affectscope.models.provenance import item_hash, merge_records, records_of
from affectscope.models.systems.base import EmotionSystem, ModalityPart
from affectscope.models.training.datasets import ManifestError

#: modalities ``train --recipe default-000|002 --parts`` can retrain alone, per recipe
PART_MODALITY = {"default-000": {"face": "face"}, "default-002": {"face": "visual"}}


def fresh_part(model: EmotionSystem, fresh: EmotionSystem, part_name: str) -> None:
    """Give ``model``'s part of modality ``part_name`` the initial weights of ``fresh`` (same spec):
    the branch learns anew rather than continuing the weights it replaces."""
    ours, new = model.modality_part(part_name), fresh.modality_part(part_name)
    for mine, theirs in zip(ours.modules, new.modules, strict=True):
        mine.load_state_dict(theirs.state_dict())
    with torch.no_grad():
        ours.fusion_in.weight[:, ours.columns] = new.fusion_in.weight[:, new.columns]


def train_mode(part: ModalityPart) -> Callable[[nn.Module], None]:
    """What the trainer calls instead of ``model.train()``: only the part's modules train."""
    keep = {id(x) for module in part.modules for x in module.modules()}

    def set_mode(model: nn.Module) -> None:
        model.train()
        for x in model.modules():
            if id(x) not in keep:
                x.training = False

    return set_mode


@contextmanager
def only(model: EmotionSystem, part: ModalityPart) -> Iterator[None]:
    """Within the block, only ``part`` can change: other parameters do not require gradients, the
    columns of ``part.fusion_in`` outside ``part.columns`` get no gradient and are put back after
    every optimiser step (weight decay cannot move them either)."""
    was = {id(p): p.requires_grad for p in model.parameters()}
    keep = {id(p) for module in part.modules for p in module.parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)
    weight = part.fusion_in.weight
    weight.requires_grad_(True)
    inside = torch.zeros(weight.shape[1], dtype=torch.bool, device=weight.device)
    inside[part.columns] = True
    kept = weight.detach().clone()

    def put_back(*_: object) -> None:
        with torch.no_grad():
            weight[:, ~inside] = kept[:, ~inside]

    grad_hook = weight.register_hook(lambda g: g * inside.to(g.dtype))
    step_hook = register_optimizer_step_post_hook(put_back)
    try:
        yield
    finally:
        step_hook.remove()
        grad_hook.remove()
        put_back()
        for p in model.parameters():
            p.requires_grad_(was[id(p)])


@dataclass
class PartRun:
    """A retrain of one modality of ``base``: what is kept, and the weights as they were."""

    modality: str
    part: ModalityPart
    base: Path
    base_card: dict[str, Any]
    base_model: EmotionSystem


def check(recipe: str, parts: tuple[str, ...], base: Path | None) -> str:
    """The modality ``parts`` names for ``recipe``; a clear refusal of anything else."""
    allowed = PART_MODALITY.get(recipe, {})
    if len(parts) != 1 or parts[0] not in allowed:
        can = f"--parts {' or '.join(allowed)}" if allowed else "no part alone"
        raise ManifestError(f"recipe {recipe} can retrain {can}, not {','.join(parts) or 'nothing'}")
    if base is None or not Path(base).is_file():
        raise ManifestError("--parts needs --init WEIGHTS: the trained weights whose other parts are kept")
    return allowed[parts[0]]


def start(recipe: str, model: EmotionSystem, parts: tuple[str, ...], base: Path | None) -> PartRun:
    """Load ``base`` into ``model`` (strictly), then give the part its fresh, seeded initial weights."""
    from affectscope.errors import WeightsError
    from affectscope.models.weights import load_state, read_card

    modality = check(recipe, parts, base)
    fresh = copy.deepcopy(model)  # the recipe's seeded initial weights
    try:
        load_state(model, base)
    except WeightsError as exc:
        raise ManifestError(f"--init {base}: {exc}") from None
    base_model = copy.deepcopy(model).eval()
    fresh_part(model, fresh, modality)
    return PartRun(modality, model.modality_part(modality), Path(base), read_card(base) or {}, base_model)


def finish_card(
    run: PartRun, card: dict[str, Any], parts: tuple[str, ...], before: float, after: float
) -> None:
    """The recipe's card, told what was kept: ``base``'s identity, records and training stay on it."""
    seed = f" --seed {card['seed']}" if card.get("seed") else ""
    out = card["command"].rsplit(" -o ", 1)[-1]
    card["command"] = (
        f"affectscope train {card['model']} --recipe {card['recipe']}{seed} --parts {','.join(parts)} "
        f"--init <previous weights> -o {out}"
    )
    card["retrained_parts"] = list(parts)
    # the weights' trained branches are still --init's (the part among them), not only the part
    card["trained_branches"] = run.base_card.get("trained_branches", card["trained_branches"])
    card["init"] = {
        "weights": run.base.name,
        "sha256_16": item_hash(run.base),
        **{k: run.base_card[k] for k in ("command", "code", "face_source", "stages") if k in run.base_card},
    }
    card["part_retrain"] = {
        "modality": run.modality,
        "kept": "every other branch, the fusion's other input columns and every layer after them: frozen and "
        "in eval mode, so every input without this modality (speech alone) is decided exactly as by --init",
        "fresh": "the branch started from the recipe's seeded initial weights, not from --init's",
        "validation_uar_fused_faces": {"init": round(before, 4), "retrained": round(after, 4)},
    }
    card["data_records"] = merge_records(records_of(run.base_card), card["data_records"])
    card["known_limits"] = [
        *card["known_limits"],
        f"only the {run.modality} branch was retrained; the rest keeps --init's weights, whose training, "
        "validation and tuning data stay in data_records (a shared layer learnt from them)",
    ]
