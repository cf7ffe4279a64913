"""Model outputs must be finite numbers: NaN or infinite probabilities are refused, never labelled.

Torch-free so that every place that turns a model's numbers into a prediction (``Analysis``, the
evaluation loop, the quick audio model, Keras explanation) can call the same check cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from affectscope.errors import UserFacingError


class ModelOutputError(UserFacingError):
    """A model produced NaN or infinite outputs: never labelled, stored or shown as a prediction."""


def check_outputs(model: str, lanes: Mapping[str, Any]) -> None:
    """Raise ``ModelOutputError`` when any output lane (None skipped) holds a NaN or infinite value."""
    bad = [name for name, a in lanes.items() if a is not None and not np.isfinite(np.asarray(a, float)).all()]
    if bad:
        raise ModelOutputError(
            f"{model} gave NaN or infinite outputs ({', '.join(bad)}); nothing was labelled or stored. "
            "Its weights or this input are broken."
        )
