"""Retrain seed 004's audio CNN (and its fusion layer) with the checkpoint chosen on the development set.

``python packaging/retrain_seed004_audio.py OUT.safetensors [--select development|emodb]
[--speaker-norm|--no-speaker-norm] [--epochs E] [--seed N] [--scratch]``

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
import sys

import seed004_retrain  # packaging/, beside this script

from affectscope.models.training.recipes import AUDIO_SELECT


def main(argv: list[str] | None = None) -> int:
    p = seed004_retrain.parser(__doc__)
    p.add_argument("--select", choices=sorted(AUDIO_SELECT), default="development")
    p.add_argument("--speaker-norm", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scratch", action="store_true", help="the audio CNN from fresh weights, not the shipped")
    a = p.parse_args(argv)
    card, state = seed004_retrain.retrain(
        a.output,
        a.data,
        ("audio", "fusion"),
        audio_epochs=a.epochs,
        seed=a.seed,
        audio_select=a.select,
        speaker_norm=a.speaker_norm,
        audio_scratch=a.scratch,
    )
    norm = "" if a.speaker_norm is None else (" --speaker-norm" if a.speaker_norm else " --no-speaker-norm")
    seed004_retrain.write(
        a.output,
        card,
        state,
        f"python packaging/retrain_seed004_audio.py OUT --select {a.select}{norm} --epochs {a.epochs} "
        f"--seed {a.seed}" + (" --scratch" if a.scratch else ""),
    )
    audio = card["networks"]["audio"]
    print(audio["fit"], audio["test"]["uar"], file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
