"""Issue 19: the relabel loop's quick model (``audio-logmel-linear``) writes a card with its
``data_records``, so an evaluation of a retrained version reports ``contamination`` (it was ``null``:
the quick model wrote no card). Split by speaker, its held-out clips share nothing with what trained
it; split by clip, the held-out clips' speakers were heard in training, and the run says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from affectscope.app.services import evaluation_runs as runs
from affectscope.app.services import retrain as rt
from affectscope.models.provenance import is_contaminated, records_of
from affectscope.models.weights import read_card
from tests.queue_project import make_project


@pytest.fixture
def project(tmp_path: Path, shared_data: Path):
    p = make_project(tmp_path, shared_data, per_class=4)
    yield p
    p.close()


def test_a_quick_version_carries_records_and_its_evaluation_reports_contamination(project) -> None:  # noqa: ANN001
    by_speaker = rt.retrain(project, rt.QUICK_MODEL, "latest", "speaker", epochs=3)
    records = records_of(read_card(by_speaker.weights))
    assert records is not None and records["train"]["n"] == by_speaker.n_train
    assert records["validation"]["n"] <= records["train"]["n"]  # the fifth that chose the epoch
    assert records["train"]["speakers"] and all(s.startswith("emodb:") for s in records["train"]["speakers"])
    run = runs.get_run(project, runs.evaluate_project(project, "", version=by_speaker.model_version_id))
    clean = run.clip_set["contamination"]
    assert clean is not None and not is_contaminated(clean), clean  # held-out speakers: nothing shared

    by_clip = rt.retrain(project, rt.QUICK_MODEL, "latest", "clip", epochs=3)
    run = runs.get_run(project, runs.evaluate_project(project, "", version=by_clip.model_version_id))
    mixed = run.clip_set["contamination"]
    assert mixed["train"] == 0 and mixed["speakers"], mixed  # other clips, but speakers it trained on
    assert "train" in next(iter(mixed["speaker_roles"].values()))
