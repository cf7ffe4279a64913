"""Evaluation: metrics equal a hand computation; ``evaluate`` on a manifest equals a direct run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.models.evaluation import classification_report, evaluate_manifest, to_label_set
from affectscope.models.training.datasets import ManifestError, read_manifest


def test_report_matches_hand_computation() -> None:
    y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 0, 1, 2, 2, 2, 0, 1]
    r = classification_report(y_true, y_pred, ("positive", "neutral", "negative"))
    assert r["n"] == 9 and r["accuracy"] == pytest.approx(5 / 9)
    assert r["confusion"] == [[2, 1, 0], [0, 1, 1], [1, 1, 2]]
    # positive: TP 2, predicted 3, actual 3 -> P = R = F1 = 2/3
    assert r["per_class"]["positive"] == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3}
    )
    # neutral: TP 1, predicted 3, actual 2 -> P 1/3, R 1/2, F1 0.4
    assert r["per_class"]["neutral"]["f1"] == pytest.approx(0.4)
    # negative: TP 2, predicted 3, actual 4 -> P 2/3, R 1/2, F1 4/7
    assert r["per_class"]["negative"]["f1"] == pytest.approx(4 / 7)
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0.4 + 4 / 7) / 3)


def test_classes_never_predicted_score_zero_not_nan() -> None:
    r = classification_report([0, 1, 2], [0, 0, 0], ("a", "b", "c"))
    assert r["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert r["macro_f1"] == pytest.approx((2 * (1 / 3) / (1 / 3 + 1)) / 3)


def test_seven_emotions_marginalise_onto_three_sentiments() -> None:
    src = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    p = np.array([[0.1, 0.1, 0.1, 0.2, 0.1, 0.3, 0.1]])
    out = to_label_set(p, src, ("positive", "neutral", "negative"), "sentiment3")
    assert np.allclose(out, [[0.2, 0.1, 0.4]])  # surprise (0.3) is left out


def _fer_manifest(shared_data: Path, tmp_path: Path, per_class: int = 4) -> Path:
    rows = ["path,label"]
    for folder in sorted((shared_data / "fer2013" / "test_sample").iterdir()):
        for f in sorted(folder.glob("*.jpg"))[:per_class]:
            rows.append(f"{f},{folder.name}")
    m = tmp_path / "faces.csv"
    m.write_text("\n".join(rows) + "\n")
    return m


def test_evaluate_face_manifest_equals_direct_computation(shared_data: Path, tmp_path: Path) -> None:
    import cv2
    import torch

    from affectscope.models.registry import get

    manifest = _fer_manifest(shared_data, tmp_path)
    report = evaluate_manifest("fer-mini-xception", str(manifest), "emotion7")
    samples, skipped = read_manifest(manifest, "emotion7")
    assert skipped == 0 and report["n"] == len(samples) == 28
    model = get("fer-mini-xception").build().eval()
    grey = np.stack(
        [cv2.resize(cv2.imread(str(s.path), 0), (64, 64), interpolation=cv2.INTER_AREA) for s in samples]
    )
    x = torch.from_numpy(grey.astype(np.float32) / 127.5 - 1.0)[:, None]
    with torch.no_grad():
        pred = model(x).argmax(1).numpy()
    truth = np.array([s.label for s in samples])
    assert report["accuracy"] == pytest.approx(float(np.mean(pred == truth)))
    cm = np.zeros((7, 7), int)
    np.add.at(cm, (truth, pred), 1)
    assert report["confusion"] == cm.tolist()

    three = evaluate_manifest("fer-mini-xception", str(manifest), "sentiment3")
    assert three["skipped_rows"] == 4  # surprise rows are left out of 3 classes
    assert three["n"] == 24


def test_manifest_errors_are_actionable(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{bad},elated\n")
    with pytest.raises(ManifestError, match="not in sentiment3"):
        read_manifest(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("clip_that_is_not_here.mp4,positive\n")
    with pytest.raises(ManifestError, match="file not found"):
        read_manifest(missing)


def test_face_images_decoded_in_one_batch_equal_one_by_one(shared_data: Path, tmp_path: Path) -> None:
    """Evaluation over face images classifies their expressions in one batch: the signals (crops,
    expression probabilities, face features) equal those decoded image by image."""
    from affectscope.models.inference import image_signals_many, signals_for_file

    paths = [s.path for s in read_manifest(_fer_manifest(shared_data, tmp_path), "emotion7")[0]][:12]
    batched = image_signals_many(paths)
    assert len(batched) == len(paths)
    for path, many in zip(paths, batched, strict=True):
        one = signals_for_file(path, ("visual",))
        assert one.tracks.keys() == many.tracks.keys()
        for key, track in one.tracks.items():
            np.testing.assert_allclose(many.tracks[key].values, track.values, atol=1e-5)
        np.testing.assert_allclose(many.faces[0][0].expression, one.faces[0][0].expression, atol=1e-5)
    # A model that reads no expressions (seed 004) gets the same crops without classifying them.
    bare = image_signals_many(paths[:3], expressions=False)
    assert "expression_mean" not in bare[0].tracks and bare[0].faces[0][0].expression is None
    np.testing.assert_array_equal(
        bare[0].tracks["face_crop96"].values, batched[0].tracks["face_crop96"].values
    )


def test_seed004_face_evaluation_does_not_classify_expressions(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seed 004 reads face crops, not the mini-Xception's expressions: evaluating it over face
    images never runs that network (it was half of the time), and the result is unchanged."""
    from affectscope.models.extractors import expression

    manifest = _fer_manifest(shared_data, tmp_path, per_class=2)
    before = evaluate_manifest("lightweight-streaming", str(manifest), fast=False)

    def refuse(_faces: np.ndarray) -> np.ndarray:
        raise AssertionError("seed 004's evaluation classified expressions")

    monkeypatch.setattr(expression, "classify_faces", refuse)
    fast = evaluate_manifest("lightweight-streaming", str(manifest), fast=True)
    assert fast["confusion"] == before["confusion"] and fast["n"] == before["n"] > 0
