"""Seed 002: visual, audio and skeleton streams fused by squeeze-excitation (Peng et al., MiGA 2023).

Each modality is a sequence of T = 100 steps spread over the whole video (§2.1; ``whole_clip``,
the default: inference makes one prediction per clip; ``whole_clip=False`` slides 4 s windows).
Per stream: a linear projection to the stream's width (the paper needs one: 99 skeleton features
split into neither 4 heads nor 8 groups), fixed sinusoidal positions, one transformer encoder
layer with 4 heads (intra-modal relations), and NeXtVLAD (groups 8, clusters 4). The three
descriptors are concatenated (eq. 1), fused by the SE block (eqs. 2–4) to 512 features and
classified by an MLP (512 → ``mlp_hidden`` → classes).

Inputs. ``inputs="paper"`` takes what the paper extracted, read from tracks of those names when
a user supplies them: Swin features (T×768, track ``swin768``), VGGish embeddings (T×128, track
``vggish128``), BlazePose 33×3. ``inputs="signals"`` (default) runs on what perception extracts
here: visual ← the 22 per-frame face features (min/max/mean over faces of the 7 mini-Xception
expression probabilities + face count); audio ← 64-band log-mel frames of the 16 kHz waveform
(VGGish's own front end, before its CNN); skeleton ← BlazePose 33 × (x / width, y / height,
visibility) — visibility rather than z, because BlazePose's z is a rough depth relative to the
hips while visibility tells the model which points to trust (``skeleton_channels="xyz"`` selects z).

Per-modality logits come from linear probes on each stream's descriptor with the gradient
stopped: they say what each modality alone points to without changing the paper's network.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from affectscope.models.signals import ClipSignals
from affectscope.models.systems.base import Batch, EmotionSystem, ModalityPart, SystemOutput
from affectscope.models.systems.nextvlad import NeXtVLAD
from affectscope.models.systems.se_gating import SqueezeExcitationFusion
from affectscope.models.systems.window_inputs import audio_window, log_mel_steps, resample_track

MODALITIES = ("visual", "audio", "skeleton")

#: modality -> (source, input features) per input preset
INPUT_PRESETS: dict[str, dict[str, tuple[str, int]]] = {
    "signals": {"visual": ("face_features22", 22), "audio": ("logmel", 64), "skeleton": ("pose", 99)},
    "paper": {"visual": ("swin768", 768), "audio": ("vggish128", 128), "skeleton": ("pose", 99)},
}
#: width of each stream's encoder + NeXtVLAD; the paper keeps Swin's 768 and VGGish's 128
STREAM_WIDTHS: dict[str, dict[str, int]] = {
    "signals": {"visual": 128, "audio": 128, "skeleton": 128},
    "paper": {"visual": 768, "audio": 128, "skeleton": 128},
}


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """Vaswani et al.'s fixed position encoding, (length, dim)."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


class ModalityStream(nn.Module):
    """Projection → positions → one transformer encoder layer (4 heads) → NeXtVLAD."""

    def __init__(
        self,
        in_dim: int,
        width: int,
        seq_len: int,
        heads: int,
        groups: int,
        clusters: int,
        expansion: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.project = nn.Identity() if in_dim == width else nn.Linear(in_dim, width)
        self.register_buffer("positions", sinusoidal_positions(seq_len, width), persistent=False)
        self.encoder = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=4 * width, dropout=dropout, batch_first=True
        )
        self.vlad = NeXtVLAD(width, clusters=clusters, groups=groups, expansion=expansion)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.project(x) + self.positions[: x.shape[1]]
        return self.vlad(self.encoder(h))


class SkeletonFusionSystem(EmotionSystem):
    """Seed 002: three streams → NeXtVLAD each → concatenation → SE gating → MLP."""

    modalities = MODALITIES
    reads_expressions = True

    def __init__(
        self,
        num_classes: int = 3,
        seq_len: int = 100,
        heads: int = 4,
        groups: int = 8,
        clusters: int = 4,
        expansion: int = 2,
        fusion_dim: int = 512,
        se_reduction: int = 8,
        mlp_hidden: int = 512,
        dropout: float = 0.5,
        encoder_dropout: float = 0.1,
        inputs: str = "signals",
        stream_widths: dict[str, int] | None = None,
        skeleton_channels: str = "xyv",
        window_seconds: float = 4.0,
        hop_seconds: float = 1.0,
        whole_clip: bool = True,
        off_modalities: tuple[str, ...] | list[str] = (),
        audio_level_db: float | None = None,
    ) -> None:
        super().__init__()
        if inputs not in INPUT_PRESETS:
            raise ValueError(f"inputs must be one of {sorted(INPUT_PRESETS)}, not {inputs!r}")
        if skeleton_channels not in ("xyv", "xyz"):
            raise ValueError("skeleton_channels must be 'xyv' (x, y, visibility) or 'xyz'")
        self.shared_settings(num_classes, window_seconds, hop_seconds, off_modalities, audio_level_db)
        self.seq_len = seq_len
        self.inputs, self.skeleton_channels = inputs, skeleton_channels
        # §2.1: the T = 100 steps cover the whole video; window_seconds/hop_seconds only apply with
        # whole_clip=False (a sliding 4 s timeline, 25 Hz steps)
        self.whole_clip = whole_clip
        self.sources = INPUT_PRESETS[inputs]
        widths = {**STREAM_WIDTHS[inputs], **(stream_widths or {})}
        self.streams = nn.ModuleDict(
            {
                m: ModalityStream(
                    self.sources[m][1],
                    widths[m],
                    seq_len,
                    heads,
                    groups,
                    clusters,
                    expansion,
                    encoder_dropout,
                )
                for m in MODALITIES
            }
        )
        concat = sum(s.vlad.out_features for s in self.streams.values())
        self.fusion = SqueezeExcitationFusion(concat, fusion_dim, se_reduction)
        self.classifier = nn.Sequential(
            nn.Linear(fusion_dim, mlp_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(mlp_hidden, num_classes),
        )
        self.probes = nn.ModuleDict(
            {m: nn.Linear(s.vlad.out_features, num_classes) for m, s in self.streams.items()}
        )

    # --- inputs -------------------------------------------------------------------------------
    def batch_from_signals(self, signals: ClipSignals, t0: float, t1: float) -> Batch:
        batch: Batch = {}
        for m in MODALITIES:
            source, dim = self.sources[m]
            values = self._modality_input(signals, source, t0, t1)
            ok = values is not None and values.shape[-1] == dim
            x = values if ok else np.zeros((self.seq_len, dim), np.float32)
            batch[m] = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).unsqueeze(0)
            batch[f"{m}_mask"] = torch.tensor([1.0 if ok else 0.0])
        return batch

    def _modality_input(self, signals: ClipSignals, source: str, t0: float, t1: float) -> np.ndarray | None:
        if source == "logmel":
            wave = audio_window(signals, t0, t1, self.audio_level_db)
            if wave is None:
                return None
            return log_mel_steps(wave, signals.audio_rate, self.seq_len, n_mels=self.sources["audio"][1])
        if source == "pose":
            return self._skeleton(signals, t0, t1)
        values = resample_track(signals.track(source), t0, t1, self.seq_len)
        if values is None:
            return None
        if source == "face_features22" and not self._face_seen(signals, t0, t1):
            return None
        return values.reshape(self.seq_len, -1)

    def _face_seen(self, signals: ClipSignals, t0: float, t1: float) -> bool:
        counts = resample_track(signals.track("face_count"), t0, t1, self.seq_len)
        if counts is not None:
            return bool(np.max(counts) > 0)
        return any(
            faces for t, faces in zip(signals.frame_times, signals.faces, strict=False) if t0 <= t < t1
        )

    def _skeleton(self, signals: ClipSignals, t0: float, t1: float) -> np.ndarray | None:
        pose = resample_track(signals.track("pose"), t0, t1, self.seq_len)
        if pose is None or pose.ndim != 3 or pose.shape[1:] != (33, 4) or not np.any(pose[..., 3] > 0):
            return None
        out = np.empty((self.seq_len, 33, 3), np.float32)
        out[..., 0] = pose[..., 0] / max(signals.width, 1)
        out[..., 1] = pose[..., 1] / max(signals.height, 1)
        out[..., 2] = pose[..., 3] if self.skeleton_channels == "xyv" else pose[..., 2]
        return out.reshape(self.seq_len, 99)

    # --- network ------------------------------------------------------------------------------
    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        batch = self.without_off(batch)
        hidden: dict[str, torch.Tensor] = {}
        per_modality: dict[str, torch.Tensor] = {}
        for m, stream in self.streams.items():
            x = batch[m]
            if m in self.off_modalities:  # untrained and off: contributes nothing, costs nothing
                hidden[m] = x.new_zeros(x.shape[0], stream.vlad.out_features)
                per_modality[m] = x.new_zeros(x.shape[0], self.num_classes)
                continue
            desc = stream(x)
            mask = batch.get(f"{m}_mask")
            if mask is not None:
                # A missing modality contributes nothing to the concatenation.
                desc = desc * mask.to(desc.dtype).reshape(-1, 1)
            hidden[m] = desc
            per_modality[m] = self.probes[m](desc.detach())
        fused, _gates = self.fusion(torch.cat([hidden[m] for m in MODALITIES], dim=1))  # eq. 1
        return SystemOutput(logits=self.classifier(fused), per_modality=per_modality, hidden=hidden)

    def modality_part(self, name: str) -> ModalityPart:
        """Stream ``name`` with its probe, and its columns of the SE fusion's W1 (eq. 2)."""
        start = 0
        for m in MODALITIES:
            width = self.streams[m].vlad.out_features
            if m == name:
                part = (self.streams[m], self.probes[m])
                return ModalityPart(part, self.fusion.w1, slice(start, start + width))
            start += width
        raise KeyError(name)

    def loss_fn(self, output: SystemOutput, target: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the fused logits plus the probes' (which cannot reach the network)."""
        loss = super().loss_fn(output, target)
        for logits in output.per_modality.values():
            loss = loss + F.cross_entropy(logits, target, label_smoothing=self.label_smoothing)
        return loss


def build(**config: Any) -> SkeletonFusionSystem:
    """Registry factory: ``SkeletonFusionSystem(**config)``."""
    return SkeletonFusionSystem(**config)
