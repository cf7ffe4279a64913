"""Explanation of an imported model file per clip, on CPU, as ratios against predicting the same clip.

The model is docs/byo.md's ``Tiny`` (4 grey 64x64 face crops + a 40-band log-mel -> 3 classes), written
three ways: ONNX as the how-to exports it (batch axis fixed at 1: one onnxruntime run per occluded
copy), ONNX with a free batch axis (``dynamic_axes``: 32 copies a run), and TorchScript. Timed on a 5 s
clip's signals (a real FER-2013 face and EmoDB speech, tests/explain_factory.py: no extraction timed):

- predict: one analysis of the clip (``analyse_signals``): the baseline;
- bars: the modality Shapley / leave-one-out table (every modality subset over every window);
- maps at the playhead: one window's maps (face crops 64x64 and log-mel), as the Explain tab asks;
- occlusion per clip: the maps of every window (what playing through the clip asks for);
- sound lane: the clip-wide log-mel saliency lane (every window's log-mel map, stitched).

Usage: python bench/bench_explain_imported.py [--threads N] [--out bench/results/explain_imported.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AFFECTSCOPE_SHARED_DATA", REPO.parent / "shared" / "data"))


class Tiny(nn.Module):
    """docs/byo.md's model."""

    def __init__(self) -> None:
        super().__init__()
        self.face = nn.Sequential(nn.Flatten(), nn.Linear(4 * 64 * 64, 8), nn.Tanh())
        self.voice = nn.Sequential(nn.Flatten(), nn.Linear(40 * 101, 8), nn.Tanh())
        self.out = nn.Linear(16, 3)

    def forward(self, face: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([self.face(face), self.voice(mel)], dim=1))


SPEC = {
    "spec_version": 1,
    "labels": ["negative", "neutral", "positive"],
    "label_set": "sentiment3",
    "window_seconds": 1.0,
    "hop_seconds": 0.5,
    "inputs": [
        {"name": "face", "shape": [1, 4, 64, 64], "source": "face_crop64", "normalise": {"scale": 1 / 255}},
        {"name": "mel", "shape": [1, 40, 101], "source": "log_mel"},
    ],
    "outputs": [{"name": "logits"}],
}


def _write(folder: Path, variant: str) -> tuple[Path, Path]:
    torch.manual_seed(0)
    model = Tiny().eval()
    args = (torch.rand(1, 4, 64, 64), torch.randn(1, 40, 101))
    fmt = "torchscript" if variant == "torchscript" else "onnx"
    path = folder / f"{variant}.{'pt' if fmt == 'torchscript' else 'onnx'}"
    from tests.byo_models import write_model  # REPO is on sys.path by then (main)

    write_model(model, path, fmt, args, ["face", "mel"], "logits", batch_axis=variant == "onnx-batch")
    spec = folder / f"{variant}.spec.json"
    spec.write_text(json.dumps({**SPEC, "format": fmt}))
    return path, spec


def _once(fn) -> float:  # noqa: ANN001 - a callable
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _best(fn, repeat: int = 3) -> float:  # noqa: ANN001
    fn()
    return min(_once(fn) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "explain_imported.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(REPO))
    folder = Path(tempfile.mkdtemp())
    os.environ["AFFECTSCOPE_MODELS_DIR"] = str(folder / "models")
    from affectscope.models.exchange.importing import import_model
    from affectscope.models.explain.clip import ClipExplainer
    from affectscope.models.explain.lanes import sound_saliency
    from affectscope.models.inference import analyse_signals
    from tests.explain_factory import face_signals

    signals = face_signals(DATA, duration=5.0, fps=10.0)
    rows = []
    for variant, method in (
        ("onnx", "occlusion"),
        ("onnx-batch", "occlusion"),
        ("torchscript", "occlusion"),
        ("torchscript", "ig"),
    ):
        path, spec = _write(folder, variant)
        import_model(path, spec, variant)
        ex = ClipExplainer(variant, signals)
        predict = _best(lambda ex=ex: analyse_signals(ex.spec, ex.model, signals))

        def bars(ex: ClipExplainer = ex) -> None:
            ex._table = None
            ex.table()

        def every_window(ex: ClipExplainer = ex, method: str = method) -> None:
            for t in ex.times:
                ex.explain(float(t), method=method)

        row = {
            "model": variant,
            "method": method,
            "windows": len(ex.times),
            "predict_s": predict,
            "bars_s": _best(bars),
            "maps_at_playhead_s": _best(lambda ex=ex, method=method: ex.explain(2.5, method=method), 1),
            "occlusion_per_clip_s" if method == "occlusion" else "maps_per_clip_s": _once(every_window),
            "sound_lane_s": _once(lambda ex=ex, method=method: sound_saliency(ex, method=method)),
        }
        rows.append(row)
        per_clip = row.get("occlusion_per_clip_s", row.get("maps_per_clip_s"))
        print(
            f"{variant:<12} {method:<10} {row['windows']} windows: predict {predict * 1e3:.0f} ms; "
            f"bars {row['bars_s']:.2f} s; maps at playhead {row['maps_at_playhead_s']:.2f} s; "
            f"every window {per_clip:.2f} s = {per_clip / predict:.0f} x predict; "
            f"sound lane {row['sound_lane_s']:.2f} s"
        )
    doc = {"clip_seconds": signals.duration, "threads": args.threads, "rows": rows}
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
