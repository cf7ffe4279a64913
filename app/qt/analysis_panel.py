"""The "Perception" inspector tab: Analyse clip (with progress and Cancel), overlay toggles, lanes.

``install_perception(window)`` wires it into the main window: overlays on the player, six lanes on
the timeline, an Analyse menu action (Ctrl+E) and this panel as an inspector tab. Extraction runs
through ``window.workers`` (a plain function with a Job, off the GUI thread); on opening a clip the
panel asks the cache only, so a clip analysed before shows its results at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.job_panel import OneJobPanel
from affectscope.app.qt.overlays import FaceBoxOverlay, SignalsOverlay, perception_overlays
from affectscope.app.qt.perception_lanes import PerceptionLanes
from affectscope.models.signals import ClipSignals


def _extract(
    path: str,
    rate_hz: float,
    job,
    cache_only: bool = False,
    more_faces: bool = False,
    modalities: tuple[str, ...] | None = None,
) -> ClipSignals | None:
    """Runs in the worker thread: imports the heavy extractors there, not at window start."""
    from affectscope.models.extractors.pipeline import extract_clip

    return extract_clip(
        path, modalities, rate_hz=rate_hz, job=job, cache_only=cache_only, more_faces=more_faces
    )


RATES = (2.0, 5.0, 10.0, 25.0)  # analysed frames per second offered in the panel


class PerceptionPanel(OneJobPanel, QWidget):
    """Analyse button, progress, cancel, overlay check boxes, expression lane mode, reasons."""

    analysed = Signal(object)  # ClipSignals shown (after an analysis or a cache hit)

    def __init__(self, workers, player, timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.player = player
        self.path: str | None = None
        self.signals: ClipSignals | None = None
        self.handle = None
        self.rate_hz = 10.0
        self.more_faces = False
        self.overlays: list[SignalsOverlay] = perception_overlays()
        for overlay in self.overlays:
            player.add_overlay(overlay)
        self.lanes = PerceptionLanes(timeline)

        self.analyse_button = QPushButton("Analyse clip", self)
        self.start_button = self.analyse_button
        self.analyse_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.status = QLabel("Open a clip, then Analyse clip.", self)
        self.status.setWordWrap(True)
        self.checks: dict[str, QCheckBox] = {}
        self.rate_box = QComboBox(self)
        self.rate_box.setToolTip(
            "How many frames per second Analyse clip looks at; between them the overlays show the nearest "
            "analysed frame, dashed"
        )
        for rate in RATES:
            self.rate_box.addItem(f"{rate:g} frames/s", rate)
        self.rate_box.setCurrentIndex(RATES.index(self.rate_hz))
        self.more_faces_box = QCheckBox("Find more faces (group shots, 2× slower)", self)
        self.more_faces_box.setToolTip(
            "Adds a second face detector (also on the frame turned ±20°) for tilted and half-hidden faces; "
            "choose which face the Expression lane follows below"
        )
        self.expression_mode = QComboBox(self)
        self.expression_mode.addItems(["mean", "min", "max"])
        self.reasons = QLabel("", self)
        self.reasons.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.analyse_button)
        buttons.addWidget(self.cancel_button)
        form = QFormLayout()
        for overlay in self.overlays:
            box = QCheckBox(overlay.name, self)
            box.setChecked(overlay.visible)
            box.toggled.connect(self._on_overlay_toggled)
            self.checks[overlay.name] = box
            form.addRow(box)
        form.addRow("Analysis rate", self.rate_box)
        form.addRow(self.more_faces_box)
        form.addRow("Expression lane", self.expression_mode)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(form)
        layout.addWidget(self.reasons)
        layout.addStretch(1)

        self.analyse_button.clicked.connect(self.analyse)
        self.cancel_button.clicked.connect(self.cancel)
        self.expression_mode.currentTextChanged.connect(self._on_expression_mode)
        self.rate_box.currentIndexChanged.connect(self._on_rate_chosen)
        self.more_faces_box.toggled.connect(self._on_more_faces)

    # ------------------------------------------------------------------ clip and jobs
    @Slot(str)
    def set_clip(self, path: str) -> None:
        """A new clip is open: clear everything, then show cached results if there are any."""
        self.cancel()
        self.path = path
        self._show(None)
        self.lanes.clear("not analysed yet: Analyse clip")
        self.analyse_button.setEnabled(True)
        self.status.setText(f"{Path(path).name}: not analysed yet.")
        self.workers.start(
            _extract,
            (path, self.rate_hz),
            {"cache_only": True, "more_faces": self.more_faces},
            title="Reading cached analysis",
            on_finished=lambda s, p=path: self._on_cached(p, s),
        )

    @Slot(str)
    def clear_clip(self, path: str) -> None:
        """The chosen clip could not be opened: drop the previous clip's overlays, lanes and reasons."""
        self.cancel()
        self.path = None
        self._show(None)
        self.lanes.clear(f"{Path(path).name} could not be opened")
        self.analyse_button.setEnabled(False)
        self.status.setText(f"{Path(path).name} could not be opened.")

    def analyse(self) -> None:
        if self.path is None or self.handle is not None:
            return
        path = self.path
        self.status.setText(f"Analysing {Path(path).name}…")
        self.start_job(
            self.workers,
            _extract,
            (path, self.rate_hz),
            {"more_faces": self.more_faces},
            title=f"Analysing {Path(path).name}",
            on_finished=lambda s, p=path: self._on_finished(p, s),
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
        )

    def show_model_analysis(self, path: str, model_modalities: tuple[str, ...]) -> None:
        """A model run analysed the clip's frames for its modalities: show that analysis (from the
        cache the run filled) unless this tab already shows one, instead of "not analysed yet"."""
        from affectscope.models.inference import perception_modalities

        if path != self.path or self.signals is not None or self.handle is not None:
            return
        self.workers.start(
            _extract,
            (path, self.rate_hz),
            {
                "cache_only": True,
                "more_faces": self.more_faces,
                "modalities": tuple(perception_modalities(model_modalities)),
            },
            title="Reading the model run's analysis",
            on_finished=lambda s, p=path: self._on_cached(p, s),
        )

    def _on_cached(self, path: str, signals: ClipSignals | None) -> None:
        if path == self.path and signals is not None and self.handle is None:
            self._show(signals)
            self.status.setText(f"{Path(path).name}: analysis loaded from the cache{_gaps(signals)}.")

    def _on_finished(self, path: str, signals: ClipSignals) -> None:
        if path != self.path:
            return  # the user opened another clip meanwhile
        self.progress.setValue(self.progress.maximum())
        self._show(signals)
        self.status.setText(f"{Path(path).name}: {len(signals.frame_times)} frames analysed{_gaps(signals)}.")

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Analysis failed: {exc}")

    def _on_cancelled(self) -> None:
        self.progress.setValue(0)
        self.status.setText("Analysis cancelled.")

    # ------------------------------------------------------------------ view
    def _show(self, signals: ClipSignals | None) -> None:
        self.signals = signals
        for overlay in self.overlays:
            overlay.set_signals(signals)
        self.expression_mode.blockSignals(True)
        self.expression_mode.clear()
        self.expression_mode.addItems(["mean", "min", "max"])
        if signals is not None:
            faces = [f"face {i}" for i in self.lanes.face_track_ids(signals)]
            if self.lanes.expression_mode not in ("mean", "min", "max", *faces):
                self.lanes.expression_mode = "mean"  # the face followed before is not in this analysis
            self.lanes.show(signals)
            self.expression_mode.addItems(faces)
            self.expression_mode.setCurrentText(self.lanes.expression_mode)  # the combo says what is drawn
            self._follow(self.lanes.expression_mode)
            reasons = sorted({f"{name}: {t.reason}" for name, t in signals.tracks.items() if t.reason})
            if signals.undecodable_frames:
                reasons.insert(0, f"{signals.undecodable_frames} frames undecodable (damaged data): gaps")
            self.reasons.setText("\n".join(reasons))
            self.analysed.emit(signals)
        else:
            self.reasons.setText("")
        self.expression_mode.blockSignals(False)
        self.player.view.update()

    def set_rate(self, rate_hz: float) -> None:
        """Analyse at ``rate_hz`` frames per second; the clip's cached analysis at that rate is shown."""
        self.rate_box.setCurrentIndex(self.rate_box.findData(rate_hz))

    @Slot(int)
    def _on_rate_chosen(self, index: int) -> None:
        rate = float(self.rate_box.itemData(index))
        if rate == self.rate_hz:
            return
        self.rate_hz = rate
        if self.path is not None:
            self.set_clip(self.path)  # another rate is another analysis: its cache, or "not analysed"

    @Slot(bool)
    def _on_more_faces(self, on: bool) -> None:
        if on == self.more_faces:
            return
        self.more_faces = on
        if self.path is not None:
            self.set_clip(self.path)  # another detector setting is another analysis, like another rate

    @Slot(bool)
    def _on_overlay_toggled(self, _checked: bool) -> None:
        for overlay in self.overlays:
            overlay.visible = self.checks[overlay.name].isChecked()
        self.player.view.update()

    @Slot(str)
    def _on_expression_mode(self, mode: str) -> None:
        if mode:
            self.lanes.set_expression_mode(mode)
            self._follow(mode)

    def _follow(self, mode: str) -> None:
        """The face box of the face the Expression lane follows is marked on the frame."""
        followed = int(mode.split()[1]) if mode.startswith("face ") else None
        for overlay in self.overlays:
            if isinstance(overlay, FaceBoxOverlay):
                overlay.followed = followed
        self.player.view.update()


def perception_settings(window: Any) -> dict[str, Any]:
    """The Perception tab's choices (analysis rate, second face detector) that Run model and Explain
    analyse with, so they reuse its cached analysis."""
    perception = getattr(window, "perception", None)
    return {
        "rate_hz": float(getattr(perception, "rate_hz", 10.0)),
        "more_faces": bool(getattr(perception, "more_faces", False)),
    }


def install_perception(window) -> PerceptionPanel:
    """Add the perception overlays, lanes, Analyse action and inspector tab to a ``MainWindow``."""
    panel = PerceptionPanel(window.workers, window.player, window.timeline, window)
    window.inspector.addTab(panel, "Perception")
    settings = getattr(window, "settings", None)
    if settings is not None:  # the chosen analysis rate comes back after a restart (its cache too)
        if settings.analysis_rate_hz in RATES:
            panel.set_rate(settings.analysis_rate_hz)
        panel.rate_box.currentIndexChanged.connect(
            lambda _i: setattr(settings, "analysis_rate_hz", float(panel.rate_hz))
        )
        panel.more_faces_box.setChecked(bool(settings.more_faces))
        panel.more_faces_box.toggled.connect(lambda on: setattr(settings, "more_faces", bool(on)))
    window.current_clip_changed.connect(panel.set_clip)
    window.clip_failed.connect(panel.clear_clip)
    action = QAction("&Analyse clip", window)
    action.setShortcut(QKeySequence("Ctrl+E"))
    action.triggered.connect(panel.analyse)
    window.menuBar().addMenu("&Analyse").addAction(action)
    panel.analyse_action = action
    return panel


def _gaps(signals: ClipSignals) -> str:
    """ ", N frames undecodable (gaps)" for a damaged clip, "" otherwise."""
    n = signals.undecodable_frames
    return f", {n} undecodable (damaged data: gaps in the lanes)" if n else ""
