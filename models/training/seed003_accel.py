"""Train seed 003 (``crossmodal-attention``) from ``seed003_cache`` on a GPU, or slowly on a CPU.

Why a loop of its own rather than ``recipes_systems.train_stages``: on an accelerator the inputs
live on the device, the speech is augmented there per batch (a random-from-scratch speech encoder
trained on ~400 EmoDB files memorises speakers without it), synthetic audio-visual pairs are drawn
afresh every step (a speech window under a face of the same class; any pairing, since seed 003's
frames depend only on the face track and its audio only on the audio track), and the run stops at a
time budget so it always writes its weights inside the lease.

Each step's batch is a third speech-only, a third face-only and a third pairs, every class equally
often. After each block of steps the model is scored on the development set (docs/models.md):
per-file UAR on EmoDB 09 + RAVDESS actors 1–12 speech, and UAR on the validation faces; the kept
weights are those with the best mean of the two. Nothing of a test set is read here.

Run on the device: ``python -m affectscope.models.training.seed003_accel CACHE OUT_DIR``.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from affectscope import strict_json
from affectscope.models.registry import get
from affectscope.models.training.seed003_cache import Cache, load
from affectscope.models.training.system_data import Split, build_split

_MEAN = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 1, 3, 1, 1)


def splits(model: Any, cache: Cache) -> dict[str, Split]:
    """The model's own windows of each group (``batch_from_signals``; static faces squeezed)."""

    def speech(idx: np.ndarray, kind: str) -> Split:
        return build_split(
            model, [lambda i=i: cache.speech_signals(i) for i in idx], cache.speech_label[idx].tolist(), kind
        )

    def faces(idx: np.ndarray, kind: str) -> Split:
        return build_split(
            model,
            [lambda i=i: cache.face_signals(i) for i in idx],
            cache.face_label[idx].tolist(),
            kind,
            squeeze_static=True,
        )

    dev = np.concatenate([cache.speech("emodb_val"), cache.speech("ravdess_dev")])
    return {
        "speech": speech(cache.speech("emodb_train"), "speech"),
        "faces": faces(cache.faces("fer_train"), "faces"),
        "dev_speech": speech(dev, "dev speech"),
        "val_faces": faces(cache.faces("fer_val"), "val faces"),
    }


def augment_speech(wave: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per row: speed 0.9–1.1 (resampled, pitch moves too), circular shift ±0.5 s, gain ±6 dB, and
    for half the rows white noise at 10–40 dB SNR of the row's power."""
    b, n = wave.shape
    dev = wave.device
    out = torch.empty_like(wave)
    speeds = 0.9 + 0.2 * torch.rand(b, generator=gen, device=dev)
    for i in range(b):
        m = max(2, int(round(n / float(speeds[i]))))
        w = F.interpolate(wave[i].view(1, 1, n), size=m, mode="linear", align_corners=False).view(-1)
        out[i] = w[:n] if m >= n else F.pad(w, (0, n - m))
    shift = ((torch.rand(b, generator=gen, device=dev) - 0.5) * 16000).long()
    idx = (torch.arange(n, device=dev).view(1, n) - shift.view(b, 1)) % n
    out = out.gather(1, idx)
    out = out * (10 ** ((torch.rand(b, 1, generator=gen, device=dev) * 12 - 6) / 20))
    power = out.pow(2).mean(1, keepdim=True) + 1e-10
    snr = 10 + 30 * torch.rand(b, 1, generator=gen, device=dev)
    noisy = (torch.rand(b, 1, generator=gen, device=dev) < 0.5).to(out.dtype)
    noise = torch.randn(b, n, generator=gen, device=dev) * torch.sqrt(power / 10 ** (snr / 10))
    return out + noisy * noise


def augment_faces(frames: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Horizontal flip (half), brightness ±0.1 and contrast 0.8–1.2 on ImageNet-normalised frames."""
    b = frames.shape[0]
    dev = frames.device
    mean, std = _MEAN.to(dev), _STD.to(dev)
    x = frames * std + mean
    flip = torch.rand(b, generator=gen, device=dev) < 0.5
    x = torch.where(flip.view(b, 1, 1, 1, 1), x.flip(-1), x)
    c = 0.8 + 0.4 * torch.rand(b, 1, 1, 1, 1, generator=gen, device=dev)
    m = x.mean(dim=(2, 3, 4), keepdim=True)
    x = ((x - m) * c + m + (torch.rand(b, 1, 1, 1, 1, generator=gen, device=dev) - 0.5) * 0.2).clamp(0, 1)
    return (x - mean) / std


def _by_class(labels: np.ndarray, classes: int) -> list[np.ndarray]:
    return [np.flatnonzero(labels == c) for c in range(classes)]


def _draw(pools: list[np.ndarray], n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows, classes in turn (equally often), uniformly within each class."""
    cls = np.arange(n) % len(pools)
    rng.shuffle(cls)
    return np.asarray([pools[c][rng.integers(len(pools[c]))] for c in cls]), cls


@torch.no_grad()
def predict(model: Any, split: Split, device: str, batch: int = 128) -> np.ndarray:
    """Fused class probabilities per window (eval mode, bf16 autocast on CUDA)."""
    model.eval()
    out = []
    for b0 in range(0, len(split), batch):
        x = {k: v.to(device) for k, v in split.subset(np.arange(b0, min(b0 + batch, len(split)))).items()}
        with torch.autocast("cuda", torch.bfloat16, enabled=device.startswith("cuda")):
            out.append(torch.softmax(model(x).logits.float(), -1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 3))


def per_file(probs: np.ndarray, split: Split) -> np.ndarray:
    acc = np.zeros((len(split.file_labels), probs.shape[1]))
    np.add.at(acc, split.file_index, probs)
    return acc / np.maximum(np.bincount(split.file_index, minlength=len(acc)), 1)[:, None]


def uar(y: np.ndarray, probs: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(y, probs.argmax(1))) if len(y) else 0.0


def train(
    cache_path: Path,
    out_dir: Path,
    device: str = "cuda",
    budget_s: float = 240.0,
    batch: int = 48,
    block_steps: int = 60,
    max_blocks: int = 200,
    lr: float = 3e-4,
    seed: int = 0,
) -> dict[str, Any]:
    """Train from the cache; write ``seed003_crossmodal.safetensors``, its training record and the
    development-set history to ``out_dir``; return the record."""
    from affectscope.models.weights import save_state

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator(device=device).manual_seed(seed)
    spec = get("crossmodal-attention")
    model = spec.build()
    cache = load(cache_path)
    parts = splits(model, cache)
    prep_s = time.perf_counter() - t0
    model.to(device)
    sp, fa = parts["speech"], parts["faces"]
    sp_batch = {k: v.to(device) for k, v in sp.batch.items()}
    fa_batch = {k: v.to(device) for k, v in fa.batch.items()}
    classes = spec.labels
    sp_pools, fa_pools = _by_class(sp.labels, len(classes)), _by_class(fa.labels, len(classes))
    groups = model.param_groups(lr)
    opt = torch.optim.Adam(groups, lr=lr, weight_decay=model.weight_decay)  # L2, as §5
    total_steps = block_steps * max_blocks
    warm = block_steps

    def rate(step: int) -> float:  # warm-up, then cosine over the steps the budget is expected to allow
        if step < warm:
            return (step + 1) / warm
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(expected, 1))))

    expected = total_steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, rate)
    third = batch // 3
    best, best_state, history, step = -1.0, copy.deepcopy(model.state_dict()), [], 0
    t_train = time.perf_counter()
    for block in range(max_blocks):
        model.train()
        losses = []
        for _ in range(block_steps):
            si, sy = _draw(sp_pools, third, rng)
            fi, fy = _draw(fa_pools, third, rng)
            pi, py = _draw(sp_pools, batch - 2 * third, rng)
            pf = np.asarray([fa_pools[c][rng.integers(len(fa_pools[c]))] for c in py])
            s_idx = torch.from_numpy(np.concatenate([si, pi])).to(device)
            f_idx = torch.from_numpy(np.concatenate([fi, pf])).to(device)
            n_s, n_f, n_p = len(si), len(fi), len(pi)
            audio = augment_speech(sp_batch["audio"][s_idx], gen)
            visual = augment_faces(fa_batch["visual"][f_idx], gen)
            wave = torch.cat([audio[:n_s], torch.zeros_like(audio[:n_f]), audio[n_s:]])
            frames = torch.cat([torch.zeros_like(visual[:n_s]), visual[:n_f], visual[n_f:]])
            ones = torch.ones(n_s + n_f + n_p, device=device)
            x = {
                "audio": wave,
                "audio_mask": torch.cat([ones[:n_s], torch.zeros(n_f, device=device), ones[:n_p]]),
                "visual": frames,
                "visual_mask": torch.cat([torch.zeros(n_s, device=device), ones[: n_f + n_p]]),
            }
            y = torch.from_numpy(np.concatenate([sy, fy, py])).long().to(device)
            with torch.autocast("cuda", torch.bfloat16, enabled=device.startswith("cuda")):
                loss = model.loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            step += 1
            losses.append(float(loss.detach()))
        dev = parts["dev_speech"]
        dev_uar = uar(dev.file_labels, per_file(predict(model, dev, device), dev))
        face_uar = uar(parts["val_faces"].labels, predict(model, parts["val_faces"], device))
        score = (dev_uar + face_uar) / 2
        elapsed = time.perf_counter() - t_train
        history.append(
            {
                "block": block + 1,
                "steps": step,
                "train_loss": round(float(np.mean(losses)), 4),
                "dev_speech_uar": round(dev_uar, 4),
                "val_face_uar": round(face_uar, 4),
                "score": round(score, 4),
                "seconds": round(elapsed, 1),
            }
        )
        print(strict_json.dumps(history[-1]), flush=True)
        if score > best:
            best, best_state = score, copy.deepcopy(model.state_dict())
        if block == 0:  # now the cost of a block is known: aim the cosine at the budget
            expected = max(warm + 1, int(budget_s / max(elapsed, 1e-3) * block_steps) - warm)
        if elapsed + elapsed / (block + 1) > budget_s:
            break
    model.load_state_dict(best_state)
    kept = max(history, key=lambda h: h["score"])
    record = {
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else device,
        "prep_seconds": round(prep_s, 1),
        "train_seconds": round(time.perf_counter() - t_train, 1),
        "steps": step,
        "batch": batch,
        "batch_mix": "a third speech-only, a third face-only, a third synthetic pairs drawn afresh each "
        "step; every class equally often",
        "optimizer": f"Adam lr {lr} (encoders at the same rate while random; mini-Xception at "
        f"{model.pretrained_lr_scale} x), L2 weight decay {model.weight_decay}, warm-up {warm} steps, cosine "
        "to 5 %, gradient norm clipped at 5, bf16 autocast",
        "augmentation": "speech: speed 0.9-1.1, shift +-0.5 s, gain +-6 dB, white noise 10-40 dB SNR on "
        "half; faces: flip, brightness +-0.1, contrast 0.8-1.2",
        "selection": "block with the best mean of development speech UAR (per file; EmoDB 09 + RAVDESS "
        "1-12 repetition 1) and validation face UAR",
        "kept_block": kept,
        "windows": {k: len(v) for k, v in parts.items()},
        "history": history,
        "data_records": cache.records(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    save_state(model.cpu(), out_dir / "seed003_crossmodal.safetensors", half=True)
    (out_dir / "seed003_training.json").write_text(strict_json.dumps(record, indent=1))
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--budget", type=float, default=240.0, help="seconds of training")
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--block-steps", type=int, default=60)
    ap.add_argument("--max-blocks", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    train(a.cache, a.out, a.device, a.budget, a.batch, a.block_steps, a.max_blocks, seed=a.seed)


if __name__ == "__main__":
    main()
