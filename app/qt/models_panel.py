"""The "Models" inspector tab: run a registered system on the open clip and read its predictions.

``install_models(window)`` wires it into the main window: a model chooser (modalities, label set,
parameter count, weights present or untrained), an optional weights file, "Run model" (Ctrl+R, also
in the Analyse menu) running ``analyse_clip`` through ``window.workers`` with progress and Cancel,
one timeline lane per modality plus the fused (and seed 004's EWMA) lane, the clip-level prediction
as bars and the probabilities at the playhead. With a project open the analysis is stored (never as
a label) and the clip browser's Prediction and Confidence columns show each clip's newest one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.clip_browser import Column
from affectscope.app.qt.job_panel import OneJobPanel
from affectscope.app.qt.model_card_view import ModelCardView
from affectscope.app.qt.prediction_lanes import LaneData, PredictionLanes, class_colours
from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job
from affectscope.models.registry import all_specs, get

log = logging.getLogger(__name__)

# Which perception tracks feed a lane named after a system's modality (empty track → its reason).
_TRACKS_FOR = {
    "face": ("face_count",),
    "mouth": ("face_count",),
    "visual": ("face_count",),
    "scene": ("face_count",),
    "audiovisual": ("face_count", "audio"),
    "audio": ("audio",),
    "speech": ("audio",),
    "laughter": ("laughter", "audio"),
    "pose": ("pose_confidence",),
    "skeleton": ("pose_confidence",),
}


@dataclass
class Prediction:
    """A finished run: the analysis, its lanes, and what happened to it in the project."""

    path: str
    analysis: Any  # models.inference.Analysis
    lanes: list[LaneData]
    untrained: bool
    stored: str  # a sentence for the status line
    stored_ok: bool = False


def modality_reasons(signals: Any, names: list[str]) -> dict[str, str]:
    """Why a lane's input was missing, per lane name ("" when its input was there)."""
    out = {}
    for name in names:
        why = []
        for track in _TRACKS_FOR.get(name, ()):
            tr = signals.tracks.get(track)
            if tr is None:
                continue
            if len(tr) == 0:
                why.append(tr.reason or f"no {track}")
            elif track == "face_count" and float(np.nanmax(tr.values)) == 0:
                why.append("no face found")
        out[name] = "; ".join(dict.fromkeys(why))
    return out


class StagedJob(Job):
    """One stage of ``n`` on the parent job's bar: "analysing frames 1/2: …", never going backwards.

    Analysis and inference used to report into one bar, each from 0 %, so the bar went 61 % → 47 %.
    """

    def __init__(self, parent: Any, stage: int, n: int, name: str, floor: list[int]) -> None:
        super().__init__()
        self.parent, self.stage, self.n, self.name, self.floor = parent, stage, n, name, floor

    def progress(self, done: int, total: int, message: str = "") -> None:
        frac = min(max(done / max(total, 1), 0.0), 1.0)
        value = int(1000 * ((self.stage - 1) + frac) / self.n)
        self.floor[0] = max(self.floor[0], value)  # monotonic even if a stage restarts its count
        text = f"{self.name} {self.stage}/{self.n}" + (f": {message}" if message else "")
        self.parent.progress(self.floor[0], 1000, text)

    def partial(self, result: Any) -> None:
        self.parent.partial(result)

    def check(self) -> None:
        self.parent.check()

    def cancelled(self) -> bool:
        return self.parent.cancelled()


def cached_signals(path: str, rate_hz: float, modalities: tuple[str, ...]) -> Any:
    """The Perception tab's cached analysis of the clip when it holds every track the model needs."""
    from affectscope.models.extractors.pipeline import MODALITIES, extract_clip
    from affectscope.models.inference import perception_modalities
    from affectscope.models.training.datasets import kind_of

    if kind_of(Path(path)) != "video" or not set(perception_modalities(modalities)) <= set(MODALITIES):
        return None
    try:
        return extract_clip(path, rate_hz=rate_hz, cache_only=True)
    except Exception:  # noqa: BLE001 - a cache that cannot be read is simply not used
        log.warning("cached analysis of %s unreadable; analysing again", path, exc_info=True)
        return None


def run_prediction(
    path: str, model_name: str, weights: str | None, project: Any, job: Any, rate_hz: float = 10.0
) -> Prediction:
    """Worker-thread job: signals → ``analyse_clip`` → lanes; stores the analysis in ``project``.

    Two stages on one monotonic bar; the frames are analysed only when the Perception tab's cache
    (same clip, same rate) does not already hold them.
    """
    from affectscope.app.services.analysis_store import store_analysis
    from affectscope.models.inference import analyse_clip, load_model, signals_for_file

    job = ensure_job(job)
    spec = get(model_name)
    shipped = spec.weights_path()
    untrained = weights is None and (shipped is None or not shipped.exists())
    load_model(model_name, weights, allow_untrained=True)  # a weights error before minutes of extraction
    floor = [0]
    stage1 = StagedJob(job, 1, 2, "analysing frames", floor)
    signals = cached_signals(path, rate_hz, tuple(spec.modalities))
    if signals is not None:
        stage1.progress(1, 1, "reused the clip's cached analysis")
    else:
        signals = signals_for_file(path, tuple(spec.modalities), job=stage1, rate_hz=rate_hz)
    stage2 = StagedJob(job, 2, 2, "running model", floor)
    analysis = analyse_clip(path, model_name, weights, stage2, signals, allow_untrained=True)
    reasons = modality_reasons(signals, list(analysis.per_modality))
    note = "untrained (random weights): ignore these numbers" if untrained else ""
    lanes, win = [], float(analysis.window[0])
    for name, probs in analysis.per_modality.items():
        why = reasons.get(name, "")
        text = f"{why}: predicted without it" if why else ""
        lanes.append(
            LaneData(name, analysis.times, probs, analysis.labels, "; ".join(filter(None, (text, note))), win)
        )
    lanes.append(LaneData("fused", analysis.times, analysis.fused, analysis.labels, note, win))
    if analysis.accumulated is not None:
        lanes.append(LaneData("EWMA", analysis.times, analysis.accumulated, analysis.labels, note, win))
    if project is None:
        stored = "no project open: not stored"
    elif untrained:
        stored = "untrained model: not stored in the project"
    else:
        try:
            clip = project.clip(path)
            n = store_analysis(project, clip.id, analysis)
            stored = f"stored in the project ({n} rows)"
        except UserFacingError as exc:
            stored = f"not stored: {exc}"
    return Prediction(path, analysis, lanes, untrained, stored, stored.startswith("stored"))


def stored_prediction(project: Any, path: str, job: Any = None) -> Prediction | None:
    """Worker-thread job: the clip's newest analysis stored in the project, as lanes (or None)."""
    from affectscope.app.services.analysis_store import load_stored_analysis

    a = load_stored_analysis(project, path)
    if a is None:
        return None
    note = f"stored {a.model} ({a.version}): Run model (Ctrl+R) to compute again"
    win = float(a.window[0])
    lanes = [LaneData(name, a.times, probs, a.labels, "", win) for name, probs in a.per_modality.items()]
    lanes.append(LaneData("fused", a.times, a.fused, a.labels, "", win))
    if a.accumulated is not None:
        lanes.append(LaneData("EWMA", a.times, a.accumulated, a.labels, "", win))
    return Prediction(path, a, lanes, False, note, True)


def describe_model(name: str, job: Any = None) -> int:
    """Worker-thread job: the model's parameter count (building it imports torch)."""
    model = get(name).build()
    return int(sum(p.numel() for p in model.parameters()))


def latest_predictions(project: Any, job: Any = None) -> dict[str, tuple[str, float]]:
    """Worker-thread job: each clip's newest clip-level prediction, path -> (label, confidence)."""
    from affectscope.db import predictions as pred_rows
    from affectscope.db.uow import unit_of_work

    out = {}
    clips = project.clips()
    with unit_of_work(project.db) as s:
        for clip in clips:
            rows = pred_rows.clip_predictions(s, clip.id)
            if rows:
                out[clip.path] = (rows[-1].label, rows[-1].confidence)
    return out


class ProbabilityBars(QWidget):
    """One labelled bar per class, coloured like the lanes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.bars: dict[str, QProgressBar] = {}

    def set_labels(self, labels: tuple[str, ...]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.bars = {}
        for label, colour in zip(labels, class_colours(labels), strict=True):
            bar = QProgressBar(self)
            bar.setRange(0, 1000)
            bar.setFormat("–")
            bar.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
            self.bars[label] = bar
            self.form.addRow(label, bar)

    def set_probs(self, probs: np.ndarray | None) -> None:
        for i, bar in enumerate(self.bars.values()):
            value = 0 if probs is None else int(round(float(probs[i]) * 1000))
            bar.setValue(value)
            bar.setFormat("–" if probs is None else f"{float(probs[i]):.0%}")

    def values(self) -> dict[str, float]:
        return {label: bar.value() / 1000 for label, bar in self.bars.items()}


class ModelsPanel(OneJobPanel, QWidget):
    """Model chooser, weights, Run/Cancel, clip-level bars and the at-playhead readout."""

    predicted = Signal(object)  # Prediction shown
    error = Signal(str, str)  # title, message
    browser_filled = Signal(int)  # clips whose stored prediction was put in the browser
    stored_shown = Signal(object)  # Prediction read back from the project for the open clip

    def __init__(self, window, parent: QWidget | None = None) -> None:  # noqa: ANN001 - MainWindow
        super().__init__(parent)
        self.window_ = window
        self.workers = window.workers
        self.path: str | None = None
        self.result: Prediction | None = None
        self.compared: dict[str, Prediction] = {}  # earlier models' results on this clip, by model name
        self.handle = None
        self.weights: str | None = None
        self.param_counts: dict[str, int] = {}
        self.lanes = PredictionLanes(window.timeline)

        self.model_box = QComboBox(self)
        # Long model titles must not widen the inspector (and with it the window's minimum width).
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(14)
        for spec in all_specs():
            self.model_box.addItem(f"{spec.name} (seed {spec.seed})", spec.name)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        self.weights_label = QLabel(self)
        self.weights_label.setWordWrap(True)
        self.weights_button = QPushButton("Weights file…", self)
        self.weights_button.setToolTip(
            "Use weights you trained (affectscope train) instead of the shipped ones"
        )
        self.shipped_button = QPushButton("Shipped", self)
        self.shipped_button.setToolTip("Go back to the model's shipped weights")
        self.run_button = QPushButton("Run model", self)
        self.start_button = self.run_button
        self.run_button.setToolTip("Run the chosen model on the open clip (Ctrl+R)")
        self.run_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.compare_box = QCheckBox("Keep earlier models' lanes to compare", self)
        self.compare_box.setChecked(True)
        self.compare_box.setToolTip(
            "Running a second model on the clip adds its lanes; the first model's fused lane stays beside it"
        )
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.status = QLabel("Open a clip, choose a model, then Run model.", self)
        self.status.setWordWrap(True)
        self.clip_label = QLabel("Whole clip: –", self)
        self.clip_bars = ProbabilityBars(self)
        self.at_label = QLabel("At playhead: –", self)
        self.at_bars = ProbabilityBars(self)
        self.at_table = QLabel("", self)
        self.at_table.setWordWrap(True)

        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights_button)
        weights_row.addWidget(self.shipped_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        form = QFormLayout()
        form.addRow("Model", self.model_box)
        form.addRow(self.info)
        form.addRow("Weights", self.weights_label)
        form.addRow("", weights_row)
        clip_box = QGroupBox("Prediction (fused)", self)
        clip_layout = QVBoxLayout(clip_box)
        clip_layout.addWidget(self.clip_label)
        clip_layout.addWidget(self.clip_bars)
        clip_layout.addWidget(self.at_label)
        clip_layout.addWidget(self.at_bars)
        clip_layout.addWidget(self.at_table)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.compare_box)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(clip_box)
        self.card_view = ModelCardView(self)
        layout.addWidget(self.card_view, 1)

        self.model_box.currentIndexChanged.connect(self._on_model_chosen)
        self.weights_button.clicked.connect(self._on_weights_clicked)
        self.shipped_button.clicked.connect(self._on_shipped_clicked)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        window.clock.position_changed.connect(self._on_position)
        default = self.model_box.findData("lightweight-streaming")
        self.model_box.setCurrentIndex(max(default, 0))
        self._on_model_chosen()

    # ------------------------------------------------------------------ choices
    @property
    def model_name(self) -> str:
        return str(self.model_box.currentData())

    def choose_model(self, name: str) -> None:
        self.model_box.setCurrentIndex(self.model_box.findData(name))

    def set_weights(self, path: str | None) -> None:
        """``None`` goes back to the shipped weights (or untrained when none are shipped)."""
        self.weights = path
        self._describe()

    @Slot()
    def _on_model_chosen(self, *_: object) -> None:
        self.weights = None
        name = self.model_name
        self._describe()
        if name not in self.param_counts:
            self.workers.start(
                describe_model,
                (name,),
                title=f"Describing {name}",
                on_finished=lambda n, m=name: self._on_counted(m, n),
            )

    def _on_counted(self, name: str, count: int) -> None:
        self.param_counts[name] = count
        if name == self.model_name:
            self._describe()

    def _describe(self) -> None:
        spec = get(self.model_name)
        shipped = spec.weights_path()
        if self.weights:
            state = f"weights: {Path(self.weights).name} (chosen)"
            self.weights_label.setText(self.weights)
        elif shipped is not None and shipped.exists():
            state = "trained weights shipped"
            self.weights_label.setText(f"shipped: {shipped.name}")
            from affectscope.app.services.model_cards import branch_summary, metric_summary, read_card

            card = read_card(shipped)
            for line in (branch_summary(card), metric_summary(card)):
                state += f"<br>{line}" if line else ""
        else:
            state = "<b>untrained</b>: runs with random weights; choose a weights file to predict"
            self.weights_label.setText("none shipped (untrained)")
        count = self.param_counts.get(spec.name)
        params = f"{count / 1e6:.2f} M parameters" if count is not None else "counting parameters…"
        self.info.setText(
            f"{spec.title}<br>modalities: {', '.join(spec.modalities)}<br>"
            f"labels ({spec.label_set}): {', '.join(spec.labels)}<br>{params}; {state}"
        )
        self.shipped_button.setEnabled(self.weights is not None)
        self.card_view.show_weights(
            self.weights or (shipped if shipped is not None and shipped.exists() else None)
        )

    @Slot()
    def _on_weights_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Weights for " + self.model_name, "", "Weights (*.safetensors)"
        )
        if path:
            self.set_weights(path)

    @Slot()
    def _on_shipped_clicked(self) -> None:
        self.set_weights(None)

    # ------------------------------------------------------------------ clip and jobs
    @Slot(str)
    def set_clip(self, path: str) -> None:
        """A new clip is open: forget the last prediction; Run model is possible."""
        self.cancel()
        self.path = path
        self.compared = {}
        self._show(None)
        self.lanes.clear("not run on this clip yet: Models tab ▸ Run model (Ctrl+R)")
        self.run_button.setEnabled(True)
        self.status.setText(f"{Path(path).name}: choose a model, then Run model (Ctrl+R).")
        self.load_stored()

    def load_stored(self) -> None:
        """Draw the open clip's stored analysis again (a relaunch must not look like "not run yet")."""
        path = self.path
        project = self._project_for(path) if path is not None else None
        if project is None:
            return
        self.workers.start(
            stored_prediction,
            (project, path),
            title="Reading the stored prediction",
            on_finished=lambda result, p=path: self._on_stored_prediction(p, result),
        )

    def _on_stored_prediction(self, path: str, result: Prediction | None) -> None:
        if result is None or path != self.path or self.handle is not None or self.result is not None:
            return  # nothing stored, another clip, or a run started or finished meanwhile
        self._show(result)
        self.status.setText(f"{Path(path).name}: {result.stored}.")
        self.stored_shown.emit(result)

    @Slot(str)
    def clear_clip(self, path: str) -> None:
        """The chosen clip could not be opened: nothing of the previous clip stays on screen."""
        self.cancel()
        self.path = None
        self.compared = {}
        self._show(None)
        self.lanes.clear(f"{Path(path).name} could not be opened")
        self.run_button.setEnabled(False)
        self.status.setText(f"{Path(path).name} could not be opened: nothing to run a model on.")

    def _project_for(self, path: str) -> Any:
        labelling = getattr(self.window_, "labelling", None)
        project = getattr(labelling, "project", None)
        if project is not None and Path(path).resolve().is_relative_to(Path(project.folder).resolve()):
            return project
        return None

    def run(self) -> None:
        if self.path is None or self.handle is not None:
            return
        import torchvision  # noqa: F401  (first import on the GUI thread; see app/qt/__init__.py)

        path, name = self.path, self.model_name
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText(f"Running {name} on {Path(path).name}…")
        self.lanes.clear(f"running {name}…")
        self.handle = self.workers.start(
            run_prediction,
            (path, name, self.weights, self._project_for(path)),
            {"rate_hz": float(getattr(getattr(self.window_, "perception", None), "rate_hz", 10.0))},
            title=f"Running {name} on {Path(path).name}",
            on_finished=self._on_finished,
            on_failed=lambda exc, n=name: self._on_failed(n, exc),
            on_cancelled=self._on_cancelled,
            on_progress=self._on_progress,
        )

    def _on_finished(self, result: Prediction) -> None:
        self._job_over()
        if result.path != self.path:
            return  # the user opened another clip meanwhile
        self.progress.setValue(self.progress.maximum())
        previous = self.result
        self.compared.pop(result.analysis.model, None)
        if (
            self.compare_box.isChecked()
            and previous is not None
            and previous.path == result.path
            and previous.analysis.model != result.analysis.model
        ):
            self.compared[previous.analysis.model] = previous
        elif not self.compare_box.isChecked():
            self.compared = {}
        self._show(result)
        a = result.analysis
        self.status.setText(
            f"{a.model} on {Path(result.path).name}: {len(a.times)} windows; {result.stored}."
        )
        if result.stored_ok:
            model = self.window_.browser.model
            best = int(np.argmax(a.clip_probs))
            model.set_value(result.path, "prediction", a.clip_label)
            model.set_value(result.path, "confidence", float(a.clip_probs[best]))
        self.predicted.emit(result)

    def _on_failed(self, name: str, exc: BaseException) -> None:
        self._job_over()
        self.lanes.clear(f"{name} failed: see the Models tab")
        message = str(exc) if isinstance(exc, UserFacingError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, UserFacingError):
            log.error("running %s failed", name, exc_info=exc)
        self.status.setText(f"{name} failed: {message}")
        self.error.emit(f"Cannot run {name}", message)

    def _on_cancelled(self) -> None:
        self._job_over()
        self.progress.setValue(0)
        self.lanes.clear("cancelled: Run model (Ctrl+R) again")
        self.status.setText("Cancelled.")

    # ------------------------------------------------------------------ view
    def _show(self, result: Prediction | None) -> None:
        self.result = result
        if result is None:
            self.clip_label.setText("Whole clip: –")
            self.clip_bars.set_labels(())
            self.at_bars.set_labels(())
            self.at_label.setText("At playhead: –")
            self.at_table.setText("")
            return
        a = result.analysis
        self.lanes.show(result.lanes + self.comparison_lanes(a.model))
        how = "EWMA at the clip's end" if a.accumulated is not None else "mean over windows"
        flag = " — untrained" if result.untrained else ""
        self.clip_label.setText(f"Whole clip: <b>{a.clip_label}</b> ({how}){flag}")
        self.clip_bars.set_labels(a.labels)
        self.clip_bars.set_probs(a.clip_probs)
        self.at_bars.set_labels(a.labels)
        self._on_position(self.window_.clock.position)

    def comparison_lanes(self, current: str) -> list[LaneData]:
        """The fused lane of each earlier model on this clip, named after its model."""
        out = []
        for model, pred in self.compared.items():
            if model == current:
                continue
            for d in pred.lanes:
                if d.name == "fused":
                    out.append(LaneData(f"{model} fused", d.times, d.probs, d.labels, d.reason, d.window))
        return out

    @Slot(float)
    def _on_position(self, t: float) -> None:
        if self.result is None:
            return
        at = self.lanes.at(t)
        self.at_label.setText(f"At playhead {t:.2f} s (fused):")
        self.at_bars.set_probs(at.get("fused"))
        labels = self.result.analysis.labels
        head = "".join(f"<th>{label[:3]}</th>" for label in labels)
        rows = "".join(
            f"<tr><td>{name}</td>" + "".join(f"<td align=right>{p:.0%}</td>" for p in probs) + "</tr>"
            for name, probs in at.items()
            if len(probs) == len(labels)  # a compared model with another label set has its own lane only
        )
        self.at_table.setText(f"<table cellspacing=4><tr><th></th>{head}</tr>{rows}</table>")

    # ------------------------------------------------------------------ project
    @Slot(object)
    def _on_project_opened(self, _clips: object) -> None:
        project = getattr(self.window_.labelling, "project", None)
        if project is not None:
            if self.result is None and self.handle is None:
                self.load_stored()  # the project opens after the clip: its stored prediction too
            self.workers.start(
                latest_predictions,
                (project,),
                title="Reading stored predictions",
                on_finished=self._on_stored,
            )

    def _on_stored(self, latest: dict[str, tuple[str, float]]) -> None:
        model = self.window_.browser.model
        for path, (label, confidence) in latest.items():
            model.set_value(path, "prediction", label)
            model.set_value(path, "confidence", confidence)
        self.browser_filled.emit(len(latest))


PREDICTION_COLUMNS = [
    Column(
        "prediction",
        "Prediction",
        lambda r: r.extra.get("prediction") or "",
        tooltip="newest model prediction",
    ),
    Column(
        "confidence",
        "Confidence",
        lambda r: f"{r.extra['confidence']:.0%}" if "confidence" in r.extra else "",
        lambda r: r.extra.get("confidence", -1.0),
        True,
        "the predicted class's probability",
    ),
]


def install_models(window) -> ModelsPanel:  # noqa: ANN001 - MainWindow
    """Add the Models tab, prediction lanes, Run model action (Ctrl+R) and browser columns to a window."""
    panel = ModelsPanel(window, window)
    window.inspector.addTab(panel, "Models")
    window.current_clip_changed.connect(panel.set_clip)
    window.clip_failed.connect(panel.clear_clip)
    panel.error.connect(window.show_error)
    for column in PREDICTION_COLUMNS:
        window.browser.model.add_column(column)
    window.labelling.project_opened.connect(panel._on_project_opened)
    action = QAction("Run &model", window)
    action.setShortcut(QKeySequence("Ctrl+R"))
    action.triggered.connect(panel.run)
    menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&Analyse"), None)
    if menu is None:
        menu = window.menuBar().addMenu("&Analyse")
    menu.addAction(action)
    window.addAction(action)  # the shortcut works wherever the focus is
    panel.run_action = action
    return panel
