"""The Queue tab: work through the clips whose labels are worth a second look, keyboard only.

The order (uncertainty, label issues, disagreement, modality conflict, combined) and the combined
score's weights are on screen, with filters by label, annotator and model version. Start opens the
first clip at its most telling moment (the window where the model is least sure); a number key
labels it through the Labels tab (the same append-only, undoable commit) and the queue moves on;
Shift+Q starts, S skips, F flags (stored), and "12 of 200 done" counts what was labelled or flagged.
Ctrl+Z undoes the last label as everywhere, and the queue goes back to that clip.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.workers import Workers
from affectscope.app.services.queue import ORDERS, Queue, QueueItem, build_queue, flag_clip

SCORE_NAMES = ("uncertainty", "label-issues", "disagreement", "modality-conflict")
DEFAULT_WEIGHTS = {"uncertainty": 1.0, "label-issues": 2.0, "disagreement": 1.0, "modality-conflict": 0.5}


def score_text(score: float | None) -> str:
    """A queue score for the table: "–" where it is undefined (an unlabelled clip has no label
    issue), never a raw "nan"."""
    return "–" if score is None or not math.isfinite(score) else f"{score:.3f}"


class QueuePanel(QWidget):
    """The inspector's Queue tab; ``install_queue(window)`` wires it to the window and Labels tab."""

    queue_ready = Signal(object)  # Queue
    item_opened = Signal(object)  # QueueItem
    finished = Signal()

    def __init__(self, window, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.window = window
        self.workers = Workers(self, synchronous=window.workers.synchronous, max_threads=1)
        self.queue: Queue | None = None
        self.position = -1
        self.done: dict[int, str] = {}  # clip id -> "labelled" | "flagged" | "skipped"
        self.working = False
        self._pending_moment: tuple[str, float] | None = None

        self.order_box = QComboBox(self)
        self.order_box.addItems(list(ORDERS))
        self.order_box.setCurrentText("combined")
        self.weights: dict[str, QDoubleSpinBox] = {}
        for name in SCORE_NAMES:
            box = QDoubleSpinBox(self)
            box.setRange(0.0, 10.0)
            box.setSingleStep(0.5)
            box.setValue(DEFAULT_WEIGHTS[name])
            box.setToolTip(f"weight of {name} in the combined order")
            self.weights[name] = box
        self.label_filter = QComboBox(self)
        self.annotator_filter = QComboBox(self)
        self.version_box = QComboBox(self)
        self.selection_box = QComboBox(self)  # all clips, or a selection an evaluation sent here
        self.selection_box.setToolTip("only the clips sent from an evaluation's confusion cell")
        self.reader_votes_box = QCheckBox("reader-study answers count as votes", self)
        self.reader_votes_box.setChecked(True)
        self.reader_votes_box.setToolTip("off: only annotators' labels are votes (disagreement, reasons)")
        boxes = (
            self.order_box,
            self.label_filter,
            self.annotator_filter,
            self.version_box,
            self.selection_box,
        )
        for box in boxes:
            # Long names must not widen the inspector (and with it the window's minimum width).
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(10)
        self.start_button = QPushButton("Start queue", self)
        self.start_button.setToolTip(
            "Build the queue and open its first clip (then: number = label, S skip, F flag)"
        )
        self.start_button.clicked.connect(self.start)
        self.progress_label = QLabel("No queue yet", self)
        self.current_label = QLabel("", self)
        self.current_label.setWordWrap(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["Clip", "Label", "Score", "Why"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys belong to the window

        form = QFormLayout()
        form.addRow("Order", self.order_box)
        for name, box in self.weights.items():  # one row each: a narrow tab (the inspector stays slim)
            form.addRow(f"× {name.replace('modality-', '')}", box)
        form.addRow("Label", self.label_filter)
        form.addRow("Annotator", self.annotator_filter)
        form.addRow("Model version", self.version_box)
        form.addRow("Clips", self.selection_box)
        form.addRow(self.reader_votes_box)  # spanning: with a "Votes" label it set the dock's minimum width
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.start_button)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.current_label)
        layout.addWidget(self.table, 1)
        keys = QLabel("Keys: Shift+Q start · 1–9 label and move on · S skip · F flag · Ctrl+Z undo", self)
        keys.setWordWrap(True)
        layout.addWidget(keys)
        self.set_project(None)

    # -- project -----------------------------------------------------------------------------------
    @property
    def project(self):  # noqa: ANN201
        return self.window.session.project

    def set_project(self, _: object = None) -> None:
        project = self.project
        self.start_button.setEnabled(project is not None)
        for box in (self.label_filter, self.annotator_filter, self.version_box, self.selection_box):
            box.clear()
        self.selection_box.addItem("all clips", None)
        self.label_filter.addItem("any label", None)
        self.annotator_filter.addItem("any annotator", None)
        self.version_box.addItem("active version", None)
        if project is None:
            return
        for lab in project.labels():
            self.label_filter.addItem(lab, lab)
        self.label_filter.addItem("unlabelled", "-")
        for name in project.annotators():
            self.annotator_filter.addItem(name, name)
        from affectscope.app.services.retrain import versions

        for v in versions(project):
            self.version_box.addItem(
                f"{v['model_version_id']}: {v['name']} {v['version']}", v["model_version_id"]
            )
        self.refresh_selections()

    def refresh_selections(self, choose: int | None = None) -> None:
        """List the selections evaluations sent to the queue; ``choose`` makes one current."""
        from affectscope.app.services.evaluation_runs import pending_clip_selections

        project = self.project
        while self.selection_box.count() > 1:
            self.selection_box.removeItem(1)
        if project is None:
            return
        for sid, source, ids in pending_clip_selections(project, "relabel"):
            self.selection_box.addItem(f"#{sid}: {len(ids)} clips ({source})", ids)
            if sid == choose:
                self.selection_box.setCurrentIndex(self.selection_box.count() - 1)

    @Slot(str, list)
    def on_clips_sent(self, purpose: str, _clip_ids: list) -> None:
        """An evaluation sent a confusion cell's clips here: offer them and show the Queue tab."""
        if purpose != "relabel" or self.project is None:
            return
        from affectscope.app.services.evaluation_runs import pending_clip_selections

        pending = pending_clip_selections(self.project, "relabel")
        self.refresh_selections(choose=pending[-1][0] if pending else None)
        self.window.inspector.setCurrentWidget(self)

    def weight_values(self) -> dict[str, float]:
        return {name: box.value() for name, box in self.weights.items()}

    # -- working the queue ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.project is None:
            return
        self.start_button.setEnabled(False)
        self.window.inspector.setCurrentWidget(self)
        self.progress_label.setText("Scoring clips…")
        self.workers.start(
            build_queue,
            (self.project, self.order_box.currentText()),
            {
                "weights": self.weight_values(),
                "label": self.label_filter.currentData(),
                "annotator": self.annotator_filter.currentData(),
                "model_version": self.version_box.currentData(),
                "clip_ids": self.selection_box.currentData(),
                "vote_sources": None if self.reader_votes_box.isChecked() else ("annotators",),
            },
            title="Building the queue",
            on_finished=self._on_queue,
            on_failed=self._on_failed,
        )

    @Slot(object)
    def _on_queue(self, queue: Queue) -> None:
        self.start_button.setEnabled(True)
        self.queue, self.position, self.done = queue, -1, {}
        self.table.setRowCount(len(queue.items))
        for r, item in enumerate(queue.items):
            cells = (Path(item.path).name, item.label or "—", score_text(item.score), "; ".join(item.reasons))
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.table.setItem(r, c, cell)
        self.table.resizeColumnsToContents()
        self.working = bool(queue.items)
        self.queue_ready.emit(queue)
        self._show_progress()
        self.next()

    def next(self) -> None:
        """Open the next clip not yet done (skipped ones come back only after the rest)."""
        if self.queue is None:
            return
        items = self.queue.items
        for k in range(self.position + 1, len(items)):
            if items[k].clip_id not in self.done:
                self._open(k)
                return
        for k in range(len(items)):
            if items[k].clip_id not in self.done:
                self._open(k)
                return
        self.working = False
        self.current_label.setText("Queue finished")
        self.finished.emit()

    def _open(self, k: int) -> None:
        self.position = k
        item = self.queue.items[k]
        self.table.selectRow(k)
        self.current_label.setText(
            f"{Path(item.path).name} — label {item.label or '—'}; " + "; ".join(item.reasons)
        )
        self._pending_moment = (str(Path(item.path).resolve()), item.moment or 0.0)
        loaded = self.window.loaded
        if loaded is not None and str(Path(loaded.path).resolve()) == self._pending_moment[0]:
            self._seek_moment(str(loaded.path))
        else:
            self.window.browser.select(item.path)
            self.window.load_clip(item.path)
        self.item_opened.emit(item)

    @Slot(str)
    def _seek_moment(self, path: str) -> None:
        if self._pending_moment and str(Path(path).resolve()) == self._pending_moment[0]:
            self.window.clock.seek(self._pending_moment[1])
            self._pending_moment = None

    def current(self) -> QueueItem | None:
        if self.queue is None or not (0 <= self.position < len(self.queue.items)):
            return None
        return self.queue.items[self.position]

    def skip(self) -> None:
        item = self.current()
        if not self.working or item is None:
            return
        self._mark(self.position, "skipped")  # not done: it comes round again after the rest
        self._skip_to_next()

    def _skip_to_next(self) -> None:
        items = self.queue.items
        for k in list(range(self.position + 1, len(items))) + list(range(self.position)):
            if items[k].clip_id not in self.done:
                self._open(k)
                return
        self.next()

    def flag(self) -> None:
        item = self.current()
        if not self.working or item is None:
            return
        self.workers.start(
            flag_clip,
            (self.project, item.clip_id),
            title="Flag",
            on_finished=self._on_flagged,
            on_failed=self._on_failed,
        )

    @Slot(object)
    def _on_flagged(self, clip_id: int) -> None:
        self._finish(clip_id, "flagged")

    def on_label_state(self, state) -> None:  # noqa: ANN001 - a label_state.ClipState
        """The Labels tab committed something: a label of the current clip moves the queue on."""
        change = getattr(state, "change", None)
        if not self.working or change is None or self.queue is None:
            return
        ids = [i.clip_id for i in self.queue.items]
        if change.clip_id not in ids:
            return
        if change.action == "undo" and self.done.get(change.clip_id) == "labelled":
            del self.done[change.clip_id]
            self._mark(ids.index(change.clip_id), "")
            self._show_progress()
            self._open(ids.index(change.clip_id))
            return
        item = self.current()
        if (
            change.action == "set"
            and change.start is None
            and item is not None
            and change.clip_id == item.clip_id
        ):
            self._finish(item.clip_id, "labelled", change.new)

    def _finish(self, clip_id: int, how: str, value: str | None = None) -> None:
        self.done[clip_id] = how
        ids = [i.clip_id for i in self.queue.items]
        self._mark(ids.index(clip_id), f"{how} {value}" if value else how)
        self._show_progress()
        self.next()

    def _mark(self, row: int, text: str) -> None:
        cell = self.table.item(row, 1)
        if cell is not None and text:
            cell.setText(text)

    def _show_progress(self) -> None:
        if self.queue is None:
            return
        n = len(self.queue.items)
        done = len(self.done)
        flagged = sum(1 for v in self.done.values() if v == "flagged")
        extra = f" ({flagged} flagged)" if flagged else ""
        self.progress_label.setText(
            f"{done} of {n} done{extra} — order {self.queue.by}, model version {self.queue.model_version_id}"
        )

    def _on_failed(self, exc: BaseException) -> None:
        self.start_button.setEnabled(self.project is not None)
        self.progress_label.setText("The queue could not be built")
        self.window.show_error("Relabel queue", str(exc))


def install_queue(window) -> QueuePanel:  # noqa: ANN001
    """Add the Queue tab and its S / F keys; follow the Labels tab's project and commits."""
    panel = QueuePanel(window, window)
    window.inspector.addTab(panel, "Queue")
    window.session.project_opened.connect(panel.set_project)
    window.session.labels_changed.connect(panel.on_label_state)
    window.current_clip_changed.connect(panel._seek_moment)
    evaluation = getattr(window, "evaluation", None)
    if evaluation is not None:  # a confusion cell's clips sent from the Evaluation dock
        evaluation.clips_sent.connect(panel.on_clips_sent)
    panel.shortcuts = {}
    for key, fn in (("Shift+Q", panel.start), ("S", panel.skip), ("F", panel.flag)):
        sc = QShortcut(QKeySequence(key), window)
        sc.setContext(Qt.ShortcutContext.WindowShortcut)
        sc.activated.connect(fn)
        panel.shortcuts[key] = sc
    return panel
