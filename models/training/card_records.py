"""The ``data_records`` each recipe writes into its model card (``models/provenance.py``, issue 19).

One function per recipe family says which samples trained, validated and tuned the weights, so the
recipes themselves stay about training, and ``packaging/reconstruct_records.py`` can rebuild the
records of weights trained before records existed from the very same rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from affectscope.models.provenance import data_records, merge_records
from affectscope.models.training import datasets as ds
from affectscope.models.training.tuning import tuning_for

_MINI_XCEPTION = (
    "the face input is the pretrained mini-Xception's, which learnt from FER-2013 train (published "
    "weights, not itemised here)"
)


def system_records(
    recipe: str,
    data: Path,
    train: Sequence[ds.Sample],
    val: Sequence[ds.Sample],
    reconstructed: bool = False,
    how: str = "",
) -> dict[str, Any]:
    """Seeds 000–003: training speech and faces (pairs combine them), their validation sets (which
    chose every stage's epoch), and the recipe's declared tuning data."""
    tuning, why = tuning_for(recipe, data)
    return data_records(
        train,
        val,
        tuning,
        reconstructed=reconstructed,
        notes={
            "train": "EmoDB training speakers and the FER-2013 faces the heads learnt from (synthetic pairs "
            f"combine them); {_MINI_XCEPTION}" + (f"; {how}" if how else ""),
            "validation": "EmoDB speaker 09 and the FER-2013 validation faces: they chose each stage's epoch",
            "tuning": why,
        },
    )


def network_records(
    train: Sequence[ds.Sample], val: Sequence[ds.Sample], what: str, reconstructed: bool = False
) -> dict[str, Any]:
    """One seed 004 network's records (its training and checkpoint-choosing samples)."""
    return data_records(train, val, reconstructed=reconstructed, notes={"train": what, "validation": what})


def seed004_records(
    recipe: str,
    data: Path,
    networks: Mapping[str, Mapping[str, Any] | None],
    old: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The card's records: the networks trained now, the previous card's records when a partial retrain
    started from it (``--init``: every network warm-starts from those weights, so their data still
    shaped them), and the recipe's tuning data."""
    tuning, why = tuning_for(recipe, data)
    own = data_records((), (), tuning, notes={"tuning": why})
    return merge_records(old, *networks.values(), own)


def samples_of(paths: Sequence[str | Path]) -> list[ds.Sample]:
    """Plain files as samples (label unknown, speaker from the name) for records of clips."""
    return [ds.Sample(Path(p), -1, ds.speaker_of(p), "file") for p in paths]


def card_metrics(tests: Mapping[str, Mapping[str, Any]], labels: Sequence[str]) -> dict[str, Any]:
    """The card's ``metrics``: per test set its UAR with CI, accuracy, macro-F1 and per-class recall
    (None where a report has no per-class part), from ``classification_report``-shaped ``tests``."""
    return {
        k: {
            "uar": v["uar"],
            "uar_ci": v.get("ci", {}).get("uar"),
            "accuracy": v["accuracy"],
            "macro_f1": v["macro_f1"],
            "recall": {c: v["per_class"][c]["recall"] for c in labels} if "per_class" in v else None,
        }
        for k, v in tests.items()
    }
