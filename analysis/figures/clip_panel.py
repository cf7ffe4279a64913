"""The clip panel: the frame at a time (with an optional saliency map), waveform, spectrogram, the
per-modality and fused timelines and the label tier, over one time range.

``data`` holds plain arrays loaded by the application: ``frame`` (H×W×3 uint8) and ``frame_t``,
optional ``saliency`` (h×w in [0, 1]), ``waveform`` ({"t", "min", "max"}), ``spectrogram``
({"db": F×T, "t0", "t1", "f_max"}), ``timelines`` ({lane: {"t", "probs"}}), ``labels`` (class names),
``tier`` ([{"start", "end", "value"}]), ``start``/``end`` (seconds) and ``title``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from affectscope.analysis.figures import style
from affectscope.analysis.figures.registry import FigureKind, register_kind


def draw_clip_panel(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    start, end = float(data["start"]), float(data["end"])
    lanes = data.get("timelines") or {}
    labels = data.get("labels") or []
    rows = ["wave", "spec", *lanes, "tier"]
    heights = [1.0, 1.2, *([0.8] * len(lanes)), 0.45]
    outer = fig.add_gridspec(1, 2, width_ratios=(1, 2.6))
    left = outer[0].subgridspec(1, 1)
    right = outer[1].subgridspec(len(rows), 1, height_ratios=heights, hspace=0.08)
    ax_frame = fig.add_subplot(left[0])
    frame = data.get("frame")
    if frame is not None:
        ax_frame.imshow(np.asarray(frame), interpolation="antialiased")
        sal = data.get("saliency")
        if sal is not None:
            h, w = np.asarray(frame).shape[:2]
            ax_frame.imshow(np.asarray(sal), cmap="inferno", alpha=0.45, extent=(0, w, h, 0))
        ax_frame.set_title(f"t = {float(data.get('frame_t', start)):.2f} s")
    else:
        ax_frame.text(0.5, 0.5, "no frame", ha="center", va="center", transform=ax_frame.transAxes)
    ax_frame.set_axis_off()
    axes: list[Any] = []
    for i, row in enumerate(rows):
        ax = fig.add_subplot(right[i], sharex=axes[0] if axes else None)
        axes.append(ax)
        if row == "wave":
            w = data.get("waveform")
            if w is not None and len(w["t"]):
                ax.fill_between(w["t"], w["min"], w["max"], color=style.OKABE_ITO[0], lw=0, step="mid")
            ax.set_ylabel("Audio", rotation=0, ha="right", va="center")
            ax.set_yticks([])
        elif row == "spec":
            s = data.get("spectrogram")
            if s is not None:
                db = np.asarray(s["db"], dtype=float)
                top = float(db.max()) if db.size else 0.0
                # 80 dB of range below the loudest bin; speech lives under 8 kHz.
                ax.imshow(
                    db,
                    origin="lower",
                    aspect="auto",
                    cmap="magma",
                    vmin=top - 80.0,
                    vmax=top,
                    extent=(s["t0"], s["t1"], 0, s["f_max"] / 1000.0),
                    interpolation="nearest",
                )
                ax.set_ylim(0, min(8.0, s["f_max"] / 1000.0))
            ax.set_ylabel("kHz", rotation=0, ha="right", va="center")
        elif row == "tier":
            colours = dict(zip(labels, style.palette(len(labels)), strict=False))
            for seg in data.get("tier") or []:
                ax.axvspan(
                    seg["start"], seg["end"], color=colours.get(seg["value"], "grey"), alpha=0.35, lw=0
                )
                mid = (max(seg["start"], start) + min(seg["end"], end)) / 2
                ax.text(mid, 0.5, seg["value"], ha="center", va="center", fontsize=6)
            ax.set_yticks([])
            ax.set_ylabel("Label", rotation=0, ha="right", va="center")
        else:
            lane = lanes[row]
            t = np.asarray(lane["t"], dtype=float)
            p = np.asarray(lane["probs"], dtype=float)
            for k, (lab, c) in enumerate(zip(labels, style.palette(len(labels)), strict=False)):
                if len(t):
                    ax.plot(t, p[:, k], color=c, lw=0.9, label=lab)
            ax.set_ylim(0, 1)
            ax.set_yticks([0, 1])
            ax.set_ylabel(row, rotation=0, ha="right", va="center")
        if i < len(rows) - 1:
            ax.tick_params(labelbottom=False)
    axes[0].set_xlim(start, end)
    axes[-1].set_xlabel("Time (s)")
    if "frame_t" in data:
        for ax in axes:
            ax.axvline(float(data["frame_t"]), color="black", lw=0.6, ls="--")
    if lanes and labels:
        axes[2].legend(
            frameon=False, ncols=len(labels), loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=6
        )
    if data.get("title"):
        fig.suptitle(data["title"], fontsize=style.PAPER_RC["axes.titlesize"])


register_kind(
    FigureKind("clip", "Clip panel", draw_clip_panel, ("clip",), aspect=0.55, default_width="double")
)
