"""Retrain seed 004's face CNN (and its fusion layer) on the sharp FER-2013 train images (issue 19, 5).

``python packaging/retrain_seed004_face.py OUT.safetensors [--per-epoch N] [--epochs E] [--seconds S]``

Runs ``recipes.default_004`` with ``parts=("face", "fusion")``, ``--distill-face``, warm-started from
the shipped weights (audio and mouth networks kept). The epoch is chosen on a random 10 % validation
split of FER-2013 train (at most 2,000 images), never on the test sample. Time-boxed (``--seconds``)
with ``--per-epoch`` class-balanced images per epoch, because the shared CPU trains ~20 images/s.

The code state is read once, before training, and must be clean: it is what trained the weights
(edits made in the work tree while the run goes on must not be recorded as its code). Write OUT
outside the work tree and copy it (and its card) into resources/weights afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

import seed004_retrain  # packaging/, beside this script


def main(argv: list[str] | None = None) -> int:
    p = seed004_retrain.parser(__doc__)
    p.add_argument("--per-epoch", type=int, default=6000)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--seconds", type=float, default=1500.0)
    p.add_argument("--cache", default="/tmp/affectscope_fer_sharp_cache")
    a = p.parse_args(argv)
    card, state = seed004_retrain.retrain(
        a.output,
        a.data,
        ("face", "fusion"),
        face_distill=True,
        face_epochs=a.epochs,
        face_per_epoch=a.per_epoch,
        cache_dir=Path(a.cache),
        max_face_seconds=a.seconds,
    )
    fit = card["networks"]["face"]["fit"]
    card["known_limits"].append(
        f"The face CNN's distillation was time-boxed on a shared 2-core CPU: {fit['epochs_run']} epochs "
        f"of {a.per_epoch} class-balanced FER-2013 train images (a subsample of the "
        f"{card['networks']['face']['n_train']} training images per epoch), {fit['seconds']:.0f} s."
    )
    seed004_retrain.write(
        a.output,
        card,
        state,
        f"python packaging/retrain_seed004_face.py OUT --per-epoch {a.per_epoch} --epochs {a.epochs} "
        f"--seconds {a.seconds:g}",
    )
    print(card["networks"]["face"]["fit"]["history"], card["metrics"]["face_fer_test"], file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
