"""Per-clip model time of exported ONNX files (onnxruntime) against the PyTorch systems, on the CPU, in
one run: each shipped system is exported, imported and run over the same perception of the same clip
through the same inference path (``analyse_signals``), so only the network differs. Perception is
extracted once and excluded (it is the same for both). Reported as the median of ``--repeat`` runs and
the ratio ONNX / PyTorch (timings on a loaded machine are inflated alike; the ratio is what to read).
The imported file runs one window at a time (exported at a batch of 1); PyTorch batches 8 windows.

    python bench/bench_onnx.py [--clip PATH] [--repeat 5] [--threads 1] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _median_time(fn, repeat: int) -> float:  # noqa: ANN001
    fn()  # warm-up: first-run allocations and lazy loading are not per-clip costs
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    data = Path(os.environ.get("AFFECTSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--clip", type=Path, default=data / "clips" / "vgaf_val_1_1_negative.mp4")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="affectscope-bench-onnx-"))
    os.environ.setdefault("AFFECTSCOPE_CACHE_DIR", str(scratch / "cache"))
    os.environ["AFFECTSCOPE_MODELS_DIR"] = str(scratch / "models")

    import onnxruntime as ort
    import torch

    torch.set_num_threads(args.threads)
    from affectscope import strict_json
    from affectscope.media import probe
    from affectscope.models.exchange.export import export_system
    from affectscope.models.exchange.importing import import_model
    from affectscope.models.extractors.pipeline import extract_clip
    from affectscope.models.inference import analyse_signals, load_model, perception_modalities
    from affectscope.models.registry import all_specs

    systems = [s for s in all_specs() if s.seed not in ("perception", "imported") and s.weights]
    duration = probe(args.clip).duration
    signals = extract_clip(args.clip, perception_modalities(tuple(m for s in systems for m in s.modalities)))
    print(
        f"clip {args.clip.name}: {duration:.2f} s; torch threads {args.threads}; "
        f"onnxruntime {ort.__version__} CPU"
    )
    print(f"{'system':<24}{'windows':>8}{'PyTorch s':>11}{'ONNX s':>9}{'ONNX/PyTorch':>14}{'max |diff|':>12}")
    rows = []
    for s in systems:
        exported = export_system(s.name, "onnx", scratch / f"{s.name}.onnx")
        import_model(exported["output"], exported["spec"], f"{s.name}-onnx")
        spec, model = load_model(s.name)
        ispec, imodel = load_model(f"{s.name}-onnx")
        t_torch = _median_time(lambda: analyse_signals(spec, model, signals), args.repeat)  # noqa: B023
        t_onnx = _median_time(lambda: analyse_signals(ispec, imodel, signals), args.repeat)  # noqa: B023
        a, b = analyse_signals(spec, model, signals), analyse_signals(ispec, imodel, signals)
        diff = float(abs(a.fused - b.fused).max())
        rows.append({"system": s.name, "windows": len(a.times), "pytorch_s": t_torch, "onnx_s": t_onnx,
                     "ratio": t_onnx / t_torch, "max_abs_diff_fused": diff})  # fmt: skip
        print(
            f"{s.name:<24}{len(a.times):>8}{t_torch:>11.4f}{t_onnx:>9.4f}"
            f"{t_onnx / t_torch:>14.2f}{diff:>12.1e}"
        )
    if args.json:
        doc = {"clip": str(args.clip), "duration": duration, "threads": args.threads, "rows": rows}
        args.json.write_text(strict_json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
