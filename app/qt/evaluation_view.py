"""The Evaluation view: stored evaluation runs, a confusion matrix whose cells list their clips, and
the run's per-class bars with CIs, reliability diagram, per-modality versus fused, run versus run.

(``analysis_panel.py`` is the Perception tab; this is the analysis of model *results*.) Clicking a
cell lists exactly the clips with that true and predicted class, most confident mistakes first;
opening one loads it and moves the playhead to the window where the model was most confident in a
wrong class. The cell's clips can be sent to the relabel queue or to a new reader study
(``clips_sent(purpose, clip_ids)`` after ``evaluation_runs.send_clips`` recorded them). "Evaluate…"
runs ``evaluate_project`` in a worker with progress and Cancel; the charts are the same figures
``affectscope figure`` writes, and "Export figure…" opens the export dialog on the current chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.job_panel import OneJobPanel
from affectscope.app.services import evaluation_runs as runs
from affectscope.app.services import figures
from affectscope.app.services.retrained_eval import describe_scope
from affectscope.errors import UserFacingError

CHART_TABS = (
    ("Per class", "per-class"),
    ("Reliability", "reliability"),
    ("Modalities", "modality"),
    ("Run vs run", "comparison"),
)
LABEL_SOURCES = ("current", "majority")


def headline(counts: list[list[int]]) -> str:
    """The run's UAR, accuracy and macro-F1 from its confusion counts, in one line."""
    from affectscope.analysis.metrics import scores_from_confusion

    total = int(sum(map(sum, counts))) if counts else 0
    if total == 0:
        return "No clips with both a label and a prediction in this run."
    scores = scores_from_confusion(np.asarray(counts, dtype=np.float64))
    return (
        f"<b>UAR {float(scores['uar']):.1%}</b> · accuracy {float(scores['accuracy']):.1%} · "
        f"macro-F1 {float(scores['macro_f1']):.3f} · {total} clips"
    )


class CellClipsModel(QAbstractTableModel):
    """The clips of one confusion cell (a plain list; views of 10,000s of rows stay cheap)."""

    HEADERS = ("Clip", "Confidence", "Worst window (s)")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list = []

    def set_items(self, items: list) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 3

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.path
        if index.column() == 0:
            return Path(item.path).name
        if index.column() == 1:
            return f"{item.confidence:.3f}"
        return "–" if item.worst_t is None else f"{item.worst_t:.2f}"


class EvaluationView(OneJobPanel, QWidget):
    open_clip_at = Signal(str, float)  # path, seconds: the window most confidently wrong
    clips_sent = Signal(str, list)  # purpose ("relabel" | "study"), clip ids
    run_shown = Signal(int)
    cell_listed = Signal(int, int, int)  # true, predicted, number of clips
    error = Signal(str, str)
    evaluated = Signal(int)  # a run stored: its predictions are the clips' newest

    def __init__(self, workers: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.project: Any = None
        self.run_id: int | None = None
        self.labels: tuple[str, ...] = ()
        self.counts: list[list[int]] = []
        self.cell: tuple[int, int] | None = None
        self.path = None  # OneJobPanel: the start button needs a project, not a clip

        self.run_combo = QComboBox(self)
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo = QComboBox(self)
        self.source_combo = QComboBox(self)
        self.source_combo.addItems(LABEL_SOURCES)
        self.start_button = QPushButton("Evaluate", self)
        self.start_button.setToolTip("Score the model on the project's labelled clips and store the run")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setMaximumHeight(14)
        self.status = QLabel("Open a project to see its evaluation runs", self)
        self.status.setWordWrap(True)
        # Issue 19: a run whose clips overlap the weights' training, validation or tuning data says so.
        self.contamination = QLabel("", self)
        self.contamination.setWordWrap(True)
        self.contamination.setVisible(False)
        self.export_button = QPushButton("Export figure…", self)

        top = QHBoxLayout()
        top.addWidget(QLabel("Run", self))
        top.addWidget(self.run_combo, 2)
        top.addWidget(self.export_button)
        run_row = QHBoxLayout()
        run_row.addWidget(QLabel("Model", self))
        run_row.addWidget(self.model_combo, 1)
        run_row.addWidget(QLabel("labels", self))
        run_row.addWidget(self.source_combo)
        run_row.addWidget(self.start_button)
        run_row.addWidget(self.cancel_button)

        # Confusion tab: matrix, mode, the clicked cell's clips and what to do with them.
        self.matrix = QTableWidget(self)
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.counts_radio = QRadioButton("Counts", self)
        self.rows_radio = QRadioButton("Row-normalised", self)
        self.counts_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.counts_radio)
        group.addButton(self.rows_radio)
        self.headline = QLabel("", self)  # UAR, accuracy and macro-F1 of the run shown
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cell_label = QLabel("Click a cell to list its clips", self)
        self.clip_model = CellClipsModel(self)
        self.clip_table = QTableView(self)
        self.clip_table.setModel(self.clip_model)
        self.clip_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.clip_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.open_button = QPushButton("Open clip", self)
        self.relabel_button = QPushButton("Send to relabel queue", self)
        self.study_button = QPushButton("Send to new reader study", self)
        for b in (self.open_button, self.relabel_button, self.study_button):
            b.setEnabled(False)
        confusion = QWidget(self)
        mode = QHBoxLayout()
        mode.addWidget(self.counts_radio)
        mode.addWidget(self.rows_radio)
        mode.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.open_button)
        actions.addWidget(self.relabel_button)
        actions.addWidget(self.study_button)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.cell_label)
        lower_layout.addWidget(self.clip_table, 1)
        lower_layout.addLayout(actions)
        split = QSplitter(Qt.Orientation.Horizontal, confusion)
        split.addWidget(self.matrix)
        split.addWidget(lower)
        c_layout = QVBoxLayout(confusion)
        c_layout.addWidget(self.headline)
        c_layout.addLayout(mode)
        c_layout.addWidget(split, 1)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(confusion, "Confusion")
        self.charts: dict[str, QLabel] = {}
        self.compare_combo = QComboBox(self)
        for title, kind in CHART_TABS:
            page = QWidget(self)
            layout = QVBoxLayout(page)
            if kind == "comparison":
                row = QHBoxLayout()
                row.addWidget(QLabel("against run", page))
                row.addWidget(self.compare_combo, 1)
                layout.addLayout(row)
            chart = QLabel("–", page)
            chart.setAlignment(Qt.AlignmentFlag.AlignCenter)
            chart.setMinimumSize(200, 150)
            # The drawn pixmap must not set the tab's size (it is drawn to fit the tab, not the reverse).
            chart.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            layout.addWidget(chart, 1)
            self.charts[kind] = chart
            self.tabs.addTab(page, title)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(run_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.contamination)
        layout.addWidget(self.tabs, 1)

        self.run_combo.currentIndexChanged.connect(self._on_run_chosen)
        self.compare_combo.currentIndexChanged.connect(lambda _i: self._draw_chart("comparison"))
        self.matrix.cellClicked.connect(self.show_cell)
        self.counts_radio.toggled.connect(lambda _on: self._fill_matrix())
        self.clip_table.doubleClicked.connect(lambda _i: self.open_selected())
        self.open_button.clicked.connect(self.open_selected)
        self.relabel_button.clicked.connect(lambda: self.send("relabel"))
        self.study_button.clicked.connect(lambda: self.send("study"))
        self.start_button.clicked.connect(self.start_evaluation)
        self.cancel_button.clicked.connect(self.cancel)
        self.tabs.currentChanged.connect(lambda _i: self._draw_current_chart())
        # A chart drawn while its tab was small stayed tiny (the per-class figure): a resize redraws it.
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(150)
        self._redraw.timeout.connect(self._draw_current_chart)
        for chart in self.charts.values():
            chart.installEventFilter(self)
        self.export_button.clicked.connect(self.export_current)
        self.start_button.setEnabled(False)

    # ------------------------------------------------------------------ project and runs
    def set_project(self, project: Any) -> None:
        from affectscope.models.registry import all_specs

        self.project = project
        self.path = str(project.folder) if project is not None else None
        self.model_combo.clear()
        self.model_combo.addItems(
            [s.name for s in all_specs() if s.weights_path() and s.weights_path().is_file()]
        )
        self.refresh_versions()
        self.start_button.setEnabled(project is not None)
        self.reload_runs()

    def refresh_versions(self) -> None:
        """The project's retrained versions after the shipped models; one is scored on its held-out clips."""
        from affectscope.app.services.retrain import versions

        for i in reversed(range(self.model_combo.count())):
            if self.model_combo.itemData(i) is not None:
                self.model_combo.removeItem(i)
        for v in versions(self.project) if self.project is not None else []:
            title = f"v{v['model_version_id']} {v['name']} {v['version']} (retrained: its held-out clips)"
            self.model_combo.addItem(title, v["model_version_id"])

    def reload_runs(self, select: int | None = None) -> None:
        listed = runs.list_runs(self.project) if self.project is not None else []
        for combo in (self.run_combo, self.compare_combo):
            combo.blockSignals(True)
            combo.clear()
            for r in listed:
                combo.addItem(r.title, r.id)
            combo.blockSignals(False)
        self.status.setText(
            f"{len(listed)} evaluation runs in this project" if listed else "No evaluation runs yet"
        )
        if listed:
            index = self.run_combo.findData(select) if select is not None else len(listed) - 1
            self.run_combo.setCurrentIndex(max(index, 0))
            self.compare_combo.setCurrentIndex(0)
            self._on_run_chosen(self.run_combo.currentIndex())

    def _on_run_chosen(self, index: int) -> None:
        run_id = self.run_combo.itemData(index)
        if run_id is not None:
            self.show_run(int(run_id))

    def show_run(self, run_id: int) -> None:
        run = runs.get_run(self.project, run_id)
        self.run_id, self.labels = run_id, run.labels
        self.counts = runs.confusion(self.project, run_id)  # one GROUP BY: instant on 100,000 clips
        self._show_contamination(
            run.clip_set.get("contamination"), "contamination" in run.clip_set, describe_scope(run.clip_set)
        )
        self._fill_matrix()
        self.headline.setText(headline(self.counts))
        self.clip_model.set_items([])
        self.cell = None
        self.cell_label.setText("Click a cell to list its clips")
        for b in (self.open_button, self.relabel_button, self.study_button):
            b.setEnabled(False)
        for chart in self.charts.values():
            chart.setProperty("drawn_for", None)
        self._draw_current_chart()
        self.run_shown.emit(run_id)

    def _show_contamination(self, found: dict[str, Any] | None, checked: bool, scope: str = "") -> None:
        """Red when the run's clips overlap the weights' records; grey when nothing is known. A
        retrained version's run first says that it was scored on that version's held-out clips."""
        from affectscope.models.provenance import describe, is_contaminated

        bad = is_contaminated(found)
        text = describe(found) if checked else "contamination unknown: run stored before it was checked"
        text = f"{scope[0].upper()}{scope[1:]}; {text}" if scope else text
        self.contamination.setText(("⚠ " if bad else "") + text)
        colour = "#c00000" if bad else "#666666"
        self.contamination.setStyleSheet(f"color: {colour}; font-weight: {'bold' if bad else 'normal'};")
        self.contamination.setProperty("contaminated", bad)
        self.contamination.setVisible(True)

    def _fill_matrix(self) -> None:
        c = len(self.labels)
        self.matrix.setRowCount(c)
        self.matrix.setColumnCount(c)
        self.matrix.setHorizontalHeaderLabels([f"→ {lab}" for lab in self.labels])
        self.matrix.setVerticalHeaderLabels(list(self.labels))
        normalise = self.rows_radio.isChecked()
        for i in range(c):
            total = sum(self.counts[i]) if self.counts else 0
            for j in range(c):
                n = self.counts[i][j]
                share = n / total if total else 0.0
                item = QTableWidgetItem(f"{share:.2f}\n({n})" if normalise else str(n))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip(
                    f"true {self.labels[i]}, predicted {self.labels[j]}: {n} clips ({share:.1%} of row)"
                )
                # Green diagonal, red off-diagonal, strength by the row share.
                base = QColor(0, 158, 115) if i == j else QColor(213, 94, 0)
                base.setAlphaF(0.1 + 0.75 * share)
                item.setBackground(QBrush(base))
                self.matrix.setItem(i, j, item)

    # ------------------------------------------------------------------ click-through
    def show_cell(self, true_index: int, pred_index: int) -> None:
        """List exactly the clips with this true and predicted class."""
        if self.run_id is None:
            return
        items = runs.cell_clips(self.project, self.run_id, true_index, pred_index)
        self.cell = (true_index, pred_index)
        self.clip_model.set_items(items)
        t, p = self.labels[true_index], self.labels[pred_index]
        self.cell_label.setText(f"{len(items)} clips: true {t}, predicted {p} (most confident first)")
        self.open_button.setEnabled(bool(items))
        self.relabel_button.setEnabled(bool(items))
        self.study_button.setEnabled(bool(items))
        if items:
            self.clip_table.selectRow(0)
        self.cell_listed.emit(true_index, pred_index, len(items))

    def listed_clip_ids(self) -> list[int]:
        return [item.clip_id for item in self.clip_model.items]

    def open_selected(self) -> None:
        rows = self.clip_table.selectionModel().selectedRows()
        if not rows:
            return
        item = self.clip_model.items[rows[0].row()]
        self.open_clip_at.emit(item.path, float(item.worst_t or 0.0))

    def send(self, purpose: str) -> int | None:
        if self.cell is None or not self.clip_model.items:
            return None
        t, p = (self.labels[k] for k in self.cell)
        ids = [c for c in self.listed_clip_ids() if c is not None]
        try:
            sel = runs.send_clips(self.project, purpose, ids, f"run {self.run_id}: true {t}, predicted {p}")
        except UserFacingError as exc:
            self.error.emit("Cannot send the clips", str(exc))
            return None
        where = "the relabel queue" if purpose == "relabel" else "a new reader study"
        self.status.setText(f"Sent {len(ids)} clips to {where} (selection {sel})")
        self.clips_sent.emit(purpose, ids)
        return sel

    # ------------------------------------------------------------------ charts and export
    def chart_spec(self, kind: str) -> dict[str, Any] | None:
        if self.project is None or self.run_id is None:
            return None
        if kind == "confusion":
            return figures.make_spec(
                self.project, "confusion", run=self.run_id, options={"normalise": self.rows_radio.isChecked()}
            )
        if kind == "comparison":
            other = self.compare_combo.currentData()
            if other is None:
                return None
            return figures.make_spec(self.project, "comparison", runs_=[int(other), self.run_id])
        return figures.make_spec(self.project, kind, run=self.run_id)

    def current_kind(self) -> str:
        index = self.tabs.currentIndex()
        return "confusion" if index == 0 else CHART_TABS[index - 1][1]

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize and obj in self.charts.values():
            self._redraw.start()
        return False

    def _draw_current_chart(self) -> None:
        if self.tabs.currentIndex() > 0:
            self._draw_chart(self.current_kind())

    def _draw_chart(self, kind: str) -> None:
        spec = self.chart_spec(kind)
        chart = self.charts[kind]
        key = f"{spec!r} {chart.width() // 40}x{chart.height() // 40}"  # a new size is a new drawing
        if spec is None or chart.property("drawn_for") == key:
            return
        try:
            # Fit the tab: the figure keeps its paper size and shape, the preview chooses its resolution.
            from affectscope.analysis.figures.registry import get_kind

            w_in = spec["width_mm"] / 25.4
            h_in = (spec["height_mm"] or spec["width_mm"] * get_kind(spec["kind"]).aspect) / 25.4
            fit = min(max(chart.width() - 10, 200) / w_in, max(chart.height() - 10, 150) / h_in)
            png = figures.preview_png(self.project, spec, dpi=int(min(max(fit, 80), 220)))
        except UserFacingError as exc:
            chart.setText(str(exc))
            return
        pix = QPixmap()
        pix.loadFromData(png, "PNG")
        if pix.width() > chart.width() or pix.height() > chart.height():
            # Never wider than the tab: a label shows a larger pixmap cut (the modality figure's axes).
            pix = pix.scaled(
                chart.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        chart.setPixmap(pix)
        chart.setProperty("drawn_for", key)

    def export_current(self) -> Any:
        from affectscope.app.qt.figure_export import FigureExportDialog

        spec = self.chart_spec(self.current_kind())
        if spec is None:
            self.error.emit(
                "Nothing to export", "Choose an evaluation run first (or start one with Evaluate)."
            )
            return None
        dialog = FigureExportDialog(self.project, spec, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.export_dialog = dialog
        return dialog

    # ------------------------------------------------------------------ new run
    def start_evaluation(self) -> None:
        if self.project is None or self.handle is not None or not self.model_combo.currentText():
            return
        version = self.model_combo.currentData()  # a retrained version's id, None for a shipped model
        self.start_job(
            self.workers,
            runs.evaluate_project,
            (self.project, self.model_combo.currentText() if version is None else ""),
            kwargs={"label_source": self.source_combo.currentText(), "version": version},
            title="Evaluating",
            on_finished=self._on_evaluated,
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
        )

    def _on_evaluated(self, run_id: int) -> None:
        self.reload_runs(select=run_id)
        self.status.setText(f"Run {run_id} stored")
        self.evaluated.emit(run_id)

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Evaluation failed: {exc}")
        self.error.emit("Evaluation failed", str(exc))

    def _on_cancelled(self) -> None:
        self.status.setText("Evaluation cancelled; nothing was stored")


def install_evaluation(window: Any) -> EvaluationView:
    """An "Evaluation" dock (bottom, tabbed beside nothing; View menu toggles it), wired to the window:
    the session's project, clips opened at their worst window, errors, Export figure."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QScrollArea

    from affectscope.app.qt.layout_keeper import KeepSize

    view = EvaluationView(window.workers, window)
    scroll = QScrollArea(window)  # the view's minimum size scrolls instead of growing the window
    scroll.setWidgetResizable(True)
    scroll.setWidget(view)
    dock = window._dock("Evaluation", scroll, Qt.DockWidgetArea.BottomDockWidgetArea)
    dock.hide()
    window.evaluation_keeps_size = KeepSize(window, dock)
    window.evaluation_dock = dock
    view.error.connect(window.show_error)
    for menu in (a.menu() for a in window.menuBar().actions() if a.text() == "&View"):
        menu.addAction(dock.toggleViewAction())

    def _in_use(*_: object) -> None:
        """The model to evaluate defaults to the Models tab's (it was the first registered, fusical)."""
        models = getattr(window, "models", None)
        index = view.model_combo.findText(models.model_name) if models is not None else -1
        if index >= 0 and view.handle is None:
            view.model_combo.setCurrentIndex(index)

    def _on_project(_clips: object) -> None:
        view.set_project(window.session.project)
        _in_use()

    window.session.project_opened.connect(_on_project)
    pending: dict[str, float] = {}

    def _open_at(path: str, t: float) -> None:
        if window.loaded is not None and str(window.loaded.path) == path:
            window.clock.seek(t)
            return
        pending[path] = t
        window.load_clip(path)

    def _on_loaded(path: str) -> None:
        if path in pending:
            window.clock.seek(pending.pop(path))

    view.open_clip_at.connect(_open_at)
    models = getattr(window, "models", None)
    if models is not None:  # the run's predictions fill the browser's Prediction column
        view.evaluated.connect(lambda _run: models.refresh_predictions())
        models.model_box.currentIndexChanged.connect(_in_use)
    window.current_clip_changed.connect(_on_loaded)

    export = QAction("Export &figure…", window)
    export.triggered.connect(lambda: export_clip_figure(window))
    file_menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&File"), None)
    if file_menu is not None:
        file_menu.insertAction(file_menu.actions()[-1], export)
    window.export_figure_action = export
    return view


def export_clip_figure(window: Any) -> Any:
    """File ▸ Export figure…: the clip panel of the open clip, its frame at the playhead."""
    from affectscope.app.qt.figure_export import FigureExportDialog

    project = window.session.project
    if project is None or window.loaded is None:
        window.show_error("Nothing to export", "Open a project and a clip of it first (Labels tab).")
        return None
    path = str(window.loaded.path)
    spec = figures.make_spec(project, "clip", clip=path)
    spec["frame_t"] = float(window.clock.position)
    alternatives = {
        "Clip panel (frame at the playhead)": spec,
        "Modality activation (clip and over time)": figures.make_spec(project, "modality", clip=path),
    }
    dialog = FigureExportDialog(project, spec, window, alternatives=alternatives)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    window.figure_dialog = dialog
    return dialog
