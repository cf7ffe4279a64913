"""Reader-study results: accuracy per arm with 95 % CIs, agreement between readers, time to answer.

The reader-study room supplies ``data`` (its own statistics); this module only draws it:
``arms`` ([{"name", "accuracy", "ci": [lo, hi], "n"}]), optional ``agreement``
({"name": value}, e.g. Fleiss' kappa, Krippendorff's alpha) and ``times`` ({arm: [seconds, ...]}).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from affectscope.analysis.figures import style
from affectscope.analysis.figures.registry import FigureKind, register_kind


def draw_study(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    arms = data["arms"]
    times = data.get("times") or {}
    agreement = data.get("agreement") or {}
    n_panels = 1 + bool(times) + bool(agreement)
    gs = fig.add_gridspec(1, n_panels)
    colours = style.palette(len(arms))
    ax = fig.add_subplot(gs[0])
    acc = np.array([a["accuracy"] for a in arms], dtype=float)
    lo = np.array([a.get("ci", [v, v])[0] for a, v in zip(arms, acc, strict=True)], dtype=float)
    hi = np.array([a.get("ci", [v, v])[1] for a, v in zip(arms, acc, strict=True)], dtype=float)
    ax.bar(
        range(len(arms)),
        acc,
        0.6,
        yerr=np.vstack([acc - lo, hi - acc]).clip(0),
        capsize=2,
        color=colours,
        error_kw={"elinewidth": 0.6},
    )
    ax.set_xticks(range(len(arms)), [a["name"] for a in arms])
    ax.set_ylim(0, 1)
    ax.set_ylabel("Reader accuracy (95 % CI)")
    panel = 1
    if agreement:
        axa = fig.add_subplot(gs[panel])
        panel += 1
        names = list(agreement)
        axa.bar(range(len(names)), [agreement[n] for n in names], 0.6, color="grey")
        axa.set_xticks(range(len(names)), names)
        axa.set_ylim(min(0.0, *agreement.values()), 1)
        axa.set_ylabel("Agreement")
    if times:
        axt = fig.add_subplot(gs[panel])
        names = [a["name"] for a in arms if a["name"] in times]
        parts = axt.boxplot([times[n] for n in names], showfliers=False, widths=0.5, patch_artist=True)
        for patch, c in zip(parts["boxes"], colours, strict=False):
            patch.set_facecolor(c)
            patch.set_alpha(0.6)
        axt.set_xticks(range(1, len(names) + 1), names)
        axt.set_ylabel("Time to answer (s)")
    if data.get("title"):
        fig.suptitle(data["title"], fontsize=style.PAPER_RC["axes.titlesize"])


register_kind(
    FigureKind("study", "Reader-study results", draw_study, ("study",), aspect=0.45, default_width="double")
)
