"""Retrain seed 004's audio CNN (and its fusion layer) with the checkpoint chosen on the development set.

``python packaging/retrain_seed004_audio.py OUT.safetensors [--select development|emodb]
[--speaker-norm|--no-speaker-norm] [--epochs E] [--seed N]``

Runs ``recipes.default_004`` with ``parts=("audio", "fusion")``, warm-started from the shipped weights
(face and mouth networks kept). The audio CNN learns from EmoDB's training speakers only; with
``--select development`` its checkpoint is chosen on EmoDB speaker 09 **and RAVDESS actors 1-12** (the
declared development set: the epoch that carries best to unseen English speakers), never on RAVDESS
13-20 or EmoDB 03 + 08, which stay tests. Whether the result ships is decided on the development set
through the product path (docs/models.md).

The code state is read once, before training, and must be clean (as ``retrain_seed004_face.py``).
Write OUT outside the work tree and copy it (and its card) into resources/weights afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from affectscope.models import provenance
from affectscope.models.registry import get
from affectscope.models.training.recipes import AUDIO_SELECT, default_004
from affectscope.models.weights import read_card, write_card


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output")
    p.add_argument("--data", default=os.environ.get("AFFECTSCOPE_SHARED_DATA", "../shared/data"))
    p.add_argument("--select", choices=sorted(AUDIO_SELECT), default="development")
    p.add_argument("--speaker-norm", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    state = provenance.require_clean()
    provenance.code_state = lambda root=None: state  # the state that trained, not the one at the end
    card = default_004(
        Path(a.output),
        Path(a.data),
        parts=("audio", "fusion"),
        base=get("lightweight-streaming").weights_path(),
        audio_epochs=a.epochs,
        seed=a.seed,
        audio_select=a.select,
        speaker_norm=a.speaker_norm,
    )
    card = read_card(a.output) or card
    norm = "" if a.speaker_norm is None else (" --speaker-norm" if a.speaker_norm else " --no-speaker-norm")
    card["command"] = (
        f"python packaging/retrain_seed004_audio.py OUT --select {a.select}{norm} --epochs {a.epochs} "
        f"--seed {a.seed} (= {card['command']})"
    )
    write_card(a.output, card, code=state)
    audio = card["networks"]["audio"]
    print(audio["fit"], audio["test"]["uar"], file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
