"""Seed 004's research recipes (never shipped): ``research-004`` and ``ravdess-audio-004``.

``research-004``: seed 004's audio CNN trained on EmoDB and the RAVDESS development actors (issue 19).

Research only, never shipped (RAVDESS is CC BY-NC-SA): weights go to /tmp. The default model with
its spectrogram CNN retrained under the declared protocol, with the same per-speaker standardisation
as the shipped one: training on EmoDB's seven training speakers (not 03, 08, 09) and RAVDESS actors
1–10; checkpoints chosen on the development speakers left out of training, EmoDB 09 and RAVDESS
11–12; tested on RAVDESS 13–20 and EmoDB 03 + 08, which chose nothing. The other networks (face,
mouth, fusion) are the shipped ones. ``ravdess-audio-004``, from before the protocol: the audio CNN
on RAVDESS actors 1–14 (15–16 validation), tested on 17–20.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from affectscope.analysis.metrics import classification_report
from affectscope.jobs import Job, ensure_job
from affectscope.models.provenance import records_of
from affectscope.models.registry import get
from affectscope.models.training import datasets as ds
from affectscope.models.training.card_records import network_records, seed004_records
from affectscope.models.training.protocols import paper_004
from affectscope.models.training.splits import by_speakers

#: ``ravdess-audio-004`` (RAVDESS only, from before the declared protocol): train, validation, test
RAVDESS_TRAIN_ACTORS = set(range(1, 15))
RAVDESS_VAL_ACTORS = {15, 16}
RAVDESS_TEST_ACTORS = {17, 18, 19, 20}
RAVDESS_TRAIN = set(range(1, 11))
RAVDESS_VAL = {11, 12}
RAVDESS_TEST = set(range(13, 21))


def research_004(
    out: Path,
    data: Path,
    job: Job | None = None,
    audio_epochs: int = 30,
    max_seconds: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    from affectscope.models.training.recipes import MODEL, audio_report, load_matching, train_audio
    from affectscope.models.weights import read_card, save_state

    job = ensure_job(job)
    spec = get(MODEL)
    model = spec.build(speaker_norm=True)  # this recipe studies the normalised input
    base = spec.weights_path()
    load_matching(model, Path(base))  # the face, mouth and fusion networks; the audio CNN retrains
    emodb = ds.emodb(data / "emodb")
    rest, emodb_test = by_speakers(emodb, ("emodb:03", "emodb:08"))
    emodb_train, emodb_val = by_speakers(rest, ("emodb:09",))
    root = data / "ravdess_speech"
    train = emodb_train + ds.ravdess(root, actors=RAVDESS_TRAIN)
    val = emodb_val + ds.ravdess(root, actors=RAVDESS_VAL)
    res = train_audio(
        model, train, val, audio_epochs, job, "audio CNN (EmoDB + RAVDESS 1-10)", max_seconds, seed
    )
    tests = {
        "ravdess_13_20": audio_report(
            model, ds.ravdess(root, actors=RAVDESS_TEST), job, "RAVDESS 13-20 (per file)"
        ),
        "emodb_03_08": audio_report(model, emodb_test, job, "EmoDB 03+08 (per file)"),
    }
    for rep in tests.values():
        rep.pop("_file_probs")
    card = {
        "model": MODEL,
        "recipe": "research-004",
        "command": f"affectscope train {MODEL} --recipe research-004 -o {out}",
        "research_only": "RAVDESS is CC BY-NC-SA: do not ship these weights",
        "split": "speaker independent: train EmoDB (not 03, 08, 09) + RAVDESS 1-10; validation EmoDB 09 + "
        "RAVDESS 11-12 (development); test RAVDESS 13-20 and EmoDB 03+08",
        "speaker_norm": model.speaker_norm,  # load_model follows it
        "normalisation": "spectrogram rows standardised per speaker" if model.speaker_norm else None,
        "labels": list(spec.labels),
        "fit": res.summary(),
        "tests": tests,
        "collapse_guard": {k: r["warnings"] for k, r in tests.items() if r["warnings"]} or "no collapse",
        "data_records": seed004_records(
            "research-004",
            data,
            {
                "audio": network_records(
                    train, val, "audio CNN: EmoDB + RAVDESS 1-10, validation EmoDB 09 + RAVDESS 11-12"
                )
            },
            records_of(read_card(base)),
        ),
    }
    save_state(model.cpu(), out, card, half=True)
    return card


def ravdess_audio_004(
    out: Path,
    data: Path,
    job: Job | None = None,
    base: Path | None = None,
    audio_epochs: int = 30,
    max_seconds: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The research model: audio CNN trained on RAVDESS actors 1–14 (val 15–16), tested on 17–20."""
    from affectscope.models.training.recipes import (
        LABELS,
        MODEL,
        _fit_row,
        audio_report,
        load_matching,
        train_audio,
    )
    from affectscope.models.weights import read_card, save_state

    job = ensure_job(job)
    spec = get(MODEL)
    model = spec.build()
    base = base or spec.weights_path()
    if base is not None and Path(base).exists():
        load_matching(model, Path(base))  # the face, mouth and fusion networks; audio retrains
    root = data / "ravdess_speech"
    train = ds.ravdess(root, actors=RAVDESS_TRAIN_ACTORS)
    val = ds.ravdess(root, actors=RAVDESS_VAL_ACTORS)
    test = ds.ravdess(root, actors=RAVDESS_TEST_ACTORS)
    res = train_audio(model, train, val, audio_epochs, job, "audio CNN (RAVDESS 1-14)", max_seconds, seed)
    report = audio_report(model, test, job, "RAVDESS actors 17-20 (per file)")
    probs = report.pop("_file_probs")
    keep = {s.path: i for i, s in enumerate(test)}
    paper = paper_004(test)
    paper_rep = classification_report(
        [s.label for s in paper], probs[np.array([keep[s.path] for s in paper], dtype=int)].argmax(1), LABELS
    )
    card = {
        "model": MODEL,
        "recipe": "ravdess-audio-004",
        "command": f"affectscope train {MODEL} --recipe ravdess-audio-004 -o {out}",
        "research_only": "RAVDESS is CC BY-NC-SA: do not ship these weights",
        "split": "speaker independent: train actors 1-14, validation 15-16, test 17-20",
        "labels": list(LABELS),
        "fit": _fit_row(res),
        "test": report,
        "test_paper_protocol": paper_rep,
        "metrics": {
            "audio_ravdess_17_20_uar": report["uar"],
            "uar_ci": report["ci"]["uar"],
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
            "paper_protocol_uar": paper_rep["uar"],
        },
        "collapse_guard": report["warnings"] or "no collapse",
        "data_records": seed004_records(
            "ravdess-audio-004",
            data,
            {"audio": network_records(train, val, "audio CNN: RAVDESS actors 1-14, validation 15-16")},
            records_of(read_card(base)) if base is not None and Path(base).exists() else None,
        ),
    }
    save_state(model.cpu(), out, card, half=True)
    return card
