"""The Study window: design a study (arms, case selection, seed, design, readers, break and washout),
start a reader's blinded session (the full-screen kiosk, app/qt/reader_kiosk.py), and see the results
(table + the study figure). Errors are shown in the window, never only logged; statistics that are
undefined show "n/a" and why.

A thin face over app/services/studies.py and study_stats.py; the figure is
``affectscope.analysis.study_figure.draw_study_figure`` rendered to an image.
"""

from __future__ import annotations

import io
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.services import studies, study_stats
from affectscope.app.services.project import Project
from affectscope.errors import UserFacingError

PRESENTATIONS = ("audiovisual", "audio", "video")


class StudyDesigner(QWidget):
    """Arms, case selection, seed and design, readers: creates the study with everyone's order."""

    def __init__(self, project: Project, on_created=None, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.project = project
        self.on_created = on_created
        self.name = QLineEdit(studies.free_study_name(project.db))
        self.label_set = QComboBox()
        self.label_set.addItems(list(project.label_sets()))
        self.label_set.setCurrentText(project.label_set)
        self.arms = QTableWidget(0, 3)
        self.arms.setHorizontalHeaderLabels(["arm", "presentation", "model version id (assisted)"])
        self.arms.horizontalHeader().setStretchLastSection(True)
        self.arms.setMaximumHeight(150)
        add_arm = QPushButton("Add arm")
        add_arm.clicked.connect(lambda: self.add_arm("arm", "audiovisual", ""))
        self.selection = QComboBox()
        self.selection.addItems(["all clips", "clips with current label", "stratified sample per label"])
        self.add_sent_selections()
        self.filter_label = QLineEdit()
        self.filter_label.setPlaceholderText("label (filter)")
        self.per_label = QSpinBox()
        self.per_label.setRange(1, 10000)
        self.per_label.setValue(10)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.design = QComboBox()
        self.design.addItems(["crossed", "split"])
        self.readers = QLineEdit()
        self.readers.setPlaceholderText("reader names, comma-separated")
        self.break_s = QSpinBox()
        self.break_s.setRange(0, 24 * 3600)
        self.break_s.setSuffix(" s")
        self.break_s.setToolTip("a pause the reader must take between sessions of one sitting")
        self.washout_days = QSpinBox()
        self.washout_days.setRange(0, 365)
        self.washout_days.setSuffix(" days")
        self.washout_days.setToolTip(
            "least time between a reader's arms (crossed designs): memory washes out"
        )
        self.practice = QLineEdit()
        self.practice.setPlaceholderText("practice clips (names or ids, comma-separated; never scored)")
        self.allow_mismatch = QCheckBox("keep cases that do not fit an arm (recorded with the study)")
        self.create = QPushButton("Create study")
        self.create.clicked.connect(self.create_study)
        self.status = QLabel()
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Label set", self.label_set)
        arms_row = QVBoxLayout()
        arms_row.addWidget(self.arms)
        arms_row.addWidget(add_arm)
        form.addRow("Arms", arms_row)
        sel = QHBoxLayout()
        sel.addWidget(self.selection)
        sel.addWidget(self.filter_label)
        sel.addWidget(QLabel("per label"))
        sel.addWidget(self.per_label)
        form.addRow("Cases", sel)
        form.addRow("Seed", self.seed)
        form.addRow("Design", self.design)
        form.addRow("Readers", self.readers)
        pauses = QHBoxLayout()
        pauses.addWidget(QLabel("break between sessions"))
        pauses.addWidget(self.break_s)
        pauses.addWidget(QLabel("washout between arms"))
        pauses.addWidget(self.washout_days)
        form.addRow("Pauses", pauses)
        form.addRow("Practice", self.practice)
        form.addRow("", self.allow_mismatch)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.create)
        layout.addWidget(self.status)
        self.add_arm("unassisted", "audiovisual", "")

    def add_sent_selections(self, choose: int | None = None) -> None:
        """Offer the clips an evaluation's confusion cell sent to "a new reader study" as case sets."""
        from affectscope.app.services.evaluation_runs import pending_clip_selections

        while self.selection.count() > 3:
            self.selection.removeItem(3)
        for sid, source, ids in pending_clip_selections(self.project, "study"):
            self.selection.addItem(f"sent from an evaluation #{sid}: {len(ids)} clips ({source})", (sid, ids))
            if sid == choose:
                self.selection.setCurrentIndex(self.selection.count() - 1)

    def add_arm(self, name: str, presentation: str, model: str) -> None:
        row = self.arms.rowCount()
        self.arms.insertRow(row)
        taken = {self.arms.item(r, 0).text() for r in range(row) if self.arms.item(r, 0)}
        unique = name if name not in taken else f"{name}-{row + 1}"
        self.arms.setItem(row, 0, QTableWidgetItem(unique))
        combo = QComboBox()
        combo.addItems(PRESENTATIONS)
        combo.setCurrentText(presentation)
        self.arms.setCellWidget(row, 1, combo)
        self.arms.setItem(row, 2, QTableWidgetItem(model))

    def arm_specs(self) -> list[studies.ArmSpec]:
        out = []
        for r in range(self.arms.rowCount()):
            model = (self.arms.item(r, 2).text() if self.arms.item(r, 2) else "").strip()
            out.append(
                studies.ArmSpec(
                    self.arms.item(r, 0).text().strip(),
                    self.arms.cellWidget(r, 1).currentText(),
                    "model" if model else "none",
                    int(model) if model.isdigit() else None,
                )
            )
        return out

    def create_study(self) -> int | None:
        from affectscope.db.records import ClipQuery

        label_set = self.label_set.currentText()
        mode = self.selection.currentIndex()
        sent = self.selection.currentData()  # (selection id, clip ids) for clips an evaluation sent
        try:
            query = None
            if mode == 1:
                query = ClipQuery(
                    label_set=label_set, label=self.filter_label.text().strip() or None, status="ok"
                )
            cases = studies.select_cases(
                self.project.db,
                label_set,
                refs=list(sent[1]) if sent else None,
                query=query,
                per_label=self.per_label.value() if mode == 2 else None,
                seed=self.seed.value(),
            )
            if not cases:
                raise studies.StudyError("no clips match this selection")
            practice = [r.strip() for r in self.practice.text().split(",") if r.strip()]
            if practice:
                cases += studies.select_cases(self.project.db, label_set, refs=practice, practice=True)
            sid = studies.create_study(
                self.project.db,
                self.name.text().strip(),
                label_set,
                self.arm_specs(),
                cases,
                design=self.design.currentText(),
                seed=self.seed.value(),
                readers=[r for r in self.readers.text().split(",") if r.strip()],
                allow_mismatch=self.allow_mismatch.isChecked(),
                break_s=float(self.break_s.value()),
                washout_s=self.washout_days.value() * 86400.0,
            )
        except UserFacingError as exc:
            self.status.setText(str(exc))
            return None
        n = sum(not c.practice for c in cases)
        self.status.setText(f"created study {self.name.text()} with {n} cases")
        self.name.setText(studies.free_study_name(self.project.db))
        if sent:
            from affectscope.app.services.evaluation_runs import take_clip_selection

            take_clip_selection(self.project, sent[0])  # the evaluation's selection is now a study
            self.add_sent_selections()
        if self.on_created:
            self.on_created()
        return sid


class StudyResults(QWidget):
    """Per-arm statistics table and the study figure."""

    COLUMNS = ("arm", "presentation", "assistance", "cases", "readers", "responses", "accuracy [95 % CI]",
               "UAR", "Fleiss' kappa", "Krippendorff's alpha", "mean time")  # fmt: skip
    REASON_KEYS = {6: "accuracy", 7: "uar", 8: "fleiss_kappa", 9: "krippendorff_alpha"}

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.figure = QLabel()
        self.figure.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.summary)
        layout.addWidget(self.figure, 1)
        self.stats: dict | None = None

    def show_study(self, study: str | int, n_resamples: int = 1000) -> dict | None:
        """Compute and show; a failure is shown in the window (and logged), never only logged."""
        try:
            return self._show(study, n_resamples)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the user sees it here
            logging.getLogger(__name__).exception("study results failed")
            self.stats = None
            self.table.setRowCount(0)
            self.figure.clear()
            self.summary.setText(f"Could not compute the results: {exc}")
            self.summary.setStyleSheet("color: #b00020;")
            return None

    def _show(self, study: str | int, n_resamples: int) -> dict:
        from affectscope.analysis.study_figure import draw_study_figure

        self.summary.setStyleSheet("")
        self.stats = stats = study_stats.study_stats(self.project.db, study, n_resamples=n_resamples)
        ci = study_stats.format_stat

        self.table.setRowCount(len(stats["arms"]))
        for r, (name, a) in enumerate(stats["arms"].items()):
            t = a["mean_time_ms"]
            cells = [name, a["presentation"], a["assistance"], a["n_cases"], a["n_readers"], a["n_responses"],
                     ci(a["accuracy"]), ci(a["uar"]), ci(a["fleiss_kappa"]), ci(a["krippendorff_alpha"]),
                     "-" if t is None else f"{t / 1000:.2f} s"]  # fmt: skip
            if a.get("interim"):
                cells[0] = f"{name} (interim: {a['n_responses']} of {a['n_assigned']} answers)"
            for c, v in enumerate(cells):
                item = QTableWidgetItem(str(v))
                reason = a.get(self.REASON_KEYS.get(c, ""), {}) if c in self.REASON_KEYS else {}
                if isinstance(reason, dict) and reason.get("reason"):
                    item.setToolTip(reason["reason"])
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.summary.setText(
            "; ".join(
                f"{d['assisted']} minus {d['unassisted']}: {ci(d, signed=True)} ({d['method']})"
                for d in stats["assisted_minus_unassisted"]
            )
            or "no assisted/unassisted pair of arms"
        )
        buf = io.BytesIO()
        draw_study_figure(stats).savefig(buf, format="png", dpi=80)
        pix = QPixmap()
        pix.loadFromData(buf.getvalue(), "PNG")
        self.figure.setPixmap(pix)
        return stats


class StudyPanel(QWidget):
    """The Study window: pick a study, design, read (opens reader mode), results."""

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Affectscope studies - {project.folder.name}")
        self.project = project
        self.study = QComboBox()
        self.reader = QComboBox()  # not editable: a reader is chosen from the study, never typed in
        read = QPushButton("Start reading session")
        read.clicked.connect(self.start_reading)
        results = QPushButton("Compute results")
        results.clicked.connect(lambda: self.results.show_study(self.study.currentText()))
        self.study.currentTextChanged.connect(self._fill_readers)
        top = QHBoxLayout()
        for w in (QLabel("Study"), self.study, QLabel("Reader"), self.reader, read, results):
            top.addWidget(w)
        self.designer = StudyDesigner(project, on_created=self.refresh)
        self.results = StudyResults(project)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.designer, "Design")
        self.tabs.addTab(self.results, "Results")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.reader_view = None
        self.refresh()

    def refresh(self) -> None:
        current, reader = self.study.currentText(), self.reader.currentText()
        self.study.clear()
        self.study.addItems(list(study_stats.studies_of(self.project.db)))
        if current:
            self.study.setCurrentText(current)
        if reader:
            self.reader.setCurrentText(reader)  # who read last stays chosen (a list entry, never typed)

    def _fill_readers(self, study: str) -> None:
        self.reader.clear()
        if study:
            self.reader.addItems([r["name"] for r in studies.show_study(self.project.db, study)["readers"]])

    def start_reading(self, audio_check: bool = True) -> None:
        """Start the chosen reader's session: the kiosk takes the screen and hides every other window
        (this one and the main window included) until the reader quits or is done."""
        from affectscope.app.qt.reader_kiosk import ReaderKiosk
        from affectscope.app.services.reading import ReadingSession

        try:
            session = ReadingSession(self.project.db, self.study.currentText(), self.reader.currentText())
        except UserFacingError as exc:
            QMessageBox.warning(self, "Cannot start reading", str(exc))
            return
        self.reader_view = ReaderKiosk(session, audio_check=audio_check)
        self.reader_view.closed.connect(self.refresh)
        self.reader_view.start()
