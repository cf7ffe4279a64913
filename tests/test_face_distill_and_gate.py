"""Issue 8 follow-ups: seed 004's face CNN distilled from the mini-Xception (soft targets marginalised
onto 3 sentiments, a tiny real run, the shipped network beats a floor on FER-2013 test faces), and the
speech gate on clip decisions (the energy gate agrees with silero-vad on RAVDESS; silent windows do
not vote in the EWMA or the mean; a face still votes without speech; ``predict`` says how many voted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.models.clip_gate import energy_activity, speech_activity, window_weights
from affectscope.models.inference import clip_decision
from affectscope.models.signals import ClipSignals, Track
from affectscope.models.systems.lightweight import ewma
from affectscope.models.systems.lightweight_inputs import face_tensor
from affectscope.models.training import datasets as ds
from affectscope.models.training.face_distill import FER7, distill_face, soft_targets, to_student
from affectscope.models.training.loaders import load_audio, load_face_image

torch.set_num_threads(1)
LABELS = ("positive", "neutral", "negative")


def test_soft_targets_marginalise_the_teacher_onto_three_sentiments_without_surprise() -> None:
    logits = torch.randn(5, 7) * 3
    got = soft_targets(logits, 1.0).numpy()
    p7 = torch.softmax(logits, 1).numpy()
    i = {n: FER7.index(n) for n in FER7}
    keep = 1 - p7[:, i["surprise"]]
    want = (
        np.stack(
            [
                p7[:, i["happy"]],
                p7[:, i["neutral"]],
                p7[:, i["angry"]] + p7[:, i["disgust"]] + p7[:, i["fear"]] + p7[:, i["sad"]],
            ],
            1,
        )
        / keep[:, None]
    )
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # A higher temperature softens: the distribution's entropy grows.
    ent = lambda p: -(p * np.log(p + 1e-12)).sum(1)  # noqa: E731
    assert (ent(soft_targets(logits, 4.0).numpy()) > ent(got)).all()


def test_student_input_matches_the_products_face_tensor(shared_data: Path) -> None:
    """Training reads batched bilinear upsamples; inference reads ``face_tensor``: the same pixels."""
    files = sorted((shared_data / "fer2013" / "test_sample" / "happy").glob("*.jpg"))[:4]
    imgs = np.stack([load_face_image(f) for f in files])
    batched = to_student(imgs)
    single = torch.stack([face_tensor(im) for im in imgs])
    assert batched.shape == single.shape == (4, 3, 96, 96)
    assert float((batched - single).abs().max()) < 2.5 / 255  # cv2's fixed-point rounding


def test_distillation_runs_on_a_small_real_fer_subset(shared_data: Path, tmp_path: Path) -> None:
    root = tmp_path / "fer"
    for split, k in (("train", 40), ("test_sample", 12)):
        for emo in ("angry", "happy", "neutral", "sad", "surprise"):
            d = root / split / emo
            d.mkdir(parents=True)
            for f in sorted((shared_data / "fer2013" / split / emo).glob("*.jpg"))[:k]:
                (d / f.name).symlink_to(f)
    from affectscope.models.systems.lightweight_nets import visual_cnn

    net = visual_cnn()
    card = distill_face(
        net, root, tmp_path / "cache", epochs=2, per_epoch=96, batch_size=32, val_fraction=0.2
    )
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [f"fer_{s}_{k}.npy" for s in ("train", "test_sample") for k in ("images", "labels", "teacher_logits")]
        + [f"fer_{s}_source.txt" for s in ("train", "test_sample")]
    )
    assert card["n_train"] + card["n_val"] == 4 * 40  # surprise left out
    assert card["test"]["n"] == 4 * 12
    assert [h["epoch"] for h in card["fit"]["history"]] == [1, 2]
    assert card["fit"]["selected_on"] == "val_uar"
    assert "ci" in card["test"]
    # The test UAR recomputed here: the distilled net (best epoch loaded) on the cached test faces,
    # scored with scikit-learn (was "0 <= uar <= 1", which cannot fail).
    from sklearn.metrics import balanced_accuracy_score

    from affectscope.models.training.face_distill import predict

    images = np.load(tmp_path / "cache" / "fer_test_sample_images.npy")
    truth = np.load(tmp_path / "cache" / "fer_test_sample_labels.npy")
    pred = predict(net, images).argmax(1)
    assert card["test"]["uar"] == pytest.approx(balanced_accuracy_score(truth, pred), abs=1e-9)
    # The teacher reference is scored on the same test images.
    assert card["teacher_test"]["n"] == card["test"]["n"]
    # The shared FER-2013 train images are now the sharp originals the teacher was trained on: it knows
    # them (on the blurred copy shared before it scored ~0.39 and the recipe warned; this asserted
    # transfer < test then), so no warning.
    transfer = card["teacher_on_transfer_set"]
    assert transfer["uar"] >= 0.5 and transfer["warning"] is None, transfer
    assert bool(net.input_norm.fitted)


def test_the_face_cache_is_rebuilt_when_the_folder_changes_under_the_same_names(
    shared_data: Path, tmp_path: Path
) -> None:
    """The shared FER-2013 train images were swapped (blurred copies → sharp originals) under the same
    names: a cache keyed by the folder's name kept serving the old images."""
    import cv2

    from affectscope.models.training.face_distill import load_fer_cache

    root = tmp_path / "train"
    for emo in ("happy", "neutral", "sad"):
        (root / emo).mkdir(parents=True)
        for f in sorted((shared_data / "fer2013" / "train" / emo).glob("*.jpg"))[:4]:
            (root / emo / f.name).write_bytes(f.read_bytes())
    first = load_fer_cache(root, tmp_path / "cache")
    img = root / "happy" / sorted(p.name for p in (root / "happy").iterdir())[0]
    blurred = cv2.GaussianBlur(cv2.imread(str(img), cv2.IMREAD_GRAYSCALE), (0, 0), 3)
    cv2.imwrite(str(img), blurred)  # the same name, other content (and size)
    again = load_fer_cache(root, tmp_path / "cache")
    assert not np.array_equal(first["images"][0], again["images"][0])
    assert np.array_equal(again["images"][0], cv2.imread(str(img), cv2.IMREAD_GRAYSCALE))
    assert np.array_equal(first["images"][1:], again["images"][1:])


def test_shipped_face_network_meets_the_goal_on_unseen_fer_test_faces(shared_data: Path) -> None:
    """The FER-2013 test sample minus images byte-identical to train images (3 classes), read as the
    product reads a face crop (``face_tensor``): issue 19's face goal, UAR >= 0.70."""
    from affectscope.analysis.metrics import classification_report
    from affectscope.models.inference import load_model
    from affectscope.models.registry import get
    from affectscope.models.training.face_sets import without_train_twins
    from affectscope.models.weights import read_card

    root = shared_data / "fer2013"
    samples = without_train_twins(ds.fer(root / "test_sample"), root / "train")
    _, model = load_model("lightweight-streaming")
    x = torch.stack([face_tensor(load_face_image(s.path)) for s in samples])
    with torch.no_grad():
        pred = model.visual(x).argmax(1).numpy()
    rep = classification_report([s.label for s in samples], pred, LABELS)
    assert not rep["collapsed"] and len(samples) == 865
    # Distilled for 16 epochs of 20,000 sharp FER-2013 train images, the epoch chosen on validation
    # (issue 19, item 5): 0.706 [0.675, 0.737] in the card (0.550 after the earlier 6 x 5,000 run;
    # 0.511 from the blurred copy). The shipped weights are the carded ones:
    honest = {
        f["set"]: f for f in read_card(get("lightweight-streaming").weights_path())["honest"]["figures"]
    }
    assert rep["uar"] == pytest.approx(honest["fer_test"]["uar"], abs=0.005)
    assert rep["uar"] >= 0.70, rep["uar"]


def _audio_signals(x: np.ndarray, rate: int = 16000) -> ClipSignals:
    return ClipSignals(
        "t", len(x) / rate, 0, 0, np.zeros(0), [], {"audio": Track(np.arange(len(x)) / rate, x)}
    )


def test_energy_gate_agrees_with_silero_vad_on_ravdess(shared_data: Path) -> None:
    from affectscope.models.extractors.vad import speech_probability

    files = sorted((shared_data / "ravdess_speech" / "Actor_02").glob("*.flac"))[:2]
    for f in files:
        x = load_audio(f)
        vad = speech_probability(x)
        times, active = energy_activity(x)
        n = min(len(vad), len(active))
        np.testing.assert_allclose(times[:n], vad.times[:n])
        agree = float(np.mean((vad.values[:n] >= 0.5) == (active[:n] > 0)))
        assert agree >= 0.8, (f.name, agree)
        # RAVDESS opens with silence: the first 0.3 s is inactive for both.
        assert not active[times < 0.3].any()


def test_silent_windows_do_not_vote_and_a_face_votes_without_speech() -> None:
    rng = np.random.default_rng(0)
    rate = 16000
    x = np.zeros(4 * rate, np.float32)  # 4 s: silence, 1.5 s of "speech" from 1.25 s, silence
    x[int(1.25 * rate) : int(2.75 * rate)] = 0.3 * rng.standard_normal(int(1.5 * rate))
    x += 1e-5 * rng.standard_normal(len(x)).astype(np.float32)  # a quiet room, 80 dB down
    sig = _audio_signals(x)
    assert speech_activity(sig)[2] == "energy"
    starts = np.arange(0, 3.01, 0.25)
    votes = window_weights(sig, starts, 1.0) > 0
    # A window votes with >= 0.25 s of speech inside it: starts 0.5 .. 2.5.
    assert votes.tolist() == [bool(0.5 <= s <= 2.5) for s in starts]
    # A face present in a silent window makes it vote.
    face = np.zeros(len(starts), bool)
    face[-1] = True
    assert (window_weights(sig, starts, 1.0, face) > 0)[-1]
    # A VAD track, when perception made one, is used instead of the energy gate.
    sig.tracks["vad"] = Track(np.arange(0.016, 4, 0.032), np.zeros(125, np.float32))
    assert speech_activity(sig)[2] == "silero-vad"
    assert (window_weights(sig, starts, 1.0) > 0).all()  # nothing voiced: every window votes

    class Seed004Like(torch.nn.Module):
        ewma_alpha = 0.58
        ewma_y0 = np.zeros(3)

    fused = rng.dirichlet(np.ones(3), len(starts))
    fused[~votes] = [0.0, 0.0, 1.0]  # the silent windows all say "negative"
    clip, acc = clip_decision(Seed004Like(), fused, votes)
    run = ewma(fused[votes], 0.58, y0=np.zeros(3))
    run = run / run.sum(1, keepdims=True)
    np.testing.assert_allclose(clip, run.mean(0))  # the EWMA timeline averaged over voting windows
    # The timeline holds through windows that do not vote.
    assert acc.shape == fused.shape
    np.testing.assert_allclose(acc[-1], acc[np.flatnonzero(votes)[-1]])
    np.testing.assert_allclose(acc[0], 0.0)
    mean_clip, none = clip_decision(None, fused, votes)
    np.testing.assert_allclose(mean_clip, fused[votes].mean(0))
    assert none is None
    # Ungated: the silent windows (5 of 13, all "negative") pull the decision.
    ungated = clip_decision(None, fused)[0]
    np.testing.assert_allclose(ungated, fused.mean(0))
    assert ungated[2] > mean_clip[2]


def test_windows_count_by_their_share_of_speech() -> None:
    rng = np.random.default_rng(0)
    rate = 16000
    x = np.zeros(4 * rate, np.float32)
    x[int(1.25 * rate) : int(2.75 * rate)] = 0.3 * rng.standard_normal(int(1.5 * rate))
    x += 1e-5 * rng.standard_normal(len(x)).astype(np.float32)
    sig = _audio_signals(x)
    starts = np.arange(0, 3.01, 0.25)
    w = window_weights(sig, starts, 1.0)
    # The share of each 1 s window inside the 1.5 s of speech, to a 32 ms frame, when >= 0.25; else 0.
    share = np.clip(np.minimum(starts + 1.0, 2.75) - np.maximum(starts, 1.25), 0.0, 1.0)
    np.testing.assert_allclose(w, np.where(share >= 0.25, share, 0.0), atol=0.04)
    # A face counts the window fully.
    face = np.zeros(len(starts), bool)
    face[0] = True
    assert window_weights(sig, starts, 1.0, face)[0] == 1.0
    # The decision weighs each window by its share: a window at an utterance's edge, mostly silence,
    # counts a quarter as much as one inside the speech.
    fused = np.tile([[1.0, 0.0, 0.0]], (len(starts), 1))
    edge = int(np.flatnonzero(w > 0)[0])
    fused[edge] = [0.0, 0.0, 1.0]
    clip = clip_decision(None, fused, w)[0]
    np.testing.assert_allclose(clip[2], w[edge] / w.sum())


def test_predict_json_counts_the_voting_windows_of_a_ravdess_file(shared_data: Path) -> None:
    f = sorted((shared_data / "ravdess_speech" / "Actor_03").glob("*.flac"))[0]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "affectscope",
            "predict",
            str(f),
            "--model",
            "lightweight-streaming",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    got = json.loads(out.stdout)
    n = len(got["times"])
    assert 0 < got["whole_clip"]["voting_windows"] < n  # the silent lead-in and tail do not vote
