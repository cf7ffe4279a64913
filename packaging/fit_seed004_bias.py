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

import bias_fit  # packaging/, beside this script
import seed004_retrain

from affectscope.models import class_bias


def main(argv: list[str] | None = None) -> int:
    p = seed004_retrain.parser(__doc__)
    p.add_argument("--weights", help="start from these weights instead of the shipped ones")
    a = p.parse_args(argv)
    b = bias_fit.start("lightweight-streaming", a.weights, Path(a.data))
    fitted = class_bias.fit(b.model, b.clips, [s.label for s in b.dev])
    bias_fit.finish(
        b,
        fitted,
        a.output,
        "product path: speech-gated windows, EWMA clip decision",
        "the audio logits",
        "added to the audio CNN's classifier bias; the development UAR is optimistic (the bias was "
        "chosen on it); the recipe's own audio figures in 'networks' and 'metrics' predate the bias, the "
        "honest figures follow it; the fusion layer was fitted before it",
        "python packaging/fit_seed004_bias.py OUT",
    )
    print(fitted, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
