"""Several seeds of one recipe summarised as mean ± sd (issue 8: one run's number is one draw).

A recipe run's card holds scalar ``metrics`` (UAR, accuracy, macro-F1, cross-corpus UARs…) and its
collapse guard. Across seeds the summary gives, per metric, every seed's value, the mean and the
sample standard deviation (``analysis.metrics.seed_summary``), and which
seeds tripped the collapse guard, so a good mean cannot hide a collapsed run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from affectscope.analysis.metrics import seed_summary


def seed_path(out: Path, seed: int) -> Path:
    """Where seed ``seed`` of a multi-seed run writes its weights: ``NAME-seedN.safetensors``."""
    return out.with_name(f"{out.stem}-seed{seed}{out.suffix}")


def summarise_seeds(seeds: Sequence[int], cards: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean ± sd per scalar metric over the cards of one recipe run with each of ``seeds``."""
    if len(seeds) != len(cards) or not cards:
        raise ValueError("one card per seed is needed")
    keys = [k for k, v in cards[0].get("metrics", {}).items() if isinstance(v, int | float)]
    metrics = {key: seed_summary([float(c["metrics"][key]) for c in cards]) for key in keys}
    collapsed = [
        int(s)
        for s, c in zip(seeds, cards, strict=True)
        if c.get("collapse_guard") not in (None, "no collapse")
    ]
    return {"seeds": [int(s) for s in seeds], "metrics": metrics, "collapsed_seeds": collapsed}


def format_seeds(summary: dict[str, Any]) -> str:
    """One line per metric: ``uar: 0.465 ± 0.012 (n = 3)``, then the collapsed seeds."""
    lines = [f"{k}: {m['text']}" for k, m in summary["metrics"].items()]
    if summary["collapsed_seeds"]:
        lines.append(f"collapse guard fired for seeds {summary['collapsed_seeds']}")
    return "\n".join(lines)
