"""Heat-map pictures for figures and the CLI: a map in a colour map, alone or over its frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affectscope.models.explain.frames import Box, paste

CMAP = "jet"


def colourise(values: np.ndarray, cmap: str = CMAP, signed: bool | None = None) -> np.ndarray:
    """(H, W, 4) float RGBA in [0, 1]; NaN is transparent. Signed maps use a diverging map."""
    import matplotlib

    v = np.asarray(values, np.float64)
    finite = np.isfinite(v)
    signed = bool(np.nanmin(v) < 0) if signed is None and finite.any() else bool(signed)
    if signed:
        lim = float(np.nanmax(np.abs(v))) or 1.0
        norm = (v / lim + 1) / 2
        rgba = matplotlib.colormaps["RdBu_r"](np.nan_to_num(norm, nan=0.5))
    else:
        lo, hi = (float(np.nanmin(v)), float(np.nanmax(v))) if finite.any() else (0.0, 1.0)
        norm = (v - lo) / ((hi - lo) or 1.0)
        rgba = matplotlib.colormaps[cmap](np.nan_to_num(norm, nan=0.0))
    rgba[~finite, 3] = 0.0
    return rgba


def blend(frame: np.ndarray, values: np.ndarray, opacity: float = 0.5, cmap: str = CMAP) -> np.ndarray:
    """uint8 RGB: ``frame`` with the (frame-sized, NaN outside) map blended in at ``opacity``."""
    rgba = colourise(values, cmap)
    alpha = rgba[..., 3:4] * opacity
    out = frame[..., :3].astype(np.float64) / 255 * (1 - alpha) + rgba[..., :3] * alpha
    return (out * 255).round().astype(np.uint8)


def overlay_png(
    path: str | Path, values: np.ndarray, frame: np.ndarray | None = None, box: Box | None = None
) -> Path:
    """Write the map as a PNG: over ``frame`` at ``box`` when both are given, else on its own."""
    import cv2

    if frame is not None and box is not None:
        h, w = frame.shape[:2]
        img = blend(frame, paste(values, box, w, h))
    else:
        img = (colourise(values)[..., :3] * 255).round().astype(np.uint8)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return Path(path)
