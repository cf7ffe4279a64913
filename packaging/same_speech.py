"""Do two weights files of one system decide the development speech alike? (issue 19, item 5)

``python packaging/same_speech.py NAME NEW.safetensors [--old W] [--data DIR]``

Runs every development clip (RAVDESS actors 1-12 and EmoDB speaker 09, n = 667) through the product
path (``analyse_signals``, speech-gated) with the shipped weights of NAME (or ``--old``) and with NEW,
and prints the largest difference between their window probabilities as JSON. A face head retrained
alone (``train --parts face``) must leave it at 0: the rule that shipped fusical's and skeleton-fusion's
retrained face heads.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from affectscope import strict_json
from affectscope.models.inference import analyse_signals, load_model, signals_for_file
from affectscope.models.training.tuning import development_samples


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name")
    p.add_argument("new")
    p.add_argument("--old", help="the weights to compare with (default: the shipped ones)")
    p.add_argument("--data", default=os.environ.get("AFFECTSCOPE_SHARED_DATA", "../shared/data"))
    a = p.parse_args(argv)
    dev = development_samples(Path(a.data))
    spec, old = load_model(a.name, a.old)
    _, new = load_model(a.name, a.new)
    worst, windows = 0.0, 0
    for s in dev:
        signals = signals_for_file(s.path, tuple(spec.modalities))
        before = np.asarray(analyse_signals(spec, old, signals, gate=True).fused)
        after = np.asarray(analyse_signals(spec, new, signals, gate=True).fused)
        worst, windows = max(worst, float(np.abs(before - after).max())), windows + len(before)
    print(strict_json.dumps({"model": a.name, "clips": len(dev), "windows": windows, "max_abs_diff": worst}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
