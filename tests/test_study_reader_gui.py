"""Reader mode driven with keys by two readers through a two-arm study on made clips: the database holds
exactly their answers, orders differ per reader and follow from the seed, times are plausible, and
the reader mode can reach nothing but the case at hand (widgets and loaded data inspected)."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QMenuBar, QWidget
from sqlalchemy import select

from affectscope.app.qt.reader_mode import ReaderView
from affectscope.app.services import studies
from affectscope.db.studies import StudyArm, StudyAssignment, StudyCase, StudyReader, StudyResponse
from affectscope.db.uow import unit_of_work
from tests.study_factory import TRUTH, make_study_project

STIMULUS_FIELDS = {
    "reader", "position", "total", "session_index", "n_sessions", "presentation", "case_key", "span",
    "labels", "assistance", "practice", "arm_id", "case_id",
}  # fmt: skip


def _texts(view: QWidget) -> str:
    out = []
    for w in view.findChildren(QWidget):
        for attr in ("text", "placeholderText", "windowTitle"):
            fn = getattr(w, attr, None)
            if callable(fn):
                with contextlib.suppress(TypeError):
                    out.append(str(fn()))
    return "\n".join(out)


def _read_all(qtbot, view: ReaderView, pick) -> list[dict]:  # noqa: ANN001
    """Answer every case with keys: the label's number, then Return. Returns what each screen showed."""
    seen = []
    while view.stimulus is not None:
        st = view.stimulus
        assert set(f.name for f in dataclasses.fields(st)) == STIMULUS_FIELDS
        seen.append(
            {
                "stimulus": st,
                "progress": view.progress.text(),
                "assist_visible": view.assist.isVisible(),
                "assist_text": view.assist.text(),
                "texts": _texts(view),
                "frame_visible": view.frame.isVisible(),
                "audio": view.audio_loaded,
            }
        )
        label = pick(st)
        qtbot.keyClick(view, str(1 + st.labels.index(label)))
        assert view.choices.checkedId() == st.labels.index(label)
        with qtbot.waitSignal(view.answered, timeout=10000):
            qtbot.keyClick(view, Qt.Key.Key_Return)
    return seen


def test_two_readers_two_arms(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    project, sid = make_study_project(tmp_path)
    truth_of = {f"c{i}.mp4": t for i, t in enumerate(TRUTH)}
    with unit_of_work(project.db) as s:  # the test knows the truth; the reader mode never sees it
        case_truth = dict(s.execute(select(StudyCase.id, StudyCase.truth)).all())
    picks = {
        "ada": lambda st: case_truth[st.case_id],  # always right
        "bo": lambda st: "neutral",  # always neutral
    }
    screens = {}
    started = time.monotonic()
    for reader in ("ada", "bo"):
        view = ReaderView(studies.ReadingSession(project.db, sid, reader))
        qtbot.addWidget(view)
        view.show()
        qtbot.waitExposed(view)
        view.activateWindow()
        assert view.progress.text().endswith("case 1 of 4") and "Session 1 of 2" in view.progress.text()
        with qtbot.waitSignal(view.finished, timeout=60000):
            screens[reader] = _read_all(qtbot, view, picks[reader])
    elapsed_ms = (time.monotonic() - started) * 1000

    # Blinding, in the widgets: no browser, no menus, no file names, no truth, no other reader.
    for reader, seen in screens.items():
        assert len(seen) == 8
        for screen in seen:
            st = screen["stimulus"]
            assert not view.findChildren(QAbstractItemView) and not view.findChildren(QMenuBar)
            for name in truth_of:
                assert name not in screen["texts"]
            assert (
                "lead" not in screen["texts"] and ("bo" if reader == "ada" else "ada") not in screen["texts"]
            )
            arm = "helped" if st.assistance is not None else "plain"
            if arm == "plain":
                assert not screen["assist_visible"] and screen["assist_text"] == ""
                assert "toy" not in screen["texts"]
            else:
                assert screen["assist_visible"] and "Model (toy 1) says" in screen["assist_text"]
            assert screen["frame_visible"] and screen["audio"]  # audiovisual arms
    # ... and in the data it loads: a Stimulus has no truth, and the model's answer only when assisted.
    with unit_of_work(project.db) as s:
        helped_id = s.scalar(select(StudyArm.id).where(StudyArm.name == "helped"))
    for seen in screens.values():
        for screen in seen:
            st = screen["stimulus"]
            assert (st.assistance is not None) == (st.arm_id == helped_id)
            assert not any(v in TRUTH for v in (st.reader, st.presentation, st.case_key))
            assert st.case_key.startswith("case-") and ".mp4" not in st.case_key

    # The database holds exactly their answers.
    with unit_of_work(project.db) as s:
        rows = s.execute(
            select(StudyReader.name, StudyCase.ref, StudyArm.name, StudyResponse.label, StudyResponse.time_ms,
                   StudyResponse.plays, StudyResponse.confidence)
            .join(StudyReader, StudyReader.id == StudyResponse.reader_id)
            .join(StudyCase, StudyCase.id == StudyResponse.case_id)
            .join(StudyArm, StudyArm.id == StudyResponse.arm_id)
        ).all()  # fmt: skip
    assert len(rows) == 16
    for reader, ref, _arm, label, t_ms, plays, conf in rows:
        assert label == (truth_of[ref] if reader == "ada" else "neutral")
        assert 0 < t_ms < elapsed_ms and plays == 1 and conf == 50
    assert {(r[0], r[1], r[2]) for r in rows} == {
        (rd, ref, arm) for rd in ("ada", "bo") for ref in truth_of for arm in ("plain", "helped")
    }

    # Orders: stored, different per reader, equal to what the seed gives; arm order counterbalanced.
    with unit_of_work(project.db) as s:
        arm_ids = list(
            s.scalars(select(StudyArm.id).where(StudyArm.study_id == sid).order_by(StudyArm.position))
        )
        case_ids = list(
            s.scalars(select(StudyCase.id).where(StudyCase.study_id == sid).order_by(StudyCase.position))
        )
        orders = {}
        for name, pos in s.execute(select(StudyReader.name, StudyReader.position)):
            rid = s.scalar(select(StudyReader.id).where(StudyReader.name == name))
            stored = s.execute(
                select(StudyAssignment.session_index, StudyAssignment.position, StudyAssignment.arm_id,
                       StudyAssignment.case_id)
                .where(StudyAssignment.reader_id == rid)
                .order_by(StudyAssignment.session_index, StudyAssignment.position)
            ).all()  # fmt: skip
            assert [tuple(r) for r in stored] == studies.reader_order("crossed", 7, pos, arm_ids, case_ids)
            orders[name] = [tuple(r) for r in stored]
    assert orders["ada"] != orders["bo"]
    assert orders["ada"][0][2] != orders["bo"][0][2]  # each starts with a different arm
    shown = [(sc["stimulus"].arm_id, sc["stimulus"].case_id) for sc in screens["ada"]]
    assert shown == [(a, c) for _, _, a, c in orders["ada"]]

    # The statistics see the same answers: ada perfect, bo right only on neutral cases.
    from affectscope.app.services.study_stats import study_stats

    stats = study_stats(project.db, sid, n_resamples=200)
    for arm in ("plain", "helped"):
        per = {p["reader"]: p["accuracy"]["value"] for p in stats["arms"][arm]["per_reader"]}
        assert per == {"ada": 1.0, "bo": TRUTH.count("neutral") / len(TRUTH)}
    assert stats["assisted_minus_unassisted"][0]["value"] == 0.0
    project.close()


@pytest.mark.parametrize("presentation", ["audio", "video"])
def test_single_modality_presentations(qtbot, tmp_path: Path, presentation: str) -> None:  # noqa: ANN001
    project, _ = make_study_project(tmp_path, readers=())
    cases = studies.select_cases(project.db, "sentiment3")
    sid = studies.create_study(
        project.db,
        presentation,
        "sentiment3",
        [studies.ArmSpec(presentation, presentation)],
        cases,
        readers=["cy"],
    )
    view = ReaderView(studies.ReadingSession(project.db, sid, "cy"))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    if presentation == "audio":  # the picture is hidden: nothing shows frames
        assert not view.frame.isVisible() and view.listen.isVisible() and not view.media.has_picture
        assert view.audio_loaded
    else:  # no sound: the audio is never decoded nor handed to the output
        assert view.frame.isVisible() and not view.audio_loaded and view.audio_out.audio is None
        qtbot.waitUntil(lambda: view.frame.frame is not None if hasattr(view.frame, "frame") else True)
    assert not view.assist.isVisible()
    project.close()
