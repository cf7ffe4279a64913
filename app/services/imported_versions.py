"""Imported versions among a project's versions: rows the Retrain tab compares with retrained ones.

An imported model file (``models import``) that has stored predictions in the project, and a set of
imported predictions (``import predictions``) of the project's label set, are versions like any other:
``versions compare`` takes them by name. The Retrain tab lists them beside the shipped row so the window
compares them too, through the same ``retrain.compare`` (scored on a retrained version's held-out
clips from their stored predictions; an imported file predicts the ones it lacks). Continuous imports
have no classes to score by UAR, so only versions of a categorical label set are listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from affectscope.app.services.shipped_version import untrained_row
from affectscope.db import lineage as lineage_rows
from affectscope.db.records import ModelVersionRecord
from affectscope.db.uow import unit_of_work
from affectscope.models.exchange.store import SUFFIX

# How a version came from outside, as a person reads it (the table's mark).
KINDS = {
    "predictions": "imported predictions",
    "onnx": "imported ONNX",
    "torchscript": "imported TorchScript",
}
_FILE_KIND = {suffix: kind for kind, suffix in SUFFIX.items()}


def imported_kind(record: ModelVersionRecord) -> str | None:
    """``predictions``, ``onnx`` or ``torchscript`` for a version brought from outside, else None
    (shipped weights, retrained versions, runs of built-in systems)."""
    if record.config.get("source") == "import":
        return "predictions"
    weights = record.config.get("weights")
    return _FILE_KIND.get(Path(weights).suffix.lower()) if weights else None


def imported_rows(project: Any, label_set: str | None = None) -> list[dict[str, Any]]:
    """Versions-table rows (keys as ``retrain.versions``, ``shipped`` false) of the imported versions
    with stored whole-clip predictions in ``label_set``, oldest first; ``imported`` names the kind and
    ``n_clips`` how many clips they predicted. Lineage fields are None: they were not trained here."""
    label_set = label_set or project.label_set
    with unit_of_work(project.db) as s:
        active = lineage_rows.active_version(s, label_set)
        found = lineage_rows.untrained_versions_with_predictions(s, label_set)
    rows = []
    for rec, n_clips in found:
        kind = imported_kind(rec)
        if kind is None:
            continue
        row = untrained_row(rec, shipped=False, active=rec.id == active)
        rows.append(row | {"imported": kind, "n_clips": n_clips})
    return rows
