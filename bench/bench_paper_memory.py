"""Peak GPU memory of one training step of the paper-sized systems (issue 19, item 8).

For ``crossmodal-attention-paper`` (ResNet101d on 8 frames of 224×224 + HuBERT Base on 5 s of
16 kHz audio) and ``fusical-paper`` (ResNet-50 on 12 frames of 320×480), one training step —
forward, label-smoothed loss, backward, Adam step — on random inputs of the real shapes, at each
batch size and for each way of holding the encoders (``models/systems/memory.py``):

- ``full``: encoders fine-tuned, every activation kept (the measurement that motivated the item);
- ``checkpointed``: encoders fine-tuned, their blocks recomputed in the backward pass;
- ``frozen``: encoders without gradients (Fusical's published method; for seed 003 a choice);

each in float32 and in bf16 autocast. Reports ``torch.cuda.max_memory_allocated`` (what the
program's tensors used at the peak; the driver holds a little more) and the step time, median of
three steps after one warm-up. Needs CUDA; prints JSON lines and writes them to ``--out``.
Usage: python bench/bench_paper_memory.py [--batches 16,32] [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

MODES = {
    "full": {},
    "checkpointed": {
        "crossmodal": {"checkpointed_encoders": True},
        "fusical": {"checkpointed_backbone": True},
    },
    "frozen": {"crossmodal": {"frozen_encoders": True}, "fusical": {"frozen_backbone": True}},
}


def batch_for(name: str, model: torch.nn.Module, b: int, device: str) -> dict[str, torch.Tensor]:
    """Random inputs of the shapes the system reads, every modality present."""
    if name.startswith("crossmodal"):
        s = model.frame_size
        return {
            "visual": torch.randn(b, model.num_frames, 3, s, s, device=device),
            "visual_mask": torch.ones(b, device=device),
            "audio": torch.randn(b, int(model.window_seconds * 16000), device=device) * 0.1,
            "audio_mask": torch.ones(b, device=device),
        }
    out = {}
    for m, shape in model._shapes().items():
        out[m] = torch.randn(b, *shape, device=device)
        out[f"{m}_mask"] = torch.ones(b, device=device)
    return out


def measure(name: str, mode: str, bf16: bool, b: int, device: str = "cuda") -> dict:
    from affectscope.models.registry import get

    family = "crossmodal" if name.startswith("crossmodal") else "fusical"
    overrides = MODES[mode].get(family, {})
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    model = get(name).build(**overrides).to(device).train()
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    x = batch_for(name, model, b, device)
    y = torch.randint(0, 3, (b,), device=device)
    times = []
    try:
        for i in range(4):
            torch.cuda.synchronize()
            t = time.perf_counter()
            with torch.autocast("cuda", torch.bfloat16, enabled=bf16):
                out = model(x)
                loss = torch.nn.functional.cross_entropy(out.logits.float(), y, label_smoothing=0.2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            torch.cuda.synchronize()
            if i:
                times.append(time.perf_counter() - t)
        row = {
            "model": name,
            "encoders": mode,
            "precision": "bf16" if bf16 else "fp32",
            "batch": b,
            "peak_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2),
            "step_s": round(statistics.median(times), 3),
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        }
    except torch.OutOfMemoryError:
        row = {
            "model": name,
            "encoders": mode,
            "precision": "bf16" if bf16 else "fp32",
            "batch": b,
            "oom": True,
        }
    del model, opt, x
    torch.cuda.empty_cache()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="16,32")
    ap.add_argument("--models", default="crossmodal-attention-paper,fusical-paper")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("bench_paper_memory measures GPU memory: it needs CUDA")
    rows = []
    if a.out:
        a.out.write_text("")
    for name in a.models.split(","):
        for b in (int(x) for x in a.batches.split(",")):
            for mode in MODES:
                for bf16 in (False, True):
                    rows.append(measure(name, mode, bf16, b))
                    print(json.dumps(rows[-1]), flush=True)
                    if a.out:  # row by row: a run cut short keeps what it measured
                        with a.out.open("a") as fh:
                            fh.write(json.dumps(rows[-1]) + "\n")


if __name__ == "__main__":
    main()
