"""What the decision-bias scripts share (``fit_seed004_bias.py``, ``fit_fusical_bias.py``; issue 19).

From clean code only (the card names the state that fitted), the weights and their card (refused when
they already carry a bias: a second bias would be fitted on the first), and the development speech
(RAVDESS actors 1-12 and EmoDB speaker 09) analysed once through the product path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectscope.models import class_bias, provenance
from affectscope.models.inference import load_model
from affectscope.models.training.tuning import development_samples
from affectscope.models.weights import read_card, save_state

WHAT = "RAVDESS actors 1-12 (broad mapping) and EmoDB speaker 09: the declared development set"


@dataclass
class Start:
    spec: Any
    model: Any
    card: dict[str, Any]
    dev: list[Any]
    clips: list[class_bias.Windows]


def start(name: str, weights: str | None, data: Path) -> Start:
    state = provenance.require_clean()
    provenance.code_state = lambda root=None: state  # the state that fitted, not the one at the end
    spec, model = load_model(name, weights)
    source = Path(weights) if weights else spec.weights_path()
    card = read_card(source) or {}
    if "decision_bias" in card:
        raise SystemExit(f"{source} already carries a decision bias: start from the weights before it")
    dev = development_samples(data)
    return Start(spec, model, card, dev, class_bias.analyse(spec, model, dev))


def finish(b: Start, fitted: dict[str, Any], out: str, how: str, where: str, note: str, command: str) -> None:
    """Write ``fitted``'s bias into a copy of the weights and save it to ``out`` with its card."""
    model = class_bias.with_bias(b.spec, b.model, fitted["delta"])
    card = class_bias.record(b.card, fitted, b.spec.labels, b.dev, WHAT, how, where, note, command)
    save_state(model, out, card, half=True)
