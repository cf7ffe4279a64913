"""NaN and infinity are refused, never labelled (issue 23 item 8).

Weights holding NaN used to give exit 0 and NaN probabilities labelled "positive", with bare ``NaN``
tokens in the JSON. Now weights with NaN/inf are refused on load, and a model whose finite weights
still overflow to NaN outputs is refused where its ``Analysis`` is made, before anything is stored.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from affectscope.db import predictions as pred_rows
from affectscope.db.label_sets import LabelError
from affectscope.db.schema import ClipPrediction, TimePrediction
from affectscope.db.uow import unit_of_work
from affectscope.errors import WeightsError
from affectscope.models.inference import Analysis
from affectscope.models.training.quick_audio import LinearAudioModel
from affectscope.resources import resource_path
from tests.clipfactory import make_clip

SHIPPED = resource_path("weights", "seed004_lightweight.safetensors")


def _weights(tmp_path: Path, name: str, change) -> Path:  # noqa: ANN001
    from safetensors.torch import load_file

    tensors = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(SHIPPED)).items()}
    change(tensors)
    path = tmp_path / name
    save_file(tensors, str(path))
    return path


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_weights_holding_nan_or_inf_are_refused(
    value: float, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def poison(t: dict[str, torch.Tensor]) -> None:
        t["audiovisual.audio.fc.weight"][0, 0] = value

    bad = _weights(tmp_path, "bad.safetensors", poison)
    wav = shared_data / "emodb" / "03a01Fa.wav"
    assert main(["predict", str(wav), "--weights", str(bad), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "holds NaN or infinite values in 1 tensor(s) (audiovisual.audio.fc.weight)" in err


def test_finite_weights_that_overflow_to_nan_are_never_labelled_or_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def overflow(t: dict[str, torch.Tensor]) -> None:
        w = t["audiovisual.audio.classifier.weight"]
        t["audiovisual.audio.classifier.weight"] = torch.full_like(w, 3e38) * torch.tensor(
            [1.0, -1.0]
        ).repeat(w.shape[1] // 2)

    huge = _weights(tmp_path, "huge.safetensors", overflow)
    clip = make_clip(tmp_path / "clips" / "a.mp4", n_frames=30, fps=25, audio="speech")
    with Project.init(tmp_path / "p") as project:
        project.import_clips(tmp_path / "clips")
    code = main(["predict", str(clip), "--weights", str(huge), "--project", str(tmp_path / "p"), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", err
    assert "gave NaN or infinite outputs" in err and "nothing was labelled or stored" in err
    with Project.open(tmp_path / "p") as project, unit_of_work(project.db) as s:
        assert s.query(ClipPrediction).count() == 0 and s.query(TimePrediction).count() == 0


def test_an_analysis_cannot_hold_nan() -> None:
    from affectscope.models.inference import ModelOutputError

    good = dict(
        model="m",
        labels=("a", "b"),
        times=np.array([0.5]),
        window=(1.0, 1.0),
        per_modality={"audio": np.array([[0.4, 0.6]])},
        fused=np.array([[0.4, 0.6]]),
        clip_probs=np.array([0.4, 0.6]),
        clip_label="b",
    )
    Analysis(**good)
    with pytest.raises(ModelOutputError, match=r"m gave NaN or infinite outputs \(modality audio\)"):
        Analysis(**{**good, "per_modality": {"audio": np.array([[np.nan, 0.6]])}})
    with pytest.raises(ModelOutputError, match=r"\(clip\)"):
        Analysis(**{**good, "clip_probs": np.array([np.inf, 0.0])})


def test_quick_audio_weights_with_nan_are_refused(tmp_path: Path) -> None:
    model = LinearAudioModel(("a", "b"), np.zeros(3), np.ones(3), np.zeros((2, 3)), np.array([0.0, np.nan]))
    path = model.save(tmp_path / "q.npz")
    with pytest.raises(WeightsError, match=r"q.npz holds NaN or infinite values \(intercept\)"):
        LinearAudioModel.load(path)


def test_the_database_refuses_non_finite_probabilities(tmp_path: Path) -> None:
    make_clip(tmp_path / "a.mp4", n_frames=10, fps=25)
    with Project.init(tmp_path) as project:
        project.import_clips(tmp_path)
        clip = project.clip("a.mp4").id
        with unit_of_work(project.db, write=True) as s:
            vid = pred_rows.record_model_version(s, "m", "v", "sentiment3", ["p", "n", "x"], None, {}).id
        with pytest.raises(LabelError, match="finite"), unit_of_work(project.db, write=True) as s:
            pred_rows.add_predictions(s, vid, clip, clip_probs=[float("nan"), 0.5, 0.5])
        with pytest.raises(LabelError, match="finite"), unit_of_work(project.db, write=True) as s:
            pred_rows.add_predictions(s, vid, clip, timeline=[(0.0, 1.0, [0.2, float("inf"), 0.1])])
        with unit_of_work(project.db) as s:
            assert s.query(ClipPrediction).count() == 0


def test_evaluation_refuses_nan_outputs_of_an_image_classifier() -> None:
    from affectscope.models.evaluation import _classifier_probs
    from affectscope.models.finite import ModelOutputError

    class Broken(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.full((x.shape[0], 7), float("inf")) * self.w  # softmax of inf logits: NaN

    with pytest.raises(ModelOutputError, match=r"Broken gave NaN or infinite outputs \(image\)"):
        _classifier_probs(Broken(), torch.zeros(1, 1, 64, 64))


def test_the_window_refuses_nan_outputs_and_shows_why(qtbot, tmp_path: Path) -> None:
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.demo import build_demo_project

    def overflow(t: dict[str, torch.Tensor]) -> None:
        w = t["audiovisual.audio.classifier.weight"]
        t["audiovisual.audio.classifier.weight"] = torch.full_like(w, 3e38) * torch.tensor(
            [1.0, -1.0]
        ).repeat(w.shape[1] // 2)

    huge = _weights(tmp_path, "huge.safetensors", overflow)
    demo = build_demo_project(tmp_path / "demo")
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
            window.load_clip(demo / "clips" / "astronaut_neutral.mp4")
        window.models.set_weights(str(huge))
        with qtbot.waitSignal(window.error_shown, timeout=120000) as shown:
            window.models.run_action.trigger()
        title, message = shown.args
        assert title == "Cannot run lightweight-streaming" and "gave NaN or infinite outputs" in message
        assert window.models.result is None and window.models.run_button.isEnabled()
    finally:
        window.workers.cancel_all()
        window.shutdown()
