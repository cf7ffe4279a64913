"""The reader session as a kiosk (issue 21): full screen, every other window hidden while it runs and
shown again after; nothing on it shows predictions (unassisted), labels, file names or other readers;
the audio check, Esc (pause: timer stopped; resume or quit keeping every answer), breaks and washout
between sessions, practice cases never scored; and ``screenshot --reader-session`` records nothing."""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenuBar, QWidget

from affectscope.app.cli.main import main
from affectscope.app.qt.reader_kiosk import ReaderKiosk, check_tone
from affectscope.app.services import studies
from affectscope.app.services.project import Project
from affectscope.app.services.reading import ReadingSession
from affectscope.db import studies as rows
from affectscope.db.uow import unit_of_work
from tests.study_factory import TRUTH, make_study_project


def _texts(root: QWidget, skip: tuple[QWidget, ...] = ()) -> str:
    out = []
    for w in [root, *root.findChildren(QWidget)]:
        if w in skip or not w.isVisible():
            continue
        for attr in ("text", "placeholderText", "windowTitle", "toolTip"):
            fn = getattr(w, attr, None)
            if callable(fn):
                with contextlib.suppress(TypeError):
                    out.append(str(fn()))
    return "\n".join(out)


def _strings(obj: object, depth: int = 6, seen: set | None = None) -> list[str]:
    """Every string reachable from a plain Python object (dataclasses, containers, our own objects),
    skipping Qt objects and the decoder behind ``CaseMedia`` (it keeps its file to read frames)."""
    from PySide6.QtCore import QObject

    from affectscope.media import VideoReader

    seen = set() if seen is None else seen
    if depth < 0 or id(obj) in seen or isinstance(obj, QObject | VideoReader | np.ndarray):
        return []
    seen.add(id(obj))
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        items = [*obj.keys(), *obj.values()]
    elif isinstance(obj, list | tuple | set | frozenset):
        items = list(obj)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("affectscope"):
        items = list(vars(obj).values())
    elif hasattr(obj, "__dataclass_fields__"):
        items = [getattr(obj, f) for f in obj.__dataclass_fields__]
    else:
        return []
    return [x for item in items for x in _strings(item, depth - 1, seen)]


def _answer(qtbot, kiosk: ReaderKiosk, key: str = "1") -> None:  # noqa: ANN001
    view = kiosk.view
    qtbot.keyClick(view, key)
    with qtbot.waitSignal(view.answered, timeout=10000):
        qtbot.keyClick(view, Qt.Key.Key_Return)


def test_session_hides_every_window_and_shows_only_the_case(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    project, sid = make_study_project(tmp_path)
    folder = project.folder
    clip_dir = str(tmp_path / "clips")
    project.close()
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.session.project_opened, timeout=60000):
        window.session.open_project(folder)
    window._on_open_studies()
    panel = window._study_panel
    qtbot.addWidget(panel)
    panel.study.setCurrentText("pilot")
    assert not panel.reader.isEditable()  # the reader is chosen by whoever starts, never typed
    panel.reader.setCurrentText("ada")
    panel.start_reading()
    kiosk = panel.reader_view
    qtbot.addWidget(kiosk)
    qtbot.waitExposed(kiosk)

    # Only the kiosk is on screen, full screen; the main window and the Study window are hidden.
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()]
    assert shown == [kiosk] and kiosk.isFullScreen()
    assert not window.isVisible() and not panel.isVisible()

    # The audio check comes first: a tone the reader confirms.
    assert kiosk.pages.currentWidget() is kiosk.check_page and kiosk.tone_out.audio is not None
    qtbot.mouseClick(kiosk.hear_no, Qt.MouseButton.LeftButton)
    assert kiosk.pages.currentWidget() is kiosk.check_page and "volume" in kiosk.check_text.text()
    qtbot.mouseClick(kiosk.hear_yes, Qt.MouseButton.LeftButton)
    assert kiosk.heard_tone and kiosk.pages.currentWidget() is kiosk.view

    # ada's first arm is the unassisted one. Nothing shows a prediction, a label other than the answer
    # keys, a file name or path, the annotator, or the other reader; no list or menu exists.
    view = kiosk.view
    keys = tuple(view.choices.buttons())
    for _ in range(4):
        st = view.stimulus
        assert st.assistance is None and not view.assist.isVisible()
        texts = _texts(kiosk, skip=keys)
        for banned in ("c0", "c1", "c2", "c3", ".mp4", clip_dir, "lead", "bo", "toy", *set(TRUTH)):
            assert banned not in texts, banned
        assert not kiosk.findChildren(QAbstractItemView) and not kiosk.findChildren(QMenuBar)
        held = _strings(view.session) + _strings(st) + _strings(view.media)
        assert len(held) > 20 and "ada" in held  # the walk reaches what the session holds
        assert not [s for s in held if clip_dir in s or ".mp4" in s]
        assert view.progress.text().startswith("Session 1 of 2") and "correct" not in texts.lower()
        _answer(qtbot, kiosk)

    # Second arm (assisted) follows at once (no break set): the model's answer is shown there only.
    assert view.stimulus.session_index == 2 and view.assist.isVisible()
    assert "Model (toy 1) says" in view.assist.text()

    # Esc asks: the pause page, timer stopped; Esc again resumes; the pause is not time to answer.
    shown_at = time.monotonic()
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert kiosk.pages.currentWidget() is kiosk.pause_page and view.paused_at is not None
    view.submit_answer()  # no answer while paused
    qtbot.wait(400)
    qtbot.keyClick(kiosk, Qt.Key.Key_Escape)
    assert kiosk.pages.currentWidget() is kiosk.view and view.paused_at is None and view.paused_s >= 0.35
    case_id = view.stimulus.case_id
    _answer(qtbot, kiosk, "2")
    wall_ms = (time.monotonic() - shown_at) * 1000
    with unit_of_work(view.session.db) as s:
        got = [r for r in rows.response_rows(s, sid) if r[1] == case_id and r[0] == view.session.steps[-1][2]]
    assert len(got) == 1 and got[0][3] == "neutral" and got[0][4] < wall_ms - 350

    # Quit keeps every answer: 5 stored, the case on screen not; every window comes back.
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    qtbot.mouseClick(kiosk.quit_button, Qt.MouseButton.LeftButton)
    assert not kiosk.isVisible() and window.isVisible() and panel.isVisible()
    assert studies.show_study(window.session.project.db, "pilot")["readers"][0]["answered"] == 5
    # Resuming serves the rest: 3 cases.
    again = ReadingSession(window.session.project.db, "pilot", "ada")
    assert again.progress() == (5, 8)
    window.shutdown()


def test_break_between_sessions_and_washout_between_arms(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    project, _ = make_study_project(tmp_path, readers=())
    cases = studies.select_cases(project.db, "sentiment3")
    arms = [studies.ArmSpec("a", "audio"), studies.ArmSpec("av", "audiovisual")]
    studies.create_study(project.db, "brk", "sentiment3", arms, cases, readers=["r"], break_s=1.0)
    kiosk = ReaderKiosk(ReadingSession(project.db, "brk", "r"), audio_check=False)
    qtbot.addWidget(kiosk)
    kiosk.show()
    for _ in range(4):
        _answer(qtbot, kiosk)
    assert kiosk.pages.currentWidget() is kiosk.break_page and not kiosk.continue_button.isEnabled()
    assert "Take a break" in kiosk.break_text.text() and kiosk.view.stimulus is None
    qtbot.waitUntil(kiosk.continue_button.isEnabled, timeout=5000)
    qtbot.mouseClick(kiosk.continue_button, Qt.MouseButton.LeftButton)
    assert kiosk.pages.currentWidget() is kiosk.view and kiosk.view.stimulus.session_index == 2
    kiosk.close()

    # A washout of a day between arms: the next arm waits, also in a later sitting.
    studies.create_study(project.db, "wash", "sentiment3", arms, cases, readers=["r"], washout_s=86400.0)
    kiosk = ReaderKiosk(ReadingSession(project.db, "wash", "r"), audio_check=False)
    qtbot.addWidget(kiosk)
    kiosk.show()
    for _ in range(4):
        _answer(qtbot, kiosk)
    assert kiosk.pages.currentWidget() is kiosk.break_page
    assert re.search(r"(23 h 59|24 h 00) min left", kiosk.break_text.text())
    kiosk.close()
    later = ReaderKiosk(ReadingSession(project.db, "wash", "r"), audio_check=False)
    qtbot.addWidget(later)
    assert later.pages.currentWidget() is later.break_page and not later.continue_button.isEnabled()
    later.close()
    project.close()


def test_practice_cases_come_first_and_are_never_scored(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    project, _ = make_study_project(tmp_path, readers=())
    cases = studies.select_cases(project.db, "sentiment3", refs=["c0.mp4", "c1.mp4"])
    cases += studies.select_cases(project.db, "sentiment3", refs=["c3.mp4"], practice=True)
    studies.create_study(project.db, "prac", "sentiment3", [studies.ArmSpec("av")], cases, readers=["p"])
    assert studies.show_study(project.db, "prac")["n_practice_cases"] == 1
    kiosk = ReaderKiosk(ReadingSession(project.db, "prac", "p"), audio_check=False)
    qtbot.addWidget(kiosk)
    kiosk.show()
    view = kiosk.view
    assert view.progress.text() == "Practice case 1 of 1 - not scored" and view.media is not None
    _answer(qtbot, kiosk)
    assert "not scored" in view.status.text() and view.progress.text().endswith("case 1 of 2")
    assert view.session.progress() == (0, 2)
    _answer(qtbot, kiosk)
    _answer(qtbot, kiosk)
    assert kiosk.pages.currentWidget() is kiosk.done_page and view.session.progress() == (2, 2)
    kiosk.close()
    # A reader who has answered something gets no practice again; the statistics never see it.
    assert ReadingSession(project.db, "prac", "p").practice_stimuli() == []
    from affectscope.app.services.study_stats import study_stats

    assert study_stats(project.db, "prac", n_resamples=20)["arms"]["av"]["n_cases"] == 2
    project.close()


def test_check_tone_is_a_soft_sine() -> None:
    tone = check_tone(8000)
    spectrum = abs(np.fft.rfft(tone.samples))
    assert tone.rate == 8000 and abs(spectrum.argmax() * 8000 / len(tone.samples) - 440) < 2
    assert 0.2 < abs(tone.samples).max() <= 0.25 and abs(tone.samples[0]) < 1e-3


def test_screenshot_reader_session_records_nothing(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    project, sid = make_study_project(tmp_path)
    folder = str(project.folder)
    project.close()
    out = tmp_path / "shot.png"
    argv = ["screenshot", "--reader-session", "pilot", "--reader", "bo", "--project", folder, "-o", str(out)]
    assert main([*argv, "--size", "1024x600", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert (
        facts["page"] == "case" and facts["assisted"] and facts["progress"] == "Session 1 of 2 · case 1 of 4"
    )
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1024, 600)
    with Project.open(folder) as opened:  # a preview: no sitting, no answer recorded
        assert studies.show_study(opened.db, sid)["n_responses"] == 0
        with unit_of_work(opened.db) as s:
            assert rows.last_answer_in_arm(s, 1, 1) is None and not rows.study_sessions_of(s, sid)
    with pytest.raises(SystemExit, match="2"):  # no -o: argparse's usage error
        main(argv[:-2])
    capsys.readouterr()
    assert main(["screenshot", "--reader-session", "pilot", "--project", folder, "-o", str(out)]) == 2
    assert "--reader-session needs --reader NAME and --project DIR" in capsys.readouterr().err
    assert main(["screenshot", "--reader", "x", "-o", str(out)]) == 2
    assert main([*argv[:3], "--reader", "nobody", "--project", folder, "-o", str(out)]) == 2
    assert "'nobody' is not a reader" in capsys.readouterr().err


def test_the_break_is_due_even_when_the_next_sessions_first_case_vanished(tmp_path: Path) -> None:
    project, _ = make_study_project(tmp_path, readers=())
    cases = studies.select_cases(project.db, "sentiment3")
    arms = [studies.ArmSpec("a", "audio"), studies.ArmSpec("av", "audiovisual")]
    sid = studies.create_study(project.db, "b60", "sentiment3", arms, cases, readers=["r"], break_s=60.0)
    session = ReadingSession(project.db, sid, "r")
    first_of_next = next(c for si, pos, _a, c in session.steps if si == 1 and pos == 0)
    with unit_of_work(project.db) as s:
        clip = session.cases[first_of_next].clip_id
        path = Path(rows.clip_media(s, [clip])[clip].path)
    for _ in range(4):
        st = session.next_stimulus(load=True)
        assert session.wait_before(st) == 0.0 and st.session_index == 1
        session.answer(st, "neutral")
    path.rename(path.with_suffix(".gone"))
    st = session.next_stimulus(load=True)
    assert st.session_index == 2 and st.position == 2 and len(session.skipped) == 1
    assert session.wait_before(st) == 60.0  # a new session in this sitting, though not at its case 1
    session.answer(st, "neutral")
    assert session.wait_before(session.next_stimulus(load=True)) == 0.0
    project.close()


def test_a_video_only_study_has_no_audio_check(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    project, _ = make_study_project(tmp_path, readers=())
    cases = studies.select_cases(project.db, "sentiment3")
    studies.create_study(
        project.db, "mute", "sentiment3", [studies.ArmSpec("v", "video")], cases, readers=["r"]
    )
    kiosk = ReaderKiosk(ReadingSession(project.db, "mute", "r"))
    qtbot.addWidget(kiosk)
    assert kiosk.pages.currentWidget() is kiosk.view and kiosk.view.stimulus.presentation == "video"
    kiosk.close()
    project.close()
