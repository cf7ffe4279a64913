"""Fusical (seed 000, Jin et al., ICMI 2020): six unimodal branches fused by FC early fusion.

Branches (``fusical_branches``): scene (CNN maps of 12 frames → three ConvLSTM heads), pose
(BiLSTM on 12×27), audio (CNN 64/512/512 + two BiLSTMs), laughter (the pretrained detector's
score, used as is), face (22 features per frame → BiLSTM 32 → dense 8 → C) and caption (384-d
text embedding → 16 → C).
Each is first trained on its own (``training_loss(..., stage="branches")``), then frozen
(``freeze_branches()``) while the fusion learns (``stage="fusion"``). Fusion methods (config
``fusion``): ``fc`` — concatenated hidden layers → FC + ReLU → FC (the paper's best); ``soft``,
``hard``, ``weighted`` voting of the branches' softmax (laughter excluded, as in the paper);
``vae`` — the same concatenation → VAE with a 20-d latent → FC classifier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from affectscope.models.fusion.early import FCEarlyFusion
from affectscope.models.fusion.vae import VAEFusion
from affectscope.models.fusion.voting import FUSICAL_VOTE_WEIGHTS, hard_vote, soft_vote
from affectscope.models.signals import ClipSignals
from affectscope.models.systems import fusical_inputs as inputs
from affectscope.models.systems import memory
from affectscope.models.systems.base import Batch, EmotionSystem, ModalityPart, SystemOutput, TrainingStage
from affectscope.models.systems.fusical_branches import (
    AudioBranch,
    CaptionBranch,
    FaceBranch,
    LaughterBranch,
    PoseBranch,
    SceneBranch,
)

MODALITIES = ("scene", "pose", "audio", "laughter", "face", "caption")
FUSIONS = ("fc", "soft", "hard", "weighted", "vae")
SCENE_INPUTS = ("signals", "features", "frames")  # stand-in maps, precomputed ResNet maps, raw frames
VOTERS = ("scene", "pose", "audio", "face", "caption")  # laughter cannot vote on sentiment
#: §4.3: Adam learning rate and L2 factor of each trained branch (laughter: pretrained, never trained)
BRANCH_LR = {"scene": 1e-2, "pose": 1e-2, "audio": 4e-5, "face": 5e-3, "caption": 6.5e-5}
BRANCH_L2 = {"scene": 1e-3, "pose": 1e-2}


class FusicalSystem(EmotionSystem):
    """Seed 000: scene, pose, audio, laughter, face and caption branches + FC early fusion."""

    modalities = MODALITIES
    reads_expressions = True

    def __init__(
        self,
        num_classes: int = 3,
        fusion: str = "fc",
        scene_input: str = "signals",
        frames: int = 12,
        grid: tuple[int, int] = (10, 15),
        pose_units: int = 64,
        audio_dim: int = 128,
        audio_steps: int = 11,
        audio_units: int = 128,
        laughter_dim: int = 1,
        laughter_steps: int = 10,
        caption_dim: int = 384,
        fusion_hidden: int = 64,
        vae_latent: int = 20,
        vote_weights: dict[str, float] | None = None,
        window_seconds: float = 5.0,
        hop_seconds: float = 1.0,
        off_modalities: tuple[str, ...] | list[str] = (),
        audio_level_db: float | None = None,
        frozen_backbone: bool = False,
        checkpointed_backbone: bool = False,
    ) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {fusion!r}")
        if scene_input not in SCENE_INPUTS:
            raise ValueError(f"scene_input must be one of {SCENE_INPUTS}, not {scene_input!r}")
        unknown = set(off_modalities) - set(MODALITIES)
        if unknown:
            raise ValueError(f"off_modalities must be among {MODALITIES}, not {sorted(unknown)}")
        self.shared_settings(num_classes, window_seconds, hop_seconds, off_modalities, audio_level_db)
        self.fusion_method, self.scene_input = fusion, scene_input
        self.frames, self.grid = frames, tuple(grid)
        self.audio_dim, self.audio_steps = audio_dim, audio_steps
        self.laughter_dim, self.laughter_steps, self.caption_dim = laughter_dim, laughter_steps, caption_dim
        self.vote_weights = dict(vote_weights or FUSICAL_VOTE_WEIGHTS)
        scene_channels = inputs.SCENE_CHANNELS if scene_input == "signals" else 2048
        self.branches = nn.ModuleDict(
            {
                "scene": SceneBranch(
                    scene_channels,
                    num_classes,
                    self.grid,
                    with_backbone=scene_input == "frames",
                    frozen_backbone=frozen_backbone,
                    checkpointed_backbone=checkpointed_backbone,
                ),
                "pose": PoseBranch(num_classes, units=pose_units),
                "audio": AudioBranch(num_classes, in_dim=audio_dim, units=audio_units),
                "laughter": LaughterBranch(num_classes, in_dim=laughter_dim),
                "face": FaceBranch(num_classes),
                "caption": CaptionBranch(num_classes, in_dim=caption_dim),
            }
        )
        dims = {m: b.hidden_dim for m, b in self.branches.items()}
        self.fusion = FCEarlyFusion(dims, num_classes, hidden=fusion_hidden)
        self.vae = VAEFusion(sum(dims.values()), num_classes, latent=vae_latent) if fusion == "vae" else None
        self.branches_frozen = False

    # -- inputs -------------------------------------------------------------------------------
    def _shapes(self) -> dict[str, tuple[int, ...]]:
        scene = (
            (self.frames, 3, 320, 480)
            if self.scene_input == "frames"
            else (self.frames, self.branches["scene"].heads[0].input_conv.in_channels, *self.grid)
        )
        return {
            "scene": scene,
            "pose": (self.frames, 27),
            "audio": (self.audio_steps, self.audio_dim),
            "laughter": (self.laughter_steps, self.laughter_dim),
            "face": (self.frames, 22),
            "caption": (self.caption_dim,),
        }

    def batch_from_signals(self, signals: ClipSignals, t0: float, t1: float) -> Batch:
        """Tensors for [t0, t1); absent modalities (or inputs perception cannot give) are masked.

        Only the ``signals`` scene input can be built from perception; with ``features``/``frames``
        the caller adds ``scene`` (ResNet maps or 320×480 frames) and sets ``scene_mask``.
        """
        found: dict[str, np.ndarray | None] = {
            "scene": inputs.scene_map(signals, t0, t1, self.frames, self.grid)
            if self.scene_input == "signals"
            else None,
            "pose": inputs.pose27(signals, t0, t1, self.frames),
            "audio": inputs.audio_frames(
                signals, t0, t1, self.audio_steps, self.audio_dim // 2, self.audio_level_db
            )
            if self.audio_dim % 2 == 0
            else None,
            "laughter": inputs.laughter_steps(signals, t0, t1, self.laughter_steps)
            if self.laughter_dim == 1
            else None,
            "face": inputs.face22(signals, t0, t1, self.frames),
            "caption": inputs.caption_embedding(signals, t0, t1, self.caption_dim),
        }
        batch: Batch = {}
        for name, shape in self._shapes().items():
            value = found[name]
            ok = value is not None and tuple(value.shape) == shape
            batch[name] = torch.from_numpy(value).float()[None] if ok else torch.zeros(1, *shape)
            batch[f"{name}_mask"] = torch.tensor([1.0 if ok else 0.0])
        return batch

    # -- forward ------------------------------------------------------------------------------
    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        batch = self.without_off(batch)
        b = batch["pose"].shape[0]
        masks = {m: batch.get(f"{m}_mask", torch.ones(b)).float().reshape(b) for m in MODALITIES}
        per_modality: dict[str, Tensor] = {}
        hidden: dict[str, Tensor] = {}
        for name, branch in self.branches.items():
            if name in self.off_modalities:  # untrained and off: uniform scores, nothing for the fusion
                x = batch[name]
                per_modality[name] = x.new_zeros(b, self.num_classes)
                hidden[name] = x.new_zeros(b, branch.hidden_dim)
                continue
            logits, h = branch(batch[name])
            per_modality[name] = logits
            # What the fusion sees: absent modalities zeroed; frozen branches pass no gradient back.
            h = h * masks[name].reshape(b, 1)
            hidden[name] = h.detach() if self.branches_frozen else h
        return SystemOutput(self._fuse(per_modality, hidden, masks), per_modality, hidden)

    def _fuse(
        self, per_modality: dict[str, Tensor], hidden: dict[str, Tensor], masks: dict[str, Tensor]
    ) -> Tensor:
        method = self.fusion_method
        if method == "fc":
            return self.fusion(hidden)
        if method == "vae":
            assert self.vae is not None
            return self.vae(self.fusion.concat(hidden)).logits
        probs = {m: per_modality[m].softmax(-1) for m in VOTERS}
        if method == "hard":
            fused = hard_vote(probs, masks, names=VOTERS)
        else:
            fused = soft_vote(
                probs, masks, weights=self.vote_weights if method == "weighted" else None, names=None
            )
        return fused.clamp_min(1e-8).log()

    # -- training -----------------------------------------------------------------------------
    #: the paper's two stages, followed by the shared trainer
    training_stages = (TrainingStage("branches"), TrainingStage("fusion", freeze_branches=True))

    def freeze_branches(self, frozen: bool = True) -> None:
        """Freeze the trained branches so only the fusion learns (the paper's second stage)."""
        self.branches_frozen = frozen
        for branch in self.branches.values():
            for p in branch.parameters():
                # the laughter detector is pretrained and used as is (§4.3.4): never unfrozen
                p.requires_grad_(not frozen and not getattr(branch, "pretrained", False))
        scene = self.branches["scene"]
        if scene.frozen_backbone and scene.backbone is not None:  # a frozen trunk never trains
            memory.freeze(scene.backbone)

    def param_groups(self, lr: float) -> list[dict]:
        """§4.3's per-branch optimiser settings as Adam parameter groups (``lr`` for the fusion).

        Learning rates: scene 1e-2, pose 1e-2, audio 4e-5, face 5e-3, caption 6.5e-5; L2 1e-3 on
        the scene FC and 1e-2 on every pose layer. Keras adds λ‖w‖² to the loss, whose gradient
        2λw is what Adam's ``weight_decay`` adds, so the groups carry weight_decay = 2λ. Frozen
        parameters (the laughter detector; every branch in the fusion stage) are left out.
        """
        groups: list[dict] = []

        def add(params: list[nn.Parameter], rate: float, l2: float = 0.0, name: str = "") -> None:
            params = [p for p in params if p.requires_grad]
            if params:
                groups.append({"params": params, "lr": rate, "weight_decay": 2 * l2, "name": name})

        scene = self.branches["scene"]
        scene_fc = list(scene.fc.parameters())
        fc_ids = {id(p) for p in scene_fc}
        add([p for p in scene.parameters() if id(p) not in fc_ids], BRANCH_LR["scene"], 0.0, "scene")
        add(scene_fc, BRANCH_LR["scene"], BRANCH_L2["scene"], "scene.fc")
        for name in ("pose", "audio", "face", "caption"):
            add(list(self.branches[name].parameters()), BRANCH_LR[name], BRANCH_L2.get(name, 0.0), name)
        add(self.fusion_parameters(), lr, 0.0, "fusion")
        return groups

    def modality_part(self, name: str) -> ModalityPart:
        """Branch ``name`` and its columns of the FC fusion's first layer (the FC fusion only: votes
        and the VAE read the branches otherwise)."""
        if self.fusion_method != "fc":
            raise NotImplementedError(f"only the FC fusion reads branches by column: {self.fusion_method!r}")
        start = 0
        for m in self.fusion.names:
            width = self.fusion.in_dims[m]
            if m == name:
                return ModalityPart((self.branches[m],), self.fusion.net[0], slice(start, start + width))
            start += width
        raise KeyError(name)

    def decision_bias(self) -> nn.Parameter:
        """The FC fusion's last bias: every fused decision (speech, face, both) reads it."""
        if self.fusion_method != "fc":
            raise NotImplementedError(f"only the FC fusion has one fused bias: {self.fusion_method!r}")
        return self.fusion.net[-1].bias

    def fusion_parameters(self) -> list[nn.Parameter]:
        params = list(self.fusion.parameters())
        return params + (list(self.vae.parameters()) if self.vae is not None else [])

    def training_loss(
        self, output: SystemOutput, labels: Tensor, batch: Batch, stage: str = "fusion"
    ) -> Tensor:
        """``branches``: each present modality's own cross-entropy, summed (branches share nothing,
        so this trains them independently); ``fusion``: the fused cross-entropy (+ the VAE's ELBO)."""
        ce = nn.functional.cross_entropy
        if stage == "branches":
            total = output.logits.new_zeros(())
            for m, logits in output.per_modality.items():
                if m == "laughter" or m in self.off_modalities:
                    continue  # the pretrained laughter detector and untrained-off branches learn nothing
                mask = batch.get(f"{m}_mask", torch.ones(len(labels))).float().reshape(-1)
                if mask.sum() > 0:
                    total = total + (ce(logits, labels, reduction="none") * mask).sum() / mask.sum()
            return total
        if stage != "fusion":
            raise ValueError(f"stage must be 'branches' or 'fusion', not {stage!r}")
        if self.fusion_method == "vae":
            assert self.vae is not None
            x = self.fusion.concat(output.hidden)
            return self.vae.loss(x, self.vae(x), labels)
        return ce(output.logits, labels)

    def load_scene_backbone(self, path: str | None) -> None:
        """ImageNet ResNet-50 weights (safetensors) for ``scene_input='frames'``."""
        self.branches["scene"].load_backbone(path)


def build(**config: Any) -> FusicalSystem:
    return FusicalSystem(**config)
