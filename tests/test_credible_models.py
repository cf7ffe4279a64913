"""Issue 8 proofs: UAR-selected training beats the majority class on real speech, the collapse guard
fires, ``evaluate --json`` reports UAR with CIs, input normalisation travels with the weights, the
paper protocol balances per actor, and the fast evaluation path agrees with the file-by-file one."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from affectscope.analysis.metrics import classification_report
from affectscope.models.systems.audio_functionals import audio_functionals
from affectscope.models.systems.input_norm import InputNorm
from affectscope.models.training import datasets as ds
from affectscope.models.training.loaders import load_audio
from affectscope.models.training.protocols import paper_004
from affectscope.models.training.splits import by_speakers
from affectscope.models.training.trainer import fit, predict_outputs
from affectscope.models.weights import load_state, save_state

torch.set_num_threads(1)
LABELS = ("positive", "neutral", "negative")


class Labelled(Dataset):
    """A TensorDataset with ``labels`` (what the trainer reads for UAR and class weights)."""

    def __init__(self, x: torch.Tensor, y: np.ndarray) -> None:
        self.x, self.labels = x, np.asarray(y)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.x[i], int(self.labels[i])


def _features(samples: list[ds.Sample]) -> torch.Tensor:
    return torch.from_numpy(
        np.stack([audio_functionals(load_audio(s.path), 16000, "eGeMAPSv02") for s in samples])
    )


def test_training_on_real_speech_beats_the_majority_class_uar(shared_data: Path) -> None:
    """eGeMAPS functionals of EmoDB (speaker independent: 03 and 08 held out) → a small MLP.

    The checkpoint is chosen on speaker 09 (validation), never on the test speakers (issue 19: this
    test chose its epoch on 03 + 08 and then scored them, so its figure was a validation figure)."""
    emodb = ds.emodb(shared_data / "emodb")
    rest, test = by_speakers(emodb, ("emodb:03", "emodb:08"))
    rest, val = by_speakers(rest, ("emodb:09",))
    train = rest[::2]  # a small subset keeps the test quick
    x_tr, x_va, x_te = _features(train), _features(val), _features(test)
    y_tr, y_va = np.array([s.label for s in train]), np.array([s.label for s in val])
    y_te = np.array([s.label for s in test])
    torch.manual_seed(0)
    norm = InputNorm((1, x_tr.shape[1])).fit([x_tr])
    net = nn.Sequential(norm, nn.Linear(x_tr.shape[1], 32), nn.ReLU(), nn.Linear(32, 3))
    res = fit(
        net,
        lambda m, v: m(v),
        Labelled(x_tr, y_tr),
        Labelled(x_va, y_va),
        epochs=30,
        lr=3e-3,
        batch_size=16,
        patience=30,
        class_weight="balanced",
        lr_schedule="cosine",
        label_names=LABELS,
    )
    assert res.selected_on == "val_uar" and res.class_weights is not None
    pred = predict_outputs(net, lambda m, v: m(v), Labelled(x_te, y_te)).argmax(1)
    report = classification_report(y_te, pred, LABELS)
    majority = classification_report(y_te, np.full_like(y_te, np.bincount(y_tr).argmax()), LABELS)
    assert majority["uar"] == pytest.approx(1 / 3)
    assert res.best_val_uar == pytest.approx(max(h["val_uar"] for h in res.history))  # chosen on 09
    assert report["ci"]["uar"][0] > majority["uar"], report["ci"]["uar"]  # the CI clears the majority
    assert not res.collapse and not report["collapsed"], report["per_class"]


def test_collapse_guard_fires_on_a_one_class_model(caplog: pytest.LogCaptureFixture) -> None:
    x = torch.randn(60, 4)
    y = np.arange(60) % 3
    net = nn.Linear(4, 3)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.copy_(torch.tensor([5.0, 0.0, 0.0]))  # always "positive"
    with caplog.at_level(logging.WARNING, logger="affectscope.training"):
        res = fit(
            net, lambda m, v: m(v), Labelled(x, y), Labelled(x, y), epochs=1, lr=0.0, label_names=LABELS
        )
    assert res.collapse and any("every prediction is 'positive'" in w for w in res.collapse)
    assert "COLLAPSE GUARD" in caplog.text
    assert res.summary()["collapsed"] is True and res.val_report["uar"] == pytest.approx(1 / 3)


def test_uar_not_loss_chooses_the_checkpoint() -> None:
    """A validation set where loss and UAR disagree: selection follows UAR (ties: lower loss)."""
    x = torch.randn(48, 6)
    y = np.arange(48) % 3
    torch.manual_seed(1)
    net = nn.Linear(6, 3)
    res = fit(net, lambda m, v: m(v), Labelled(x, y), Labelled(x, y), epochs=6, lr=0.05, patience=10)
    uars = [r["val_uar"] for r in res.history]
    assert res.best_val_uar == max(uars) and res.history[res.best_epoch - 1]["val_uar"] == max(uars)
    # without labels (TensorDataset) the old rule applies: lowest validation loss
    res2 = fit(
        nn.Linear(6, 3),
        lambda m, v: m(v),
        TensorDataset(x, torch.from_numpy(y)),
        TensorDataset(x, torch.from_numpy(y)),
        epochs=3,
    )
    assert res2.selected_on == "val_loss"


def test_input_norm_round_trips_with_the_weights(tmp_path: Path) -> None:
    from affectscope.models.systems.lightweight_nets import audio_cnn

    torch.manual_seed(0)
    net = audio_cnn(size=64)
    data = torch.rand(20, 3, 64, 64) * 0.5 + 0.2
    net.input_norm.fit([data[:10], data[10:]])
    assert float(net.input_norm.fitted) == 1.0
    rows = data.permute(2, 0, 1, 3).reshape(64, -1)  # per frequency row, over batch, channels, time
    assert torch.allclose(net.input_norm.mean.reshape(-1), rows.mean(1), atol=1e-5)
    assert torch.allclose(
        net.input_norm.std.reshape(-1), rows.std(1, unbiased=False).clamp_min(1e-3), atol=1e-4
    )
    net.eval()
    path = save_state(net, tmp_path / "a.safetensors")
    other = audio_cnn(size=64).eval()
    load_state(other, path)
    assert torch.equal(other.input_norm.mean, net.input_norm.mean)
    with torch.no_grad():
        assert torch.allclose(other(data), net(data), atol=1e-6)
    # per-window spectral mean normalisation first, when asked for
    centred = InputNorm((1, 1, 64, 1), centre_time=True).fit([data])
    c = data - data.mean(-1, keepdim=True)
    assert torch.allclose(centred.mean.reshape(-1), c.permute(2, 0, 1, 3).reshape(64, -1).mean(1), atol=1e-5)


def test_paper_protocol_keeps_the_papers_classes_balanced_per_actor(shared_data: Path) -> None:
    rav = ds.ravdess(shared_data / "ravdess_speech", actors={1, 2})
    kept = paper_004(rav)
    emotions = {s.path.stem.split("-")[2] for s in kept}
    assert emotions <= {"01", "02", "03", "04", "05"}  # neutral, calm, happy, sad, angry
    for actor in ("ravdess:01", "ravdess:02"):
        counts = np.bincount([s.label for s in kept if s.speaker == actor], minlength=3)
        assert counts.min() == counts.max() == 8  # happy has 8 files per actor


def _manifest(tmp_path: Path, files: list[ds.Sample]) -> Path:
    path = tmp_path / "m.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label"])
        for s in files:
            w.writerow([str(s.path), LABELS[s.label]])
    return path


def test_evaluate_json_has_uar_and_ci_and_fast_equals_file_by_file(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from affectscope.app.cli.main import main
    from affectscope.models.evaluation import evaluate_manifest
    from affectscope.models.registry import get

    torch.manual_seed(0)
    weights = save_state(get("lightweight-streaming").build(), tmp_path / "w.safetensors")
    files = ds.emodb(shared_data / "emodb")[:6]
    manifest = _manifest(tmp_path, files)
    assert main(["evaluate", "--model", "lightweight-streaming", "--manifest", str(manifest),
                 "--weights", str(weights), "--json"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    for key in ("uar", "ci", "accuracy", "macro_f1", "per_class", "kappa", "collapsed", "warnings"):
        assert key in doc
    assert set(doc["ci"]) >= {"uar", "accuracy", "macro_f1"} and doc["n"] == 6
    slow = evaluate_manifest("lightweight-streaming", str(manifest), weights=str(weights), fast=False)
    assert slow["confusion"] == doc["confusion"]
    # The mean decision too, with the shipped weights on RAVDESS files (a second of silence at each
    # end): both paths weigh the voting windows by their share of speech.
    rav = ds.ravdess(shared_data / "ravdess_speech", actors={5})[:40]
    args = ("lightweight-streaming", str(_manifest(tmp_path, rav)))
    fast_mean = evaluate_manifest(*args, decision="mean")
    slow_mean = evaluate_manifest(*args, decision="mean", fast=False)
    assert slow_mean["confusion"] == fast_mean["confusion"]


def test_model_card_view_shows_uar_with_ci_and_collapse(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from affectscope.app.qt.model_card_view import ModelCardView
    from affectscope.models.weights import write_card

    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"")
    write_card(
        weights,
        {
            "command": "affectscope train x --recipe y -o w.safetensors",
            "metrics": {
                "audio_test": {
                    "n": 10,
                    "uar": 0.61,
                    "uar_ci": [0.5, 0.7],
                    "accuracy": 0.6,
                    "per_class_recall": {"positive": 0.5},
                }
            },  # fmt: skip
            "collapse_guard": {"audio": ["recall of 'neutral' is 0.10 (< 0.2)"]},
            "known_limits": ["synthetic fusion pairs"],
        },
    )
    view = ModelCardView()
    qtbot.addWidget(view)
    view.show_weights(weights)
    text = view.text.toPlainText()
    assert "UAR 0.61 [0.50, 0.70]" in text and "Collapse guard" in text and "synthetic fusion pairs" in text
    assert "affectscope train x" in text
    view.show_weights(tmp_path / "none.safetensors")
    assert "No model card" in view.text.toPlainText()


@pytest.mark.slow
def test_shipped_seed004_weights_reproduce_their_card(shared_data: Path) -> None:
    """The shipped audio CNN, re-scored on EmoDB's held-out speakers exactly as the recipe scored it."""
    from affectscope.jobs import Job
    from affectscope.models.inference import load_model
    from affectscope.models.training.recipes import EMODB_TEST, audio_report
    from affectscope.models.weights import read_card

    spec, model = load_model("lightweight-streaming")
    card = read_card(spec.weights_path())
    want = card["networks"]["audio"]["test"]
    test = [s for s in ds.emodb(shared_data / "emodb") if s.speaker in EMODB_TEST]
    got = audio_report(model, test, Job(), "EmoDB speakers 03, 08 (per file)")
    # float16 storage may move a borderline file or two
    assert got["n"] == want["n"] and abs(got["uar"] - want["uar"]) <= 0.03
    assert got["collapsed"] == want["collapsed"]


@pytest.mark.slow
def test_shipped_audio_cnn_meets_the_cross_corpus_goal_on_ravdess(shared_data: Path) -> None:
    """Issue 8's goal for the shipped audio CNN (trained on EmoDB only): UAR ≥ 0.50 and every class
    recalled ≥ 0.25 on RAVDESS actors 1–20, scored per file as the recipe scores it (1 s windows
    from each file's speech). It was 0.425 while training read each file's first second."""
    from affectscope.jobs import Job
    from affectscope.models.inference import load_model
    from affectscope.models.training.recipes import RAVDESS_ALL_ACTORS, audio_report

    _, model = load_model("lightweight-streaming")
    rav = ds.ravdess(shared_data / "ravdess_speech", actors=RAVDESS_ALL_ACTORS)
    got = audio_report(model, rav, Job(), "RAVDESS actors 1-20 (per file)")
    recalls = [v["recall"] for v in got["per_class"].values()]
    assert got["n"] == 1040 and got["uar"] >= 0.50 and min(recalls) >= 0.25, (got["uar"], recalls)


def test_seed_summary_is_mean_and_sample_sd() -> None:
    import statistics

    from affectscope.analysis.metrics import seed_summary

    vals = [0.61, 0.55, 0.58]
    s = seed_summary(vals)
    assert s["mean"] == pytest.approx(statistics.mean(vals)) and s["sd"] == pytest.approx(
        statistics.stdev(vals)
    )
    assert s["n"] == 3 and "±" in s["text"]
