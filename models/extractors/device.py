"""Which torch device perception runs on: CUDA when there is one, else CPU.

``AFFECTSCOPE_DEVICE`` overrides (e.g. "cpu" on a machine whose GPU is busy).
"""

from __future__ import annotations

import os


def pick_device() -> str:
    forced = os.environ.get("AFFECTSCOPE_DEVICE")
    if forced:
        return forced
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
