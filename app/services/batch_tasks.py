"""What one batch worker does with one clip: extract its signals, or run a model over it (signals
through ``predict.clip_signals``, the same as ``affectscope predict`` and the window; the driver stores
the result through ``predict.store_prediction``).

These functions run inside Dask worker processes (or in-process for ``--engine local``), so they
take and return plain picklable values and never touch the project database: the driver
(``batch.py``) writes results as they arrive, one writer for SQLite and PostgreSQL alike. The
extraction cache is written here (atomic renames: a task rerun after a killed worker finds or
replaces a whole entry, never half of one). A bad clip is an outcome, not an exception, so the
batch goes on past it.

Models are loaded once per worker process: ``load_model`` keeps them per process, and
``MODEL_LOADS`` counts real loads so the summary can show it.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

MODEL_LOADS: dict[str, int] = {}  # model key -> loads in this process (1 when the cache works)
_LOADED: dict[tuple, Any] = {}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _model(name: str, weights: str | None, allow_untrained: bool) -> tuple[Any, Any]:
    """The loaded model, once per process (and per weights file)."""
    key = (name, weights, allow_untrained)
    if key not in _LOADED:
        from affectscope.models.inference import load_model

        # load_model puts the model on CUDA where the worker has it: GPU workers take GPU work.
        _LOADED[key] = load_model(name, weights, allow_untrained)
        MODEL_LOADS[name] = MODEL_LOADS.get(name, 0) + 1
    return _LOADED[key]


def _extracted(path: Path, modalities: tuple[str, ...], rate_hz: float, cache_dir: str | None) -> Any:
    """``batch extract``: perception of exactly these tracks into the cache (audio files: the waveform)."""
    from affectscope.models.extractors.pipeline import extract_clip
    from affectscope.models.inference import signals_for_file
    from affectscope.models.inputs import kind_of

    if kind_of(path) == "video":
        return extract_clip(path, modalities, rate_hz=rate_hz, project_dir=cache_dir)
    return signals_for_file(path, modalities)


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Do ``task["command"]`` ("extract" or "predict") for ``task["path"]``; return its outcome.

    The outcome has ``status`` "done" or "failed" (with ``error``, a message a person can act on),
    the ``worker`` that ran it, its ``seconds``, and for predict the ``analysis`` (probabilities).
    """
    from affectscope.errors import UserFacingError

    started = time.perf_counter()
    if task.get("torch_threads"):
        import torch

        torch.set_num_threads(int(task["torch_threads"]))
    out: dict[str, Any] = {"index": task["index"], "clip": task["path"], "worker": worker_name()}
    path = Path(task["path"])
    try:
        if task["command"] == "extract":
            signals = _extracted(path, tuple(task["modalities"]), task["rate_hz"], task["cache_dir"])
            out.update(
                frames_analysed=len(signals.frame_times),
                undecodable_frames=getattr(signals, "undecodable_frames", 0),
                cache_hit=bool(signals.from_cache),
            )
        else:
            from affectscope.app.services.predict import clip_signals
            from affectscope.models.inference import analyse_signals

            spec, model = _model(task["model"], task["weights"], task["allow_untrained"])
            # The window's and the predict command's signals: the cached analysis or perception.
            signals = clip_signals(path, tuple(spec.modalities), task["rate_hz"], cache_dir=task["cache_dir"])
            analysis = analyse_signals(spec, model, signals, weights=task["weights_used"])
            analysis.hidden = {}  # fusion inputs stay on the worker: the driver stores probabilities
            out["analysis"] = analysis
        out["status"] = "done"
    except UserFacingError as exc:
        out.update(status="failed", error=str(exc))
    except (OSError, ValueError, RuntimeError, MemoryError) as exc:
        # Not a known bad-input message, but still one clip: report it and let the batch go on.
        out.update(status="failed", error=f"{path.name}: {type(exc).__name__}: {exc}")
    out["seconds"] = round(time.perf_counter() - started, 3)
    out["model_loads"] = dict(MODEL_LOADS)
    return out
