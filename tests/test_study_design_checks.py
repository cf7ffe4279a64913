"""Designs that cannot be invalid (issue 21): every case is checked against its arms when the study is
created (sound for audio arms, the named version's prediction for assisted arms, a reference label for
scored cases), misfits are refused with exit 2 naming the clips, --allow-mismatch keeps them recorded; a
clip that vanishes after creation is skipped visibly before it is shown, never answered blind."""

from __future__ import annotations

import json
from pathlib import Path

from affectscope.app.cli.main import main
from affectscope.app.services import studies
from affectscope.app.services.project import Project
from affectscope.app.services.reading import ReadingSession
from affectscope.db import labels as label_rows
from affectscope.db import studies as rows
from affectscope.db.uow import unit_of_work
from tests.clipfactory import make_clip
from tests.study_factory import make_study_project


def _project_with_misfits(tmp: Path) -> Path:
    """The pilot project plus c4 (no sound, labelled, no prediction) and c5 (sound, no label)."""
    project, _ = make_study_project(tmp)
    more = tmp / "clips"
    make_clip(more / "c4.mp4", n_frames=12, fps=12.0, size=(96, 64), audio=None)
    make_clip(more / "c5.mp4", n_frames=12, fps=12.0, size=(96, 64), audio="tone")
    project.import_clips(more)
    with unit_of_work(project.db, write=True) as s:
        label_rows.add_label(s, 5, "sentiment3", "neutral", "lead")
    folder = project.folder
    project.close()
    return folder


def _err(capsys, argv: list[str]) -> str:  # noqa: ANN001
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err  # one clear line
    return err


def test_misfits_are_refused_naming_the_clips(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    folder = str(_project_with_misfits(tmp_path))
    base = ["study", "create", "s1", "--project", folder, "--clips", "c0.mp4", "c4.mp4", "c5.mp4"]
    err = _err(capsys, [*base, "--arm", "voice:audio"])
    assert "c4.mp4 (voice: audio arm, but the clip has no sound)" in err
    assert "c5.mp4 (no reference label" in err and "c0.mp4" not in err and "--allow-mismatch" in err
    err = _err(capsys, [*base[:-1], "--arm", "helped:video:model=1"])
    assert "c4.mp4 (helped: assisted arm, but model version 1 has no prediction for it)" in err
    err = _err(capsys, [*base, "--arm", "helped:audiovisual:model=999"])
    assert "there is no model version 999 in this project" in err
    for bad in ("x", ":audio", "a:smell", "a:audio:model=x"):
        _err(capsys, [*base, "--arm", bad])
    assert [d["name"] for d in json.loads(_json_show(capsys, folder))["studies"]] == ["pilot"]  # none created

    # Kept on purpose: created, and each misfit recorded with the study.
    assert main([*base, "--arm", "voice:audio", "--allow-mismatch", "--readers", "r", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {m["case"] for m in doc["misfits"]} == {"c4.mp4", "c5.mp4"} and doc["n_cases"] == 3
    assert "no sound" in next(m["reason"] for m in doc["misfits"] if m["case"] == "c4.mp4")
    assert main(["study", "show", "s1", "--project", folder]) == 0
    assert "· 2 misfit case(s) kept" in capsys.readouterr().out

    # A crossed design of two arms without a washout is allowed, with a note saying what it risks.
    two = [
        "study",
        "create",
        "s2",
        "--project",
        folder,
        "--clips",
        "c0.mp4",
        "--arm",
        "a:audio",
        "--arm",
        "b:video",
    ]
    assert main(two) == 0
    assert "note: crossed design without --washout" in capsys.readouterr().err
    assert main([*two[:2], "s3", *two[3:], "--washout", "7"]) == 0
    assert "note:" not in capsys.readouterr().err
    with Project.open(folder) as p:
        assert studies.show_study(p.db, "s3")["washout_s"] == 7 * 86400.0


def _json_show(capsys, folder: str) -> str:  # noqa: ANN001
    assert main(["study", "show", "--project", folder, "--json"]) == 0
    return capsys.readouterr().out


def test_a_clip_that_vanishes_is_skipped_visibly_and_read_when_back(tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    from affectscope.app.qt.reader_mode import ReaderView

    project, sid = make_study_project(tmp_path, readers=("ada",))
    first = ReadingSession(project.db, sid, "ada").next_stimulus()
    with unit_of_work(project.db) as s:
        case = next(c for c in rows.study_cases(s, sid) if c.id == first.case_id)
        path = Path(rows.clip_media(s, [case.clip_id])[case.clip_id].path)
    moved = path.with_suffix(".away")
    path.rename(moved)  # the reader's very first case is gone (the reader window used never to open)

    view = ReaderView(ReadingSession(project.db, sid, "ada"))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    st = view.stimulus
    assert st is not None and st.case_id != first.case_id and view.media is not None
    assert "1 case(s) skipped: its media file is missing or unreadable" in view.status.text()
    answered = 0
    while view.stimulus is not None:
        qtbot.keyClick(view, "1")
        with qtbot.waitSignal(view.answered, timeout=10000):
            qtbot.keyClick(view, "\r")
        answered += 1
    assert answered == 2 * 4 - 2  # the vanished case is skipped in both arms, never answered blind
    session = view.session
    assert session.progress() == (6, 8) and {k.session_index for k in session.skipped} == {1, 2}
    # Back in place: the next sitting serves exactly the two skipped readings.
    moved.rename(path)
    again = ReadingSession(project.db, sid, "ada")
    left = []
    while (st := again.next_stimulus(load=True)) is not None:
        left.append(st.case_id)
        again.answer(st, "neutral")
    assert left == [first.case_id, first.case_id] and again.skipped == []
    project.close()


def test_designer_window_refuses_misfits_and_proposes_a_free_name(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from affectscope.app.qt.study_panel import StudyPanel

    folder = _project_with_misfits(tmp_path)
    project = Project.open(folder)
    panel = StudyPanel(project)
    qtbot.addWidget(panel)
    d = panel.designer
    assert d.name.text() == "study-1"  # "pilot" exists, study-1 does not
    studies.create_study(
        project.db, "study-1", "sentiment3", [studies.ArmSpec("a")],
        studies.select_cases(project.db, "sentiment3", refs=["c0.mp4"]),
    )  # fmt: skip
    d2 = StudyPanel(project).designer
    qtbot.addWidget(d2)
    assert d2.name.text() == "study-2"  # what "Send to new reader study" pre-fills is free
    d2.arms.cellWidget(0, 1).setCurrentText("audio")
    assert d2.create_study() is None  # all clips, c4 has no sound: refused, naming it
    assert "c4.mp4 (unassisted: audio arm, but the clip has no sound)" in d2.status.text()
    d2.allow_mismatch.setChecked(True)
    assert d2.create_study() is not None
    assert "c4.mp4" in {m["case"] for m in studies.show_study(project.db, "study-2")["misfits"]}
    assert d2.name.text() == "study-3"
    project.close()


def test_a_kept_case_without_prediction_stays_out_of_assisted_minus_unassisted(tmp_path: Path) -> None:
    """An assisted arm's case kept with --allow-mismatch had no model answer shown: the statistics say so
    and compare assisted with unassisted only on the cases that were assisted."""
    from affectscope.app.services.study_stats import study_stats

    folder = _project_with_misfits(tmp_path)
    with Project.open(folder) as project:
        cases = studies.select_cases(project.db, "sentiment3", refs=["c0.mp4", "c1.mp4", "c4.mp4"])
        arms = [studies.ArmSpec("plain", "video"), studies.ArmSpec("helped", "video", "model", 1)]
        sid = studies.create_study(
            project.db, "kept", "sentiment3", arms, cases, readers=["r1", "r2"], allow_mismatch=True
        )
        shown = {}
        for reader in ("r1", "r2"):
            session = ReadingSession(project.db, sid, reader)
            while (st := session.next_stimulus()) is not None:
                if session.arms[st.arm_id].name == "helped":
                    shown[st.case_id] = st.assistance is not None
                session.answer(st, "neutral")
        with unit_of_work(project.db) as s:
            ids = {c.ref: c.id for c in rows.study_cases(s, sid)}
        assert shown == {ids["c0.mp4"]: True, ids["c1.mp4"]: True, ids["c4.mp4"]: False}  # c4: unassisted
        stats = study_stats(project.db, sid, n_resamples=50)
    assert stats["arms"]["helped"]["n_cases_assisted"] == 2
    diff = stats["assisted_minus_unassisted"][0]
    assert diff["n_cases"] == 2 and diff["n_cases_without_assistance"] == 1
