"""Explanation speed on CPU, as ratios against a baseline measured in the same run.

1. Saliency per frame on the trained mini-Xception (real FER-2013 faces): Grad-CAM, Integrated
   Gradients (50 steps) and Occlusion, each against one forward pass of the same network.
2. Modality Shapley bars for a 5 s clip (seed 004: all 8 modality subsets over every window) against
   one analysis of the same clip (``analyse_signals``), both on the same cached signals.
3. Live ablation: one checkbox toggle (a subset-table lookup) against re-running the fusion on the
   cached window inputs (``ClipExplainer.refuse``).
Signals: a real FER-2013 face with EmoDB speech (tests/explain_factory.py), so no extraction is timed.
Usage: python bench/bench_explain.py [--threads N] [--faces N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AFFECTSCOPE_SHARED_DATA", REPO.parent / "shared" / "data"))


def _time(fn, repeat: int = 3) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--faces", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(REPO))
    from affectscope.models.explain.clip import ClipExplainer
    from affectscope.models.explain.saliency import image_map, last_conv
    from affectscope.models.extractors import mini_xception as mx
    from affectscope.models.inference import analyse_signals
    from tests.explain_factory import face_signals, fer_faces

    model = mx.build().eval()
    x = mx.preprocess(fer_faces(DATA, 1)[: args.faces])
    layer = last_conv(model)

    def forward() -> None:
        with torch.no_grad():
            for i in range(len(x)):
                model(x[i : i + 1])

    base = _time(forward) / len(x)
    print(f"mini-Xception forward: {base * 1e3:.2f} ms/face")
    for method in ("gradcam", "ig", "occlusion"):
        c = int(model(x[:1]).argmax())

        def run(m: str = method, c: int = c) -> None:
            for i in range(len(x)):
                image_map(model, x[i : i + 1], c, m, layer)

        per = _time(run, 1) / len(x)
        print(f"  {method:<10} {per * 1e3:9.1f} ms/face  = {per / base:8.1f} x one forward pass")

    signals = face_signals(DATA, duration=5.0, fps=10.0)
    ex = ClipExplainer("lightweight-streaming", signals)
    analysis = _time(lambda: analyse_signals(ex.spec, ex.model, signals), 1)

    def shapley() -> None:
        ex._table = None
        ex.explain(None, maps=False)

    bars = _time(shapley, 1)
    print(
        f"seed 004, 5 s clip ({len(ex.times)} windows): analysis {analysis:.2f} s; "
        f"Shapley bars (8 subsets) {bars:.2f} s = {bars / analysis:.1f} x one analysis"
    )
    present = ["mouth", "audio"]
    refuse = _time(lambda: ex.refuse(present))
    lookup = _time(lambda: ex.fused(present), 200)
    assert np.allclose(ex.fused(present), ex.refuse(present), atol=1e-6)
    print(
        f"ablation toggle: lookup {lookup * 1e6:.1f} µs vs re-running fusion {refuse * 1e3:.1f} ms "
        f"= {refuse / max(lookup, 1e-9):,.0f} x faster"
    )


if __name__ == "__main__":
    main()
