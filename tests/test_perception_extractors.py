"""Faces, landmarks, mouth, tracking, pose and voice activity on real frames and real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.models.extractors import expression, mouth, pose, vad
from affectscope.models.extractors.faces import detect_faces, face_crop, predictor_path
from affectscope.models.extractors.tracking import FaceTracker


@pytest.fixture(scope="module")
def talking_frame(shared_data: Path) -> np.ndarray:
    from affectscope.media import VideoReader

    with VideoReader(shared_data / "clips" / "woman2_unlabelled.mp4") as reader:
        return np.array(reader.frame(60))


def test_predictor_found_without_importing_the_broken_package() -> None:
    assert predictor_path().name == "shape_predictor_68_face_landmarks.dat"


def test_one_face_with_68_landmarks_on_the_real_talking_face(talking_frame: np.ndarray) -> None:
    faces = detect_faces(talking_frame)
    assert len(faces) == 1
    f = faces[0]
    x0, y0, x1, y1 = f.box
    assert 200 < (x0 + x1) / 2 < 380 and 60 < (y0 + y1) / 2 < 220  # her face is in the upper middle
    assert f.landmarks.shape == (68, 2)
    inside = (f.landmarks[:, 0] > x0 - 20) & (f.landmarks[:, 0] < x1 + 20) & (f.landmarks[:, 1] > y0 - 30)
    assert inside.all()
    # iBUG order: the chin (point 9) is below the nose tip (31), which is below the eyes (37-48)
    assert f.landmarks[8, 1] > f.landmarks[30, 1] > f.landmarks[36:48, 1].mean()
    assert face_crop(talking_frame, f.box, 96).shape == (96, 96, 3)
    assert face_crop(talking_frame, f.box, 64, grey=True).shape == (64, 64)
    assert mouth.mouth_crop(talking_frame, f.landmarks).shape == (28, 28, 3)
    probs = expression.classify_faces(face_crop(talking_frame, f.box, 64, grey=True)[None])
    assert probs.shape == (1, 7) and probs.sum() == pytest.approx(1.0, abs=1e-5)


def test_no_face_in_a_blank_frame() -> None:
    assert detect_faces(np.full((240, 320, 3), 128, np.uint8)) == []


def _lips(gap: float) -> np.ndarray:
    """68 points where only the mouth matters: a 40 px wide mouth whose inner lips are ``gap`` apart."""
    pts = np.zeros((68, 2), np.float32)
    pts[48], pts[54] = (0, 0), (40, 0)
    for top, bottom, x in ((61, 67, 14), (62, 66, 20), (63, 65, 26)):
        pts[top], pts[bottom] = (x, -gap / 2), (x, gap / 2)
    return pts


def test_mouth_open_ratio_and_probability() -> None:
    assert mouth.mouth_open_ratio(_lips(0)) == 0.0
    assert mouth.mouth_open_ratio(_lips(16)) == pytest.approx(0.4)
    assert mouth.open_probability(mouth.mouth_open_ratio(_lips(0))) < 0.05
    assert mouth.open_probability(mouth.mouth_open_ratio(_lips(16))) > 0.95
    with pytest.raises(ValueError):
        mouth.mouth_open_ratio(np.zeros((5, 2)))


def test_tracker_keeps_ids_for_moving_faces_and_starts_new_ones() -> None:
    tracker = FaceTracker(max_gap=2)
    a, b = (0, 0, 50, 50), (200, 0, 250, 50)
    assert tracker.update([a]) == [0]
    assert tracker.update([(5, 0, 55, 50), b]) == [0, 1]
    assert tracker.update([b, (10, 0, 60, 50)]) == [1, 0]  # order of detections does not matter
    for _ in range(3):
        tracker.update([])
    assert tracker.update([(10, 0, 60, 50)]) == [2]  # gap too long: a new track


def test_face_features22_is_min_max_mean_and_count() -> None:
    p1 = np.array([0.1, 0, 0, 0.6, 0.1, 0.1, 0.1], np.float32)
    p2 = np.array([0.3, 0, 0, 0.2, 0.3, 0.1, 0.1], np.float32)
    f = expression.face_features22([p1, p2])
    np.testing.assert_allclose(f[:7], np.minimum(p1, p2))
    np.testing.assert_allclose(f[7:14], np.maximum(p1, p2))
    np.testing.assert_allclose(f[14:21], (p1 + p2) / 2)
    assert f[21] == 2
    assert expression.face_features22([]).tolist() == [0.0] * 22
    assert len(expression.feature22_names()) == 22


def test_pose_finds_the_person_and_maps_to_seed_layouts(talking_frame: np.ndarray) -> None:
    with pose.PoseEstimator() as est:
        kp = est.estimate(talking_frame)
    assert kp is not None and kp.shape == (33, 4)
    nose, ls, rs = kp[0], kp[11], kp[12]
    assert 200 < nose[0] < 380 and nose[1] < ls[1] and nose[1] < rs[1]  # shoulders below the nose
    assert pose.confidence(kp) > 0.2
    assert pose.body13(kp).shape == (13, 4) and np.array_equal(pose.body13(kp)[0], kp[0])
    assert pose.features99(kp).shape == (99,)
    assert pose.BODY13_NAMES[1:3] == ("left_shoulder", "right_shoulder")


def test_pose_empty_frame_finds_nobody() -> None:
    with pose.PoseEstimator() as est:
        assert est.estimate_people(np.zeros((240, 320, 3), np.uint8), []) == []


def test_vad_finds_speech_where_it_is_and_silence_where_it_is(shared_data: Path) -> None:
    import soundfile as sf

    from affectscope.models.extractors.audio_features import resample

    wav, rate = sf.read(sorted((shared_data / "emodb").glob("*.wav"))[3], dtype="float32")
    speech = resample(wav, rate, 16000)[: 2 * 16000]
    silence = np.zeros(16000 * 3 // 2, np.float32) + np.random.default_rng(0).normal(0, 1e-4, 24000).astype(
        np.float32
    )
    samples = np.concatenate([silence, speech, silence])
    track = vad.speech_probability(samples, 16000, start_time=10.0)
    assert len(track) == len(samples) // 512
    t = track.times - 10.0
    in_speech = track.values[(t > 1.7) & (t < 3.3)]
    in_silence = track.values[(t < 1.3) | (t > 3.8)]
    assert np.mean(in_speech > 0.5) > 0.6, in_speech
    assert np.mean(in_silence < 0.2) > 0.95


def test_vad_cancel_stops_within_one_batch() -> None:
    from affectscope.jobs import Cancelled, Job

    calls = []
    job = Job(on_progress=lambda d, t, m: (calls.append(d), job.cancel()))
    with pytest.raises(Cancelled):
        vad.speech_probability(np.zeros(16000 * 10, np.float32), job=job, batch=16)
    assert calls == [16]
