"""Development figures of seed 004 audio CNNs averaged over training seeds (issue 19, docs/models.md).

``python packaging/seed004_seed_average.py W1.safetensors W2.safetensors ... [--decision model|mean]
[--data DIR]``

Analyses the development speech (RAVDESS actors 1-12 and EmoDB speaker 09, n = 667) through the
product path once per weights file (``class_bias.analyse``: speaker statistics first, speech-gated
windows), averages the windows' log-probabilities over the files (audio-only clips: the fused output
is the audio CNN's), and prints, as JSON, each file's development UAR and the average's, as is and
with its development-chosen bias (``class_bias.fit``). ``--decision mean`` decides a clip by the
speech-weighted mean over windows instead of seed 004's EWMA. Test sets are never read.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from affectscope import strict_json
from affectscope.models import class_bias
from affectscope.models.inference import load_model
from affectscope.models.training.tuning import development_samples


def average(sets: list[list[class_bias.Windows]]) -> list[class_bias.Windows]:
    """Per clip, the mean of the networks' window log-probabilities, renormalised."""
    out = []
    for clips in zip(*sets, strict=True):
        lp = np.mean([np.log(np.clip(c.fused, 1e-9, 1.0)) for c in clips], axis=0)
        p = np.exp(lp - lp.max(axis=1, keepdims=True))
        out.append(class_bias.Windows(p / p.sum(axis=1, keepdims=True), clips[0].votes))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", nargs="+")
    p.add_argument("--decision", choices=("model", "mean"), default="model")
    p.add_argument("--data", default=os.environ.get("AFFECTSCOPE_SHARED_DATA", "../shared/data"))
    a = p.parse_args(argv)
    dev = development_samples(Path(a.data))
    y = np.array([s.label for s in dev])
    sets, report = [], {}
    for w in a.weights:
        spec, model = load_model("lightweight-streaming", w)
        sets.append(class_bias.analyse(spec, model, dev))
        decider = model if a.decision == "model" else None  # None: the weighted mean (clip_decision)
        rec = class_bias.recalls(y, class_bias.decisions(decider, sets[-1], np.zeros(len(spec.labels))), 3)
        report[Path(w).name] = {"uar": float(np.mean(rec)), "recalls": rec}
    report["average"] = class_bias.fit(decider, average(sets), y)
    report["average"].update(n=len(dev), networks=len(sets), decision=a.decision)
    print(strict_json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
