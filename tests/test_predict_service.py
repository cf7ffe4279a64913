"""The one predict-and-store path (app/services/predict.py) that the command line, the window and batch
call: staged progress, the cached signals, and one policy on untrained weights for all three."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services import predict
from affectscope.app.services.project import Project
from affectscope.jobs import Cancelled, Job
from tests.clipfactory import make_clip

UNTRAINED = "crossmodal-attention"  # made to ship no weights here (the ``untrained`` fixture)


def test_job_stages_share_one_bar_that_never_goes_back() -> None:
    seen: list[tuple[int, int, str]] = []
    partials: list[object] = []
    job = Job(on_progress=lambda d, t, m: seen.append((d, t, m)), on_partial=partials.append)
    first, second = job.stage(1, 2, "analysing frames"), job.stage(2, 2, "running model", "a.mp4")
    first.progress(5, 10, "frame 5/10")
    first.progress(2, 10)  # a stage that restarts its own count does not pull the bar back
    second.progress(0, 4, "window 0/4")
    second.partial("lane")
    second.progress(4, 4)
    assert seen == [
        (250, 1000, "analysing frames 1/2: frame 5/10"),
        (250, 1000, "analysing frames 1/2"),
        (500, 1000, "running model 2/2 a.mp4: window 0/4"),
        (1000, 1000, "running model 2/2 a.mp4"),
    ]
    assert partials == ["lane"]
    second.cancel()  # cancelling a stage cancels the whole job, and the other stage sees it
    assert job.cancelled() and first.cancelled()
    with pytest.raises(Cancelled):
        first.check()


@pytest.fixture(autouse=True)
def untrained(monkeypatch: pytest.MonkeyPatch) -> None:
    """``UNTRAINED`` has no weights file, whatever ships: the policy is about such a model."""
    from affectscope.models.registry import ModelSpec

    shipped = ModelSpec.weights_path
    monkeypatch.setattr(
        ModelSpec, "weights_path", lambda self: None if self.name == UNTRAINED else shipped(self)
    )


@pytest.fixture
def project_clip(tmp_path: Path) -> Path:
    clip = make_clip(tmp_path / "a.mp4", n_frames=12, fps=12, audio="speech")
    with Project.init(tmp_path) as project:
        project.import_clips(tmp_path)
    return clip


def _stored(folder: Path) -> dict:
    with Project.open(folder) as project:
        return predict.latest_predictions(project)


def test_predict_never_stores_an_untrained_models_output_and_says_so(
    project_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, ``predict --project --allow-untrained`` stored random-weight output the window refused to."""
    folder = str(project_clip.parent)
    args = ["predict", str(project_clip), "--model", UNTRAINED, "--project", folder, "--json"]
    assert main(args) == 2  # running it at all needs --allow-untrained
    assert "cannot predict yet" in capsys.readouterr().err
    assert main([*args, "--allow-untrained"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["model"] == UNTRAINED
    assert predict.UNTRAINED_NOT_STORED in out.err
    assert _stored(project_clip.parent) == {}


def test_the_window_path_stores_a_trained_prediction_and_shows_why_lanes_lack_input(
    project_clip: Path,
) -> None:
    seen: list[tuple[int, int, str]] = []
    job = Job(on_progress=lambda d, t, m: seen.append((d, t, m)))
    with Project.open(project_clip.parent) as project:
        result = predict.predict_clip(str(project_clip), "lightweight-streaming", project=project, job=job)
        assert result.stored_ok and result.stored.startswith("stored in the project")
        assert not result.untrained and [lane.name for lane in result.lanes][-1] in ("fused", "EWMA")
        assert "no face found: predicted without it" in {lane.reason for lane in result.lanes}
        again = predict.stored_prediction(project, str(project_clip.resolve()))
        assert again is not None and again.stored_ok
        assert [lane.name for lane in again.lanes] == [lane.name for lane in result.lanes]
        # Run again: the first run's perception (the tracks this model needs) comes from the cache.
        seen.clear()
        predict.predict_clip(str(project_clip), "lightweight-streaming", project=project, job=job)
        assert any(m == "analysing frames 1/2: loaded from cache" for *_, m in seen)
        untrained = predict.predict_clip(str(project_clip), UNTRAINED, project=project, allow_untrained=True)
        assert untrained.untrained and not untrained.stored_ok
        assert untrained.stored == predict.UNTRAINED_NOT_STORED
        assert all(predict.UNTRAINED_NOTE in lane.reason for lane in untrained.lanes)
    values = [d for d, *_ in seen]
    assert values == sorted(values)
    latest = _stored(project_clip.parent)
    assert list(latest) == [str(project_clip.resolve())]


def test_batch_follows_the_same_untrained_policy(
    project_clip: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from affectscope.app.services import batch_tasks

    # The in-process worker's model cache and load count are per process: keep them to this test.
    monkeypatch.setattr(batch_tasks, "MODEL_LOADS", {})
    monkeypatch.setattr(batch_tasks, "_LOADED", {})
    folder = str(project_clip.parent)
    capsys.readouterr()
    argv = ["batch", "predict", "--project", folder, "--model", UNTRAINED, "--allow-untrained", "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["done"] == 1 and summary["stored"] is False and len(summary["results"]) == 1
    assert _stored(project_clip.parent) == {}
