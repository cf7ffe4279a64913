"""Saliency for imported model files (ONNX, TorchScript) whose inputs are perception-contract inputs.

A TorchScript file keeps gradients, so its inputs get the captum maps the seed systems get: Integrated
Gradients, SmoothGrad and Occlusion (Grad-CAM needs hooks in a conv layer, which a scripted file does not
take, so it falls back to Integrated Gradients, as for systems that name no conv layer). An ONNX file
gives no gradients: its pictures get Occlusion (sliding patches over the face or mouth crops, tiles of
the log-mel's time x frequency) and its vectors feature occlusion (per joint, per feature, per time
bin), the perturbed copies run through onnxruntime as batches. Everything masked reads what perception
gives when the modality is missing (``absent_input``), the value the modality bars mask with, so a map
says how far each region moved the decision away from "not there".

Maps land where the seed systems' do: face and mouth crops at their crop boxes in the frame (``clip.py``),
the log-mel resampled from its mel bands onto linear frequency rows, high first, so it lies on the
spectrogram lane's 0..8 kHz axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from affectscope.models.explain.saliency import InputMap, image_map, integrated_gradients
from affectscope.models.systems.base import Batch

GRADIENT_METHODS = ("gradcam", "ig", "smoothgrad")
PICTURES = {"face_crop64", "face_crop96", "mouth_crop28", "log_mel"}
LINEAR_ROWS = 128  # the log-mel map on linear frequency: 62.5 Hz a row up to 8 kHz
SIGNAL_BINS = 64  # a waveform's map: time bins over the window
MEL_HOP_SECONDS = 0.01  # contract log-mel frames: 10 ms hop, centred (torchaudio's center=True)


def _file_spec(system: Any) -> Any:
    return getattr(system, "spec", None) if type(system).__name__ == "ImportedSystem" else None


def contract_model(system: Any) -> bool:
    """An imported file whose inputs are contract inputs (not one of Affectscope's own exports)."""
    spec = _file_spec(system)
    return spec is not None and spec.system is None


def exported_kind(system: Any) -> str:
    """The class name of the system an export of Affectscope's own came from ('' for other files)."""
    spec = _file_spec(system)
    if spec is None or spec.system is None:
        return ""
    return type(system._system()).__name__


def has_gradients(system: Any) -> bool:
    """False for ONNX files: onnxruntime gives no gradients, so only occlusion can explain them."""
    spec = _file_spec(system)
    return spec is None or spec.format != "onnx"


def method_for(system: Any, method: str) -> str:
    """The method a map is made with: gradient methods become Occlusion on a file without gradients."""
    return "occlusion" if method in GRADIENT_METHODS and not has_gradients(system) else method


def spectrogram_keys(system: Any) -> tuple[str, ...]:
    """The log-mel inputs of a contract model (their maps make the sound-saliency lane)."""
    if not contract_model(system):
        return ()
    return tuple(i.name for i in system.spec.inputs if i.source == "log_mel")


def column_times(t0: float, n_columns: int, window_seconds: float) -> np.ndarray:
    """Where a contract log-mel's frames sit in the clip: frame k centred at t0 + 10 ms * k."""
    return np.minimum(t0 + MEL_HOP_SECONDS * np.arange(n_columns), t0 + window_seconds)


def mel_centres(bands: int, max_freq: float = 8000.0) -> np.ndarray:
    """Centre frequencies (Hz) of torchaudio's HTK mel bands from 0 to ``max_freq``, low first."""
    mel = np.linspace(0.0, 2595.0 * np.log10(1.0 + max_freq / 700.0), bands + 2)[1:-1]
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_to_linear(values: np.ndarray, max_freq: float = 8000.0, rows: int = LINEAR_ROWS) -> np.ndarray:
    """A (bands, frames) map, lowest band first, as (rows, frames) over linear 0..max_freq, highest
    first (the seed systems' spectrogram pictures, which the lanes and overlays draw)."""
    v = np.asarray(values, np.float64)
    centres = mel_centres(v.shape[0], max_freq)
    hz = (np.arange(rows) + 0.5) * max_freq / rows
    lin = np.stack([np.interp(hz, centres, v[:, j]) for j in range(v.shape[1])], axis=1)
    return lin[::-1].astype(np.float32)


def mel_tile(bands: int, frames: int) -> tuple[int, int]:
    """Occlusion's time-frequency tile on a log-mel: an eighth of the bands by 100 ms (40 bands x
    101 frames: 5 bands x 10 frames, 380 tiles where square 5 x 5 patches made 918)."""
    return max(2, round(bands / 8)), max(2, min(frames, round(0.1 / MEL_HOP_SECONDS)))


def occlusion(
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    target: int,
    baseline: torch.Tensor,
    patch: tuple[int, int],
    chunk: int = 64,
) -> np.ndarray:
    """captum's Occlusion on (1, C, H, W), built in one tensor per ``chunk`` copies: each (kh, kw) patch,
    moved by half its size, set to ``baseline`` over all channels; a pixel's value is the mean drop in
    the target over the patches covering it, summed over channels (as ``image_map`` gives it).

    Same numbers as captum's (tested), without its per-copy mask building, which was two thirds of
    an imported file's explanation time; the copies reach the file ``chunk`` at a time."""
    _, c, h, w = x.shape
    kh, kw = min(patch[0], h), min(patch[1], w)
    sh, sw = max(1, kh // 2), max(1, kw // 2)
    # as captum places them: the last patch may run past the edge (and is cut there)
    rows, cols = (-(-(n - k) // step) + 1 for n, k, step in ((h, kh, sh), (w, kw, sw)))
    boxes = [(i * sh, j * sw) for i in range(rows) for j in range(cols)]
    x, base = x.detach().float(), baseline.detach().float().expand_as(x)
    total, count = torch.zeros(h, w, dtype=torch.float64), torch.zeros(h, w, dtype=torch.float64)
    with torch.no_grad():
        full = forward(x)[0, target].double()
        for b0 in range(0, len(boxes), chunk):
            part = boxes[b0 : b0 + chunk]
            copies = x.repeat(len(part), 1, 1, 1)
            for j, (y, x0) in enumerate(part):
                copies[j, :, y : y + kh, x0 : x0 + kw] = base[0, :, y : y + kh, x0 : x0 + kw]
            drop = full - forward(copies)[:, target].double()
            for j, (y, x0) in enumerate(part):
                total[y : y + kh, x0 : x0 + kw] += drop[j]
                count[y : y + kh, x0 : x0 + kw] += 1
    return (c * total / count.clamp_min(1)).numpy().astype(np.float32)


def feature_occlusion(
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    target: int,
    groups: torch.Tensor,
    baseline: torch.Tensor,
) -> np.ndarray:
    """captum's feature ablation: each group of ``groups`` (an int mask shaped like x) set to
    ``baseline`` at once, copies run 32 to a batch; the drop in the target, same shape as x[0]."""
    from captum.attr import FeatureAblation

    with torch.no_grad():
        attr = FeatureAblation(forward).attribute(
            x.detach().float(),
            baselines=baseline,
            target=target,
            feature_mask=groups,
            perturbations_per_eval=32,
        )
    return attr[0].detach().cpu().numpy()


def vector_groups(x: torch.Tensor, source: str) -> torch.Tensor:
    """Feature-occlusion groups of a vector input: a joint (pose), a feature column (last axis), or one
    of ``SIGNAL_BINS`` stretches of time (a waveform)."""
    shape = x.shape[1:]
    if source == "pose" and len(shape) >= 2:
        idx = torch.arange(shape[-2]).reshape(-1, 1).expand(shape[-2:])
        return idx.expand(shape).unsqueeze(0).contiguous()
    if source == "waveform" or int(np.prod(shape)) > 256:
        n = int(np.prod(shape))
        bins = torch.from_numpy(np.minimum(np.arange(n) * SIGNAL_BINS // max(n, 1), SIGNAL_BINS - 1))
        return bins.reshape(1, *shape)
    return torch.arange(shape[-1]).expand(shape).unsqueeze(0).contiguous()


def _picture(x: torch.Tensor) -> torch.Tensor:
    """(1, ...) crop stack or log-mel as (1, C, H, W): frames and colours become channels."""
    if x.ndim == 3:  # (1, bands, frames): one channel
        return x.unsqueeze(1)
    return x.reshape(1, -1, *x.shape[-2:])


def _vector_map(key: str, source: str, attr: np.ndarray, how: str, delta: float | None) -> InputMap:
    from affectscope.models.explain.saliency import _keypoint_values

    if source == "pose":
        joints = _keypoint_values(key, attr)
        if joints is not None:
            return InputMap(key, "keypoints", joints[0], how, delta, joints[1], extra={"source": source})
    if source == "waveform" or attr.size > 256:
        per = np.array([b.sum() for b in np.array_split(attr.reshape(-1), SIGNAL_BINS)])
        return InputMap(key, "signal", per, how, delta, extra={"source": source})
    if source == "expression":
        from affectscope.models.signals import EXPRESSIONS

        names = tuple(EXPRESSIONS)
    else:
        names = ()
    per = attr.reshape(-1, attr.shape[-1]).sum(0) if attr.ndim > 1 else attr
    if not names or len(names) != per.size:
        names = tuple(f"{key}[{i}]" for i in range(per.size))
    return InputMap(key, "features", per, how, delta, names, extra={"source": source})


def imported_maps(
    system: Any,
    batch: Batch,
    target: int,
    method: str = "occlusion",
    only: tuple[str, ...] | None = None,
    ig_tolerance: float = 0.01,
) -> dict[str, InputMap]:
    """Attribution of every declared float input of a one-window ``batch`` to the fused ``target``.

    Keys are the spec's input names; each map's ``extra["source"]`` is its contract name. Inputs of a
    modality missing in the window (its ``<modality>_mask`` 0) are skipped, as ``system_maps`` does.
    """
    from affectscope.models.exchange.inputs import absent_input
    from affectscope.models.exchange.store import MODALITY_OF

    how0 = method_for(system, method)
    out: dict[str, InputMap] = {}
    for spec in system.spec.inputs:
        key, source = spec.name, spec.source
        if (only is not None and key not in only) or spec.dtype != "float32":
            continue
        mask = batch.get(f"{MODALITY_OF.get(source)}_mask")
        if mask is not None and float(mask.reshape(-1)[0]) <= 0:
            continue
        x = batch[key].float()
        base = torch.from_numpy(absent_input(spec))

        def forward(v: torch.Tensor, key: str = key, shape: tuple = tuple(x.shape[1:])) -> torch.Tensor:
            n = v.shape[0]
            rest = {k: t.expand(n, *t.shape[1:]) for k, t in batch.items() if k != key}
            return system({**rest, key: v.reshape(n, *shape)}).logits

        if source in PICTURES:
            how = "ig" if how0 == "gradcam" else how0  # a scripted file takes no layer hooks
            pic, pic_base = _picture(x), _picture(base)
            if how == "occlusion":
                h, w = pic.shape[-2:]
                k = max(2, round(min(h, w) / 8))  # image_map's square patch, an eighth of the side
                tile = mel_tile(h, w) if source == "log_mel" else (k, k)
                values, delta = occlusion(forward, pic, target, pic_base, tile), None
            else:
                values, delta = image_map(
                    forward, pic, target, how, ig_tolerance=ig_tolerance, baseline=pic_base
                )
            if source == "log_mel":
                out[key] = InputMap(
                    key, "spectrogram", mel_to_linear(values), how, delta, extra={"source": source}
                )
            else:
                out[key] = InputMap(key, "image", values, how, delta, extra={"source": source})
            continue
        if how0 == "occlusion" or not has_gradients(system):
            attr = feature_occlusion(forward, x, target, vector_groups(x, source), base)
            how, delta = "occlusion", None
        else:
            full, delta = integrated_gradients(forward, x, target, baseline=base)
            attr, how = full[0], "ig"
        out[key] = _vector_map(key, source, attr, how, delta)
    return out
