"""Figure kinds over an evaluation run: confusion, per-class metrics with CIs, reliability, modality
bars (per-modality heads against the fusion), and run-versus-run comparison.

Each takes the JSON-ready reports of ``analysis.metrics``/``calibration``/``comparison`` as ``data``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from affectscope.analysis.figures import style
from affectscope.analysis.figures.registry import FigureKind, register_kind


def _title(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    title = options.get("title", data.get("title"))
    if title:
        fig.suptitle(title, fontsize=style.PAPER_RC["axes.titlesize"])
    mark_contamination(fig, data.get("contamination"))


def mark_contamination(fig: Any, marks: str | None) -> None:
    """A red line across the figure's foot when the run's clips overlap what trained, validated or
    tuned the weights (issue 19): such a figure is not a held-out test, and must not pass for one."""
    if marks:
        fig.text(0.01, 0.005, marks, color="#c00000", fontsize=5.5, ha="left", va="bottom", wrap=True)


def draw_confusion(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    """Counts, or row-normalised shares (rows = true class) with the counts beneath."""
    cm = np.asarray(data["confusion"], dtype=float)
    labels = data["labels"]
    normalise = options.get("normalise", True)
    rows = cm.sum(1, keepdims=True)
    shown = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0) if normalise else cm
    ax = fig.add_subplot()
    vmax = 1.0 if normalise else max(float(cm.max()), 1.0)
    im = ax.imshow(shown, cmap=style.SEQUENTIAL_CMAP, vmin=0.0, vmax=vmax, interpolation="nearest")
    ax.set_xticks(range(len(labels)), labels, rotation=35 if len(labels) > 4 else 0, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.spines[:].set_visible(False)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            value = shown[i, j]
            text = f"{value:.2f}\n({int(cm[i, j])})" if normalise else f"{int(cm[i, j])}"
            # White on the dark end of cividis, black on the light end.
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=6,
                color="white" if value < vmax * 0.55 else "black",
            )
    fig.colorbar(im, ax=ax, shrink=0.8, label="Share of true class" if normalise else "Clips")
    _title(fig, data, options)


def draw_per_class(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    """Precision, recall and F1 per class with bootstrap 95 % CIs; UAR and chance as lines."""
    labels = data["labels"]
    metrics = options.get("metrics", ["precision", "recall", "f1"])
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    width = 0.8 / len(metrics)
    colours = style.palette(len(metrics))
    for k, metric in enumerate(metrics):
        values = np.array([data["per_class"][lab][metric] for lab in labels])
        ci = data.get("per_class_ci", {})
        err = None
        if ci:
            lo = np.array([ci[lab][metric][0] for lab in labels])
            hi = np.array([ci[lab][metric][1] for lab in labels])
            err = np.vstack([np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)])
        ax.bar(
            x + (k - (len(metrics) - 1) / 2) * width,
            values,
            width,
            yerr=err,
            capsize=1.5,
            color=colours[k],
            label={"f1": "F1"}.get(metric, metric.capitalize()),
            error_kw={"elinewidth": 0.6, "capthick": 0.6},
        )
    if "uar" in data:
        ax.axhline(data["uar"], color="black", lw=0.8, ls="-", label=f"UAR {data['uar']:.2f}")
    if "chance_uar" in data:
        ax.axhline(data["chance_uar"], color="grey", lw=0.8, ls=":", label="Chance")
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("Score (95 % CI)")
    fig.legend(loc="outside upper center", ncols=min(len(metrics) + 2, 3), frameon=False)
    _title(fig, data, options)


def draw_reliability(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    """Accuracy against confidence per bin (bars), the diagonal, the clip counts beneath; ECE in words."""
    rel = data["reliability"]
    edges = np.asarray(rel["edges"])
    centres = (edges[:-1] + edges[1:]) / 2
    width = np.diff(edges)
    acc = np.array([np.nan if a is None else a for a in rel["accuracy"]])
    conf = np.array([np.nan if c is None else c for c in rel["confidence"]])
    gs = fig.add_gridspec(2, 1, height_ratios=(3, 1))
    ax = fig.add_subplot(gs[0])
    c0, c1 = style.palette(2)
    ax.bar(centres, np.nan_to_num(acc), width * 0.9, color=c0, label="Accuracy")
    ax.bar(
        centres,
        np.nan_to_num(conf - acc),
        width * 0.9,
        bottom=np.nan_to_num(acc),
        color="none",
        edgecolor=c1,
        hatch="//",
        lw=0.6,
        label="Gap",
    )
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=0.8, label="Perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("Accuracy")
    ax.text(0.03, 0.95, f"ECE {rel['ece']:.3f}\nn = {rel['n']}", va="top", transform=ax.transAxes)
    # Upper left: over-confident models (the common case) leave it empty.
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.84), frameon=False)
    ax.tick_params(labelbottom=False)
    axc = fig.add_subplot(gs[1], sharex=ax)
    axc.bar(centres, rel["count"], width * 0.9, color="grey")
    axc.set_xlabel("Confidence (top class)")
    axc.set_ylabel("Clips")
    _title(fig, data, options)


def draw_modality(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    """Per-modality heads beside the fusion (a run), or one clip's activation per modality and over time."""
    if "reports" in data:
        _modality_metrics(fig, data, options)
    else:
        _modality_clip(fig, data, options)
    _title(fig, data, options)


def _modality_metrics(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    metric = options.get("metric", "uar")
    names = list(data["reports"])
    ax = fig.add_subplot()
    values = np.array([data["reports"][n][metric] for n in names])
    lo = np.array(
        [data["reports"][n].get("ci", {}).get(metric, [v, v])[0] for n, v in zip(names, values, strict=True)]
    )
    hi = np.array(
        [data["reports"][n].get("ci", {}).get(metric, [v, v])[1] for n, v in zip(names, values, strict=True)]
    )
    colours = [
        "#000000" if n == "fused" else c for n, c in zip(names, style.palette(len(names)), strict=True)
    ]
    err = np.vstack(
        [
            np.clip(values - np.nan_to_num(lo, nan=0), 0, None),
            np.clip(np.nan_to_num(hi, nan=0) - values, 0, None),
        ]
    )
    ax.bar(range(len(names)), values, 0.6, yerr=err, capsize=2, color=colours, error_kw={"elinewidth": 0.6})
    chance = data.get("chance_uar")
    if chance is not None and metric == "uar":
        ax.axhline(chance, color="grey", ls=":", lw=0.8, label="Chance")
        ax.legend(frameon=False, loc="upper right")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"{metric.upper() if metric == 'uar' else metric} (95 % CI)")


def _modality_clip(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    labels = data["labels"]
    lanes = data["timelines"]  # {modality: {"t": [...], "probs": [[...]]}}
    names = list(lanes)
    gs = fig.add_gridspec(1, 2, width_ratios=(1, 2.2))
    ax = fig.add_subplot(gs[0])
    cls = labels.index(data["class"]) if data.get("class") in labels else None
    bars = []
    for n in names:
        p = np.asarray(lanes[n]["probs"], dtype=float)
        bars.append(p.mean(0) if len(p) else np.zeros(len(labels)))
    bars = np.asarray(bars)
    colours = style.palette(len(labels))
    left = np.zeros(len(names))
    for k, lab in enumerate(labels):
        ax.barh(range(len(names)), bars[:, k], left=left, color=colours[k], label=lab, height=0.6)
        left += bars[:, k]
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("Mean probability (clip)")
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=min(len(labels), 3))
    ax2 = fig.add_subplot(gs[1])
    lane_colours = [
        "#000000" if n == "fused" else c for n, c in zip(names, style.palette(len(names)), strict=True)
    ]
    k = cls if cls is not None else int(bars[names.index("fused") if "fused" in names else 0].argmax())
    for n, c in zip(names, lane_colours, strict=True):
        t = np.asarray(lanes[n]["t"], dtype=float)
        p = np.asarray(lanes[n]["probs"], dtype=float)
        if len(t):
            ax2.plot(t, p[:, k], color=c, lw=1.2 if n == "fused" else 0.9, label=n)
    ax2.set_ylim(0, 1)
    ax2.set_xlabel("Time (s)")
    ax2.set_ylabel(f"P({labels[k]})")
    ax2.legend(frameon=False, ncols=min(len(names), 4), loc="upper center", bbox_to_anchor=(0.5, 1.18))


def draw_comparison(fig: Any, data: dict[str, Any], options: dict[str, Any]) -> None:
    """Two runs on the same clips: UAR/accuracy/macro-F1 with CIs side by side; McNemar and ΔUAR in words."""
    metrics = ("uar", "accuracy", "macro_f1")
    names = [data.get("name_a", "A"), data.get("name_b", "B")]
    ax = fig.add_subplot()
    colours = style.palette(2)
    x = np.arange(len(metrics))
    for k, (key, name) in enumerate(zip(("a", "b"), names, strict=True)):
        rep = data[key]
        v = np.array([rep[m] for m in metrics])
        ci = rep.get("ci", {})
        lo = np.array([ci.get(m, [rep[m]] * 2)[0] for m in metrics])
        hi = np.array([ci.get(m, [rep[m]] * 2)[1] for m in metrics])
        ax.bar(
            x + (k - 0.5) * 0.38,
            v,
            0.36,
            yerr=np.vstack([v - lo, hi - v]).clip(0),
            capsize=2,
            color=colours[k],
            label=name,
            error_kw={"elinewidth": 0.6},
        )
    ax.set_xticks(x, ["UAR", "Accuracy", "Macro-F1"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("Score (95 % CI)")
    d = data["uar_difference"]
    m = data["mcnemar"]
    ax.set_title(
        f"ΔUAR {d['difference']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] · McNemar p = {m['pvalue']:.3g}"
        f" (n = {data['n']})",
        fontsize=6.5,
    )
    ax.legend(frameon=False, loc="upper right")
    mark_contamination(fig, data.get("contamination"))


register_kind(FigureKind("confusion", "Confusion matrix", draw_confusion, ("run",), aspect=0.85))
register_kind(
    FigureKind("per-class", "Per-class metrics with 95 % CIs", draw_per_class, ("run",), aspect=0.62)
)
register_kind(FigureKind("reliability", "Reliability diagram", draw_reliability, ("run",), aspect=0.95))
register_kind(
    FigureKind(
        "modality",
        "Modality activation / per-modality metrics",
        draw_modality,
        ("run|clip",),
        aspect=0.42,
        default_width="double",
    )
)
register_kind(FigureKind("comparison", "Run versus run", draw_comparison, ("runs",), aspect=0.62))
