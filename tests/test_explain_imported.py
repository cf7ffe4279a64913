"""Explanation of imported model files (issue 20): captum on TorchScript, occlusion on ONNX, and the
modality bars by masking declared inputs. Each model is written here so where its answer comes from is
known: one reads only the left half of the face crops, one only the lowest mel bands; their maps must
put the attribution there and the bar of the modality they never read must be zero."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from affectscope.models.explain.clip import ClipExplainer
from tests.byo_models import write_model
from tests.explain_factory import explain_lanes, face_signals

LOW_BANDS = 10  # of 40: up to ~680 Hz


class LeftFace(nn.Module):
    """Reads the left half (columns 0-31) of 4 grey 64x64 face crops; takes a log-mel it never reads."""

    def __init__(self) -> None:
        super().__init__()
        self.face = nn.Linear(4 * 64 * 32, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, face: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.face(face[:, :, :, :32].reshape(face.shape[0], -1)))
        return self.out(h) + 0.0 * mel.mean()


class LowMel(nn.Module):
    """Reads only the lowest ``LOW_BANDS`` mel bands; takes face crops it never reads."""

    def __init__(self) -> None:
        super().__init__()
        self.voice = nn.Linear(LOW_BANDS * 101, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, face: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.voice(mel[:, :LOW_BANDS, :].reshape(mel.shape[0], -1) / 10.0))
        return self.out(h) + 0.0 * face.mean()


def _spec(fmt: str) -> dict:
    return {
        "spec_version": 1,
        "format": fmt,
        "labels": ["negative", "neutral", "positive"],
        "label_set": "sentiment3",
        "window_seconds": 1.0,
        "hop_seconds": 0.5,
        "inputs": [
            {
                "name": "face",
                "shape": [1, 4, 64, 64],
                "source": "face_crop64",
                "normalise": {"scale": 1 / 255},
            },
            {"name": "mel", "shape": [1, 40, 101], "source": "log_mel"},
        ],
        "outputs": [{"name": "logits"}],
    }


def import_file(tmp_path: Path, model: nn.Module, fmt: str, name: str, batch_axis: bool = False) -> str:
    """Write ``model`` as ONNX (a free batch axis with ``batch_axis``) or TorchScript and import it."""
    from affectscope.models.exchange.importing import import_model

    torch.manual_seed(0)
    model = model.eval()
    args = (torch.rand(1, 4, 64, 64), torch.randn(1, 40, 101))
    path = tmp_path / f"{name}.{'onnx' if fmt == 'onnx' else 'pt'}"
    write_model(model, path, fmt, args, ["face", "mel"], "logits", batch_axis)
    spec = tmp_path / f"{name}.spec.json"
    spec.write_text(json.dumps(_spec(fmt)))
    import_model(path, spec, name)
    return name


def _mass(values: np.ndarray) -> float:
    return float(np.abs(values).sum())


@pytest.mark.parametrize(("fmt", "method", "made_with"), [("torchscript", "gradcam", "ig"),
                                                          ("torchscript", "occlusion", "occlusion"),
                                                          ("onnx", "gradcam", "occlusion")])  # fmt: skip
def test_a_model_reading_the_left_half_of_the_face_is_explained_there(
    fmt: str, method: str, made_with: str, tmp_path: Path, shared_data: Path
) -> None:
    torch.manual_seed(1)
    name = import_file(tmp_path, LeftFace(), fmt, f"left-{fmt}")
    ex = ClipExplainer(name, face_signals(shared_data, duration=2.0))
    got = ex.explain(1.0, method=method)

    face = got.maps["face"]
    assert face.kind == "image" and face.method == made_with and face.values.shape == (64, 64)
    left, right = _mass(face.values[:, :32]), _mass(face.values[:, 32:])
    if made_with == "occlusion":  # 8-pixel patches every 4: those starting at column 28 reach 35
        assert left / (left + right) > 0.9 and _mass(face.values[:, 36:]) < 1e-6 * left
    else:
        assert left > 0 and right < 1e-6 * left
    assert face.box is not None  # drawn over the face in the frame, as the seed systems' maps are
    assert got.method == ("occlusion" if fmt == "onnx" else method)  # ONNX has no gradients, and says so
    # the log-mel, never read, gets no attribution, and muting the sound moves nothing
    assert _mass(got.maps["mel"].values) < 1e-6 * max(left, 1e-12)
    assert got.modalities["audio"]["shapley"] == pytest.approx(0.0, abs=1e-6)
    assert got.modalities["audio"]["leave_one_out"] == pytest.approx(0.0, abs=1e-6)
    assert got.modalities["face"]["shapley"] == pytest.approx(got.fused_all - got.fused_none, abs=1e-6)
    assert abs(got.modalities["face"]["shapley"]) > 1e-4


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_model_reading_low_mel_bands_is_explained_there_on_the_spectrogram(
    fmt: str, tmp_path: Path, shared_data: Path
) -> None:
    from affectscope.models.explain.imported import LINEAR_ROWS, mel_centres

    torch.manual_seed(2)
    name = import_file(tmp_path, LowMel(), fmt, f"lowmel-{fmt}")
    ex = ClipExplainer(name, face_signals(shared_data, duration=2.0))
    got = ex.explain(1.0, method="occlusion")

    mel = got.maps["mel"]
    assert mel.kind == "spectrogram" and mel.values.shape == (LINEAR_ROWS, 101)
    assert (mel.extra["t0"], mel.extra["t1"]) == pytest.approx((0.5, 1.5))  # the window it explains
    hz = (np.arange(LINEAR_ROWS) + 0.5) * 8000 / LINEAR_ROWS
    top = mel_centres(40)[LOW_BANDS + 2]  # occlusion tiles (5 bands) reach two bands past the edge
    rows = mel.values[::-1]  # highest frequency first in the picture
    low, high = _mass(rows[hz <= top]), _mass(rows[hz > top])
    assert low > 0 and high / (low + high) < 0.02
    assert _mass(got.maps["face"].values) < 1e-6 * low
    assert got.modalities["face"]["shapley"] == pytest.approx(0.0, abs=1e-6)
    assert abs(got.modalities["audio"]["shapley"]) > 1e-4


def test_the_sound_lane_of_an_imported_model_stitches_its_log_mel_maps(
    tmp_path: Path, shared_data: Path
) -> None:
    """The clip-wide sound-saliency lane, as seed 004 has it: every window's occlusion map of the
    log-mel on the clip's time axis, the mass in the low frequencies the model reads."""
    from affectscope.models.explain.lanes import sound_saliency

    name = import_file(tmp_path, LowMel(), "onnx", "lowmel-lane", batch_axis=True)
    ex = ClipExplainer(name, face_signals(shared_data, duration=3.0))
    lane = sound_saliency(ex, method="gradcam")  # the window's default method: occlusion on ONNX
    assert lane is not None and lane.complete and lane.total == len(ex.starts) == 5
    assert lane.method == "occlusion"  # what the lane's label says it is
    assert lane.max_freq == 8000 and lane.values.shape[1] == 128
    covered = np.isfinite(lane.values).all(1)
    assert covered.mean() > 0.95 and lane.times[covered].max() > 2.9
    hz = (np.arange(128) + 0.5) * 8000 / 128  # low frequencies first in the lane
    v = np.abs(lane.values[covered])
    assert v[:, hz > 1500].sum() < 0.02 * v.sum()


def test_onnx_occlusion_runs_as_batches_where_the_file_has_a_free_batch_axis(
    tmp_path: Path, shared_data: Path
) -> None:
    """Occlusion's perturbed copies go to onnxruntime as one batch when the file allows it, and give
    the same map as one run per copy."""
    from affectscope.models.inference import load_model

    torch.manual_seed(3)
    fixed = import_file(tmp_path, LeftFace(), "onnx", "left-fixed")
    torch.manual_seed(3)
    free = import_file(tmp_path, LeftFace(), "onnx", "left-free", batch_axis=True)
    assert not load_model(fixed)[1]._batchable and load_model(free)[1]._batchable
    signals = face_signals(shared_data, duration=2.0)
    a = ClipExplainer(fixed, signals).explain(1.0, method="occlusion")
    b = ClipExplainer(free, signals).explain(1.0, method="occlusion")
    np.testing.assert_allclose(a.maps["face"].values, b.maps["face"].values, atol=1e-5)
    np.testing.assert_allclose(a.maps["mel"].values, b.maps["mel"].values, atol=1e-6)


class LeftFaceLowMel(nn.Module):
    """Both at once: the left half of the face crops and the lowest mel bands."""

    def __init__(self) -> None:
        super().__init__()
        self.face, self.voice = LeftFace(), LowMel()

    def forward(self, face: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        return self.face(face, mel) + self.voice(face, mel)


def test_the_explain_tab_draws_an_onnx_models_occlusion_maps(
    qtbot, tmp_path: Path, shared_data: Path
) -> None:  # noqa: ANN001
    """Where the seed systems' saliency is shown: the face map over the frame at the face's box, the
    log-mel map as the sound saliency picture; the method list offers only Occlusion (no gradients)."""
    from types import SimpleNamespace

    from affectscope.app.qt.clock import QtClock
    from affectscope.app.qt.explain_panel import ExplainPanel
    from affectscope.app.qt.workers import Workers

    torch.manual_seed(4)
    name = import_file(tmp_path, LeftFaceLowMel(), "onnx", "both-onnx", batch_axis=True)
    ex = ClipExplainer(name, face_signals(shared_data, duration=2.0))
    host = SimpleNamespace(workers=Workers(), clock=QtClock(), player=None)
    panel = ExplainPanel(host)
    qtbot.addWidget(panel)
    assert panel.method.currentData() == "gradcam"
    with qtbot.waitSignal(panel.explained, timeout=120_000):
        panel.set_explainer(ex, ex.explain(None, maps=False))
    assert panel.method.currentData() == "occlusion"
    items = panel.method.model()
    assert [items.item(i).isEnabled() for i in range(panel.method.count())] == [False, False, False, True]

    result = panel.current
    assert set(result.maps) == {"face", "mel"} and result.method == "occlusion"
    assert len(panel.overlay.images) == 1  # the face map, placed at the face's crop box in the frame
    rect, image = panel.overlay.images[0]
    box = result.maps["face"].box
    assert (rect.x(), rect.y(), rect.right(), rect.bottom()) == pytest.approx(box, abs=1e-3)
    assert (image.width(), image.height()) == (64, 64)
    # the log-mel map is the sound saliency picture of the playhead's window
    assert not panel.sound.pixmap().isNull()
    assert panel.sound_label.text().startswith(
        f"Sound saliency {result.time - 0.5:.2f}–{result.time + 0.5:.2f} s"
    )
    assert set(panel.checks) == {"face", "audio"}
    shapley = {m: r["shapley"] for m, r in panel.at_bars.values().items()}
    assert abs(shapley["face"]) > 1e-4 and abs(shapley["audio"]) > 1e-4
    # with its answers written in, the tab still fits the inspector's width (at 1024x600 and 1920x1080
    # the how-to's window cut the bars and the clip decision off at the right, behind a scroll bar)
    from affectscope.app.qt.inspector import MAX_MIN_WIDTH

    assert panel.minimumSizeHint().width() <= MAX_MIN_WIDTH
    panel.workers.cancel_all()


def test_explain_on_the_command_line_writes_an_onnx_models_spectrogram_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``affectscope explain --at`` on an imported ONNX file: occlusion maps (a clip with speech and no
    face: the log-mel map only), written as .npy and a .png picture, and the bars."""
    from affectscope.app.cli.main import main
    from tests.clipfactory import make_clip

    torch.manual_seed(5)
    name = import_file(tmp_path, LeftFaceLowMel(), "onnx", "both-cli", batch_axis=True)
    clip = make_clip(tmp_path / "talk.mp4", n_frames=50, fps=25, audio="speech", audio_rate=16000)
    out = tmp_path / "maps"
    assert main(["explain", str(clip), "--model", name, "--at", "1.0", "-o", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["method"] == "occlusion" and doc["time"] == 1.0
    assert set(doc["maps"]) == {"mel"}  # no face in this clip: nothing to map there
    mel = doc["maps"]["mel"]
    assert mel["kind"] == "spectrogram" and mel["method"] == "occlusion" and mel["shape"] == [128, 101]
    assert [Path(p).suffix for p in mel["paths"]] == [".npy", ".png"]
    assert np.load(mel["paths"][0]).shape == (128, 101)
    assert doc["modalities"]["face"]["shapley"] == 0.0 and abs(doc["modalities"]["audio"]["shapley"]) > 1e-4


@pytest.mark.parametrize(("shape", "patch"), [((1, 4, 64, 64), (8, 8)), ((1, 1, 40, 101), (5, 10))])
def test_the_batched_occlusion_gives_captums_numbers(shape: tuple[int, ...], patch: tuple[int, int]) -> None:
    """The occlusion imported files use builds its copies in one tensor a chunk; its map is captum's
    Occlusion's (same patches, strides of half a patch, baseline, mean over the patches covering a
    pixel, summed over channels)."""
    from captum.attr import Occlusion

    from affectscope.models.explain.imported import occlusion

    torch.manual_seed(6)
    net = nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(shape)), 5), nn.Tanh(), nn.Linear(5, 3))
    x, base = torch.rand(shape), torch.full(shape, -0.5)
    got = occlusion(net, x, 2, base, patch, chunk=50)
    c = shape[1]
    with torch.no_grad():
        want = Occlusion(net).attribute(
            x,
            sliding_window_shapes=(c, *patch),
            strides=(c, patch[0] // 2, patch[1] // 2),
            target=2,
            baselines=base,
        )
    np.testing.assert_allclose(got, want[0].sum(0).numpy(), atol=1e-5)
    assert np.abs(got).max() > 1e-3


def test_occluded_copies_reach_onnxruntime_as_batches(tmp_path: Path, shared_data: Path) -> None:
    """With a free batch axis one onnxruntime run takes a chunk of 64 occluded copies; a file fixed at
    a batch of 1 takes them one run each (and gives the same map, tested above)."""
    from affectscope.models.inference import load_model

    signals = face_signals(shared_data, duration=2.0)
    runs = {}
    for name, free in (("runs-free", True), ("runs-fixed", False)):
        torch.manual_seed(3)
        import_file(tmp_path, LeftFaceLowMel(), "onnx", name, batch_axis=free)
        ex = ClipExplainer(name, signals)
        ex.table()
        session = ex.model._session
        calls = []

        class Counting:
            def run(self, outputs, feeds, calls=calls, session=session):  # noqa: ANN001, ANN202
                calls.append(len(next(iter(feeds.values()))))
                return session.run(outputs, feeds)

        ex.model._session = Counting()
        ex.explain(1.0, method="occlusion")
        runs[name] = calls
    copies = 225 + 380  # face: 15 x 15 patches of 8 px; log-mel: 19 x 20 tiles of 5 bands x 100 ms
    assert sum(runs["runs-fixed"]) == len(runs["runs-fixed"]) >= copies
    assert sum(runs["runs-free"]) == sum(runs["runs-fixed"])
    assert len(runs["runs-free"]) <= 2 + (225 + 63) // 64 + (380 + 63) // 64 and max(runs["runs-free"]) == 64
    assert load_model("runs-free")[1]._batchable


class ShouldersAndHappy(nn.Module):
    """Reads the shoulders (BlazePose joints 11, 12) of the pose and the 'happy' expression column;
    takes a waveform it never reads."""

    def __init__(self) -> None:
        super().__init__()
        self.pose = nn.Linear(4 * 2 * 4, 4)
        self.out = nn.Linear(5, 3)

    def forward(self, pose: torch.Tensor, expression: torch.Tensor, wave: torch.Tensor) -> torch.Tensor:
        shoulders = torch.tanh(self.pose(pose[:, :, 11:13, :].reshape(pose.shape[0], -1)))
        happy = expression[:, :, 3].mean(1, keepdim=True)
        return self.out(torch.cat([shoulders, 3.0 * happy], 1)) + 0.0 * wave.mean()


@pytest.mark.parametrize(("fmt", "made_with"), [("onnx", "occlusion"), ("torchscript", "ig")])
def test_pose_expression_and_waveform_inputs_are_explained_per_joint_class_and_time(
    fmt: str, made_with: str, tmp_path: Path, shared_data: Path
) -> None:
    """Vector inputs: one value per joint (pose), per expression class, per stretch of the waveform;
    Integrated Gradients through a TorchScript file, feature occlusion on an ONNX one."""
    from affectscope.models.exchange.importing import import_model
    from affectscope.models.extractors.pose import KEYPOINT_NAMES
    from affectscope.models.signals import EXPRESSIONS, Track

    torch.manual_seed(7)
    model = ShouldersAndHappy().eval()
    args = (torch.rand(1, 4, 33, 4), torch.rand(1, 4, 7), torch.randn(1, 16000))
    names = ["pose", "expression", "wave"]
    path = write_model(
        model, tmp_path / f"sh.{'onnx' if fmt == 'onnx' else 'pt'}", fmt, args, names, "logits"
    )
    spec = {
        **_spec(fmt),
        "inputs": [
            {"name": "pose", "shape": [1, 4, 33, 4], "source": "pose"},
            {"name": "expression", "shape": [1, 4, 7], "source": "expression"},
            {"name": "wave", "shape": [1, 16000], "source": "waveform"},
        ],
    }
    (tmp_path / "sh.spec.json").write_text(json.dumps(spec))
    import_model(path, tmp_path / "sh.spec.json", f"sh-{fmt}")

    signals = face_signals(shared_data, duration=2.0)
    t = signals.frame_times
    rng = np.random.default_rng(0)
    signals.tracks["pose"] = Track(t, rng.uniform(0.2, 0.8, (len(t), 33, 4)).astype(np.float32))
    signals.tracks["pose_confidence"] = Track(t, np.ones(len(t), np.float32))
    expr = rng.dirichlet(np.ones(7), len(t)).astype(np.float32)
    signals.tracks["expression_mean"] = Track(t, expr, EXPRESSIONS)
    got = ClipExplainer(f"sh-{fmt}", signals).explain(1.0, method="gradcam")

    pose = got.maps["pose"]
    assert pose.kind == "keypoints" and pose.method == made_with and pose.names == tuple(KEYPOINT_NAMES)
    shoulders = pose.values[[11, 12]].sum()
    assert shoulders > 0 and pose.values.sum() - shoulders < 1e-6 * shoulders
    expression = got.maps["expression"]
    assert (
        expression.kind == "features" and expression.names == EXPRESSIONS and expression.method == made_with
    )
    assert expression.ranked(1)[0][0] == "happy"
    assert np.abs(np.delete(expression.values, 3)).max() < 1e-6 * abs(expression.values[3])
    wave = got.maps["wave"]
    assert wave.kind == "signal" and wave.values.shape == (64,) and np.abs(wave.values).max() < 1e-9
    assert got.modalities["audio"]["shapley"] == pytest.approx(0.0, abs=1e-6)
    assert abs(got.modalities["pose"]["shapley"]) > 1e-4


def test_an_onnx_export_of_a_shipped_system_gets_occlusion_maps_where_the_system_draws_them(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seed 004 exported to ONNX and imported back: no gradients, so its face, mouth and spectrogram
    maps are occlusion (Grad-CAM raised inside autograd before), the spectrogram marked as one (it was
    drawn as a face picture), the face map at the face's box."""
    from affectscope.app.cli.main import main

    out = tmp_path / "lw.onnx"
    assert (
        main(["models", "export", "lightweight-streaming", "--format", "onnx", "-o", str(out), "--json"]) == 0
    )
    spec = json.loads(capsys.readouterr().out)["spec"]
    assert main(["models", "import", str(out), "--spec", spec, "--name", "lw-maps"]) == 0
    got = ClipExplainer("lw-maps", face_signals(shared_data, duration=2.0)).explain(1.0, method="gradcam")
    assert got.method == "occlusion"
    assert {k: (m.kind, m.method) for k, m in got.maps.items()} == {
        "face": ("image", "occlusion"),
        "mouth": ("image", "occlusion"),
        "audio": ("spectrogram", "occlusion"),
    }
    assert got.maps["face"].box is not None and got.maps["audio"].box is None
    assert np.abs(got.maps["face"].values).max() > 0


def test_the_timeline_gets_an_onnx_models_sound_and_contribution_lanes(
    qtbot,  # noqa: ANN001
    tmp_path: Path,
    shared_data: Path,
) -> None:
    """The Explain tab's lanes for an imported file: the stitched log-mel occlusion as the sound
    lane (its label says occlusion, on the linear frequency rows) and the per-window contributions."""
    from affectscope.app.qt.explain_lanes import CONTRIBUTION, SOUND

    torch.manual_seed(8)
    name = import_file(tmp_path, LeftFaceLowMel(), "onnx", "both-lanes", batch_axis=True)
    ex = ClipExplainer(name, face_signals(shared_data, duration=3.0))
    ex.table()
    _, timeline, workers, lanes = explain_lanes(qtbot, 3.0)
    try:
        with qtbot.waitSignal(lanes.sound_ready, timeout=120_000) as blocker:
            lanes.show(ex, None, "gradcam")
        tf = blocker.args[0]
        assert {SOUND, CONTRIBUTION} <= {lane.name for lane in timeline.lanes}
        assert tf.method == "occlusion" and tf.values.shape[1] == 128 and tf.complete
        assert timeline.lane(SOUND).label.text().startswith(f"{SOUND}: occlusion")
        contribution = lanes.contribution_data
        assert contribution.modalities == ("face", "audio") and np.isfinite(contribution.values).all()
    finally:
        workers.cancel_all()


class TopFaceAndMouth(nn.Module):
    """Reads the top half of 2 RGB 96x96 face crops and every pixel of 2 grey 28x28 mouth crops."""

    def __init__(self) -> None:
        super().__init__()
        self.face = nn.Linear(2 * 3 * 48 * 96, 4)
        self.mouth = nn.Linear(2 * 28 * 28, 4)
        self.out = nn.Linear(8, 3)

    def forward(self, face: torch.Tensor, mouth: torch.Tensor) -> torch.Tensor:
        f = torch.tanh(self.face(face[:, :, :, :48, :].reshape(face.shape[0], -1)))
        m = torch.tanh(self.mouth(mouth.reshape(mouth.shape[0], -1)))
        return self.out(torch.cat([f, m], 1))


def test_rgb_face_and_mouth_crops_are_mapped_at_their_boxes(tmp_path: Path, shared_data: Path) -> None:
    """face_crop96 stacks (T, 3, 96, 96): one map over frames and colours, where the model looks; the
    mouth crops' map is placed at the mouth's box, not the face's."""
    from affectscope.models.exchange.importing import import_model
    from affectscope.models.explain import frames

    torch.manual_seed(9)
    path = tmp_path / "fm.onnx"
    args = (torch.rand(1, 2, 3, 96, 96), torch.rand(1, 2, 28, 28))
    write_model(TopFaceAndMouth(), path, "onnx", args, ["face", "mouth"], "logits")
    grey = {"scale": 1 / 255}
    spec = {
        **_spec("onnx"),
        "inputs": [
            {"name": "face", "shape": [1, 2, 3, 96, 96], "source": "face_crop96", "normalise": grey},
            {"name": "mouth", "shape": [1, 2, 28, 28], "source": "mouth_crop28", "normalise": grey},
        ],
    }
    (tmp_path / "fm.spec.json").write_text(json.dumps(spec))
    import_model(path, tmp_path / "fm.spec.json", "fm")
    signals = face_signals(shared_data, duration=2.0)
    got = ClipExplainer("fm", signals).explain(1.0)

    face, mouth = got.maps["face"], got.maps["mouth"]
    assert (
        face.kind == mouth.kind == "image"
        and face.values.shape == (96, 96)
        and mouth.values.shape == (28, 28)
    )
    top, bottom = np.abs(face.values[:48]).sum(), np.abs(face.values[48:]).sum()
    assert top > 0 and bottom / (top + bottom) < 0.1 and np.abs(face.values[60:]).sum() < 1e-6 * top
    assert face.box == pytest.approx(frames.face_box(signals, got.time))
    assert mouth.box == pytest.approx(frames.mouth_box(signals, got.time)) and mouth.box != face.box
    assert np.abs(mouth.values).sum() > 0
