"""Model speed on CPU: seed 004's real-time factor and every system's inference time per 5 s clip.

Real-time factor (RTF) = processing time / clip duration (below 1 = faster than real time), for
perception (faces, landmarks, crops, audio) and for seed 004's inference on those signals. Every
registered system then runs on the same signals (untrained weights: speed does not depend on them);
ratios are against seed 004 measured in this run. Clip: ../shared/data/clips/vgaf_val_1_1_negative.mp4
(5 s, 600×360, real speech and faces). Usage: python bench/bench_models.py [--threads N] [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
CLIP = (
    Path(os.environ.get("AFFECTSCOPE_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "clips"
    / ("vgaf_val_1_1_negative.mp4")
)


def _time(fn, repeat: int = 2) -> float:
    fn()  # warm-up (first-call allocations, lazy imports)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", help="time only this system besides seed 004")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("AFFECTSCOPE_CACHE_DIR", tempfile.mkdtemp(prefix="affectscope-bench-"))

    from affectscope.media import probe
    from affectscope.models.extractors.pipeline import extract_clip
    from affectscope.models.inference import analyse_signals, load_model, perception_modalities
    from affectscope.models.registry import all_specs, get
    from affectscope.models.systems.base import EmotionSystem

    duration = probe(CLIP).duration
    print(f"clip {CLIP.name}: {duration:.2f} s; torch threads {args.threads}; device cpu")
    lw = get("lightweight-streaming")
    t = time.perf_counter()
    sig004 = extract_clip(CLIP, perception_modalities(lw.modalities), use_cache=False)
    t_extract = time.perf_counter() - t
    spec, model = load_model(lw.name, allow_untrained=True)
    t_infer = _time(lambda: analyse_signals(spec, model, sig004))
    n_windows = len(analyse_signals(spec, model, sig004).times)
    print(
        f"seed 004 perception (faces+landmarks+crops, audio, vad): {t_extract:.2f} s  "
        f"RTF {t_extract / duration:.3f}"
    )
    print(
        f"seed 004 inference ({n_windows} windows of 1 s, hop 0.25 s): {t_infer:.3f} s  "
        f"RTF {t_infer / duration:.3f}"
    )
    print(f"seed 004 end to end: RTF {(t_extract + t_infer) / duration:.3f}")

    t = time.perf_counter()
    sig_all = extract_clip(CLIP, use_cache=True)
    print(f"full perception (all modalities, for the other systems): {time.perf_counter() - t:.2f} s")
    print(f"{'system':<28}{'seed':<6}{'params':>13}{'windows':>9}{'s / 5 s clip':>14}{'x seed 004':>12}")
    for s in all_specs():
        if args.only and s.name not in (args.only, lw.name):
            continue
        try:
            s_, m = load_model(s.name, allow_untrained=True)
        except Exception as exc:  # noqa: BLE001 - a system that fails to build is reported, not fatal
            print(f"{s.name:<28}{s.seed:<6} failed to build: {exc}")
            continue
        if not isinstance(m, EmotionSystem):
            continue
        sig = sig004 if s.name == lw.name else sig_all
        try:
            secs = _time(lambda s_=s_, m=m, sig=sig: analyse_signals(s_, m, sig), repeat=1)
            n = len(analyse_signals(s_, m, sig).times)
        except Exception as exc:  # noqa: BLE001
            print(f"{s.name:<28}{s.seed:<6} failed: {type(exc).__name__}: {exc}")
            continue
        params = sum(p.numel() for p in m.parameters())
        print(
            f"{s.name:<28}{s.seed:<6}{params:>13,}{n:>9}{secs * 5 / duration:>14.3f}{secs / t_infer:>12.2f}"
        )
        del m


if __name__ == "__main__":
    main()
