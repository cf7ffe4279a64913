"""captum saliency on any network and input: images, spectrograms, feature vectors, keypoints.

``image_map`` attributes one (1, C, H, W) input of a forward function returning logits with one of
``METHODS`` and returns an (H, W) map: Grad-CAM (LayerGradCam on a conv layer, ReLU'd and upsampled),
Integrated Gradients (zero baseline, 50 steps, with captum's convergence delta), SmoothGrad
(NoiseTunnel over Saliency) or Occlusion (model-agnostic). ``system_maps`` explains every input of a
system's batch for its *fused* prediction: image-like inputs get maps, feature vectors and sequences
get Integrated Gradients per named feature (summed over time), pose gets one value per joint.

captum fails under ``torch.inference_mode`` (STACK.md): callers must not wrap these in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from affectscope.models.systems.base import Batch, EmotionSystem

METHODS = ("gradcam", "ig", "smoothgrad", "occlusion")
IG_STEPS = 50
# Inputs that are spectrogram pictures (rows = frequency, high first; columns = the window's time).
SPECTROGRAM_INPUTS = {"LightweightStreaming": ("audio",)}


def spectrogram_inputs(system: nn.Module) -> tuple[str, ...]:
    """The inputs of ``system`` that are spectrogram images (their maps make the sound-saliency lane):
    a seed system's, or an imported file's log-mel inputs."""
    if type(system).__name__ == "ImportedSystem":
        from affectscope.models.explain.imported import exported_kind, spectrogram_keys

        return spectrogram_keys(system) or SPECTROGRAM_INPUTS.get(exported_kind(system), ())
    return SPECTROGRAM_INPUTS.get(type(system).__name__, ())


def last_conv(module: nn.Module) -> nn.Conv2d | None:
    """The last ``nn.Conv2d`` registered under ``module`` (the Grad-CAM layer by default)."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1] if convs else None


def image_map(
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    target: int,
    method: str = "gradcam",
    layer: nn.Module | None = None,
    n_steps: int = IG_STEPS,
    nt_samples: int = 16,
    occlusion_fraction: float = 1 / 8,
    ig_tolerance: float = 0.01,
    baseline: torch.Tensor | None = None,
) -> tuple[np.ndarray, float | None]:
    """An (H, W) attribution map of ``x`` (1, C, H, W) for ``target`` and IG's convergence delta.
    ``baseline`` (like x; default zeros) is where IG starts and what Occlusion's patches show."""
    from captum.attr import LayerAttribution, LayerGradCam, NoiseTunnel, Occlusion, Saliency

    x = x.detach().float()
    h, w = x.shape[-2:]
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if method == "gradcam":
        if layer is None:
            raise ValueError("Grad-CAM needs a conv layer")
        cam = LayerGradCam(forward, layer).attribute(x, target=target, relu_attributions=True)
        up = LayerAttribution.interpolate(cam, (h, w), interpolate_mode="bilinear")
        return up[0].sum(0).detach().cpu().numpy(), None
    if method == "ig":
        attr, delta = integrated_gradients(forward, x, target, n_steps, ig_tolerance, baseline=baseline)
        return attr[0].sum(0), delta
    if method == "smoothgrad":
        spread = float(x.max() - x.min()) or 1.0
        attr = NoiseTunnel(Saliency(forward)).attribute(
            x, nt_type="smoothgrad", nt_samples=nt_samples, stdevs=0.15 * spread, target=target
        )
        return attr[0].abs().amax(0).detach().cpu().numpy(), None
    c = x.shape[1]
    k = max(2, round(min(h, w) * occlusion_fraction))
    s = max(1, k // 2)
    with torch.no_grad():
        attr = Occlusion(forward).attribute(
            x,
            sliding_window_shapes=(c, k, k),
            strides=(c, s, s),
            target=target,
            baselines=0.0 if baseline is None else baseline.detach().float(),
            perturbations_per_eval=32,  # occluded copies run as one batch, not one forward each
        )
    return attr[0].sum(0).detach().cpu().numpy(), None


def integrated_gradients(
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    target: int,
    n_steps: int = IG_STEPS,
    tolerance: float = 0.01,
    max_steps: int = 800,
    baseline: torch.Tensor | None = None,
) -> tuple[np.ndarray, float]:
    """IG from ``baseline`` (default zeros); the step count doubles from ``n_steps`` until completeness
    holds to ``tolerance`` of |f(x) − f(0)| (ReLU and max-pool kinks need more than 50 steps on some faces).
    Returns the attribution (same shape as x) and captum's convergence delta (absolute)."""
    from captum.attr import IntegratedGradients

    x = x.detach().float()
    base = torch.zeros_like(x) if baseline is None else baseline.detach().float().expand_as(x)
    with torch.no_grad():
        gap = float((forward(x)[:, target] - forward(base)[:, target]).abs().max())
    ig = IntegratedGradients(forward)
    steps = n_steps
    while True:
        attr, delta = ig.attribute(
            x,
            baselines=base,
            target=target,
            n_steps=steps,
            internal_batch_size=25,
            return_convergence_delta=True,
        )
        d = float(delta.abs().max())
        if d <= tolerance * max(gap, 1e-6) or steps >= max_steps:
            return attr.detach().cpu().numpy(), d
        steps *= 2


def vector_attribution(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, target: int, n_steps: int = IG_STEPS
) -> tuple[np.ndarray, float]:
    """Integrated Gradients of a feature tensor (1, ...) from a zero baseline, same shape as x[0]."""
    attr, delta = integrated_gradients(forward, x, target, n_steps)
    return attr[0], delta


@dataclass
class InputMap:
    """The attribution of one input of a system, as the window and the CLI use it."""

    input: str
    kind: str  # "image" | "spectrogram" | "features" | "keypoints"
    values: np.ndarray  # image: (H, W); spectrogram: (freq, time), low freq last row; features: (D,)
    method: str
    convergence_delta: float | None = None
    names: tuple[str, ...] = ()  # feature or joint names (features, keypoints)
    box: tuple[float, float, float, float] | None = None  # crop box in frame pixels (images)
    extra: dict = field(default_factory=dict)

    def ranked(self, top: int = 10) -> list[tuple[str, float]]:
        """Named features by |attribution|, largest first."""
        order = np.argsort(-np.abs(self.values))[:top]
        return [(self.names[i] if i < len(self.names) else str(i), float(self.values[i])) for i in order]


def _gradcam_layer(system: EmotionSystem, key: str, batch: Batch) -> nn.Module | None:
    """The conv layer whose Grad-CAM answers for ``key`` in the fused decision (route-aware for 004)."""
    if type(system).__name__ == "LightweightStreaming":
        if key == "mouth":
            return last_conv(system.mouth)
        if key == "audio":
            return last_conv(system.audiovisual.audio)
        with torch.no_grad():
            routed = bool(system(batch).hidden["route_audiovisual"].reshape(-1)[0] > 0)
        return last_conv(system.audiovisual.face if routed else system.visual)
    return None


def _keypoint_values(key: str, attr: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """Per-joint |attribution| for pose-like inputs (…, 33·k or 33, k), else None."""
    from affectscope.models.extractors.pose import KEYPOINT_NAMES, N_KEYPOINTS

    a = np.abs(attr)
    if a.ndim >= 2 and a.shape[-2] == N_KEYPOINTS:
        per = a.reshape(-1, N_KEYPOINTS, a.shape[-1]).sum(axis=(0, 2))
    elif a.shape[-1] % N_KEYPOINTS == 0 and a.shape[-1] // N_KEYPOINTS in (2, 3, 4):
        per = a.reshape(-1, N_KEYPOINTS, a.shape[-1] // N_KEYPOINTS).sum(axis=(0, 2))
    else:
        return None
    return per, tuple(KEYPOINT_NAMES)


def system_maps(
    system: EmotionSystem,
    batch: Batch,
    target: int,
    method: str = "gradcam",
    feature_names: dict[str, tuple[str, ...]] | None = None,
    pose_inputs: tuple[str, ...] = ("pose", "skeleton"),
    only: tuple[str, ...] | None = None,
    ig_tolerance: float = 0.01,
) -> dict[str, InputMap]:
    """Attribution of every present input of a one-sample ``batch`` to the fused ``target`` logit.

    Images (C, H, W) use ``method`` (Grad-CAM falls back to IG where the system names no conv layer);
    spectrogram images are marked as such (rows = frequency, high first; columns = the window's
    time); every other float input gets Integrated Gradients, summed to one value per named
    feature (or per joint for pose). Inputs whose ``<key>_mask`` is 0 are skipped, and so are the
    streams a system switches off (``off_modalities``: branches shipped untrained, which the fusion
    never reads, so nothing can be attributed to them). ``only`` limits it to those inputs;
    ``ig_tolerance`` is IG's completeness goal for images (``inf``: one pass of ``IG_STEPS``, for overviews).
    """
    grads = True
    if type(system).__name__ == "ImportedSystem":  # a model file: by its declared inputs
        from affectscope.models.explain.imported import contract_model, has_gradients, imported_maps

        if contract_model(system):
            return imported_maps(system, batch, target, method, only, ig_tolerance)
        grads = has_gradients(system)  # an ONNX export of a system: occlusion only
        method = method if grads or method == "occlusion" else "occlusion"
    out: dict[str, InputMap] = {}
    names = feature_names or {}
    off = set(getattr(system, "off_modalities", ()))
    for key in system.modalities:
        if key in off or (only is not None and key not in only):
            continue
        x = batch.get(key)
        if x is None or not x.is_floating_point() or x.shape[0] != 1:
            continue
        mask = batch.get(f"{key}_mask")
        if mask is not None and float(mask.reshape(-1)[0]) <= 0:
            continue

        def forward(v: torch.Tensor, key: str = key) -> torch.Tensor:
            rest = {k: t.expand(v.shape[0], *t.shape[1:]) for k, t in batch.items() if k != key}
            return system({**rest, key: v}).logits

        spectrogram = key in spectrogram_inputs(system)
        if type(system).__name__ == "LightweightStreaming" and key == "mouth":
            # The mouth crop only routes (open → audio-visual); no gradient reaches the fused
            # logits through a threshold, so explain the router's own "open" logit instead.
            values, delta = image_map(system.mouth, x, 0, method, last_conv(system.mouth))
            out[key] = InputMap(
                key, "image", values, method, delta, extra={"explains": "mouth open (router)"}
            )
            continue
        if x.ndim == 4:
            how = method
            layer = _gradcam_layer(system, key, batch) if method == "gradcam" else None
            if how == "gradcam" and layer is None:
                how = "ig"
            kind = "spectrogram" if spectrogram else "image"
            try:
                values, delta = image_map(forward, x, target, how, layer, ig_tolerance=ig_tolerance)
            except RuntimeError as exc:
                if "not have been used in the graph" not in str(exc):
                    raise
                # A routed-out input (seed 004's audio when the mouth is closed) had no say here.
                values, delta = np.zeros(x.shape[-2:], np.float32), None
                out[key] = InputMap(key, kind, values, how, delta, extra={"unused": True})
                continue
            out[key] = InputMap(key, kind, values, how, delta)
            continue
        if x.ndim > 4:
            continue  # frame stacks (seed 003): explained through its attention lane
        if grads:
            attr, delta = vector_attribution(forward, x, target)
            vec = "ig"
        else:
            from affectscope.models.explain.imported import feature_occlusion, vector_groups

            attr = feature_occlusion(forward, x, target, vector_groups(x, key), torch.zeros_like(x))
            delta, vec = None, "occlusion"
        joints = _keypoint_values(key, attr) if key in pose_inputs else None
        if joints is not None:
            out[key] = InputMap(key, "keypoints", joints[0], vec, delta, joints[1])
            continue
        per = attr.reshape(-1, attr.shape[-1]).sum(0) if attr.ndim > 1 else attr
        if per.size > 256:  # raw signals (a waveform): 64 bins over the window's time
            per = np.array([b.sum() for b in np.array_split(attr.reshape(-1), 64)])
            out[key] = InputMap(key, "signal", per, vec, delta)
            continue
        n = names.get(key, tuple(f"{key}[{i}]" for i in range(per.size)))
        out[key] = InputMap(key, "features", per, vec, delta, tuple(n))
    return out
