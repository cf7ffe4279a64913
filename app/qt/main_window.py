"""The main window: clip browser (left), player (centre), timelines (below), inspector (right).

Hooks for the panels other engineers add (all on ``MainWindow``):

- ``clock``: the one ``QtClock``; follow ``clock.position_changed(seconds)``, seek with ``clock.seek``.
- ``timeline.add_lane(name, content)``: a lane on the shared time axis (see ``timeline``).
- ``player.add_overlay(overlay)``: paint over the frame at its time (see ``frame_view``).
- ``inspector``: the right-hand ``QTabWidget`` dock; ``inspector.addTab(widget, "Fused")``.
- ``browser.model.add_column(Column(...))`` and ``browser.model.set_value(path, key, value)``.
- ``current_clip_changed(path)``: a clip finished loading (``loaded`` holds its ``LoadedClip``).
- ``clip_failed(path)``: the chosen clip could not be opened; every view clears what it showed.
- ``workers.start(fn, args, title=...)``: long work with the status-bar progress bar and Cancel.
- ``show_error(title, message)``: status bar + non-blocking dialog + log.
- ``ready``: the clip is loaded, its frame shown and its lanes drawn (screenshots, tests).
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QWidget,
)

from affectscope.app.qt.audio_output import AudioOutput
from affectscope.app.qt.clip_browser import ClipBrowser, probe_paths
from affectscope.app.qt.clip_loader import LoadedClip, load_clip
from affectscope.app.qt.clock import QtClock
from affectscope.app.qt.inspector import InspectorTabs
from affectscope.app.qt.player import Player
from affectscope.app.qt.session import QtSession
from affectscope.app.qt.shortcuts import Shortcuts
from affectscope.app.qt.spectrogram_lane import SpectrogramLane
from affectscope.app.qt.timeline import TimelineView
from affectscope.app.qt.waveform_lane import WaveformLane
from affectscope.app.qt.workers import JobProgressWidget, Workers
from affectscope.app.services.settings import Settings, load_settings, save_settings
from affectscope.errors import UserFacingError
from affectscope.media import VIDEO_EXTENSIONS, MediaError, media_kind, scan_folder

log = logging.getLogger(__name__)


class _NoRow:
    error = None


_NO_ROW = _NoRow()


class ClipInfoPanel(QWidget):
    """The inspector's first tab: the open clip's facts."""

    FIELDS = ("File", "Duration", "Frames", "Frame rate", "Size", "Codec", "Audio")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.values = {name: QLabel("–", self) for name in self.FIELDS}
        for name, label in self.values.items():
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            form.addRow(name + ":", label)

    def show_clip(self, clip: LoadedClip | None) -> None:
        if clip is None:
            for label in self.values.values():
                label.setText("–")
            return
        i = clip.info
        audio = f"{i.audio_codec}, {i.audio_rate} Hz" if clip.audio is not None else clip.audio_note
        texts = {
            "File": clip.path.name,
            "Duration": f"{i.duration:.3f} s",
            "Frames": str(i.n_frames),
            "Frame rate": f"{i.fps:.3f} fps" + (" (variable)" if i.vfr else ""),
            "Size": f"{i.width} × {i.height}",
            "Codec": i.codec,
            "Audio": audio,
        }
        for name, text in texts.items():
            self.values[name].setText(text)


class MainWindow(QMainWindow):
    """Affectscope's window; see the module docstring for the extension hooks."""

    current_clip_changed = Signal(str)
    clip_failed = Signal(str)  # the chosen clip could not be opened: views clear the previous clip
    ready = Signal()
    error_shown = Signal(str, str)

    def __init__(self, synchronous_workers: bool = False, settings: Settings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Affectscope")
        self.settings = settings if settings is not None else load_settings()
        self.clock = QtClock(self)
        self.workers = Workers(self, synchronous=synchronous_workers)
        # What is open (project, annotator, label set, clip): every panel reads this, never another panel.
        self.session = QtSession(self.settings, self, synchronous=synchronous_workers)
        self.player = Player(self.clock, self)
        self.timeline = TimelineView(self.clock, self)
        self.waveform = WaveformLane()
        self.spectrogram = SpectrogramLane(self)
        self.timeline.add_lane("Waveform", self.waveform)
        self.timeline.add_lane("Spectrogram", self.spectrogram)
        self.audio = AudioOutput(self.clock, self)
        self.loaded: LoadedClip | None = None
        self.last_error: tuple[str, str] | None = None
        # What made the last clip fail to load: a UserFacingError is a clear refusal, anything else a
        # bug the user still gets a message for (tests tell the two apart).
        self.last_failure: BaseException | None = None
        self._loading: str | None = None
        self._frame_waiting = False
        self._fallbacks: list[Path] = []  # clips to try when the folder's first clip cannot be opened
        self._reported: set[str] = set()  # clips whose "cannot open" dialog was already shown

        centre = QSplitter(Qt.Orientation.Vertical, self)
        centre.addWidget(self.player)
        centre.addWidget(self.timeline)
        centre.setStretchFactor(0, 5)
        centre.setStretchFactor(1, 4)
        self.setCentralWidget(centre)

        self.browser = ClipBrowser(self)
        self.browser_dock = self._dock("Clips", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector = InspectorTabs(self)
        # Nine tabs do not fit side by side in a 300-400 px dock (Explain, Queue and Retrain hid behind
        # scroll arrows): down the side they all show at 900 px.
        self.inspector.setTabPosition(QTabWidget.TabPosition.West)
        # Tighter tabs: with the style's padding the nine needed 593 px, and at 1024×600 Explain sat behind
        # the tab bar's scroll arrows (issue 22 item 5, tried as a new user); the selected tab stays marked.
        self.inspector.tabBar().setStyleSheet(
            "QTabBar::tab { padding: 6px 3px; border: 1px solid transparent; }"
            " QTabBar::tab:selected { background: palette(base); border: 1px solid palette(mid);"
            " border-right: none; }"
            " QTabBar::tab:hover:!selected { background: palette(midlight); }"
        )
        self.clip_panel = ClipInfoPanel(self)
        self.inspector.addTab(self.clip_panel, "Clip")
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)

        self.job_progress = JobProgressWidget(self.workers, self)
        # The audio state sits in the status bar: below the player it took 60-130 px of the transport's
        # row, and with it of the clip list at 1024 px (issue 22 item 5).
        audio_label = self.player.transport.audio_label
        audio_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        audio_label.setMaximumWidth(360)  # min stays the fixed 60 px: no text widens it
        self.statusBar().addPermanentWidget(audio_label)
        self.statusBar().addPermanentWidget(self.job_progress)
        self.player.transport.audio_label.setText(self.audio.status)
        self.audio.status_changed.connect(self.player.transport.audio_label.setText)
        self.shortcuts = Shortcuts(self, self.clock, self.player)
        self._build_menu()
        # Perception (faces, pose, VAD, laughter): overlays, lanes, Analyse action, inspector tab.
        from affectscope.app.qt.analysis_panel import install_perception

        self.perception = install_perception(self)
        self.current_clip_changed.connect(self.session.set_clip)
        self.clip_failed.connect(self.session.clear_clip)
        self.session.error.connect(self.show_error)
        self.session.notice.connect(lambda text: self.statusBar().showMessage(text, 15000))
        # Labelling (annotator, label set, keys 1-9, I/O spans, history, undo/redo): app/qt/labelling.py.
        from affectscope.app.qt.labelling import install_labelling

        self.labelling = install_labelling(self)
        from affectscope.app.qt.span_table import install_span_table

        install_span_table(self)  # the Spans tab: typed start/end, label, comment per span
        # Models (run a system, prediction lanes, clip-level bars, browser columns): app/qt/models_panel.py.
        from affectscope.app.qt.models_panel import install_models

        self.models = install_models(self)
        # Evaluation runs, confusion click-through, Export figure… (issue 10): app/qt/evaluation_view.py.
        from affectscope.app.qt.evaluation_view import install_evaluation

        self.evaluation = install_evaluation(self)
        self.evaluation.clips_sent.connect(self._on_clips_sent)
        # Relabel queue (order, weights, filters; 1-9 label + next, S skip, F flag): app/qt/queue_panel.py.
        from affectscope.app.qt.queue_panel import install_queue

        self.queue = install_queue(self)
        # Retraining with a live curve, version comparison, activate / roll back: app/qt/retrain_panel.py.
        from affectscope.app.qt.retrain_panel import install_retrain

        self.retrain = install_retrain(self)
        # Project menu (new, open folder or PostgreSQL URL, recent, demo, labels in/out) and Help (F1, ?).
        from affectscope.app.qt.help_dialog import install_help
        from affectscope.app.qt.project_menu import install_project_menu

        self.project_menu = install_project_menu(self)
        from affectscope.app.qt.analyse_all import install_analyse_all

        install_analyse_all(self)  # Analyse ▸ Analyse all clips (Ctrl+Shift+E)
        from affectscope.app.qt.clip_navigation import install_clip_navigation

        install_clip_navigation(self)  # Go ▸ Next / Previous clip (PgDown / PgUp), Next unlabelled (N)
        from affectscope.app.qt.lane_controls import install_lane_controls

        self.lanes_action = install_lane_controls(self)  # View ▸ Lanes… (show/hide, order, height)
        self.help_action = install_help(self)
        # Explain (saliency overlay, modality bars, live ablation): app/qt/explain_panel.py.
        from affectscope.app.qt.explain_panel import install_explain

        self.explain = install_explain(self)

        self.browser.bring_forward(["label", "prediction", "confidence"])
        from affectscope.app.qt.layout_keeper import narrow_pages

        narrow_pages(self.inspector)  # the inspector's minimum width no longer starves the clip list
        self.inspector.fit_widths()
        self.browser.clip_activated.connect(self._on_clip_activated)
        self.player.frame_shown.connect(self._on_frame_shown)
        self.player.error.connect(self.show_error)
        self.spectrogram.ready.connect(self._check_ready)
        self.clock.set_rate(
            self.settings.playback_rate if self.settings.playback_rate in (0.25, 0.5, 1, 1.5, 2, 4) else 1
        )
        self.resize(1500, 950)
        self.resizeDocks([self.browser_dock, self.inspector_dock], [420, 280], Qt.Orientation.Horizontal)
        self.player.view.setFocus()
        self._restore_layout()
        from affectscope.app.qt.layout_keeper import DockWidths

        self.dock_widths = DockWidths(
            self,
            [self.browser_dock, self.inspector_dock],
            [420, 280],
            restored=bool(self.settings.window_state),
        )
        self.statusBar().showMessage("Open a folder of clips or a clip (File ▸ Open)")

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.lower() + "Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        open_folder = QAction("Open &folder…", self)
        open_folder.setShortcut(QKeySequence.StandardKey.Open)
        open_folder.triggered.connect(self._on_open_folder)
        open_clip = QAction("Open &clip…", self)
        open_clip.triggered.connect(self._on_open_clip)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for a in (open_folder, open_clip, quit_action):
            menu.addAction(a)
        view = self.menuBar().addMenu("&View")
        view.addAction(self.browser_dock.toggleViewAction())
        view.addAction(self.inspector_dock.toggleViewAction())
        study = self.menuBar().addMenu("&Study")  # reader studies (issue 11): a window of their own
        open_studies = QAction("Reader &studies…", self)
        open_studies.triggered.connect(lambda: self._on_open_studies())
        study.addAction(open_studies)

    def _on_open_studies(self, selection: int | None = None) -> None:
        """The Study window on the open project (a folder is asked for only when none is open)."""
        from affectscope.app.qt.study_panel import StudyPanel
        from affectscope.app.services.project import Project

        project = self.session.project
        if project is None:
            folder = QFileDialog.getExistingDirectory(self, "Project folder")
            if not folder:
                return
            try:
                project = Project.open(folder)
            except UserFacingError as exc:
                self.show_error("Cannot open the project", str(exc))
                return
        self._study_panel = StudyPanel(project)
        if selection is not None:
            self._study_panel.designer.add_sent_selections(choose=selection)
            self._study_panel.tabs.setCurrentWidget(self._study_panel.designer)
        self._study_panel.show()

    @Slot(str, list)
    def _on_clips_sent(self, purpose: str, _clip_ids: list) -> None:
        """An evaluation sent a confusion cell's clips to a new reader study: open the designer on them."""
        from affectscope.app.services.evaluation_runs import pending_clip_selections

        project = self.session.project
        if purpose != "study" or project is None:
            return
        pending = pending_clip_selections(project, "study")
        self._on_open_studies(selection=pending[-1][0] if pending else None)

    # ------------------------------------------------------------------ opening
    def open_path(self, path: str | Path) -> None:
        """A folder lists its clips and loads the first; a clip lists its folder and loads itself."""
        path = Path(path).expanduser()
        if not path.exists():
            self.show_error("Nothing to open", f"{path} does not exist. Check the path and try again.")
            return
        if path.is_dir():
            folder, clips = path, scan_folder(path)
            target = clips[0] if clips else None
        else:
            # By content, not extension: any container FFmpeg decodes with a picture track is a clip.
            try:
                kind = media_kind(path)
            except MediaError as exc:
                self.show_error("Not a video file", str(exc))
                return
            if kind != "video":
                self.show_error("Not a video file", f"{path.name} holds no video track: it is {kind}.")
                return
            if self.browser.model.row_for(path) is not None:
                # A clip already listed (one of the open project's): open it, keep the list and project.
                self.settings.add_recent(path)
                self.browser.select(path)
                self.load_clip(path)
                return
            folder, clips, target = path.parent, [path], path
            project = self.session.project
            if project is not None and not path.resolve().is_relative_to(project.folder):
                self.statusBar().showMessage(
                    f"{path.name} is not in the open project ({project.folder}); the project stays open: "
                    "Project ▸ Open recent lists it again",
                    15000,
                )
        self.settings.add_recent(path)
        self.browser.set_paths(clips, folder)
        self.setWindowTitle(f"Affectscope — {folder}")
        if clips:
            self.workers.start(
                probe_paths,
                (clips,),
                title="Reading clips",
                on_partial=self.browser.on_probed,
                on_finished=lambda _n: self.statusBar().showMessage(self.browser.count_text(), 10000),
            )
        if target is None:
            self.show_error(
                "No clips here", f"{folder} holds no video files ({', '.join(VIDEO_EXTENSIONS)})."
            )
            return
        # A broken first file must not greet the user with an error: on failure the next one is tried.
        self._fallbacks = [c for c in clips if c != target] if path.is_dir() else []
        self.browser.select(target)
        self.load_clip(target)

    def load_clip(self, path: str | Path) -> None:
        """Load ``path`` (off the GUI thread); ``current_clip_changed`` follows, or an error message."""
        path = str(path)
        self._loading = path
        self.clock.pause()
        self.statusBar().showMessage(f"Loading {Path(path).name}…")
        self.workers.start(
            load_clip,
            (path,),
            title=f"Loading {Path(path).name}",
            on_finished=self._on_clip_loaded,
            on_failed=lambda exc, p=path: self._on_clip_failed(p, exc),
        )

    @Slot(str)
    def _on_clip_activated(self, path: str) -> None:
        self._fallbacks = []  # the user chose: no more automatic skipping
        if self.loaded is None or str(self.loaded.path) != path:
            self.load_clip(path)

    def _on_clip_loaded(self, clip: LoadedClip) -> None:
        if str(clip.path) != self._loading:
            return  # the user picked another clip meanwhile
        self._fallbacks = []
        self.loaded = clip
        self.clock.set_duration(clip.duration)
        self.timeline.set_duration(clip.duration)
        self._frame_waiting = True
        self.player.set_clip(str(clip.path), clip.times)
        self.waveform.set_envelope(clip.envelope, clip.audio_note or "no audio track")
        self.spectrogram.compute(clip.audio, self.workers, clip.audio_note or "no audio track")
        self.audio.set_audio(clip.audio)
        self.clip_panel.show_clip(clip)
        self.browser.select(clip.path)  # however it was opened (queue, evaluation, keys), the list follows
        note = f" — {clip.audio_note}" if clip.audio is None else ""
        self.statusBar().showMessage(
            f"{clip.path.name}: {clip.info.n_frames} frames, {clip.duration:.2f} s{note}", 10000
        )
        self.current_clip_changed.emit(str(clip.path))

    def _on_clip_failed(self, path: str, exc: BaseException) -> None:
        if path != self._loading:
            return
        self.last_failure = exc
        if isinstance(exc, UserFacingError):
            message = str(exc)
        else:
            log.error("loading %s failed", path, exc_info=exc)
            message = f"{Path(path).name} could not be opened: {exc}"
        self.browser.model.mark_error(path, message)
        fallbacks = [p for p in self._fallbacks if not (self.browser.model.row_for(p) or _NO_ROW).error]
        self._fallbacks = []
        if fallbacks:  # opening a folder: skip its unreadable file quietly (the row is red, with why)
            self.statusBar().showMessage(f"Skipped {Path(path).name}: {message}", 10000)
            self._fallbacks = fallbacks[1:]
            self.browser.select(fallbacks[0])
            self.load_clip(fallbacks[0])
            return
        self.loaded = None
        self.player.clear(f"Cannot open {Path(path).name}\n\n{message}")
        self.waveform.set_envelope(None, "no clip")
        self.spectrogram.compute(None, self.workers, "no clip")
        self.audio.set_audio(None)
        self.clip_panel.show_clip(None)
        self.clock.set_duration(0.0)
        self.timeline.set_duration(0.0)
        self.clip_failed.emit(path)
        if path in self._reported:  # said once already: the row and the player say it again, quietly
            self.statusBar().showMessage(f"Cannot open this clip: {message}")
        else:
            self._reported.add(path)
            self.show_error("Cannot open this clip", message)
        self.ready.emit()  # nothing more will come: let waiters (screenshot) go on

    @Slot(int, float)
    def _on_frame_shown(self, _index: int, _t: float) -> None:
        if self._frame_waiting:
            self._frame_waiting = False
            self._check_ready()

    @Slot()
    def _check_ready(self) -> None:
        if self.loaded is not None and not self._frame_waiting and self.spectrogram.is_ready:
            self.ready.emit()

    def transport_slider_seconds(self) -> float:
        """Where the transport's slider stands, in seconds (tests, screenshots)."""
        from affectscope.app.qt.transport import SLIDER_STEPS_PER_SECOND

        return self.player.transport.slider.value() / SLIDER_STEPS_PER_SECOND

    @property
    def is_ready(self) -> bool:
        return self.loaded is not None and not self._frame_waiting and self.spectrogram.is_ready

    # ------------------------------------------------------------------ errors
    @Slot(str, str)
    def show_error(self, title: str, message: str) -> None:
        """Tell the user: status bar, a non-blocking dialog, the log."""
        log.warning("%s: %s", title, message)
        self.last_error = (title, message)
        self.statusBar().showMessage(f"{title}: {message}")
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.show()
        self.error_dialog = box
        self.error_shown.emit(title, message)

    # ------------------------------------------------------------------ menu
    @Slot()
    def _on_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of clips")
        if folder:
            self.open_path(folder)

    @Slot()
    def _on_open_clip(self) -> None:
        pattern = "Video (" + " ".join("*" + e for e in VIDEO_EXTENSIONS) + ")"
        path, _ = QFileDialog.getOpenFileName(self, "Open a clip", "", pattern)
        if path:
            self.open_path(path)

    # ------------------------------------------------------------------ lifetime
    def _restore_layout(self) -> None:
        try:
            if self.settings.window_geometry:
                self.restoreGeometry(QByteArray(base64.b64decode(self.settings.window_geometry)))
            if self.settings.window_state:
                self.restoreState(QByteArray(base64.b64decode(self.settings.window_state)))
        except ValueError:
            log.warning("stored window layout unreadable; using the default")
        if self.settings.window_geometry or self.settings.window_state:
            from affectscope.app.qt.layout_keeper import settle_restored

            settle_restored(self)  # floating docks docked again, the window on its screen

    def shutdown(self) -> None:
        """Stop every thread the window started (decoder, workers, audio). Safe to call twice."""
        self.clock.pause()
        self.audio.close()
        self.player.close_decoder()
        self.workers.shutdown()
        self.session.shutdown()

    def save_settings(self) -> None:
        self.settings.window_geometry = base64.b64encode(bytes(self.saveGeometry())).decode()
        self.settings.window_state = base64.b64encode(bytes(self.saveState())).decode()
        self.settings.playback_rate = self.clock.rate
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)
