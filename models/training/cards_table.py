"""The recipes' own figures of seeds 000–003 in docs/models.md, regenerated from the shipped model cards.

``python -m affectscope.models.training.cards_table`` prints the Markdown table (one row per system
and test: UAR, accuracy and macro-F1 with bootstrap 95 % CIs, per-class recall, collapse guard, and
whether the figure is a test or a validation figure, from the card's ``honest`` section);
``packaging/honest_cards.py`` writes it into docs/models.md with the honest table.
"""

from __future__ import annotations

from typing import Any

from affectscope.models.registry import get
from affectscope.models.training.recipes_systems import RECIPES
from affectscope.models.weights import read_card

TESTS = {
    "emodb_test": "EmoDB 03+08 (speech)",
    "ravdess_cross_corpus": "RAVDESS (cross-corpus speech)",
    "ravdess_test": "RAVDESS 13-20 (cross-corpus speech)",
    "fer_test": "FER-2013 test sample, held-out half (faces)",
    "fer_unseen_test": "FER-2013 test sample minus train duplicates (faces)",
    "pairs_test": "synthetic pairs (speech + face)",
}


def _ci(test: dict[str, Any], key: str) -> str:
    lo, hi = (test.get("ci") or {}).get(key, [float("nan"), float("nan")])
    return f"{test[key]:.3f} [{lo:.2f}, {hi:.2f}]"


def rows() -> list[str]:
    out = [
        "| system | test | n | UAR [95 % CI] | accuracy [CI] | macro-F1 [CI] | recall pos / neu / neg "
        "| collapse | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, _file, _e, _lr in RECIPES.values():
        spec = get(model)
        path = spec.weights_path()
        card = read_card(path) if path is not None and path.exists() else None
        if card is None:
            out.append(f"| {model} | — | | not trained (no shipped weights) | | | | | |")
            continue
        for key, what in TESTS.items():
            t = card["tests"].get(key)
            if t is None:
                continue
            rec = " / ".join(
                f"{t['per_class'][c]['recall']:.2f}" for c in ("positive", "neutral", "negative")
            )
            if key == "fer_test" and card.get("face_source") == "train":
                what = TESTS["fer_unseen_test"]  # heads trained on FER-2013 train, tested on the sample
            flag = "**yes**: " + "; ".join(t.get("warnings", [])) if t.get("collapsed") else "no"
            status = (card.get("honest") or {}).get("recipe_figures", {}).get(key, "not judged yet")
            status = status if status.startswith("test") else f"**{status}**"
            out.append(
                f"| {model} | {what} | {t['n']} | {_ci(t, 'uar')} | {_ci(t, 'accuracy')} | "
                f"{_ci(t, 'macro_f1')} | {rec} | {flag} | {status} |"
            )
    return out


if __name__ == "__main__":
    print("\n".join(rows()))
