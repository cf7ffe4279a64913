"""The "continuous" figure kind: predicted against reference traces of one clip, one panel per output
(valence, arousal, ...), each titled with the CCC and Pearson r pooled over every clip."""

from __future__ import annotations

from typing import Any

import numpy as np

from affectscope.analysis.figures import style
from affectscope.analysis.figures.registry import FigureKind, register_kind


def _score(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.2f}"


def draw_continuous(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    traces = data["traces"]
    axes = fig.subplots(len(traces), 1, sharex=True, squeeze=False)[:, 0]
    colours = style.palette(2)
    for ax, (name, tr) in zip(axes, traces.items(), strict=True):
        ax.plot(tr["times"], tr["reference"], color=colours[0], lw=1.0, label=data["reference"])
        ax.plot(tr["times"], tr["predicted"], color=colours[1], lw=1.0, ls="--", label=data["model"])
        score = data["scores"].get(name, {})
        ax.set_title(
            f"{name}: CCC {_score(score.get('ccc'))}, r {_score(score.get('pearson_r'))}", loc="left"
        )
        ax.set_ylabel(name)
        if data["ranges"].get(name):
            lo, hi = data["ranges"][name]
            ax.set_ylim(lo, hi)
    axes[-1].set_xlabel("Time (s)")
    axes[0].legend(loc="upper right", frameon=False, fontsize=6)
    title = options.get("title")
    if title:
        fig.suptitle(title, fontsize=style.PAPER_RC["axes.titlesize"])


register_kind(
    FigureKind("continuous", "Continuous traces against the reference", draw_continuous, ("model",))
)
