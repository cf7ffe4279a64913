"""The "Models" inspector tab: run a registered system on the open clip and read its predictions.
(The worker-thread jobs it starts are in app/services/predict.py, the one predict path.)

``install_models(window)`` wires it into the main window: a model chooser (modalities, label set,
parameter count, weights present or untrained), an optional weights file, "Run model" (Ctrl+R, also
in the Analyse menu) running ``predict.predict_clip`` through ``window.workers`` with progress and Cancel,
one timeline lane per modality plus the fused (and seed 004's EWMA) lane, the clip-level prediction
as bars and the probabilities at the playhead. With a project open the analysis is stored (never as
a label) and the clip browser's Prediction and Confidence columns show each clip's newest one.
"""

from __future__ import annotations

import logging
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

from affectscope.app.qt.analysis_panel import perception_settings
from affectscope.app.qt.clip_browser import Column
from affectscope.app.qt.job_panel import OneJobPanel
from affectscope.app.qt.model_card_view import ModelCardView
from affectscope.app.qt.prediction_lanes import PredictionLanes, class_colours
from affectscope.app.services.predict import (
    NO_PROJECT,
    LaneData,
    Prediction,
    describe_model,
    latest_predictions,
    predict_clip,
    store_late,
    stored_prediction,
)
from affectscope.errors import UserFacingError
from affectscope.models.registry import all_specs, get

log = logging.getLogger(__name__)


class ProbabilityBars(QWidget):
    """One labelled bar per class, coloured like the lanes; continuous outputs (valence, ...) fill their
    bar over ``value_range`` and read as numbers, not percentages."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.bars: dict[str, QProgressBar] = {}
        self.value_range: tuple[float, float] | None = None

    def set_labels(self, labels: tuple[str, ...], value_range: tuple[float, float] | None = None) -> None:
        self.value_range = value_range
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
        lo, hi = self.value_range or (0.0, 1.0)
        for i, bar in enumerate(self.bars.values()):
            v = None if probs is None else float(probs[i])
            bar.setValue(0 if v is None else int(round(min(max((v - lo) / (hi - lo), 0.0), 1.0) * 1000)))
            bar.setFormat("–" if v is None else f"{v:.2f}" if self.value_range else f"{v:.0%}")

    def values(self) -> dict[str, float]:
        return {label: bar.value() / 1000 for label, bar in self.bars.items()}


class ModelsPanel(OneJobPanel, QWidget):
    """Model chooser, weights, Run/Cancel, clip-level bars and the at-playhead readout."""

    predicted = Signal(object)  # Prediction shown
    error = Signal(str, str)  # title, message
    browser_filled = Signal(int)  # clips whose stored prediction was put in the browser
    stored_shown = Signal(object)  # Prediction read back from the project for the open clip
    stored_late = Signal(object)  # Prediction stored once its project opened (it ran before)

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
        # "Whole clip: negative (speech-weighted mean of the EWMA)" unwrapped made the page 406 px wide:
        # the tab scrolled sideways at 1500 px and hid the bars' right half.
        self.clip_label.setWordWrap(True)
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
        return self.window_.session.project_for(path)

    def run(self) -> None:
        if self.path is None or self.handle is not None:
            return
        import torchvision  # noqa: F401  (first import on the GUI thread; see app/qt/__init__.py)

        path, name = self.path, self.model_name
        self.status.setText(f"Running {name} on {Path(path).name}…")
        self.lanes.clear(f"running {name}…")
        self.start_job(
            self.workers,
            predict_clip,
            (path, name, self.weights, self._project_for(path)),
            # the window runs an untrained model too (its lanes say so) but never stores its output
            {**perception_settings(self.window_), "allow_untrained": True},
            title=f"Running {name} on {Path(path).name}",
            on_finished=self._on_finished,
            on_failed=lambda exc, n=name: self._on_failed(n, exc),
            on_cancelled=self._on_cancelled,
        )

    def _on_finished(self, result: Prediction) -> None:
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
        self._on_stored_result(result)
        self.predicted.emit(result)
        self._store_late()

    def _on_stored_result(self, result: Prediction) -> None:
        """Say what happened to the run in the project; a stored one goes into the browser."""
        a = result.analysis
        self.status.setText(
            f"{a.model} on {Path(result.path).name}: {len(a.times)} windows; {result.stored}."
        )
        if result.stored_ok and not getattr(
            a, "continuous", False
        ):  # values have no class or confidence to list
            model = self.window_.browser.model
            best = int(np.argmax(a.clip_probs))
            model.set_value(result.path, "prediction", a.clip_label)
            model.set_value(result.path, "confidence", float(a.clip_probs[best]))

    def _store_late(self) -> None:
        """A run that started before the clip's project had opened is stored once it is open."""
        result = self.result
        if result is None or result.stored != NO_PROJECT or result.untrained:
            return
        project = self._project_for(result.path)
        if project is None:
            return  # not open yet: _on_project_opened comes back here
        self.workers.start(
            store_late,
            (project, result),
            title="Storing the prediction",
            on_finished=self._on_stored_late,
        )

    def _on_stored_late(self, result: Prediction) -> None:
        if self.result is not None and self.result.path == result.path:
            self.result = result
            self._on_stored_result(result)
            self.stored_late.emit(result)

    def _on_failed(self, name: str, exc: BaseException) -> None:
        self.lanes.clear(f"{name} failed: see the Models tab")
        message = str(exc) if isinstance(exc, UserFacingError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, UserFacingError):
            log.error("running %s failed", name, exc_info=exc)
        self.status.setText(f"{name} failed: {message}")
        self.error.emit(f"Cannot run {name}", message)

    def _on_cancelled(self) -> None:
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
        weighted = "speech-weighted " if getattr(a, "vote_weights", None) is not None else ""
        how = f"{weighted}mean of the EWMA" if a.accumulated is not None else f"{weighted}mean over windows"
        flag = " — untrained" if result.untrained else ""
        vr = next((lane.value_range for lane in result.lanes if lane.name == "fused"), None)
        said = f"<b>{a.clip_label}</b>"
        if vr is not None:  # continuous outputs: their values, no winning class
            said = " · ".join(f"{k} <b>{v:.2f}</b>" for k, v in zip(a.labels, a.clip_probs, strict=True))
        self.clip_label.setText(f"Whole clip: {said} ({how}){flag}")
        self.clip_bars.set_labels(a.labels, vr)
        self.clip_bars.set_probs(a.clip_probs)
        self.at_bars.set_labels(a.labels, vr)
        self._on_position(self.window_.clock.position)

    def comparison_lanes(self, current: str) -> list[LaneData]:
        """The fused lane of each earlier model on this clip, named after its model."""
        out = []
        for model, pred in self.compared.items():
            if model == current:
                continue
            for d in pred.lanes:
                if d.name == "fused":
                    out.append(
                        LaneData(
                            f"{model} fused",
                            d.times,
                            d.probs,
                            d.labels,
                            d.reason,
                            d.window,
                            value_range=d.value_range,  # continuous outputs keep their scale
                        )  # fmt: skip
                    )
        return out

    @Slot(float)
    def _on_position(self, t: float) -> None:
        if self.result is None:
            return
        at = self.lanes.at(t)
        self.at_label.setText(f"At playhead {t:.2f} s (fused):")
        self.at_bars.set_probs(at.get("fused"))
        labels = self.result.analysis.labels
        fmt = ".2f" if self.at_bars.value_range else ".0%"
        head = "".join(f"<th>{label[:3]}</th>" for label in labels)
        rows = "".join(
            f"<tr><td>{name}</td>" + "".join(f"<td align=right>{p:{fmt}}</td>" for p in probs) + "</tr>"
            for name, probs in at.items()
            if len(probs) == len(labels)  # a compared model with another label set has its own lane only
        )
        self.at_table.setText(f"<table cellspacing=4><tr><th></th>{head}</tr>{rows}</table>")

    # ------------------------------------------------------------------ project
    @Slot(object)
    def _on_project_opened(self, _clips: object) -> None:
        project = self.window_.session.project
        if project is not None:
            if self.result is None and self.handle is None:
                self.load_stored()  # the project opens after the clip: its stored prediction too
            self._store_late()
            self.refresh_predictions()

    def refresh_predictions(self) -> None:
        """Fill the browser's Prediction column with each clip's newest stored prediction."""
        project = self.window_.session.project
        if project is not None:
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
    window.session.project_opened.connect(panel._on_project_opened)
    perception = getattr(window, "perception", None)
    if perception is not None:  # the run analysed the frames: the Faces/Expression lanes show it
        panel.predicted.connect(
            lambda result: perception.show_model_analysis(
                result.path, tuple(get(result.analysis.model).modalities)
            )
        )
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
