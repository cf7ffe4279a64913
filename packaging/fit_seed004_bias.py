"""Fit seed 004's per-class audio bias on the development set and write the weights with it (issue 19).

``python packaging/fit_seed004_bias.py OUT.safetensors [--data DIR] [--weights W]``

Starts from the shipped weights (or ``--weights``), analyses the development speech (RAVDESS actors
1-12 and EmoDB speaker 09) through the product path once, chooses the bias on the audio logits with
the best development UAR (``models/class_bias.py``), writes it into the audio CNN's classifier
bias and saves OUT with the card extended by ``decision_bias``. RAVDESS 13-20 and EmoDB 03 + 08 are
never read. From clean code only (as the retrain scripts).
"""

from __future__ import annotations

import sys
from pathlib import Path

import seed004_retrain  # packaging/, beside this script

from affectscope.models import class_bias, provenance
from affectscope.models.inference import load_model
from affectscope.models.training.tuning import development_samples
from affectscope.models.weights import read_card, save_state

WHAT = "RAVDESS actors 1-12 (broad mapping) and EmoDB speaker 09: the declared development set"


def main(argv: list[str] | None = None) -> int:
    p = seed004_retrain.parser(__doc__)
    p.add_argument("--weights", help="start from these weights instead of the shipped ones")
    a = p.parse_args(argv)
    state = provenance.require_clean()
    provenance.code_state = lambda root=None: state  # the state that fitted, not the one at the end
    data = Path(a.data)
    spec, model = load_model("lightweight-streaming", a.weights)
    source = Path(a.weights) if a.weights else spec.weights_path()
    card = read_card(source) or {}
    if "decision_bias" in card:
        raise SystemExit(f"{source} already carries a decision bias: start from the weights before it")
    dev = development_samples(data)
    clips = class_bias.analyse(spec, model, dev)
    fitted = class_bias.fit(model, clips, [s.label for s in dev])
    model = class_bias.with_bias(spec, model, fitted["delta"])
    card = class_bias.record(
        card,
        fitted,
        spec.labels,
        dev,
        WHAT,
        "product path: speech-gated windows, EWMA clip decision",
        "the audio logits",
        "added to the audio CNN's classifier bias; the development UAR is optimistic (the bias was "
        "chosen on it); the recipe's own audio figures in 'networks' and 'metrics' predate the bias, the "
        "honest figures follow it; the fusion layer was fitted before it",
        "python packaging/fit_seed004_bias.py OUT",
    )
    save_state(model, a.output, card, half=True)
    print(fitted, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
