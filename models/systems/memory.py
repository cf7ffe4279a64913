"""Training the paper-sized encoders in a lab GPU's memory (issue 19, item 8).

Measured on an H200, one training step at batch 32 took ~100 GB for ``fusical-paper`` (ResNet-50
over 12 frames of 320×480 per clip) and ~45 GB for ``crossmodal-attention-paper`` (ResNet101d over
8 frames of 224×224 and HuBERT Base over 5 s of 16 kHz audio). Nearly all of it is the encoders'
activations kept for the backward pass. Two switches, set in a system's config, remove them:

- ``frozen``: the encoder runs in eval mode without gradients (its parameters never train; the
  Fusical paper extracts its ResNet-50 features with a frozen ImageNet network, so for seed 000 this
  is the published method);
- ``checkpointed``: each block's activations are recomputed in the backward pass instead of kept
  (``torch.utils.checkpoint``), so the encoder still fine-tunes, for about one more forward pass.

Mixed precision (bf16 autocast) is the trainer's choice and halves what is left.
``bench/bench_paper_memory.py`` reports the peak memory of each combination.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def checkpoint_blocks(blocks: Iterable[nn.Module]) -> None:
    """Recompute each block's activations in the backward pass while training with gradients.

    The block's ``forward`` is wrapped on the instance, so parameter names (and saved weights) stay
    as they are; evaluation and inference run the plain forward.
    """
    for block in blocks:
        if getattr(block, "_checkpointed", False):
            continue
        plain = block.forward

        def forward(*args: Any, _plain: Any = plain, _block: nn.Module = block, **kwargs: Any) -> Any:
            if _block.training and torch.is_grad_enabled():
                return checkpoint(_plain, *args, use_reentrant=False, **kwargs)
            return _plain(*args, **kwargs)

        block.forward = forward  # type: ignore[method-assign]
        block._checkpointed = True  # type: ignore[attr-defined]


def freeze(module: nn.Module) -> None:
    """No parameter of ``module`` trains; pair with ``run_frozen`` in the forward pass."""
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()


def run_frozen(module: nn.Module, *args: Any) -> Any:
    """Call a frozen module in eval mode without building a graph (its batch-norm statistics and
    dropout stay as at inference, whatever mode the owning system is in)."""
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            return module(*args)
    finally:
        module.train(was)
