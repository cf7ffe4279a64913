"""Small models of one's own, written by the tests that bring them in (issue 20): a log-mel classifier
and a valence/arousal regressor, saved as ONNX or TorchScript, with the spec that describes each."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

MEL = [1, 40, 101]  # one second of 10 ms log-mel frames, 40 bands


class MelSentiment(nn.Module):
    """log-mel (40, 101) -> 3 sentiment logits in the order negative, neutral, positive."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(40 * 101, 8), nn.Tanh(), nn.Linear(8, 3))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.net(mel)


class MelValenceArousal(nn.Module):
    """log-mel (40, 101) -> (valence, arousal), valence squashed into -1..1 and arousal into 0..10,
    so each output has its own range."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(40 * 101, 8), nn.Tanh(), nn.Linear(8, 2))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        y = self.net(mel)
        return torch.stack([torch.tanh(y[:, 0]), 5.0 + 5.0 * torch.tanh(y[:, 1])], dim=1)


def write_model(
    model: nn.Module,
    path: Path,
    fmt: str,
    example: tuple[torch.Tensor, ...],
    inputs: list[str],
    output: str = "out",
    batch_axis: bool = False,
) -> Path:
    """``model`` traced on ``example`` and written as ONNX (inputs named ``inputs``; a free batch axis
    with ``batch_axis``) or TorchScript: the file a researcher would bring. Export warnings are muted."""
    model = model.eval()
    axes = {n: {0: "batch"} for n in (*inputs, output)} if batch_axis else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "onnx":
            torch.onnx.export(
                model,
                example,
                str(path),
                input_names=list(inputs),
                output_names=[output],
                dynamic_axes=axes,
                dynamo=False,
            )
        else:
            torch.jit.trace(model, example).save(str(path))
    return path


def save_model(model: nn.Module, path: Path, fmt: str, output: str = "out") -> Path:
    """``model`` (seeded by the caller) traced at a batch of 1 on a log-mel and written as ``fmt``."""
    model = model.eval()
    return write_model(model, path, fmt, (torch.randn(*MEL),), ["mel"], output)


def mel_input() -> dict:
    return {"name": "mel", "shape": MEL, "source": "log_mel"}


def sentiment_spec(fmt: str) -> dict:
    return {
        "spec_version": 1,
        "format": fmt,
        "labels": ["negative", "neutral", "positive"],
        "label_set": "sentiment3",
        "window_seconds": 1.0,
        "hop_seconds": 0.5,
        "inputs": [mel_input()],
        "outputs": [{"name": "out", "lane": "fused"}],
    }


def valence_arousal_spec(fmt: str) -> dict:
    return {
        "spec_version": 1,
        "format": fmt,
        "continuous": [{"name": "valence", "range": [-1, 1]}, {"name": "arousal", "range": [0, 10]}],
        "window_seconds": 1.0,
        "hop_seconds": 0.5,
        "inputs": [mel_input()],
        "outputs": [{"name": "out", "lane": "fused"}],
    }
