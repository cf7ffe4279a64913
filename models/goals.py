"""Issue 19's goals for the shipped systems, judged on their honest figures (``packaging/honest_cards.py``).

"Where a goal is not reached, the card and docs say so with the measured number": each card's
``honest.goals`` and the docs' goals table come from here, computed from the card's own figures, so
they cannot disagree with them. A goal whose data is not here (another corpus, real audio-visual
clips) says so and is neither met nor failed (``met: null``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Goal:
    """One goal: a minimum UAR (and every class recall) on one honest figure, or why it has none."""

    text: str
    figure: str | None  # the honest figure's set key; None: not measurable here
    min_uar: float | None = None
    min_recall: float | None = None
    unmeasured: str = ""


UNSEEN = "ravdess_13_20"
#: seed 004 as shipped (issue 19, "Goals")
DEFAULT_MODEL = (
    Goal("speech: UAR >= 0.60 on unseen English speakers, every class recall >= 0.25", UNSEEN, 0.60, 0.25),
    Goal(
        "speech: UAR >= 0.50 on another corpus, every class recall >= 0.25",
        None,
        unmeasured="no other corpus here (EmoDB 03+08 are speakers of the training corpus)",
    ),
    Goal("faces: 3-class UAR >= 0.70 on unseen FER-2013 test images", "fer_test", 0.70),
    Goal(
        "fused >= the best single modality on real audio-visual clips",
        None,
        unmeasured="one labelled real audio-visual clip here",
    ),
)
#: every other shipped system, seed 003 included
OTHER_SYSTEM = (
    Goal("speech: UAR >= 0.45, no class recall below 0.15, unseen English speakers", UNSEEN, 0.45, 0.15),
    Goal("speech: UAR >= 0.45, no class recall below 0.15, unseen EmoDB speakers", "emodb_03_08", 0.45, 0.15),
)
GOALS: dict[str, tuple[Goal, ...]] = {
    "lightweight-streaming": DEFAULT_MODEL,
    "fusical": OTHER_SYSTEM,
    "temporal-fusion": OTHER_SYSTEM,
    "skeleton-fusion": OTHER_SYSTEM,
    "crossmodal-attention": OTHER_SYSTEM,
}


def assess(name: str, figures: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each goal of ``name`` against its honest figures: measured UAR and lowest recall, the figure's
    status (a goal measured on validation data says so), and whether it is met (None: not measurable)."""
    by_set = {f["set"]: f for f in figures}
    out = []
    for goal in GOALS.get(name, ()):
        row: dict[str, Any] = {"goal": goal.text, "set": goal.figure, "uar": None, "lowest_recall": None}
        f = by_set.get(goal.figure) if goal.figure else None
        if f is None:
            row.update(met=None, status=goal.unmeasured or "not measured")
            out.append(row)
            continue
        lowest = min(f["per_class_recall"].values())
        met = f["uar"] >= (goal.min_uar or 0.0) and lowest >= (goal.min_recall or 0.0)
        row.update(uar=f["uar"], lowest_recall=lowest, n=f["n"], met=bool(met), status=f["status"])
        out.append(row)
    return out
