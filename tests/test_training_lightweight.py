"""Training: corpus readers, speaker-independent splits, and a short real run that lowers validation loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.jobs import Cancelled, Job
from affectscope.models.training import datasets as ds
from affectscope.models.training.splits import by_speakers, speaker_split
from affectscope.models.training.trainer import evaluate_loss, fit


def test_corpus_readers_map_to_three_classes_and_name_speakers(shared_data: Path) -> None:
    emodb = ds.emodb(shared_data / "emodb")
    assert len({s.speaker for s in emodb}) == 10
    assert all(s.speaker == f"emodb:{s.path.name[:2]}" for s in emodb)
    happy = [s for s in emodb if s.emotion == "happy"]
    assert happy and all(s.label == 0 for s in happy)  # positive
    assert all(s.label == 1 for s in emodb if s.emotion == "boredom")  # neutral
    rav = ds.ravdess(shared_data / "ravdess_speech", actors={17})
    assert {s.speaker for s in rav} == {"ravdess:17"}
    assert not [s for s in rav if s.emotion == "surprised"]  # surprise left out
    assert len(rav) == 52  # 60 files per actor minus 8 surprised
    assert ds.speaker_of("x/03-01-05-01-02-01-12.flac") == "ravdess:12"


def test_speaker_split_never_shares_a_speaker(shared_data: Path) -> None:
    emodb = ds.emodb(shared_data / "emodb")
    rest, test = by_speakers(emodb, ["emodb:03", "emodb:08"])
    train, val = speaker_split(rest, 0.2, seed=1)
    sets = [{s.speaker for s in part} for part in (train, val, test)]
    assert sets[0] and sets[1] and sets[2] == {"emodb:03", "emodb:08"}
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(train) + len(val) + len(test) == len(emodb)


@pytest.mark.slow
def test_short_real_training_run_lowers_validation_loss(shared_data: Path) -> None:
    """The mouth CNN on dlib-landmark labels of the real talking-face clip: validation loss drops."""
    from torch.utils.data import TensorDataset

    from affectscope.models.systems.lightweight_inputs import mouth_tensor
    from affectscope.models.systems.lightweight_nets import MouthNet
    from affectscope.models.training.mouth_data import mouth_samples
    from affectscope.models.training.trainer import binary_cross_entropy

    crops, labels, _ = mouth_samples([shared_data / "clips" / "woman2_unlabelled.mp4"], step=2)
    assert len(labels) > 60 and 0 < labels.sum() < len(labels)  # both open and closed mouths found
    x = torch.stack([mouth_tensor(c) for c in crops])
    y = torch.from_numpy(labels).float()
    # Split first (contiguous halves of the clip, so neighbouring frames do not straddle the split),
    # then mirror the training mouths only.
    cut = int(0.7 * len(y))
    train = TensorDataset(torch.cat([x[:cut], x[:cut].flip(-1)]), torch.cat([y[:cut], y[:cut]]))
    val = TensorDataset(x[cut:], y[cut:])
    assert 0 < float(y[cut:].sum()) < len(y) - cut  # both classes in validation
    torch.manual_seed(0)
    net = MouthNet()
    forward = lambda m, v: m(v)  # noqa: E731
    before, _ = evaluate_loss(net, forward, val, binary_cross_entropy)
    res = fit(
        net, forward, train, val, loss=binary_cross_entropy, epochs=10, lr=1e-3, batch_size=16, patience=10
    )
    assert res.best_val_loss < 0.5 * before
    assert [r["epoch"] for r in res.history] == list(range(1, len(res.history) + 1))


def test_training_stops_within_a_batch_when_cancelled() -> None:
    from torch.utils.data import TensorDataset

    x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    net = torch.nn.Linear(4, 3)
    job = Job(on_progress=lambda d, t, m: job.cancel() if d >= 2 else None)
    with pytest.raises(Cancelled):
        fit(net, lambda m, v: m(v), TensorDataset(x, y), TensorDataset(x, y), epochs=5, batch_size=8, job=job)
    assert job.done == 2


@pytest.mark.slow
def test_manifest_training_writes_weights_and_card(shared_data: Path, tmp_path: Path) -> None:
    """``train`` on a manifest of EmoDB files (two speakers): weights load back, card has metrics."""
    from affectscope.models.inference import load_model
    from affectscope.models.training.manifest_train import train_on_samples
    from affectscope.models.weights import read_card

    emodb = [s for s in ds.emodb(shared_data / "emodb") if s.speaker in ("emodb:03", "emodb:10")]
    picked = [s for i, s in enumerate(emodb) if i % 12 == 0]
    out = tmp_path / "w.safetensors"
    card = train_on_samples("lightweight-streaming", picked, out, "speaker", epochs=1)
    assert out.exists() and read_card(out)["metrics"] == card["metrics"]
    assert set(card["split"]["train_speakers"]).isdisjoint(card["split"]["val_speakers"])
    spec, model = load_model("lightweight-streaming", out)
    assert not model.training
    # Validation accuracy recomputed from the saved weights on the held-out speakers' files (was
    # "0 <= accuracy <= 1", which cannot fail; issue 23 item 9).
    from affectscope.models.inference import analyse_signals, signals_for_file

    val = [s for s in picked if s.speaker in card["split"]["val_speakers"]]
    assert len(val) == card["split"]["n_val"] and all(isinstance(s.label, int) for s in val)
    preds = [
        int(
            np.argmax(
                analyse_signals(spec, model, signals_for_file(s.path, tuple(spec.modalities))).clip_probs
            )
        )
        for s in val
    ]
    assert card["metrics"]["val_accuracy"] == pytest.approx(
        np.mean([p == s.label for p, s in zip(preds, val, strict=True)])
    )
    assert np.isfinite(card["fit"]["best_val_loss"])
