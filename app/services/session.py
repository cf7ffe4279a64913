"""What the window has open (STYLE.md §11, napari's ViewerModel, SLEAP's GuiState): the project, who
labels, with which label set, and the current clip, with change notifications.

Panels read this one object instead of reaching into each other (``window.labelling.project``), so
any panel can be built in any order and tested without the others. It is Qt-free like
``clock.py``: ``affectscope.app.qt.session.QtSession`` owns one, runs the database work of opening
a project on a worker thread, and turns listener calls into signals.

The worker functions at the bottom (``open_project``, ``open_project_url``) are plain functions so
the window, the soak test and tests call the same code.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path

from affectscope.app.services.project import PROJECT_FILE, Project, default_annotator
from affectscope.db.records import ClipRecord, ClipScan
from affectscope.jobs import Job


class SessionEvent(enum.Enum):
    """What changed. The payload given to listeners is named beside each."""

    PROJECT = "project"  # a project was opened (or replaced another); payload: its clips
    CLIPS = "clips"  # the open project's clips or their labels changed (an import); payload: clips
    ANNOTATOR = "annotator"  # payload: the annotator's name
    LABEL_SET = "label_set"  # payload: the label set's name
    CLIP = "clip"  # the current clip changed; payload: its resolved path, or None (none open)
    LABELS = "labels"  # a label commit or fetch of the current clip; payload: its ClipState


Listener = Callable[[SessionEvent, object], None]


class Session:
    """The open project, annotator, label set and current clip, with listeners."""

    def __init__(self) -> None:
        self._project: Project | None = None
        self._clip_path: str | None = None
        self.last_scan: ClipScan | None = None  # what creating the project did with its folder
        self._listeners: list[Listener] = []

    # ----------------------------------------------------------------- read
    @property
    def project(self) -> Project | None:
        return self._project

    @property
    def clip_path(self) -> str | None:
        """The current clip (resolved path), or None."""
        return self._clip_path

    @property
    def annotator(self) -> str | None:
        return self._project.annotator if self._project is not None else None

    @property
    def label_set(self) -> str | None:
        return self._project.label_set if self._project is not None else None

    def project_for(self, path: str | Path) -> Project | None:
        """The open project when ``path`` lies in its folder (a clip of it), else None."""
        project = self._project
        if project is not None and Path(path).resolve().is_relative_to(Path(project.folder).resolve()):
            return project
        return None

    def key(self) -> str:
        """The open project's folder as the settings remember it ('' with none open)."""
        return str(Path(self._project.folder).resolve()) if self._project is not None else ""

    # ------------------------------------------------------------ listeners
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, event: SessionEvent, payload: object = None) -> None:
        for listener in list(self._listeners):
            listener(event, payload)

    # -------------------------------------------------------------- control
    def open(
        self,
        project: Project,
        clips: list[ClipRecord],
        scan: ClipScan | None = None,
        annotator: str | None = None,
    ) -> None:
        """``project`` is now the open one (the previous one is closed). Who labels: ``annotator``
        (remembered for this project), else whoever labelled in the previous project, else the
        default annotator."""
        previous = self.annotator
        if self._project is not None and self._project is not project:
            self._project.close()
        self._project = project
        self.last_scan = scan
        project.annotator = annotator or previous or default_annotator()
        self._notify(SessionEvent.PROJECT, clips)

    def clips_changed(self, clips: list[ClipRecord]) -> None:
        """The open project's clips were read again (their labels changed behind the panels' backs)."""
        self._notify(SessionEvent.CLIPS, clips)

    def annotator_chosen(self, name: str) -> None:
        """``name`` now labels (``Project.choose_annotator`` recorded it in the database)."""
        if self._project is not None:
            self._project.annotator = name
        self._notify(SessionEvent.ANNOTATOR, name)

    def choose_label_set(self, name: str) -> tuple[str, ...]:
        """Label with ``name`` from now on; returns its labels."""
        if self._project is None:
            raise ValueError("no project is open")
        labels = self._project.choose_label_set(name)
        self._notify(SessionEvent.LABEL_SET, name)
        return labels

    def set_clip(self, path: str | Path | None) -> None:
        """The window shows ``path`` now (None: the chosen clip could not be opened)."""
        self._clip_path = str(Path(path).resolve()) if path is not None else None
        self._notify(SessionEvent.CLIP, self._clip_path)

    def labels_changed(self, state: object) -> None:
        """The current clip's labels were fetched or committed (a ``ClipState``)."""
        self._notify(SessionEvent.LABELS, state)

    def close(self) -> None:
        if self._project is not None:
            self._project.close()
            self._project = None


def find_project_folder(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` holding a project file."""
    for folder in (path, *path.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def describe_scan(scan: ClipScan) -> str:
    """What creating a project did with the folder's files, in one sentence for the status bar."""
    n = len(scan.added) + len(scan.moved) + len(scan.changed) + len(scan.unchanged)
    text = f"{n} clip{'s' if n != 1 else ''} added"
    if scan.failed:
        text += f", {len(scan.failed)} could not be read ({', '.join(Path(p).name for p, _ in scan.failed)})"
    return text


# -- work for a worker thread (plain functions) --------------------------------------------------
def open_project(
    folder: Path, create: bool, job: Job | None = None
) -> tuple[Project, list[ClipRecord], ClipScan | None]:
    """Open (or create and fill from its clips) the project in ``folder``."""
    project = Project.init(folder) if create else Project.open(folder)
    scan = project.import_clips(folder, job=job) if create else None
    return project, project.clips(), scan


def open_project_url(
    folder: Path, db_url: str, job: Job | None = None
) -> tuple[Project, list[ClipRecord], ClipScan | None]:
    """A project whose database is on a PostgreSQL server; its clips are (re)imported from ``folder``."""
    project = Project.init(folder, db_url=db_url)
    return project, project.clips(), project.import_clips(folder, job=job)


def project_clips(project: Project, job: Job | None = None) -> list[ClipRecord]:
    return project.clips()


def choose_annotator(project: Project, name: str, job: Job | None = None) -> str:
    return project.choose_annotator(name)
