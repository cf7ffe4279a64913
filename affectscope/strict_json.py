"""Strict JSON: what Affectscope writes and prints is JSON every parser accepts.

Python's ``json`` writes bare ``NaN``/``Infinity`` tokens by default, which JavaScript, jq, R and
PostgreSQL's ``jsonb`` all reject. Here an undefined number (NaN, ±inf) becomes ``null`` and
``allow_nan=False`` proves none slipped through. numpy scalars and arrays become plain numbers and
lists, so callers need no ``default=`` of their own. ``loads`` refuses those tokens when reading.
Every ``--json`` output and every JSON the project stores goes through this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import IO, Any

__all__ = ["clean", "dump", "dumps", "loads"]


def clean(obj: Any, default: Callable[[Any], Any] | None = None) -> Any:
    """Plain JSON types with every NaN/±inf replaced by ``None``.

    ``default`` converts what is neither a JSON type nor numpy (as ``json.dumps``' own
    ``default``); its result is cleaned too. Without it such objects raise ``TypeError``.
    """
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, int):
        return int(obj)  # int subclasses (IntEnum) as plain numbers, as json does
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {_key(k): clean(v, default) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v, default) for v in obj]
    item = getattr(obj, "tolist", None)  # numpy scalars and arrays, torch tensors
    if callable(item) and type(obj).__module__.split(".")[0] in ("numpy", "torch"):
        return clean(item(), default)
    if default is not None:
        return clean(default(obj), default=None)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _key(key: Any) -> str | int | float | bool | None:
    if isinstance(key, float) and not math.isfinite(key):
        return "null"  # json writes a key; a NaN key must not become the token NaN
    if hasattr(key, "item") and type(key).__module__.split(".")[0] == "numpy":
        return key.item()
    return key


def dumps(obj: Any, *, default: Callable[[Any], Any] | None = None, **kwargs: Any) -> str:
    """``json.dumps`` that writes ``null`` for NaN/±inf and never a non-standard token."""
    return json.dumps(clean(obj, default), allow_nan=False, **kwargs)


def dump(obj: Any, fp: IO[str], *, default: Callable[[Any], Any] | None = None, **kwargs: Any) -> None:
    """``json.dump`` with the rules of :func:`dumps`."""
    fp.write(dumps(obj, default=default, **kwargs))


def _refuse(token: str) -> Any:
    raise ValueError(f"not strict JSON: the token {token} is not a number")


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that refuses the ``NaN``/``Infinity``/``-Infinity`` tokens (ValueError)."""
    return json.loads(text, parse_constant=_refuse, **kwargs)
