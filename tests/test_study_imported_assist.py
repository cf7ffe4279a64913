"""Reader-study arms assisted by imported versions (issue 20, item 4): ``study create --arm
...:model=NAME`` names a colleague's imported predictions and an imported ONNX model; the arms store
their versions, and the reader screen of an assisted case shows that version's answer for that clip
(nothing in the unassisted arm). A version predicting another label set cannot assist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from affectscope.db import labels as label_rows
from affectscope.db import predictions as pred_rows
from affectscope.db import studies as rows
from affectscope.db.uow import unit_of_work
from tests.byo_models import MelSentiment, save_model, sentiment_spec
from tests.cli_json import cli_json
from tests.clipfactory import make_clip

TRUTH = ["positive", "neutral", "negative", "positive"]
SAID = [("negative", 0.7), ("neutral", 0.6), ("negative", 0.9), ("positive", 0.55)]  # the colleague


@pytest.fixture
def project_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    clips = tmp_path / "clips"
    for i in range(len(TRUTH)):
        make_clip(clips / f"c{i}.mp4", n_frames=25, fps=25, size=(96, 64), audio="speech", audio_rate=16000)
    with Project.init(tmp_path / "proj") as project:
        project.import_clips(clips)
        with unit_of_work(project.db, write=True) as s:
            for i, truth in enumerate(TRUTH):
                label_rows.add_label(s, project.clip(f"c{i}.mp4").id, "sentiment3", truth, "lead")
    where = ["--project", str(tmp_path / "proj")]
    lines = ["clip,start,end,positive,neutral,negative"]
    for i, (label, p) in enumerate(SAID):
        rest = (1 - p) / 2
        probs = {k: (p if k == label else rest) for k in ("positive", "neutral", "negative")}
        lines.append(f"c{i}.mp4,,,{probs['positive']!r},{probs['neutral']!r},{probs['negative']!r}")
    (tmp_path / "colleague.csv").write_text("\n".join(lines) + "\n")
    cli_json(capsys, "import", "predictions", str(tmp_path / "colleague.csv"), *where, "--name", "colleague")
    torch.manual_seed(0)
    file = save_model(MelSentiment(), tmp_path / "mel.onnx", "onnx")
    (tmp_path / "mel.spec.json").write_text(json.dumps(sentiment_spec("onnx")))
    cli_json(
        capsys, "models", "import", str(file), "--spec", str(tmp_path / "mel.spec.json"), "--name", "mel"
    )
    for i in range(len(TRUTH)):
        cli_json(capsys, "predict", str(clips / f"c{i}.mp4"), "--model", "mel", *where)
    return tmp_path / "proj"


def test_arms_assisted_by_imported_versions_show_their_answers(
    project_dir: Path, qtbot, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    from affectscope.app.qt.reader_mode import ReaderView
    from affectscope.app.services.reading import ReadingSession

    doc = cli_json(
        capsys, "study", "create", "byo", "--project", str(project_dir), "--readers", "ada",
        "--arm", "plain:audiovisual", "--arm", "helped:audiovisual:model=colleague",
        "--arm", "machine:audiovisual:model=mel", "--washout", "0",
    )  # fmt: skip
    with Project.open(project_dir) as project:
        with unit_of_work(project.db) as s:
            colleague = pred_rows.versions_named(s, "colleague")[-1]
            mel = pred_rows.versions_named(s, "mel")[-1]
            mel_said = {r.clip_id: (r.label, r.confidence) for r in pred_rows.version_predictions(s, mel.id)
                        if r.t_start is None}  # fmt: skip
            cases = {c.id: c.clip_id for c in rows.study_cases(s, doc["id"])}
        clip_no = {project.clip(f"c{i}.mp4").id: i for i in range(len(TRUTH))}
    arms = {a["name"]: a for a in doc["arms"]}
    assert arms["helped"]["assistance"] == "model" and arms["helped"]["model_version_id"] == colleague.id
    assert arms["machine"]["model_version_id"] == mel.id and arms["plain"]["model_version_id"] is None
    assert len(mel_said) == len(TRUTH)

    seen: dict[str, list[tuple[int, str]]] = {"plain": [], "helped": [], "machine": []}
    with Project.open(project_dir) as project:
        with unit_of_work(project.db) as s:
            names = {a.id: a.name for a in rows.study_arms(s, doc["id"])}
        view = ReaderView(ReadingSession(project.db, doc["id"], "ada"))
        qtbot.addWidget(view)
        view.show()
        while view.stimulus is not None:  # the reader's screen, case after case, as ada answers
            st = view.stimulus
            shown = view.assist.text() if view.assist.isVisible() else ""
            seen[names[st.arm_id]].append((cases[st.case_id], shown))
            qtbot.keyClick(view, "1")
            with qtbot.waitSignal(view.answered, timeout=10000):
                qtbot.keyClick(view, "\r")
        view.session.close()
    assert all(len(v) == len(TRUTH) for v in seen.values())
    assert all(text == "" for _, text in seen["plain"])
    for clip_id, text in seen["helped"]:
        label, p = SAID[clip_no[clip_id]]
        assert text == f"Model (colleague {colleague.version}) says: {label}  ({p * 100:.0f} % sure)"
    for clip_id, text in seen["machine"]:
        label, p = mel_said[clip_id]
        assert text == f"Model (mel {mel.version}) says: {label}  ({p * 100:.0f} % sure)"


def test_a_version_of_another_label_set_cannot_assist(project_dir: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    where = ["--project", str(project_dir)]
    (tmp_path / "va.csv").write_text("clip,start,end,valence\nc0.mp4,0,1,0.5\nc1.mp4,0,1,0.1\n")
    cli_json(
        capsys, "import", "predictions", str(tmp_path / "va.csv"), *where, "--name", "va", "--continuous"
    )
    code = main(["study", "create", "s", *where, "--arm", "x:audiovisual:model=va"])
    err = capsys.readouterr().err
    assert code == 2 and "predicts continuous, not the study's sentiment3" in err and err.count("\n") == 1
    assert main(["study", "create", "s", *where, "--arm", "x:audiovisual:model=nobody"]) == 2
    assert "no predictions of 'nobody'" in capsys.readouterr().err
    assert main(["study", "create", "s", *where, "--arm", "x:audiovisual:model="]) == 2
    assert "NAME:PRESENTATION[:model=VERSION]" in capsys.readouterr().err
