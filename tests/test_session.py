"""The window's session without a window (Session) and with its Qt face (QtSession): what is open, who
labels, with which label set, which clip, and who hears about each change."""

from __future__ import annotations

from pathlib import Path

import pytest

from affectscope.app.services import session as ss
from affectscope.app.services.label_state import fetch_state, label_clip, step_history
from affectscope.app.services.session import Session, SessionEvent
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_clip(tmp_path / "clips" / "a.mp4", n_frames=10, fps=25)
    make_clip(tmp_path / "clips" / "b.mp4", n_frames=10, fps=25)
    return tmp_path / "clips"


def test_a_session_tells_its_listeners_what_changed(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    session = Session()
    heard: list[tuple[SessionEvent, object]] = []
    session.add_listener(lambda event, payload: heard.append((event, payload)))
    assert session.project is None and session.annotator is None and session.label_set is None

    project, clips, scan = ss.open_project(folder, create=True)
    assert [Path(c.path).name for c in clips] == ["a.mp4", "b.mp4"] and len(scan.added) == 2
    session.open(project, clips, scan)
    assert session.project is project and session.annotator == "ann" and session.last_scan is scan
    assert heard == [(SessionEvent.PROJECT, clips)]

    session.set_clip(folder / "." / "a.mp4")
    assert session.clip_path == str((folder / "a.mp4").resolve())
    assert heard[-1] == (SessionEvent.CLIP, session.clip_path)
    assert session.project_for(folder / "b.mp4") is project
    assert session.project_for(folder.parent / "elsewhere.mp4") is None

    name = ss.choose_annotator(project, "bob")  # the worker's half: recorded in the database
    session.annotator_chosen(name)
    assert session.annotator == "bob" and heard[-1] == (SessionEvent.ANNOTATOR, "bob")
    assert "bob" in project.annotators()

    other = next(n for n in project.label_sets() if n != session.label_set)
    labels = session.choose_label_set(other)
    assert session.label_set == other and labels == project.labels(other)
    assert heard[-1] == (SessionEvent.LABEL_SET, other)

    session.set_clip(None)
    assert session.clip_path is None and heard[-1] == (SessionEvent.CLIP, None)
    session.close()
    assert session.project is None


def test_opening_another_project_closes_the_first_and_keeps_who_labels(folder: Path, tmp_path: Path) -> None:
    make_clip(tmp_path / "second" / "c.mp4", n_frames=10, fps=25)
    session = Session()
    first, clips, _ = ss.open_project(folder, create=True)
    session.open(first, clips, annotator="carol")  # remembered for this project
    assert session.annotator == "carol"
    second, clips2, _ = ss.open_project(tmp_path / "second", create=True)
    disposed: list[bool] = []
    first.db.dispose = lambda: disposed.append(True)  # type: ignore[method-assign]
    session.open(second, clips2)
    assert disposed == [True] and session.project is second
    assert session.annotator == "carol"  # nobody was remembered here: whoever labelled before goes on
    session.close()


def test_label_work_returns_the_state_after_the_commit(folder: Path) -> None:
    """The Labels tab's worker functions, without a window: label, undo, redo on one clip."""
    project, _clips, _ = ss.open_project(folder, create=True)
    try:
        project.annotator = project.choose_annotator("ann")
        clip = str((folder / "a.mp4").resolve())
        state = label_clip(project, clip, project.labels()[0], None)
        assert state.clip.label == project.labels()[0] and state.change is not None and state.can_undo
        undone = step_history(project, clip, undo=True)
        assert undone is not None and undone.clip.label is None and undone.can_redo
        assert fetch_state(project, clip).clip.label is None
        redone = step_history(project, clip, undo=False)
        assert redone is not None and redone.clip.label == project.labels()[0]
    finally:
        project.close()


def test_describe_scan_names_unreadable_files(folder: Path) -> None:
    (folder / "broken.mp4").write_bytes(b"not a video")
    project, _clips, scan = ss.open_project(folder, create=True)
    project.close()
    assert ss.describe_scan(scan) == "2 clips added, 1 could not be read (broken.mp4)"
    assert ss.find_project_folder(folder / "deeper" / "still") == folder
    assert ss.find_project_folder(folder.parent) is None


def test_qt_session_opens_the_project_of_the_clip_it_is_shown(qtbot, folder: Path) -> None:
    from affectscope.app.qt.session import QtSession

    ss.open_project(folder, create=True)[0].close()
    settings = Settings()
    settings.annotators[str(folder.resolve())] = "dora"
    session = QtSession(settings, synchronous=True)
    opened: list[object] = []
    session.project_opened.connect(opened.append)
    clips: list[str] = []
    session.clip_changed.connect(clips.append)
    session.set_clip(str(folder / "a.mp4"))
    assert clips == [str((folder / "a.mp4").resolve())]
    assert session.project is not None and session.project.folder == folder.resolve()
    assert session.project.annotator == "dora" and len(opened) == 1 and not session.opening
    session.set_clip(str(folder / "b.mp4"))  # same project: not opened again
    assert len(opened) == 1
    with qtbot.waitSignal(session.annotator_changed) as changed:
        session.choose_annotator("eve")
    assert changed.args == ["eve"] and settings.annotators[str(folder.resolve())] == "eve"
    errors: list[tuple[str, str]] = []
    session.error.connect(lambda title, message: errors.append((title, message)))
    session.open_project(folder.parent)  # not a project
    assert errors and errors[0][0] == "Cannot open the project" and session.project.folder == folder.resolve()
    session.shutdown()
    assert session.project is None
