"""Joining models and the project database: store an ``Analysis``, record trained versions, list labels.

``models/`` computes, ``db/`` stores; neither knows the other, so the join lives here. A model
version is identified by the model name and its weights' SHA-256 (first 12 hex digits as version),
so re-running the same weights replaces their earlier predictions and new weights make a new version.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectscope.db import predictions as pred_rows
from affectscope.db.uow import unit_of_work


def weights_sha256(path: str | Path | None) -> str | None:
    if path is None or not Path(path).is_file():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_version(
    project: Any,
    name: str,
    label_set: str,
    labels: tuple[str, ...] | list[str],
    weights: str | Path | None,
    config: dict | None = None,
) -> int:
    """Get or create the project's row for (model, weights); returns its id. A model of continuous
    outputs records their kind and ranges, whichever path records its version first (a run, batch, a
    comparison or a study arm naming it)."""
    if label_set == "continuous":
        from affectscope.models.registry import get

        with contextlib.suppress(KeyError):  # not registered here: nothing declared to add
            config = {**continuous_config(get(name)), **(config or {})}
    digest = weights_sha256(weights)
    version = digest[:12] if digest else "untrained"
    with unit_of_work(project.db, write=True) as s:
        rec = pred_rows.record_model_version(
            s,
            name,
            version,
            label_set,
            list(labels),
            digest,
            {"weights": str(weights) if weights else None, **(config or {})},
        )
        return rec.id


def store_analysis(project: Any, clip_id: int, analysis: Any, label_set: str | None = None) -> int:
    """Write an ``Analysis`` (clip probabilities and every timeline) for a clip; returns rows written."""
    from affectscope.models.registry import get

    spec = get(analysis.model)
    version_id = record_version(
        project,
        analysis.model,
        label_set or spec.label_set,
        analysis.labels,
        analysis.weights,
    )
    written = 0
    with unit_of_work(project.db, write=True) as s:
        for lane, timeline in analysis_lanes(analysis).items():
            written += pred_rows.add_predictions(
                s,
                version_id,
                clip_id,
                clip_probs=analysis.clip_probs.tolist() if lane == "fused" else None,
                timeline=timeline,
                modality=lane,
            )
    return written


def continuous_config(spec: Any) -> dict[str, Any]:
    """A version's record of a model with named continuous outputs: the same ``kind`` and ``ranges`` an
    import of continuous predictions records, so lanes, evaluation and figures read both alike."""
    if spec.label_set != "continuous":
        return {}
    declared = spec.config.get("spec", {}).get("continuous") or []
    return {"kind": "continuous", "ranges": {o["name"]: list(o["range"]) for o in declared}}


def analysis_lanes(analysis: Any) -> dict[str, list[tuple[float, float, list[float]]]]:
    """lane (fused, each modality, accumulated) -> timeline of (t_start, t_end, probs) of an Analysis."""
    win = analysis.window[0]
    starts = analysis.times - win / 2
    lanes = {"fused": analysis.fused, **analysis.per_modality}
    if analysis.accumulated is not None:
        lanes["accumulated"] = analysis.accumulated
    return {
        lane: [(float(t), float(t + win), p.tolist()) for t, p in zip(starts, probs, strict=True)]
        for lane, probs in lanes.items()
    }


def record_trained(project: Any, name: str, weights: str | Path, card: dict[str, Any]) -> int:
    """Record a newly trained version with its metrics and data in the project database."""
    keep = {
        k: card.get(k) for k in ("metrics", "split", "source", "recipe", "date", "code_version", "label_set")
    }
    labels = card.get("labels") or card.get("validation", {}).get("labels") or []
    return record_version(project, name, card.get("label_set", "sentiment3"), labels, weights, keep)


def labelled_files(project: Any, label_set: str | None = None) -> list[tuple[Path, str]]:
    """(file, current label) of every present, labelled clip: the training set a project offers."""
    from affectscope.db.clips import ClipQuery

    chosen = label_set or project.label_set
    rows = project.clips(ClipQuery(label_set=chosen))
    return [(Path(r.path), r.label) for r in rows if r.label and r.status == "ok" and Path(r.path).exists()]


@dataclass
class StoredAnalysis:
    """An ``Analysis`` as the project stored it: what the window redraws when a clip is opened again.

    Carries the fields the Models tab shows (no hidden states: those are not stored).
    """

    model: str
    version: str
    labels: tuple[str, ...]
    times: np.ndarray  # window centres, seconds
    window: tuple[float, float]  # (length, hop) as far as the stored windows tell
    per_modality: dict[str, np.ndarray]
    fused: np.ndarray
    clip_probs: np.ndarray
    clip_label: str
    accumulated: np.ndarray | None = None
    hidden: dict[str, np.ndarray] = field(default_factory=dict)
    weights: str | None = None
    stored: bool = True
    value_range: tuple[float, float] | None = None  # continuous outputs: the lanes' extent (None: 0..1)


def load_stored_analysis(project: Any, path: str | Path) -> StoredAnalysis | None:
    """The clip's newest stored analysis (every lane of that model version), or None if none is stored."""
    try:
        clip = project.clip(str(path))
    except Exception:  # noqa: BLE001 - a clip outside the project simply has nothing stored
        return None
    with unit_of_work(project.db) as s:
        stored = pred_rows.newest_clip_lanes(s, clip.id)
    if stored is None:
        return None
    version, decision, lanes = stored
    labels = version.labels
    clip_probs = np.asarray(decision.probs, dtype=np.float64)
    config = version.config
    name, tag, weights = version.name, version.version, config.get("weights")
    fused_rows = lanes.pop("fused", [])
    if not fused_rows:
        return None
    times = np.array([(r.t_start + r.t_end) / 2 for r in fused_rows])
    win = float(fused_rows[0].t_end - fused_rows[0].t_start)
    hop = float(times[1] - times[0]) if len(times) > 1 else win
    as_array = lambda rows: np.array([r.probs for r in rows], dtype=np.float64)  # noqa: E731
    accumulated = lanes.pop("accumulated", None)
    return StoredAnalysis(
        model=name,
        version=tag,
        labels=labels,
        times=times,
        window=(win, hop),
        per_modality={k: as_array(v) for k, v in lanes.items()},
        fused=as_array(fused_rows),
        clip_probs=clip_probs,
        clip_label=labels[int(np.argmax(clip_probs))] if labels else decision.label,
        accumulated=as_array(accumulated) if accumulated else None,
        weights=weights,
        value_range=continuous_range(config, as_array(fused_rows))
        if config.get("kind") == "continuous"
        else None,
    )


def continuous_range(config: dict, values: np.ndarray) -> tuple[float, float]:
    """The extent continuous lanes are drawn over: the declared ranges' union; else -1..1 (valence and
    arousal's usual scale) when the values fit in it; else the values' own extent."""
    declared = list((config.get("ranges") or {}).values())
    if declared:
        return float(min(lo for lo, _ in declared)), float(max(hi for _, hi in declared))
    lo, hi = (float(values.min()), float(values.max())) if values.size else (-1.0, 1.0)
    if lo >= -1.0 and hi <= 1.0:
        return -1.0, 1.0
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)
