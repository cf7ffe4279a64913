"""Seeds 000–003: the papers' optimiser settings, the fidelity fixes, a short real-data training run,
and the shipped weights with their model cards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.models.registry import get
from affectscope.models.signals import ClipSignals, Track

SHIPPED = ("fusical", "temporal-fusion", "skeleton-fusion", "crossmodal-attention")


def test_fusical_parameter_groups_carry_the_papers_rates_and_l2() -> None:
    from affectscope.models.systems.fusical import FusicalSystem

    model = FusicalSystem()
    groups = {g["name"]: g for g in model.param_groups(1e-3)}
    assert {n: g["lr"] for n, g in groups.items()} == {
        "scene": 1e-2,
        "scene.fc": 1e-2,
        "pose": 1e-2,
        "audio": 4e-5,
        "face": 5e-3,
        "caption": 6.5e-5,
        "fusion": 1e-3,
    }
    # Keras' L2 λ‖w‖² has gradient 2λw: Adam's weight_decay is 2λ (scene FC 1e-3, every pose layer 1e-2)
    assert groups["scene.fc"]["weight_decay"] == pytest.approx(2e-3)
    assert groups["pose"]["weight_decay"] == pytest.approx(2e-2)
    assert groups["scene"]["weight_decay"] == 0.0 and groups["audio"]["weight_decay"] == 0.0
    assert set(map(id, groups["scene.fc"]["params"])) == set(map(id, model.branches["scene"].fc.parameters()))
    # the fusion stage: branches frozen, only the fusion group is left
    model.freeze_branches(True)
    assert [g["name"] for g in model.param_groups(1e-3)] == ["fusion"]


def test_fusical_laughter_detector_is_used_as_is() -> None:
    from affectscope.models.systems.fusical import FusicalSystem

    model = FusicalSystem()
    laughter = model.branches["laughter"]
    assert not list(laughter.parameters())  # the stand-in input already is the detector's probability
    paper = FusicalSystem(laughter_dim=128, audio_dim=6144)
    frozen = list(paper.branches["laughter"].parameters())
    assert frozen and not any(p.requires_grad for p in frozen)
    paper.freeze_branches(True)
    paper.freeze_branches(False)  # unfreezing the other branches never unfreezes the detector
    assert not any(p.requires_grad for p in frozen)
    assert all(id(p) not in {id(q) for g in paper.param_groups(1e-3) for q in g["params"]} for p in frozen)
    # its score is the mean detector probability over the window, and it carries no sentiment loss
    x = torch.tensor([[[0.2], [0.6]]])
    logits, score = laughter(x)
    assert score.item() == pytest.approx(0.4)
    assert logits[0, 0].item() == pytest.approx(float(np.log(0.4 / 0.6)), abs=1e-5)
    assert logits[0, 1:].abs().max().item() == 0.0


def test_off_branches_are_never_read_by_the_fusion() -> None:
    model = get("fusical").build()
    assert set(model.off_modalities) == {"scene", "pose", "caption"}
    model.eval()
    shapes = model._shapes()
    batch = {m: torch.randn(2, *shape) for m, shape in shapes.items()}
    batch.update({f"{m}_mask": torch.ones(2) for m in shapes})
    base = model(batch).logits
    for m in ("scene", "pose", "caption"):
        changed = dict(batch)
        changed[m] = torch.randn(2, *shapes[m]) * 10
        assert torch.allclose(model(changed).logits, base)
    changed = dict(batch)
    changed["audio"] = torch.randn(2, *shapes["audio"])
    assert not torch.allclose(model(changed).logits, base)


def test_temporal_weighted_window_stage_shapes_the_features_the_lstm_reads() -> None:
    from affectscope.models.systems.temporal import TemporalFusionSystem

    model = TemporalFusionSystem(face_hidden=16, c3d_hidden=16, face_steps=32)
    b = 3
    batch = {
        "face": torch.randn(b, 32, model.face_dim),
        "c3d": torch.randn(b, model.windows, model.c3d_dim),
        "audio": torch.randn(b, model.audio_dim),
        **{f"{m}_mask": torch.ones(b) for m in ("face", "c3d", "audio")},
    }
    labels = torch.tensor([0, 1, 2])
    model.train()
    loss = model.training_loss(model(batch), labels, batch, stage="windows", epoch=0)
    loss.backward()
    assert model.window_encoder[0].weight.grad is not None  # Eq. 1 fine-tunes the window network
    model.eval()
    before = model(batch).per_modality["c3d"].clone()
    with torch.no_grad():
        model.window_encoder[0].weight.mul_(0.5)
    assert not torch.allclose(model(batch).per_modality["c3d"], before)  # the LSTM reads its features
    # ... and, like extracted C3D features, they are fixed once the window stage is over
    model.zero_grad()
    model.train()
    model.training_loss(model(batch), labels, batch, stage="modalities").backward()
    assert model.window_encoder[0].weight.grad is None


def test_skeleton_t100_steps_cover_the_whole_clip() -> None:
    from affectscope.models.inference import analyse_signals

    spec = get("skeleton-fusion")
    model = spec.build()
    assert model.whole_clip and model.seq_len == 100
    rate = 16000
    wave = np.zeros(rate * 11, np.float32)
    wave[-rate:] = np.sin(np.arange(rate) / 5.0)  # sound only in the last second
    sig = ClipSignals("c", 11.0, 0, 0, np.zeros(0), [], {"audio": Track(np.arange(len(wave)) / rate, wave)})
    model.eval()
    analysis = analyse_signals(spec, model, sig)
    assert analysis.window == (11.0, 11.0) and len(analysis.times) == 1  # one window: the whole clip
    x = model.batch_from_signals(sig, 0.0, 11.0)["audio"][0]
    assert x.shape == (100, 64)
    assert x[-5:].max() > x[:50].max() + 1.0  # the last steps hear the last second


def test_crossmodal_random_encoders_train_at_the_full_rate(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    model = get("crossmodal-attention").build(vision_backbone="resnet18")
    rates = sorted(g["lr"] for g in model.param_groups(1e-4))
    assert rates == [1e-4, 1e-4, 1e-4]  # random encoders train at the head's rate
    state = {k: v.contiguous() for k, v in model.speech.model.state_dict().items()}
    save_file(state, str(tmp_path / "speech.safetensors"))
    model.load_backbone_weights(speech=tmp_path / "speech.safetensors")
    rates = {g["name"]: g["lr"] for g in model.param_groups(1e-4)}
    assert rates == pytest.approx({"head": 1e-4, "vision": 1e-4, "speech": 1e-6})  # pretrained: 1e-2 (§5)
    # the default frame encoder is the pretrained FER-2013 mini-Xception: 1e-2 from the start
    default = get("crossmodal-attention").build()
    rates = {g["name"]: g["lr"] for g in default.param_groups(1e-4)}
    assert rates == pytest.approx({"head": 1e-4, "vision": 1e-6, "speech": 1e-4})


def test_fusical_best_five_modalities_without_fer() -> None:
    spec = get("fusical-best5")
    assert "face" not in spec.modalities and len(spec.modalities) == 5
    assert "face" in spec.build().off_modalities


@pytest.mark.slow
def test_short_real_training_run_beats_majority_uar(shared_data: Path, tmp_path: Path) -> None:
    """Temporal fusion on 120 EmoDB training files (speaker independent) for a few epochs: its UAR on
    held-out speakers clearly beats the majority class's (1/3), and the card reports it with a CI."""
    from affectscope.models.training.recipes_systems import train_system

    out = tmp_path / "temporal.safetensors"
    card = train_system(
        "default-001",
        out,
        shared_data,
        epochs=6,
        # 130 per class: the ~390 faces the run learnt from when its faces were the even half of the
        # test sample (that source ignored fer_per_class); the sharp train images now (issue 19)
        fer_per_class=130,
        pairs=30,
        speech_limit=120,
        ravdess_actors=(17,),
        test_limit=60,
    )
    speech = card["tests"]["emodb_test"]
    lo, hi = speech["ci"]["uar"]
    # Issue 8's bar, which commit 0508b77 dropped when it swapped fusical for temporal (issue 19): at
    # least 0.45 and the 95 % CI above chance (measured: 0.576 [0.47, 0.70]). Its epochs are chosen on
    # speaker 09, never on the test speakers 03 and 08. The collapse guard (a class recalled < 0.2) is
    # not the bar here: 60 test files hold about 11 of each class, one file moves a recall by 0.09, and
    # this 6-epoch run recalled "positive" 0.18 (2 of 11); the bar is issue 19's "no class below 0.15",
    # and the guard itself is pinned on the shipped weights' whole sets (test_honest_figures.py).
    recalls = {c: v["recall"] for c, v in speech["per_class"].items()}
    assert speech["uar"] >= 0.45 and min(recalls.values()) >= 0.15, (speech["uar"], recalls)
    assert lo <= speech["uar"] <= hi and lo > 1 / 3
    assert out.exists() and json.loads(out.with_name("temporal.card.json").read_text())["tests"]
    # Issue 19: the card records what trained, validated and tuned it; its own tests overlap none of
    # the first two, and its RAVDESS test is among the actors that chose the recipe's rules.
    rec = card["data_records"]
    from affectscope.models.training.face_sets import face_sets

    faces = face_sets(shared_data / "fer2013", per_class=130)  # the run's fer_per_class
    assert 120 + len(faces.train) * 0.9 < rec["train"]["n"] <= 120 + len(faces.train)  # few FER twins
    assert "emodb:09" in rec["validation"]["speakers"]
    assert not {"emodb:03", "emodb:08"} & set(rec["train"]["speakers"] + rec["validation"]["speakers"])
    assert rec["tuning"]["speakers"] == [f"ravdess:{a:02d}" for a in range(1, 21)]


def _shipped() -> list[str]:
    return [n for n in SHIPPED if get(n).weights]


@pytest.mark.parametrize("name", _shipped())
def test_shipped_weights_load_and_their_card_reports_uar_with_ci(name: str) -> None:
    from affectscope.models.inference import load_model
    from affectscope.models.weights import read_card

    spec = get(name)
    path = spec.weights_path()
    assert path is not None and path.exists(), f"{name}: registry points at a missing weights file"
    assert path.stat().st_size < 12 * 2**20  # small: float16, a few MB
    load_model(name)  # loads strictly (every key, every shape)
    card = read_card(path)
    assert card and card["model"] == name and card["trained_branches"]
    assert set(card.get("untrained_branches", [])) == set(spec.build().off_modalities)
    # Seed 003 was trained by its GPU recipe (seed003_accel), whose card names its tests for the
    # declared protocol's sets: RAVDESS 13-20 and FER-2013 minus train duplicates.
    gpu = name == "crossmodal-attention"
    keys = (
        ("emodb_test", "ravdess_test", "fer_unseen_test")
        if gpu
        else ("emodb_test", "ravdess_cross_corpus", "fer_test")
    )
    for key in keys:
        test = card["tests"][key]
        lo, hi = test["ci"]["uar"]
        assert lo <= test["uar"] <= hi
        assert set(test["per_class"]) == {"positive", "neutral", "negative"}
    want = (
        "python -m affectscope.models.training.seed003"
        if gpu
        else f"affectscope train {name} --recipe default-"
    )
    assert card["command"].startswith(want)


def test_model_card_summary_says_which_branches_are_trained(tmp_path: Path) -> None:
    from affectscope.app.services.model_cards import branch_summary, metric_summary, read_card

    weights = tmp_path / "m.safetensors"
    card = {
        "trained_branches": ["audio", "face"],
        "pretrained_branches": ["laughter"],
        "untrained_branches": ["scene", "pose", "caption"],
        "tests": {"fer_test": {"uar": 0.71, "ci": {"uar": [0.66, 0.75]}, "collapsed": False}},
    }
    (tmp_path / "m.card.json").write_text(json.dumps(card))
    read = read_card(weights)
    assert branch_summary(read) == (
        "trained: audio, face · pretrained, used as is: laughter · untrained (off): scene, pose, caption"
    )
    assert metric_summary(read) == "fer_test UAR 0.71 [0.66, 0.75]"
    assert read_card(tmp_path / "none.safetensors") is None and branch_summary(None) == ""


def test_seed002_paper_split_takes_two_thirds_of_each_class() -> None:
    from affectscope.models.training.recipes_systems import PAPER_RECIPES
    from affectscope.models.training.seed002_paper import per_class_split

    labels = np.array([0] * 30 + [1] * 12 + [2] * 9)
    mask = per_class_split(labels, np.random.default_rng(0))
    assert [int(mask[labels == c].sum()) for c in range(3)] == [20, 8, 6]
    other = per_class_split(labels, np.random.default_rng(1))
    assert not np.array_equal(mask, other)  # each run draws its own split
    assert "seed002-paper" in PAPER_RECIPES


def test_training_faces_are_what_evaluate_feeds_a_system(shared_data: Path) -> None:
    """A FER image through ``signals_for_file`` (what ``evaluate`` runs) gives the same system inputs
    as the training recipe's one-frame face clip."""
    from affectscope.models.inference import signals_for_file
    from affectscope.models.training import system_data as sd

    path = sorted((shared_data / "fer2013" / "test_sample" / "happy").glob("*.jpg"))[0]
    arr = sd.face_arrays([path])[0]
    model = get("fusical").build()
    ours = model.batch_from_signals(sd.face_signals(arr["grey"], arr["probs"]), 0.0, 5.0)
    theirs = model.batch_from_signals(signals_for_file(path, ("face",)), 0.0, 5.0)
    assert float(theirs["face_mask"]) == 1.0
    for key in ("face", "face_mask", "audio_mask"):
        assert torch.allclose(ours[key], theirs[key], atol=1e-5), key


def test_cli_refuses_a_recipe_for_another_model(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from affectscope.app.cli.main import main

    out = str(tmp_path / "w.safetensors")
    args = ["train", "temporal-fusion", "--recipe", "default-000", "--data", str(shared_data), "-o", out]
    assert main(args) == 2
    assert "trains fusical, not temporal-fusion" in capsys.readouterr().err


def test_cli_passes_the_seed_to_a_system_recipe_and_the_card_names_it(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--seed`` was read but never reached seeds 000-002's recipes: every seed trained seed 0."""
    from affectscope.app.cli import modelling
    from affectscope.app.cli.main import main
    from affectscope.models.training import recipes_systems

    got: dict = {}

    def train_system(recipe, out, data, job=None, **opts):  # records the call instead of training
        got.update(opts, recipe=recipe)
        raise ValueError("stop after the call")

    monkeypatch.setattr(recipes_systems, "train_system", train_system)
    monkeypatch.setattr(modelling, "_require_clean", lambda args: None)
    out = str(tmp_path / "w.safetensors")
    args = [
        "train",
        "fusical",
        "--recipe",
        "default-000",
        "--seed",
        "3",
        "--data",
        str(shared_data),
        "-o",
        out,
    ]
    assert main(args) == 2
    assert got["recipe"] == "default-000" and got["seed"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in _shipped() if n != "crossmodal-attention"])
def test_shipped_weights_answer_every_class_on_unseen_english_speech(name: str, shared_data: Path) -> None:
    """Trained on German EmoDB only, scored on the RAVDESS actors of the recipe's test (17–20; fusical:
    1–20) as the recipe scored them: the card's UAR is reproduced, is well above chance (≥ 0.45, the
    issue's bar) and no class is recalled < 0.2. Before each clip's speech was brought to one level and
    seed 001's functionals were taken over speech only, these systems answered one class for every
    RAVDESS file. Fusical joins (issue 19): on RAVDESS it does not collapse; its collapse on EmoDB
    ("negative" recalled 0.08) is declared in docs/models.md and pinned in test_honest_figures.py.
    These RAVDESS actors chose the recipes' rules: a validation figure, pinned so it cannot drift.
    Seed 003 is not here: its GPU recipe scored it (seed003_report), not this recipe path; its product-
    path figures (RAVDESS 13-20 a test for it) are pinned in test_honest_figures.py."""
    from affectscope.analysis.metrics import classification_report
    from affectscope.models.inference import load_model
    from affectscope.models.training import datasets as ds
    from affectscope.models.training import system_data as sd
    from affectscope.models.training.recipes_systems import LABELS, file_probs, outputs
    from affectscope.models.weights import read_card

    spec, model = load_model(name)
    from affectscope.models.training.recipes_systems import RECIPE_DATA, RECIPES

    want = read_card(spec.weights_path())["tests"]["ravdess_cross_corpus"]
    recipe = next(r for r, (m, *_rest) in RECIPES.items() if m == name)
    rav = ds.ravdess(shared_data / "ravdess_speech", actors=set(RECIPE_DATA[recipe]["ravdess_actors"]))
    split = sd.build_split(
        model, [lambda s=s: sd.speech_signals(s.path, False) for s in rav], [s.label for s in rav], "ravdess"
    )
    got = classification_report(
        split.file_labels, file_probs(outputs(model, split)["fused"], split).argmax(1), LABELS
    )
    assert got["n"] == want["n"] == (1040 if name == "fusical" else 208)
    assert abs(got["uar"] - want["uar"]) <= 0.03  # float16 storage may move a borderline file or two
    assert got["uar"] >= 0.45 and not got["collapsed"], got["per_class"]


def test_face_heads_never_see_the_faces_they_are_tested_on(shared_data: Path) -> None:
    """Issue 19: the heads learn from the sharp FER-2013 train images and are tested on the test sample
    minus every image byte-identical to a train image (FER-2013 repeats images across its splits)."""
    from affectscope.models.provenance import item_hash
    from affectscope.models.training import datasets as ds
    from affectscope.models.training.face_sets import face_sets, fer_halves

    root = shared_data / "fer2013"
    sample = ds.fer(root / "test_sample")
    train_hashes = {item_hash(p) for p in (root / "train").glob("*/*") if p.is_file()}
    faces = face_sets(root, per_class=20)
    assert faces.source == "train" and len(faces.train) + len(faces.val) == 60
    assert all(s.path.parent.parent == root / "train" for s in faces.train + faces.val)
    assert not {item_hash(s.path) for s in faces.test} & train_hashes
    assert 0 < faces.twins_dropped == len(sample) - len(faces.test) < len(sample) // 10
    assert f"minus {faces.twins_dropped} images byte-identical" in faces.card()["test"]
    assert "sharp originals" in faces.card()["data"]
    # the earlier source, kept to reproduce weights trained while the shared train images were blurred
    half = face_sets(root, "sharp-half")
    even, odd = fer_halves(sample)
    assert half.test == odd and sorted(s.path for s in half.train + half.val) == sorted(s.path for s in even)
    assert not {s.path for s in half.train + half.val} & {s.path for s in half.test}
    assert "odd-indexed half" in half.card()["test"] and f"({len(odd)})" in half.card()["data"]
    with pytest.raises(ds.ManifestError, match="faces must be one of"):
        face_sets(root, "sharp")
