"""The reader-study results figure (Qt-free, matplotlib): accuracy per arm with 95 % CIs, agreement
(Fleiss' kappa and Krippendorff's alpha with CIs), and time to answer. Input: ``study stats --json``.

Two doors for the figures registry (analysis/figures, kind "study"): ``draw_study_stats(fig, stats,
options)`` has the registry's ``draw(fig, data, options)`` signature and draws the ``study stats`` JSON
as is; ``registry_data(stats, times_s)`` converts it to the registry's built-in "study" kind's data
(``arms`` / ``agreement`` / ``times``). ``draw_study_figure(stats)`` returns a standalone Figure (no pyplot).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure


def _err(d: dict) -> tuple[float, list[float]]:
    v = d.get("value")
    ci = [np.nan if x is None else x for x in (d.get("ci") or [np.nan, np.nan])]  # null: undefined
    if v is None:
        return np.nan, [0.0, 0.0]
    return float(v), [
        max(0.0, v - ci[0]) if np.isfinite(ci[0]) else 0.0,
        max(0.0, ci[1] - v) if np.isfinite(ci[1]) else 0.0,
    ]


def draw_study_figure(stats: dict[str, Any], figsize: tuple[float, float] = (11.0, 3.6)) -> Figure:
    fig = Figure(figsize=figsize, layout="constrained")  # no pyplot: no global backend state
    draw_study_stats(fig, stats, {})
    return fig


def registry_data(stats: dict[str, Any], times_s: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """The figures registry's "study" data: arms with accuracy and CI, agreement, times (seconds)."""
    arms = [
        {
            "name": n,
            "accuracy": a["accuracy"]["value"],
            "ci": [
                a["accuracy"]["value"] if x is None else x for x in a["accuracy"]["ci"]
            ],  # undefined: no bar
            "n": a["n_responses"],
        }
        for n, a in stats["arms"].items()
        if a["accuracy"]["value"] is not None
    ]
    agreement = {
        f"{n} {key}": a[k]["value"]
        for n, a in stats["arms"].items()
        for k, key in (("fleiss_kappa", "kappa"), ("krippendorff_alpha", "alpha"))
        if a[k]["value"] is not None and np.isfinite(a[k]["value"])
    }
    return {
        "arms": arms,
        "agreement": agreement,
        "times": times_s or {},
        "title": f"Reader study {stats['study']}",
    }


def draw_study_stats(fig: Figure, stats: dict[str, Any], options: dict[str, Any] | None = None) -> None:
    """Draw accuracy/UAR, agreement and time to answer per arm on ``fig`` (three panels)."""
    arms = list(stats["arms"])
    axes = fig.subplots(1, 3)
    x = np.arange(len(arms))
    # Accuracy (and UAR) per arm.
    acc = [_err(stats["arms"][a]["accuracy"]) for a in arms]
    uar = [_err(stats["arms"][a]["uar"]) for a in arms]
    ax = axes[0]
    ax.bar(
        x - 0.18, [v for v, _ in acc], 0.36, yerr=np.array([e for _, e in acc]).T, capsize=3, label="accuracy"
    )
    ax.bar(x + 0.18, [v for v, _ in uar], 0.36, yerr=np.array([e for _, e in uar]).T, capsize=3, label="UAR")
    chance = 1.0 / max(len(stats.get("labels", [])), 1)
    ax.axhline(chance, color="grey", lw=0.8, ls="--", label="chance")
    ax.set_xticks(x, arms, rotation=15)
    ax.set_ylim(0, 1)
    ax.set_title("Reader accuracy (95 % CI)")
    ax.legend(fontsize=7, loc="upper left")
    for d in stats.get("assisted_minus_unassisted", []):
        if d.get("value") is None or None in (d.get("ci") or [None]):
            continue  # undefined (no reader in both arms yet): the table says why
        ax.annotate(
            f"{d['assisted']} - {d['unassisted']}: {d['value']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}]",
            (0.02, 0.02),
            xycoords="axes fraction",
            fontsize=7,
        )
    # Agreement.
    ax = axes[1]
    fk = [_err(stats["arms"][a]["fleiss_kappa"]) for a in arms]
    ka = [_err(stats["arms"][a]["krippendorff_alpha"]) for a in arms]
    ax.bar(
        x - 0.18,
        [v for v, _ in fk],
        0.36,
        yerr=np.array([e for _, e in fk]).T,
        capsize=3,
        label="Fleiss' kappa",
    )
    ax.bar(
        x + 0.18,
        [v for v, _ in ka],
        0.36,
        yerr=np.array([e for _, e in ka]).T,
        capsize=3,
        label="Krippendorff's alpha",
    )
    ax.set_xticks(x, arms, rotation=15)
    ax.set_ylim(min(0.0, np.nanmin([v for v, _ in fk + ka] + [0.0]) - 0.05), 1)
    ax.set_title("Agreement between readers (95 % CI)")
    ax.legend(fontsize=7, loc="upper left")
    # Time to answer.
    ax = axes[2]
    t = [stats["arms"][a].get("time_ms") or {} for a in arms]
    if any(d.get("n") for d in t):
        med = [d.get("median") or np.nan for d in t]
        lo = [max(0.0, (d.get("median") or 0) - (d.get("p10") or 0)) for d in t]
        hi = [max(0.0, (d.get("p90") or 0) - (d.get("median") or 0)) for d in t]
        ax.bar(x, np.array(med) / 1000.0, 0.5, yerr=np.array([lo, hi]) / 1000.0, capsize=3, color="tab:green")
        ax.set_ylabel("seconds (median, 10-90 %)")
    else:
        ax.text(0.5, 0.5, "no answer times recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks(x, arms, rotation=15)
    ax.set_title("Time to answer")
    fig.suptitle(f"Reader study {stats.get('study', '')}", fontsize=10)
