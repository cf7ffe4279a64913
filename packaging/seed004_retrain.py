"""What the seed 004 partial-retrain scripts share (``retrain_seed004_face.py``, ``..._audio.py``).

The code state is read once, before training, and must be clean: it is what trained the weights (edits
made in the work tree while a long run goes on must not be recorded as its code). Training starts
from the shipped weights; the card is rewritten with the script's own command in front of the
recipe's, so the card says how to reproduce the file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from affectscope.models import provenance
from affectscope.models.registry import get
from affectscope.models.training.recipes import default_004
from affectscope.models.weights import read_card, write_card


def parser(doc: str) -> argparse.ArgumentParser:
    """OUT and ``--data``, the arguments every retrain script takes."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("output")
    p.add_argument("--data", default=os.environ.get("AFFECTSCOPE_SHARED_DATA", "../shared/data"))
    return p


def retrain(output: str, data: str, parts: tuple[str, ...], **options: Any) -> tuple[dict, dict]:
    """(card, code state): ``default_004`` on ``parts`` from the shipped weights, from clean code."""
    state = provenance.require_clean()
    provenance.code_state = lambda root=None: state  # the state that trained, not the one at the end
    card = default_004(
        Path(output), Path(data), parts=parts, base=get("lightweight-streaming").weights_path(), **options
    )
    return read_card(output) or card, state


def write(output: str, card: dict[str, Any], state: dict[str, Any], command: str) -> None:
    """The card with ``command`` (the script's) in front of the recipe's, under the code ``state``."""
    card["command"] = f"{command} (= {card['command']})"
    write_card(output, card, code=state)
