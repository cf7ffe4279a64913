"""What a model's card says about its weights, in a line a person reads beside the model chooser.

Torch-free and Qt-free: it reads the JSON card beside the weights (``models.weights.read_card``
is torch-bound, so the card is read here directly) and says which branches were trained on real
data, which are pretrained and used as is, which stayed untrained (switched off), and the
headline UAR with its 95 % CI on each test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CARD_SUFFIX = ".card.json"


def read_card(weights: str | Path | None) -> dict[str, Any] | None:
    """The card beside a weights file, or None (no file, no card, unreadable card)."""
    if weights is None:
        return None
    p = Path(weights)
    card = p.with_name(p.name.removesuffix(".safetensors") + CARD_SUFFIX)
    try:
        return json.loads(card.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def branch_summary(card: dict[str, Any] | None) -> str:
    """ "trained: audio, face · pretrained, used as is: laughter · untrained (off): scene" ("" if none)."""
    if not card or "trained_branches" not in card:
        return ""
    parts = [f"trained: {', '.join(card['trained_branches'])}"]
    if card.get("pretrained_branches"):
        parts.append(f"pretrained, used as is: {', '.join(card['pretrained_branches'])}")
    if card.get("untrained_branches"):
        parts.append(f"untrained (off): {', '.join(card['untrained_branches'])}")
    return " · ".join(parts)


def metric_summary(card: dict[str, Any] | None) -> str:
    """ "emodb_test UAR 0.62 [0.55, 0.69]; fer_test UAR 0.71 [...]" with COLLAPSED where the guard fired."""
    if not card or not isinstance(card.get("tests"), dict):
        return ""
    out = []
    for key, test in card["tests"].items():
        if not isinstance(test, dict) or "uar" not in test:
            continue
        lo, hi = (test.get("ci") or {}).get("uar", [None, None])
        ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else ""
        flag = " COLLAPSED" if test.get("collapsed") else ""
        out.append(f"{key} UAR {test['uar']:.2f}{ci}{flag}")
    return "; ".join(out)
