"""Temporal multimodal fusion (seed 001, Vielzeuf et al., EmotiW 2017).

Three modalities, each giving one descriptor and one score per video:
- ``face``  (VGG-LSTM): per-frame face descriptors → one-layer unidirectional LSTM (2230 units),
  variable length (up to 272 frames) → FC 297 (the descriptor) → softmax;
- ``c3d``   (C3D-LSTM): per-window descriptors of 16-frame windows (with or without overlap) →
  LSTM (1324 units, up to 34/17 windows) → FC 304 → softmax; the window classifier before it is
  trained with the score-weighted window loss (``weighted_window_loss``, temperature schedule);
- ``audio`` (audio MLP): utterance functionals → FC 279 with batch norm, ReLU, dropout (the
  exposed hidden layer) → softmax.
Fusion (config ``fusion``): ``moddrop`` (the best on validation; with the decaying off-diagonal
block weight decay), ``score_tree``, ``weighted_mean`` (weights chosen on validation with
``fusion.voting.choose_weights`` and set by ``set_fusion_weights``), ``mean``, ``vote``, ``max``.
Sizes the paper leaves open: ModDrop hidden blocks (128 each), score-tree hidden width (64).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from affectscope.models.fusion.moddrop import GammaSchedule, ModDropFusion
from affectscope.models.fusion.score_tree import ScoreTree
from affectscope.models.fusion.voting import choose_weights, hard_vote, max_score, soft_vote
from affectscope.models.signals import ClipSignals
from affectscope.models.systems import temporal_inputs as inputs
from affectscope.models.systems.audio_functionals import DIM as AUDIO_DIM
from affectscope.models.systems.base import Batch, EmotionSystem, SystemOutput, TrainingStage

MODALITIES = ("face", "c3d", "audio")
FUSIONS = ("moddrop", "score_tree", "weighted_mean", "mean", "vote", "max")


class SequenceBranch(nn.Module):
    """Variable-length one-layer LSTM → dropout → FC (descriptor, ReLU) → classifier."""

    def __init__(self, in_dim: int, hidden: int, fc: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        self.lstm = nn.LSTM(in_dim, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Sequential(nn.Linear(hidden, fc), nn.ReLU())
        self.classifier = nn.Linear(fc, num_classes)  # weight decay on the final FC, per the paper

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        lengths = lengths.reshape(-1).clamp(1, x.shape[1]).cpu()
        _, (h, _) = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        descriptor = self.fc(self.dropout(h[-1]))
        return self.classifier(descriptor), descriptor


class AudioMLP(nn.Module):
    """Two-layer perceptron on the functionals; its hidden layer (279) is the audio descriptor."""

    def __init__(self, in_dim: int, hidden: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        self.hidden = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(dropout)
        )
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.hidden(x)
        return self.classifier(h), h


@dataclass(frozen=True)
class TemperatureSchedule:
    """T(t) = max(t0 · decay**epoch, minimum): the decreasing temperature of Eq. (1)."""

    t0: float = 2.0
    decay: float = 0.8
    minimum: float = 0.05

    def __call__(self, epoch: int) -> float:
        return max(self.t0 * self.decay**epoch, self.minimum)


def window_weights(
    window_logits: Tensor, labels: Tensor, temperature: float, window_mask: Tensor | None = None
) -> Tensor:
    """Eq. (1): w_ij = exp(-s_ij / T), normalised over each video's windows (B, W).

    s_ij is read as the window's loss on the video label (-log p of the true class), so windows
    that already show the labelled emotion weigh more and low temperatures select the best one —
    the multiple-instance reading the paper gives. Weights carry no gradient.
    """
    with torch.no_grad():
        s = -window_logits.log_softmax(-1).gather(
            -1, labels.view(-1, 1, 1).expand(-1, window_logits.shape[1], 1)
        )
        logw = -s.squeeze(-1) / temperature
        if window_mask is not None:
            logw = logw.masked_fill(window_mask <= 0, float("-inf"))
        return logw.softmax(-1)


def weighted_window_loss(
    window_logits: Tensor, labels: Tensor, temperature: float, window_mask: Tensor | None = None
) -> Tensor:
    """Cross-entropy of every window against its video's label, weighted by ``window_weights``."""
    w = window_weights(window_logits, labels, temperature, window_mask)
    b, n, c = window_logits.shape
    ce = nn.functional.cross_entropy(
        window_logits.reshape(b * n, c), labels.repeat_interleave(n), reduction="none"
    )
    return (w * ce.view(b, n)).sum(1).mean()


class TemporalFusionSystem(EmotionSystem):
    """Seed 001: VGG-LSTM, C3D-LSTM and audio MLP, fused by ModDrop, score trees or (weighted) means."""

    modalities = MODALITIES
    # Its face descriptors start with each face's 7 expression probabilities: without them evaluate
    # gave every face image the same answer (issue 19; the flag was missing).
    reads_expressions = True

    def __init__(
        self,
        num_classes: int = 3,
        fusion: str = "moddrop",
        face_dim: int = inputs.FACE_DIM,
        c3d_dim: int = 3 * inputs.FACE_DIM,
        audio_dim: int = AUDIO_DIM,
        face_hidden: int = 2230,
        face_fc: int = 297,
        c3d_hidden: int = 1324,
        c3d_fc: int = 304,
        audio_hidden: int = 279,
        face_steps: int = 64,
        overlap: int = 0,
        moddrop_hidden: int = 128,
        moddrop_p: float = 0.2,
        gamma0: float = 1.0,
        gamma_decay: float = 0.9,
        tree_hidden: int = 64,
        fusion_weights: Mapping[str, float] | None = None,
        window_seconds: float = 4.0,
        hop_seconds: float = 1.0,
        off_modalities: tuple[str, ...] | list[str] = (),
        audio_level_db: float | None = None,
        final_weight_decay: float = 5e-4,
    ) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {fusion!r}")
        self.shared_settings(num_classes, window_seconds, hop_seconds, off_modalities, audio_level_db)
        self.fusion_method = fusion
        # The paper puts weight decay on each branch's final layer (its value is not given: 5e-4 is ours).
        self.final_weight_decay = float(final_weight_decay)
        self.face_dim, self.c3d_dim, self.audio_dim = face_dim, c3d_dim, audio_dim
        self.face_steps, self.overlap = face_steps, overlap
        self.windows = inputs.window_count(max(face_steps, inputs.WINDOW), overlap)
        self.branches = nn.ModuleDict(
            {
                "face": SequenceBranch(face_dim, face_hidden, face_fc, num_classes),
                "c3d": SequenceBranch(c3d_dim, c3d_hidden, c3d_fc, num_classes),
                "audio": AudioMLP(audio_dim, audio_hidden, num_classes),
            }
        )
        # The weighted C3D (§2.4): the window network is fine-tuned with the score-weighted loss of
        # Eq. 1 and its features are what the C3D-LSTM reads. The C3D's trainable top stands in as
        # ``window_encoder`` (fc7-like: linear + ReLU, same width); ``window_head`` is its fc8.
        self.window_encoder = nn.Sequential(nn.Linear(c3d_dim, c3d_dim), nn.ReLU())
        self.window_head = nn.Linear(c3d_dim, num_classes)
        dims = [face_fc, c3d_fc, audio_hidden]
        self.moddrop = (
            ModDropFusion(dims, moddrop_hidden, num_classes, p_drop=moddrop_p)
            if fusion == "moddrop"
            else None
        )
        self.score_tree = ScoreTree(dims, num_classes, hidden=tree_hidden) if fusion == "score_tree" else None
        self.gamma = GammaSchedule(gamma0, gamma_decay)
        self.temperature = TemperatureSchedule()
        self.register_buffer("fusion_weights", torch.full((3,), 1.0 / 3))
        # openSMILE functionals span many orders of magnitude: standardise them with statistics fitted
        # on the training set (``fit_normalisation``) and saved with the weights (identity until fitted)
        self.register_buffer("audio_mean", torch.zeros(audio_dim))
        self.register_buffer("audio_std", torch.ones(audio_dim))
        if fusion_weights is not None:
            self.set_fusion_weights(fusion_weights)
        self.branches_frozen = False

    # -- inputs -------------------------------------------------------------------------------
    def batch_from_signals(self, signals: ClipSignals, t0: float, t1: float) -> Batch:
        """Face sequence, its window descriptors and audio functionals for [t0, t1), masked when absent."""
        batch: Batch = {}
        seq = (
            inputs.face_sequence(signals, t0, t1, self.face_steps)
            if self.face_dim == inputs.FACE_DIM
            else None
        )
        windows = inputs.window_descriptors(seq, self.overlap) if seq is not None else None
        if windows is not None and windows.shape[1] != self.c3d_dim:
            windows = None
        audio = (
            inputs.audio_descriptor(signals, t0, t1, self.audio_dim, self.audio_level_db)
            if self.audio_dim in (AUDIO_DIM, inputs.IS10_DIM)
            else None
        )
        for name, value, shape in (
            ("face", seq, (self.face_steps, self.face_dim)),
            ("c3d", windows, (self.windows, self.c3d_dim)),
            ("audio", audio, (self.audio_dim,)),
        ):
            ok = value is not None and tuple(value.shape) == shape
            batch[name] = (
                torch.from_numpy(np.ascontiguousarray(value)).float()[None] if ok else torch.zeros(1, *shape)
            )
            batch[f"{name}_mask"] = torch.tensor([1.0 if ok else 0.0])
            if name != "audio":
                batch[f"{name}_len"] = torch.tensor([shape[0]], dtype=torch.long)
        return batch

    # -- forward ------------------------------------------------------------------------------
    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        batch = self.without_off(batch)
        b = batch["audio"].shape[0]
        masks = torch.stack([batch.get(f"{m}_mask", torch.ones(b)).float().reshape(b) for m in MODALITIES], 1)
        per_modality: dict[str, Tensor] = {}
        hidden: dict[str, Tensor] = {}
        for i, name in enumerate(MODALITIES):
            branch = self.branches[name]
            if name == "audio":
                # standardised, and clipped: a corpus can move a functional far outside training's range
                logits, h = branch(((batch[name] - self.audio_mean) / self.audio_std).clamp(-8.0, 8.0))
            elif name == "c3d":
                # The LSTM reads the fine-tuned window features; like the paper's extracted C3D
                # features they are fixed once the window stage is over (no gradient back).
                lengths = batch.get("c3d_len", torch.full((b,), batch[name].shape[1]))
                logits, h = branch(self.window_encoder(batch[name]).detach(), lengths)
            else:
                lengths = batch.get(f"{name}_len", torch.full((b,), batch[name].shape[1]))
                logits, h = branch(batch[name], lengths)
            per_modality[name] = logits
            h = h * masks[:, i : i + 1]
            hidden[name] = h.detach() if self.branches_frozen else h
        return SystemOutput(self._fuse(per_modality, hidden, masks), per_modality, hidden)

    def _fuse(self, per_modality: dict[str, Tensor], hidden: dict[str, Tensor], masks: Tensor) -> Tensor:
        feats = [hidden[m] for m in MODALITIES]
        if self.moddrop is not None:
            return self.moddrop(feats, masks)[0]
        probs = {m: per_modality[m].softmax(-1) for m in MODALITIES}
        if self.branches_frozen:
            probs = {m: p.detach() for m, p in probs.items()}
        if self.score_tree is not None:
            return self.score_tree(feats, [probs[m] for m in MODALITIES], masks).logits
        mask_map = {m: masks[:, i] for i, m in enumerate(MODALITIES)}
        if self.fusion_method == "vote":
            fused = hard_vote(probs, mask_map)
        elif self.fusion_method == "max":
            fused = max_score(probs, mask_map)
        elif self.fusion_method == "weighted_mean":
            fused = soft_vote(probs, mask_map, weights=self.fusion_weight_map())
        else:
            fused = soft_vote(probs, mask_map)
        return fused.clamp_min(1e-8).log()

    @torch.no_grad()
    def fit_normalisation(self, batch: Batch) -> None:
        """Fit the audio standardisation on the training rows that have audio (stored as buffers)."""
        keep = batch["audio_mask"].reshape(-1) > 0
        if keep.sum() > 1:
            x = batch["audio"][keep].float()
            self.audio_mean.copy_(x.mean(0))
            std = x.std(0)
            # near-constant functionals (silence padding) keep their scale: dividing by ~0 explodes
            self.audio_std.copy_(torch.where(std > 1e-3, std, torch.ones_like(std)))

    # -- fusion weights and training ----------------------------------------------------------
    def set_fusion_weights(self, weights: Mapping[str, float]) -> None:
        """Weights of ``weighted_mean`` (e.g. from ``choose_weights`` on validation); saved with the model."""
        self.fusion_weights.copy_(torch.tensor([float(weights.get(m, 0.0)) for m in MODALITIES]))

    def fusion_weight_map(self) -> dict[str, float]:
        return {m: float(w) for m, w in zip(MODALITIES, self.fusion_weights, strict=True)}

    #: window classifier (score-weighted), then the modalities on their own, then frozen → fusion
    training_stages = (
        TrainingStage("windows"),
        TrainingStage("modalities"),
        TrainingStage("fusion", freeze_branches=True),
    )

    def schedule_values(self, stage: str, epoch: int) -> dict[str, float]:
        if stage == "windows":
            return {"temperature": self.temperature(epoch)}
        if stage == "fusion" and self.moddrop is not None:
            return {"gamma": self.gamma(epoch)}
        return {}

    def choose_fusion_weights(
        self, per_modality: dict[str, Tensor], labels: Tensor, masks: dict[str, Tensor]
    ) -> dict[str, float] | None:
        """``weighted_mean``: the weights with the best validation accuracy (``choose_weights``)."""
        if self.fusion_method != "weighted_mean":
            return None
        weights = choose_weights(per_modality, labels, masks, from_logits=True)
        self.set_fusion_weights(weights)
        return weights

    def param_groups(self, lr: float) -> list[dict]:
        """The base groups, with each branch's final classifier weight split off under
        ``final_weight_decay`` (the paper's weight decay on the last layer; issue 19, item 6)."""
        finals = {id(m.classifier.weight) for m in self.modules() if isinstance(m, SequenceBranch | AudioMLP)}
        out = []
        for g in super().param_groups(lr):
            rest = [p for p in g["params"] if id(p) not in finals]
            last = [p for p in g["params"] if id(p) in finals]
            out += [{**g, "params": rest}] if rest else []
            if last:
                out.append({**g, "params": last, "weight_decay": self.final_weight_decay, "name": "final"})
        return out

    def freeze_branches(self, frozen: bool = True) -> None:
        self.branches_frozen = frozen
        for p in [
            *self.branches.parameters(),
            *self.window_encoder.parameters(),
            *self.window_head.parameters(),
        ]:
            p.requires_grad_(not frozen)

    def fusion_parameters(self) -> list[nn.Parameter]:
        mods = [m for m in (self.moddrop, self.score_tree) if m is not None]
        return [p for m in mods for p in m.parameters()]

    def window_logits(self, batch: Batch) -> Tensor:
        """(B, W, C) per-window scores of the weighted C3D (the max over windows is its prediction)."""
        return self.window_head(self.window_encoder(batch["c3d"]))

    def training_loss(
        self, output: SystemOutput, labels: Tensor, batch: Batch, stage: str = "fusion", epoch: int = 0
    ) -> Tensor:
        """``windows``: score-weighted window loss at temperature T(epoch); ``modalities``: each
        present modality's cross-entropy, summed; ``fusion``: fused cross-entropy, plus for ModDrop
        gamma(epoch) · sum of the off-diagonal block norms."""
        ce = nn.functional.cross_entropy
        if stage == "windows":
            b, w = batch["c3d"].shape[:2]
            lengths = batch.get("c3d_len", torch.full((b,), w)).reshape(b, 1)
            window_mask = (torch.arange(w).unsqueeze(0) < lengths).float()
            return weighted_window_loss(
                self.window_logits(batch), labels, self.temperature(epoch), window_mask
            )
        if stage == "modalities":
            total = output.logits.new_zeros(())
            for m, logits in output.per_modality.items():
                if m in self.off_modalities:
                    continue
                mask = batch.get(f"{m}_mask", torch.ones(len(labels))).float().reshape(-1)
                if mask.sum() > 0:
                    total = total + (ce(logits, labels, reduction="none") * mask).sum() / mask.sum()
            return total
        if stage != "fusion":
            raise ValueError(f"stage must be 'windows', 'modalities' or 'fusion', not {stage!r}")
        loss = ce(output.logits, labels)
        if self.moddrop is not None:
            loss = loss + self.gamma(epoch) * self.moddrop.off_diagonal_penalty()
        return loss


def vgg_face_fc6() -> nn.Module:
    """VGG-16 up to fc6 (224×224 face → 4096), the paper's per-frame face descriptor.

    Built with ``weights=None``; VGG-Face weights fine-tuned on FER-2013 are loaded by the caller
    with ``affectscope.models.weights.load_backbone_weights(module, path, "VGG-Face")``.
    """
    from torchvision.models import vgg16

    net = vgg16(weights=None)
    return nn.Sequential(net.features, net.avgpool, nn.Flatten(1), *list(net.classifier.children())[:2])


def build(**config: Any) -> TemporalFusionSystem:
    return TemporalFusionSystem(**config)
