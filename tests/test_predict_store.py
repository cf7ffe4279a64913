"""Storing an Analysis in a project database and recording trained versions (app/services/analysis_store)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.app.services.analysis_store import record_trained, store_analysis
from affectscope.app.services.project import Project
from affectscope.db import predictions as pred_rows
from affectscope.db.uow import unit_of_work
from affectscope.models.inference import analyse_clip
from tests.clipfactory import make_clip


@pytest.fixture()
def project(tmp_path: Path) -> Project:
    clips = tmp_path / "clips"
    clips.mkdir()
    make_clip(clips / "a.mp4", n_frames=50, fps=25.0, audio="speech", audio_rate=16000)
    proj = Project.init(tmp_path / "proj")
    proj.import_clips(clips)
    return proj


def test_store_analysis_writes_clip_and_timelines(project: Project, tmp_path: Path) -> None:
    from affectscope.models.registry import get
    from affectscope.models.weights import save_state

    torch.manual_seed(0)
    weights = save_state(get("lightweight-streaming").build(), tmp_path / "w.safetensors")
    clip = project.clips()[0]
    analysis = analyse_clip(clip.path, "lightweight-streaming", weights=weights)
    written = store_analysis(project, clip.id, analysis)
    lanes = 1 + len(analysis.per_modality) + 1  # fused, each modality, accumulated
    assert written == 1 + lanes * len(analysis.times)
    with unit_of_work(project.db) as s:
        preds = pred_rows.clip_predictions(s, clip.id)
        assert len(preds) == 1 and preds[0].label == analysis.clip_label
        assert np.allclose(preds[0].probs, analysis.clip_probs, atol=1e-6)
        fused = pred_rows.time_predictions(s, preds[0].model_version_id, clip.id, "fused")
        assert len(fused) == len(analysis.times)
    # The same weights again replace, not duplicate, their predictions.
    store_analysis(project, clip.id, analysis)
    with unit_of_work(project.db) as s:
        assert len(pred_rows.clip_predictions(s, clip.id)) == 1
    version = record_trained(
        project,
        "lightweight-streaming",
        weights,
        {"metrics": {"val_accuracy": 0.5}, "labels": list(analysis.labels)},
    )
    assert version == preds[0].model_version_id  # same weights, same version row
    project.close()
