"""The Qt face of the window's session (``affectscope.app.services.session.Session``): signals and the
one-thread database worker.

``MainWindow.session`` is the one instance. Panels read ``session.project`` / ``clip_path`` and
connect to its signals instead of reaching into another panel:

- ``project_opened(clips)`` after a project opened, and again when its clips were read anew (an import),
- ``annotator_changed(name)``, ``label_set_changed(name)``,
- ``clip_changed(path)`` when the window shows another clip, ``clip_cleared(path)`` when it could not,
- ``labels_changed(state)`` after the current clip's labels were fetched or committed (a ``ClipState``),
- ``notice(text)`` for the status bar, ``error(title, message)``.

Opening a project and every label commit run on ``db_workers``, one thread, so a second key press
never overtakes the first and a label is never written to a project still being opened.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from affectscope.app.qt.workers import Workers
from affectscope.app.services import session as ss
from affectscope.app.services.project import Project
from affectscope.app.services.session import Session, SessionEvent
from affectscope.app.services.settings import Settings, save_settings
from affectscope.db.records import ClipRecord, ClipScan

log = logging.getLogger(__name__)


class QtSession(QObject):
    """Signals and the database worker around the Qt-free ``Session`` (``.model``)."""

    project_opened = Signal(object)  # list[ClipRecord]
    annotator_changed = Signal(str)
    label_set_changed = Signal(str)
    clip_changed = Signal(str)
    clip_cleared = Signal(str)
    labels_changed = Signal(object)  # ClipState
    notice = Signal(str)
    error = Signal(str, str)

    def __init__(
        self,
        settings: Settings | None = None,
        parent: QObject | None = None,
        synchronous: bool = False,
        model: Session | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model or Session()
        self.settings = settings  # the annotator is remembered per project there
        # One thread: label commits happen in the order the keys were pressed.
        self.db_workers = Workers(self, synchronous=synchronous, max_threads=1)
        self.opening = False  # a project is being opened for the current clip
        self.model.add_listener(self._on_event)

    # Read-through properties so panels need not reach into ``model``.
    @property
    def project(self) -> Project | None:
        return self.model.project

    @property
    def clip_path(self) -> str | None:
        return self.model.clip_path

    @property
    def last_scan(self) -> ClipScan | None:
        return self.model.last_scan

    def project_for(self, path: str | Path) -> Project | None:
        return self.model.project_for(path)

    # -- project ---------------------------------------------------------------------------------------
    def open_project(self, folder: str | Path, create: bool = False) -> None:
        """Open (or create from its clips) the project in ``folder``; ``project_opened`` follows."""
        self._start_open(ss.open_project, (Path(folder), create))

    def open_project_on(self, folder: str | Path, db_url: str) -> None:
        """Create or open the project in ``folder`` on the PostgreSQL database at ``db_url``."""
        self._start_open(ss.open_project_url, (Path(folder), db_url))

    def _start_open(self, fn: object, args: tuple) -> None:
        self.opening = True
        self.db_workers.start(
            fn, args, title="Opening project", on_finished=self._on_opened, on_failed=self._on_open_failed
        )

    def reload(self) -> None:
        """Labels changed behind the panels' backs (an import): ``project_opened`` with the clips again."""
        if self.project is None:
            return
        self.db_workers.start(
            ss.project_clips,
            (self.project,),
            title="Labels",
            on_finished=self.model.clips_changed,
            on_failed=self._on_failed,
        )

    @Slot(object)
    def _on_opened(self, result: tuple[Project, list[ClipRecord], ClipScan | None]) -> None:
        self.opening = False
        project, clips, scan = result
        key = str(Path(project.folder).resolve())
        remembered = self.settings.annotators.get(key) if self.settings is not None else None
        if scan is not None:
            self.notice.emit(f"Project created in {project.folder}: {ss.describe_scan(scan)}")
        self.model.open(project, clips, scan, annotator=remembered)

    @Slot(object)
    def _on_open_failed(self, exc: BaseException) -> None:
        self.opening = False
        self.error.emit("Cannot open the project", str(exc))

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self.error.emit("Labels not saved" if self.project else "Cannot open the project", str(exc))

    def choose_annotator(self, name: str) -> None:
        """``name`` labels from now on (recorded on the database worker); ``annotator_changed`` follows."""
        if self.project is None or not name or name == self.project.annotator:
            return
        self.db_workers.start(
            ss.choose_annotator,
            (self.project, name),
            title="Annotator",
            on_finished=self._on_annotator_chosen,
            on_failed=self._on_failed,
        )

    @Slot(object)
    def _on_annotator_chosen(self, name: str) -> None:
        self._remember_annotator(name)
        self.model.annotator_chosen(name)

    def _remember_annotator(self, name: str) -> None:
        """Who labels in this project comes back after a restart (settings, written at once)."""
        if self.settings is None or self.project is None:
            return
        self.settings.annotators[self.model.key()] = name
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("annotator not remembered: %s", exc)

    def choose_label_set(self, name: str) -> None:
        if self.project is not None and name:
            self.model.choose_label_set(name)

    # -- clip ----------------------------------------------------------------------------------------
    @Slot(str)
    def set_clip(self, path: str) -> None:
        """The window shows ``path``: the project holding it is opened when it is not the open one."""
        clip = Path(path).resolve()
        folder = None
        if self.project is None or not clip.is_relative_to(self.project.folder):
            found = ss.find_project_folder(clip.parent)
            if found is not None and (self.project is None or found != self.project.folder):
                folder = found
                self.opening = True  # panels wait for project_opened instead of reading the old project
        self.model.set_clip(clip)
        if folder is not None:
            self.open_project(folder)

    @Slot(str)
    def clear_clip(self, path: str) -> None:
        """The chosen clip could not be opened: nothing of the previous one is current."""
        self.model.set_clip(None)
        self.clip_cleared.emit(path)

    def labels_fetched(self, state: object) -> None:
        """The Labels tab fetched or committed the current clip's labels: tell every panel."""
        self.model.labels_changed(state)

    def shutdown(self) -> None:
        self.db_workers.shutdown()
        self.model.close()

    # -- listener → signals ----------------------------------------------------------------------------
    def _on_event(self, event: SessionEvent, payload: object) -> None:
        if event in (SessionEvent.PROJECT, SessionEvent.CLIPS):
            self.project_opened.emit(payload)
        elif event is SessionEvent.ANNOTATOR:
            self.annotator_changed.emit(payload)
        elif event is SessionEvent.LABEL_SET:
            self.label_set_changed.emit(payload)
        elif event is SessionEvent.CLIP and payload is not None:
            self.clip_changed.emit(payload)
        elif event is SessionEvent.LABELS:
            self.labels_changed.emit(payload)
