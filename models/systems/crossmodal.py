"""Seed 003: end-to-end audio-visual group emotion recognition with cross-modal attention (Evtodienko).

Vision: 8 equally spaced frames → 2D CNN → mean over time of the feature maps (ClipBERT's
temporal mean pooling, which the paper follows) → flatten the spatial grid into a sequence →
projection layer PL: ``v_emb`` (S_v × N). Speech: raw 16 kHz waveform → HuBERT → PL: ``a_emb``
(S_a × N). Attention: self-attention over ``a_emb ⊕ v_emb`` and cross-attention each way
(Q = v, K = V = a and Q = a, K = V = v), each with a skip connection; every branch is mean-pooled,
layer-normalised before its penultimate projection, and the three projections are concatenated
into the classifier. Training as the paper: Adam, lr 1e-4, weight decay 1e-3, label smoothing 0.2,
encoders at 1e-2 of the head's learning rate once pretrained encoders are loaded (full rate while
they are random) — exposed as ``label_smoothing``,
``encoder_parameters()``, ``encoder_lr_scale`` and ``loss_fn`` for the shared trainer.

Pretrained ResNet101d and HuBERT cannot be had here: both are built untrained (``resnet101d`` +
``hubert_base`` = the paper's configuration; ``resnet18`` + a small HuBERT-layout encoder by
default, so it trains on two CPU cores), and ``load_backbone_weights`` loads real ones when a user
has them. Frames come from ``ClipSignals``: a ``frames`` track of small whole frames when one is
supplied, else perception's crops of the largest face (``face_crop96`` RGB, ``face_crop64`` grey),
taken at the 8 equally spaced analysed frames of the window that have one; audio from its 16 kHz
``audio`` track.

Per-modality logits are linear probes on the pooled ``v_emb`` / ``a_emb`` with the gradient
stopped, so they read the model without changing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from affectscope.models.signals import ClipSignals
from affectscope.models.systems import memory
from affectscope.models.systems.base import Batch, EmotionSystem, SystemOutput
from affectscope.models.systems.crossmodal_encoders import FrameEncoder, SpeechEncoder, map_size
from affectscope.models.systems.window_inputs import audio_window, pick_times

MODALITIES = ("visual", "audio")
#: ClipSignals tracks that can feed the vision encoder, first present wins: small whole frames,
#: then face crops (N, H, W[, 3]), uint8 0–255 or float 0–1
FRAME_TRACKS = ("frames", "face_crop96", "face_crop64")
_IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
_IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)


class CrossModalAttention(nn.Module):
    """Self-attention over both modalities, cross-attention each way, skips, layer norm, classifier."""

    def __init__(self, dim: int, heads: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.self_attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.visual_to_audio = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.audio_to_visual = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norms = nn.ModuleList([nn.LayerNorm(dim) for _ in range(3)])
        self.projections = nn.ModuleList([nn.Linear(dim, dim) for _ in range(3)])
        self.classifier = nn.Linear(3 * dim, num_classes)

    def forward(
        self, v: torch.Tensor, a: torch.Tensor, v_mask: torch.Tensor, a_mask: torch.Tensor
    ) -> torch.Tensor:
        """``v`` (B, S_v, N), ``a`` (B, S_a, N), masks (B,) of 0/1 → logits (B, classes)."""
        b, s_a, s_v = v.shape[0], a.shape[1], v.shape[1]
        both = torch.cat([a, v], dim=1)  # Q = K = V = a_emb ⊕ v_emb
        valid = torch.cat([a_mask.reshape(b, 1).expand(b, s_a), v_mask.reshape(b, 1).expand(b, s_v)], 1) > 0
        # With neither modality present, attend over everything (zeros) rather than over nothing (NaN).
        valid = valid | ~valid.any(dim=1, keepdim=True)
        joint = both + self.self_attention(both, both, both, key_padding_mask=~valid, need_weights=False)[0]
        weights = valid.to(joint.dtype).unsqueeze(-1)
        joint_pooled = (joint * weights).sum(1) / weights.sum(1)
        # Cross-attention from a missing modality carries nothing: keep only the skip connection.
        am, vm = a_mask.reshape(b, 1, 1).to(v.dtype), v_mask.reshape(b, 1, 1).to(v.dtype)
        v_ctx = v + am * self.visual_to_audio(v, a, a, need_weights=False)[0]  # Q = v, K = V = a
        a_ctx = a + vm * self.audio_to_visual(a, v, v, need_weights=False)[0]  # Q = a, K = V = v
        pooled = [joint_pooled, v_ctx.mean(1) * vm[:, 0], a_ctx.mean(1) * am[:, 0]]
        heads = [proj(norm(x)) for x, norm, proj in zip(pooled, self.norms, self.projections, strict=True)]
        return self.classifier(torch.cat(heads, dim=1))


class CrossModalSystem(EmotionSystem):
    """Seed 003: frame CNN + speech encoder → projections → self/cross-attention → classes."""

    modalities = MODALITIES

    def __init__(
        self,
        num_classes: int = 3,
        num_frames: int = 8,
        frame_size: int = 64,
        vision_backbone: str = "resnet18",
        speech_encoder: str = "small",
        embed_dim: int = 256,
        heads: int = 8,
        dropout: float = 0.1,
        label_smoothing: float = 0.2,
        encoder_lr_scale: float = 1e-2,
        learning_rate: float = 1e-4,
        weight_decay: float = 1e-3,
        window_seconds: float = 5.0,
        hop_seconds: float = 2.5,
        audio_level_db: float | None = None,
        frozen_encoders: bool = False,
        checkpointed_encoders: bool = False,
    ) -> None:
        super().__init__()
        self.shared_settings(num_classes, window_seconds, hop_seconds, audio_level_db=audio_level_db)
        self.num_frames, self.frame_size = num_frames, frame_size
        # §5: encoders train at 1e-2 of the head's rate *because they are pretrained*; randomly
        # initialised encoders would stay random at that rate, so they train at the full rate until
        # load_backbone_weights() loads pretrained ones (then ``encoder_lr_scale`` applies).
        self.label_smoothing, self.pretrained_lr_scale = label_smoothing, encoder_lr_scale
        self.encoder_lr_scale = 1.0
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        self.vision = FrameEncoder(vision_backbone)
        self.speech = SpeechEncoder(speech_encoder)
        if self.vision.pretrained:
            self.encoder_lr_scale = self.pretrained_lr_scale
        # Memory switches for the paper-sized encoders (``memory.py``): frozen encoders run without
        # gradients; checkpointed ones recompute their blocks' activations in the backward pass.
        self.frozen_encoders, self.checkpointed_encoders = frozen_encoders, checkpointed_encoders
        for enc in (self.vision, self.speech):
            if frozen_encoders:
                memory.freeze(enc)
            elif checkpointed_encoders:
                memory.checkpoint_blocks(enc.blocks())
        self.visual_projection = nn.Linear(self.vision.out_channels, embed_dim)  # PL
        self.audio_projection = nn.Linear(self.speech.out_features, embed_dim)  # PL
        self.attention = CrossModalAttention(embed_dim, heads, num_classes, dropout)
        self.probes = nn.ModuleDict({m: nn.Linear(embed_dim, num_classes) for m in MODALITIES})

    # --- training specifics the shared trainer reads ------------------------------------------
    def encoder_parameters(self) -> list[nn.Parameter]:
        """The frame CNN and the speech encoder: fine-tuned at ``encoder_lr_scale`` × the head's rate."""
        return [*self.vision.parameters(), *self.speech.parameters()]

    def param_groups(self, lr: float) -> list[dict]:
        """The head at ``lr``; each encoder at ``pretrained_lr_scale × lr`` when it is pretrained (a
        loaded checkpoint, or the FER-2013 mini-Xception), at ``lr`` while it is random (§5)."""
        groups = []
        enc_ids: set[int] = set()
        for name, enc in (("vision", self.vision), ("speech", self.speech)):
            params = [p for p in enc.parameters() if p.requires_grad]
            enc_ids |= {id(p) for p in enc.parameters()}
            scale = self.pretrained_lr_scale if getattr(enc, "pretrained", False) else 1.0
            groups.append({"params": params, "lr": lr * scale, "name": name})
        head = [p for p in self.parameters() if p.requires_grad and id(p) not in enc_ids]
        return [g for g in [{"params": head, "lr": lr, "name": "head"}, *groups] if g["params"]]

    def loss_fn(self, output: SystemOutput, target: torch.Tensor) -> torch.Tensor:
        """Label-smoothed (ε = 0.2) cross-entropy of the fused logits plus the detached probes'."""
        loss = super().loss_fn(output, target)
        for logits in output.per_modality.values():
            loss = loss + F.cross_entropy(logits, target, label_smoothing=self.label_smoothing)
        return loss

    def load_backbone_weights(
        self, vision: str | Path | None = None, speech: str | Path | None = None
    ) -> None:
        """Load pretrained encoders (safetensors: timm-named ResNet-D / torchvision ResNet without
        ``fc``, torchaudio-named HuBERT) for users who have them; a clear WeightsError otherwise."""
        from affectscope.models.weights import load_backbone_weights

        if vision is not None:
            load_backbone_weights(self.vision.net, vision, f"{self.vision.backbone} frame encoder")
        if speech is not None:
            load_backbone_weights(self.speech.model, speech, f"{self.speech.encoder_name} speech encoder")
        if vision is not None:
            self.vision.pretrained = True
        if speech is not None:
            self.speech.pretrained = True
        if vision is not None or speech is not None:
            self.encoder_lr_scale = self.pretrained_lr_scale  # pretrained: fine-tune gently (§5)

    # --- inputs -------------------------------------------------------------------------------
    def batch_from_signals(self, signals: ClipSignals, t0: float, t1: float) -> Batch:
        frames = self._frames(signals, t0, t1)
        wave = audio_window(signals, t0, t1, self.audio_level_db)
        n_samples = int(round((t1 - t0) * signals.audio_rate))
        batch: Batch = {
            "visual": (frames if frames is not None else self._blank_frames()).unsqueeze(0),
            "visual_mask": torch.tensor([0.0 if frames is None else 1.0]),
            "audio": torch.from_numpy(
                wave if wave is not None else np.zeros(n_samples, np.float32)
            ).unsqueeze(0),
            "audio_mask": torch.tensor([0.0 if wave is None else 1.0]),
        }
        return batch

    def _blank_frames(self) -> torch.Tensor:
        return torch.zeros(self.num_frames, 3, self.frame_size, self.frame_size)

    def _frames(self, signals: ClipSignals, t0: float, t1: float) -> torch.Tensor | None:
        """(num_frames, 3, S, S) ImageNet-normalised frames equally spaced over [t0, t1), or None."""
        for name in FRAME_TRACKS:
            picked = pick_times(signals.track(name), t0, t1, self.num_frames)
            if picked is None or picked.ndim not in (3, 4):
                continue
            x = torch.from_numpy(np.ascontiguousarray(picked)).float()
            if picked.dtype == np.uint8:
                x = x / 255.0
            x = x.unsqueeze(1).expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
            x = F.interpolate(
                x, size=(self.frame_size, self.frame_size), mode="bilinear", align_corners=False
            )
            return (x - _IMAGENET_MEAN) / _IMAGENET_STD
        return None

    # --- network ------------------------------------------------------------------------------
    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        frames, wave = batch["visual"], batch["audio"]
        b, t = frames.shape[:2]
        v_mask = batch.get("visual_mask", torch.ones(b, device=frames.device)).to(frames.dtype)
        a_mask = batch.get("audio_mask", torch.ones(b, device=wave.device)).to(wave.dtype)
        v_emb = self.visual_projection(self._visual_maps(frames, v_mask).flatten(2).transpose(1, 2))
        a_emb = self.audio_projection(self._speech_features(wave, a_mask))  # (B, S_a, N)
        # A missing modality enters the attention as zeros.
        v_emb = v_emb * v_mask.reshape(b, 1, 1)
        a_emb = a_emb * a_mask.reshape(b, 1, 1)
        logits = self.attention(v_emb, a_emb, v_mask, a_mask)
        hidden = {"visual": v_emb.mean(1), "audio": a_emb.mean(1)}
        per_modality = {m: self.probes[m](h.detach()) for m, h in hidden.items()}
        return SystemOutput(logits=logits, per_modality=per_modality, hidden=hidden)

    def _speech_features(self, wave: torch.Tensor, a_mask: torch.Tensor) -> torch.Tensor:
        """(B, S_a, D) speech features; rows without audio are zeros (masked downstream anyway), so
        face-only training data costs no speech compute."""
        keep = torch.nonzero(a_mask > 0).flatten()
        if len(keep) == wave.shape[0]:
            return self._encode(self.speech, wave)
        if len(keep) == 0:
            frames = self._encode(self.speech, wave[:1]).shape[1] if wave.shape[0] else 0
            return wave.new_zeros(wave.shape[0], frames, self.speech.out_features)
        feats = self._encode(self.speech, wave[keep])
        out = feats.new_zeros(wave.shape[0], *feats.shape[1:])
        out[keep] = feats
        return out

    def _encode(self, encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return memory.run_frozen(encoder, x) if self.frozen_encoders else encoder(x)

    def _visual_maps(self, frames: torch.Tensor, v_mask: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w): CNN feature maps of every frame, mean over time (M).

        Samples without frames are zeroed downstream anyway, so the CNN runs only on those that
        have them (audio-only training data costs no vision compute); results are identical.
        """
        b, t = frames.shape[:2]
        keep = torch.nonzero(v_mask > 0).flatten()
        if len(keep) == b:
            maps = self._encode(self.vision, frames.flatten(0, 1))  # (B·T, C, h, w)
            return maps.reshape(b, t, *maps.shape[1:]).mean(dim=1)
        h, w = (map_size(self.vision.backbone, side) for side in frames.shape[-2:])
        out = frames.new_zeros(b, self.vision.out_channels, h, w)
        if len(keep):
            maps = self._encode(self.vision, frames[keep].flatten(0, 1))
            out[keep] = maps.reshape(len(keep), t, *maps.shape[1:]).mean(dim=1).to(out.dtype)
        return out


def build(**config: Any) -> CrossModalSystem:
    """Registry factory: ``CrossModalSystem(**config)``."""
    return CrossModalSystem(**config)
