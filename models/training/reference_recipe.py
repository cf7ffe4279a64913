"""Train the eGeMAPS + linear reference (``egemaps-linear``) under the declared protocol (issue 19).

``reference-egemaps`` (shipped; EmoDB is CC0): trains on EmoDB speakers other than 03, 08 (test)
and 09 (development); the logistic regression's C is chosen on the development set (EmoDB 09 +
RAVDESS actors 1–12), then tested on EmoDB 03 + 08 and RAVDESS 13–20, which choose nothing.
``reference-egemaps-research`` (never shipped: RAVDESS is CC BY-NC-SA): trains on the same EmoDB
speakers plus RAVDESS 1–12, C chosen by speaker-grouped 4-fold cross-validation on that training
set; same tests. Features are standardised per speaker with the speaker's own statistics
(``systems.reference.group_statistics``), training and test alike; each test is also reported
without that (the training set's pooled statistics), to show what the normalisation does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from affectscope.analysis.metrics import classification_report
from affectscope.jobs import Job, ensure_job
from affectscope.models.provenance import code_state, data_records
from affectscope.models.registry import get
from affectscope.models.systems.reference import FEATURE_SET, group_statistics
from affectscope.models.training import datasets as ds
from affectscope.models.training.card_records import card_metrics
from affectscope.models.training.splits import by_speakers

RECIPES = {
    "reference-egemaps": "reference_egemaps_linear.safetensors",
    "reference-egemaps-research": "reference_egemaps_linear_research.safetensors",
}
CS = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.1, 1.0)
EMODB_TEST, EMODB_DEV = ("emodb:03", "emodb:08"), ("emodb:09",)
RAVDESS_DEV, RAVDESS_TEST = set(range(1, 13)), set(range(13, 21))


def features(samples: list[ds.Sample], job: Job) -> np.ndarray:
    """eGeMAPS functionals of each file's whole waveform, as the product decodes it (disk-cached)."""
    from affectscope.models.systems.audio_functionals import audio_functionals
    from affectscope.models.training.loaders import load_audio
    from affectscope.models.training.system_data import cache_dir

    out = []
    for i, s in enumerate(samples):
        job.check()
        wave = load_audio(s.path)
        out.append(audio_functionals(wave, 16000, FEATURE_SET, cache_dir=cache_dir() / "functionals"))
        job.progress(i + 1, len(samples), "eGeMAPS functionals")
    return np.stack(out).astype(np.float64)


def speaker_z(x: np.ndarray, samples: list[ds.Sample]) -> np.ndarray:
    mean, std, _ = group_statistics(x, [s.speaker for s in samples], min_group=2)
    return (x - mean) / std


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y)


def _uar(y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(y, pred))


def train_reference(recipe: str, out: Path, data: Path, job: Job | None = None) -> dict[str, Any]:
    """Fit, choose C on development data, test; write the weights and the card; return the card."""
    from affectscope.models.weights import save_state

    job = ensure_job(job)
    code = code_state()  # before the weights exist: written into the tree, they would read as "dirty"
    labels = list(get("egemaps-linear").labels)
    emodb = ds.emodb(data / "emodb")
    rest, emodb_test = by_speakers(emodb, EMODB_TEST)
    emodb_train, emodb_dev = by_speakers(rest, EMODB_DEV)
    rav_dev = ds.ravdess(data / "ravdess_speech", actors=RAVDESS_DEV)
    rav_test = ds.ravdess(data / "ravdess_speech", actors=RAVDESS_TEST)
    research = recipe.endswith("research")
    train = emodb_train + (rav_dev if research else [])
    dev = emodb_dev + ([] if research else rav_dev)
    x_train_raw = features(train, job)
    y_train = np.asarray([s.label for s in train])
    x_train = speaker_z(x_train_raw, train)
    choice: dict[str, float] = {}
    if research:  # the development actors are training data here: speaker-grouped cross-validation
        from sklearn.model_selection import GroupKFold

        groups = [s.speaker for s in train]
        for c in CS:
            scores = []
            for a, b in GroupKFold(n_splits=4).split(x_train, y_train, groups):
                scores.append(_uar(y_train[b], _fit(x_train[a], y_train[a], c).predict(x_train[b])))
            choice[str(c)] = round(float(np.mean(scores)), 4)
    else:
        x_dev = speaker_z(features(dev, job), dev)
        y_dev = np.asarray([s.label for s in dev])
        for c in CS:
            choice[str(c)] = round(_uar(y_dev, _fit(x_train, y_train, c).predict(x_dev)), 4)
    best_c = float(max(CS, key=lambda c: (choice[str(c)], -c)))
    clf = _fit(x_train, y_train, best_c)
    pooled = (x_train_raw.mean(0), x_train_raw.std(0) + 1e-6)
    tests: dict[str, Any] = {}
    for key, samples, what in (
        ("emodb_test", emodb_test, "EmoDB speakers 03, 08 (per file)"),
        (
            "ravdess_test",
            rav_test,
            "RAVDESS actors 13-20, cross-corpus (per file; never trained or chosen on)",
        ),
    ):
        x = features(samples, job)
        y = np.asarray([s.label for s in samples])
        tests[key] = {"set": what, **classification_report(y, clf.predict(speaker_z(x, samples)), labels)}
        tests[f"{key}_without_speaker_norm"] = {
            "set": what + ", the training set's pooled statistics instead of each speaker's",
            **classification_report(y, clf.predict((x - pooled[0]) / pooled[1]), labels),
        }
    model = get("egemaps-linear").build()
    model.set_linear(clf.coef_, clf.intercept_, *pooled)
    train_names = "EmoDB speakers " + ", ".join(sorted({s.speaker for s in emodb_train}))
    card = {
        "model": "egemaps-linear",
        "recipe": recipe,
        "command": f"affectscope train egemaps-linear --recipe {recipe} -o {out}",
        "labels": labels,
        "label_mapping": "positive = happy; neutral = neutral, calm, boredom; negative = angry, sad, fear, "
        "disgust; surprise left out",
        "code": code,
        "trained_branches": ["audio"],
        "features": "openSMILE eGeMAPSv02 functionals (88) over each file's whole waveform",
        "normalisation": "each speaker's features standardised with that speaker's own mean and standard "
        "deviation, in training and at test; in the product the statistics come from the project's "
        "own clips being analysed (per speaker with >= 5 clips, else all clips of the run pooled, else "
        "this training set's pooled statistics, stored in the weights)",
        "classifier": f"scikit-learn LogisticRegression(C={best_c}, class_weight='balanced'), stored as a "
        "linear layer in safetensors",
        "training_data": train_names + (" + RAVDESS actors 1-12" if research else ""),
        "licences": "RAVDESS CC BY-NC-SA: research weights, never shipped"
        if research
        else "EmoDB CC0 (weights may ship); RAVDESS CC BY-NC-SA read for development and testing only",
        "selection": {
            "chosen_on": "speaker-grouped 4-fold cross-validation on the training set"
            if research
            else "development set: EmoDB 09 + RAVDESS actors 1-12",
            "uar_by_C": choice,
            "C": best_c,
        },
        "data_records": data_records(
            train,
            [] if research else dev,
            [] if research else dev,
            notes={"validation": "chose the logistic regression's C; nothing else was chosen"},
        ),
        "tests": tests,
        "metrics": card_metrics(tests, labels),
        "collapsed": {k: v["collapsed"] for k, v in tests.items()},
    }
    save_state(model, out, card)
    return card
