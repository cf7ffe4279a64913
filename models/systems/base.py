"""What every published system looks like to the rest of the application.

A system is a ``torch.nn.Module`` subclassing ``EmotionSystem``. It declares its modalities and
how much time one prediction covers; it turns perception output (``ClipSignals``) for a time
window into a batch of tensors; and its ``forward`` returns fused logits together with each
modality's own logits and the hidden features at the fusion input, which explanation
(modality-activation bars, ablation) and the timelines need. Inference, training, evaluation and
the window use only this interface, so all five systems are driven by the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from affectscope.models.signals import ClipSignals

Batch = dict[str, torch.Tensor]


@dataclass(frozen=True)
class TrainingStage:
    """One stage of a paper's staged training, declared by a system and followed by the trainer.

    ``name`` is passed as ``stage=`` to the system's ``training_loss``; ``share`` is the stage's
    part of the epoch budget (at least one epoch each); ``freeze_branches`` calls the system's
    ``freeze_branches()`` before the stage so only the fusion learns.
    """

    name: str
    share: float = 1.0
    freeze_branches: bool = False


@dataclass(frozen=True)
class ModalityPart:
    """What one modality owns in a trained system: its branch modules, and the columns of the fusion's
    first linear layer that read its features. An input without the modality feeds zeros there, so
    retraining these alone leaves every decision on such inputs exactly as it was."""

    modules: tuple[nn.Module, ...]
    fusion_in: nn.Linear
    columns: slice


@dataclass
class SystemOutput:
    """One forward pass: fused logits (B, C), per-modality logits (B, C) and fusion-input features."""

    logits: torch.Tensor
    per_modality: dict[str, torch.Tensor] = field(default_factory=dict)
    hidden: dict[str, torch.Tensor] = field(default_factory=dict)


class EmotionSystem(nn.Module):
    """Base class of the five systems (seeds 000–004)."""

    #: modality names this system consumes, e.g. ("face", "audio")
    modalities: tuple[str, ...] = ()
    #: seconds of media one prediction covers; predict() slides this window over a clip
    window_seconds: float = 2.0
    #: seconds between window starts when predicting a timeline
    hop_seconds: float = 0.5
    #: number of output classes
    num_classes: int = 3
    #: one prediction covers the whole clip (seed 002: T steps spread over the whole video, §2.1);
    #: inference then uses a single window [0, duration) instead of sliding ``window_seconds``
    whole_clip: bool = False
    #: reads perception's expression probabilities (``expression_mean``, ``face_features22``); face
    #: images are then classified by the expression network while decoding (seeds 000, 001 and 002)
    reads_expressions: bool = False
    #: each clip's speech is brought to this level (dBFS) before the audio branch reads it
    #: (``audio_level``); None leaves it as recorded
    audio_level_db: float | None = None

    def shared_settings(
        self,
        num_classes: int,
        window_seconds: float,
        hop_seconds: float,
        off_modalities: tuple[str, ...] | list[str] = (),
        audio_level_db: float | None = None,
    ) -> None:
        """The settings every system's constructor ends with (classes, window and hop, modalities
        switched off, the speech level), set in one place instead of five copies."""
        self.num_classes = num_classes
        self.window_seconds, self.hop_seconds = window_seconds, hop_seconds
        self.off_modalities = tuple(off_modalities)
        self.audio_level_db = audio_level_db

    def batch_from_signals(self, signals: ClipSignals, t0: float, t1: float) -> Batch:
        """Tensors (batch of 1) for the window [t0, t1) of a clip.

        Missing modalities (no face, no audio track) become zeros plus a ``<modality>_mask``
        tensor of 0, never an exception, so a clip without audio still gets a prediction.
        """
        raise NotImplementedError

    def batch_from_windows(self, windows: list[tuple[ClipSignals, float, float]]) -> Batch:
        """One batch for many windows ``(signals, t0, t1)``: equal to collating
        ``batch_from_signals`` of each; systems override it where a batched input transform is
        much cheaper than one per window (seed 004's spectrograms)."""
        return collate([self.batch_from_signals(s, t0, t1) for s, t0, t1 in windows])

    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        raise NotImplementedError

    #: modalities whose branch has no trained weights (no real labelled data for them): their masks
    #: are forced to 0 in ``forward`` so the fusion never reads a random branch (model cards list them)
    off_modalities: tuple[str, ...] = ()

    def without_off(self, batch: Batch) -> Batch:
        """``batch`` with the ``<m>_mask`` of every off modality set to 0 (a shallow copy)."""
        if not self.off_modalities:
            return batch
        b = next(iter(batch.values())).shape[0]
        out = dict(batch)
        for m in self.off_modalities:
            ref = batch.get(f"{m}_mask")
            out[f"{m}_mask"] = torch.zeros(b, device=ref.device if ref is not None else None)
        return out

    def encoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of pretrained-style encoders (trained at a lower rate where a paper says so)."""
        return []

    def modality_part(self, name: str) -> ModalityPart:
        """The branch and fusion columns of modality ``name`` (systems whose fusion reads branch
        features through one linear layer; ``models.training.part_retrain``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot retrain one modality alone")

    def decision_bias(self) -> nn.Parameter:
        """The bias a per-class decision threshold is written into (``models.class_bias``)."""
        raise NotImplementedError(f"{type(self).__name__} has no decision bias")

    #: label smoothing ε of the training loss (seed 003 trains with 0.2)
    label_smoothing: float = 0.0
    #: learning rate of ``encoder_parameters()`` as a factor of the head's (seed 003: 1e-2)
    encoder_lr_scale: float = 1.0

    def param_groups(self, lr: float) -> list[dict]:
        """Optimizer parameter groups: ``encoder_parameters()`` at ``encoder_lr_scale × lr``, the rest
        at ``lr`` (pass them as an optimizer's params; empty groups are left out)."""
        encoders = [p for p in self.encoder_parameters() if p.requires_grad]
        ids = {id(p) for p in encoders}
        head = [p for p in self.parameters() if p.requires_grad and id(p) not in ids]
        groups = [{"params": head, "lr": lr}, {"params": encoders, "lr": lr * self.encoder_lr_scale}]
        return [g for g in groups if g["params"]]

    #: staged training the trainer follows in order (empty: one stage on ``loss_fn``)
    training_stages: tuple[TrainingStage, ...] = ()

    def schedule_values(self, stage: str, epoch: int) -> dict[str, float]:
        """Schedule values (temperature, decay weight…) ``training_loss`` uses at ``epoch`` of
        ``stage``; the trainer records them per epoch in the model card."""
        return {}

    def choose_fusion_weights(
        self, per_modality: dict[str, torch.Tensor], labels: torch.Tensor, masks: dict[str, torch.Tensor]
    ) -> dict[str, float] | None:
        """Set fusion weights chosen on validation outputs where the fusion has them (None: it has
        none). The trainer calls it once after the last stage, with the validation set's logits."""
        return None

    def loss_fn(self, output: SystemOutput, target: torch.Tensor) -> torch.Tensor:
        """The training loss the shared trainer minimises: cross-entropy of the fused logits with
        ``label_smoothing``. Systems override it to add their own terms (e.g. per-modality heads)."""
        return nn.functional.cross_entropy(output.logits, target, label_smoothing=self.label_smoothing)


def collate(batches: list[Batch]) -> Batch:
    """Concatenate batches of 1 (from ``batch_from_signals``) along the batch dimension."""
    keys = batches[0].keys()
    return {k: torch.cat([b[k] for b in batches], dim=0) for k in keys}
