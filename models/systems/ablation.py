"""Modality ablation: evaluate a system with one modality's input masked (seed 000, §5.2).

Masking follows the systems' batch convention: a modality ``m`` owns the batch keys ``m`` and
``m_*``; ablating it zeroes its floating-point tensors and sets ``m_mask`` to 0 — exactly what
``batch_from_signals`` produces when the modality is missing — while integer tensors (sequence
lengths) are kept so recurrent branches still run. ``modality_activation`` turns the ablation
effects into the relative per-modality shares that the window's modality-activation bars show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from affectscope.models.systems.base import Batch, EmotionSystem


def mask_modality(batch: Batch, modality: str) -> Batch:
    """A copy of ``batch`` in which ``modality`` looks absent (zeros and ``<modality>_mask`` = 0)."""
    out: Batch = {}
    for key, value in batch.items():
        owned = key == modality or key.startswith(f"{modality}_")
        if key == f"{modality}_mask" or owned and value.is_floating_point():
            out[key] = torch.zeros_like(value)
        else:
            out[key] = value
    return out


def _probs(system: EmotionSystem, batch: Batch) -> Tensor:
    return system(batch).logits.softmax(-1)


@dataclass
class Ablation:
    """What removing one modality does to the fused prediction of each sample."""

    modality: str
    probs: Tensor  # (B, C) fused probabilities without the modality
    delta: Tensor  # (B, C) probs - full probs
    changed: Tensor  # (B,) bool: the arg-max class changed


def ablate(
    system: EmotionSystem, batch: Batch, modalities: Sequence[str] | None = None
) -> dict[str, Ablation]:
    """Fused probabilities with each modality masked in turn (no gradients, eval mode kept as is)."""
    names = list(modalities or system.modalities)
    with torch.no_grad():
        full = _probs(system, batch)
        result = {}
        for m in names:
            p = _probs(system, mask_modality(batch, m))
            result[m] = Ablation(m, p, p - full, p.argmax(-1) != full.argmax(-1))
    return result


def modality_activation(system: EmotionSystem, batch: Batch) -> dict[str, Tensor]:
    """Per modality (B,) share of the fused decision: how much the predicted class's probability
    falls when the modality is masked, clipped at 0 and normalised to sum to 1 per sample
    (all zeros when no single modality matters)."""
    with torch.no_grad():
        full = _probs(system, batch)
        cls = full.argmax(-1, keepdim=True)
        effects = {
            m: a.delta.gather(1, cls).squeeze(1).neg().clamp_min(0) for m, a in ablate(system, batch).items()
        }
    total = torch.stack(list(effects.values())).sum(0)
    return {
        m: torch.where(total > 0, e / total.clamp_min(1e-12), torch.zeros_like(e)) for m, e in effects.items()
    }


def macro_scores(pred: Tensor, labels: Tensor, num_classes: int) -> dict[str, float]:
    """Accuracy and macro precision, recall, F1 (the paper's Table 1 measures)."""
    precision, recall, f1 = [], [], []
    for c in range(num_classes):
        tp = float(((pred == c) & (labels == c)).sum())
        p_den, r_den = float((pred == c).sum()), float((labels == c).sum())
        p = tp / p_den if p_den else 0.0
        r = tp / r_den if r_den else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    n = num_classes
    acc = float((pred == labels).float().mean()) if len(labels) else 0.0
    return {"accuracy": acc, "precision": sum(precision) / n, "recall": sum(recall) / n, "f1": sum(f1) / n}


@dataclass
class AblationStudy:
    full: dict[str, float]
    without: dict[str, dict[str, float]] = field(default_factory=dict)  # modality -> scores

    def drop(self, metric: str = "f1") -> dict[str, float]:
        """How much each modality's removal lowers ``metric`` (larger = more important)."""
        return {m: self.full[metric] - s[metric] for m, s in self.without.items()}


def ablation_study(
    system: EmotionSystem, batches: Iterable[tuple[Batch, Tensor]], modalities: Sequence[str] | None = None
) -> AblationStudy:
    """Scores of the full system and of the system with each modality ablated, over labelled batches."""
    names = list(modalities or system.modalities)
    preds: dict[str, list[Tensor]] = {m: [] for m in ["", *names]}
    labels: list[Tensor] = []
    with torch.no_grad():
        for batch, y in batches:
            labels.append(y)
            preds[""].append(_probs(system, batch).argmax(-1))
            for m in names:
                preds[m].append(_probs(system, mask_modality(batch, m)).argmax(-1))
    y = torch.cat(labels)
    c = system.num_classes
    study = AblationStudy(macro_scores(torch.cat(preds[""]), y, c))
    for m in names:
        study.without[m] = macro_scores(torch.cat(preds[m]), y, c)
    return study
