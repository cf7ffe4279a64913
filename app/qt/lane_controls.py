"""View ▸ Lanes: show or hide each timeline lane, put them in the order you want, and set their height.

Works on ``TimelineView`` from outside (its grid and ``lanes`` list) so the timeline module and the
panels that add lanes stay as they are. Hiding keeps a lane (its panel still fills it); reordering
re-lays the grid rows in the new order; the height is the lane's minimum height in pixels.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.timeline import TimelineView


def set_lane_visible(timeline: TimelineView, name: str, visible: bool) -> None:
    lane = timeline.lane(name)
    lane.label.setVisible(visible)
    lane.widget.setVisible(visible)
    row = timeline._grid.getItemPosition(timeline._grid.indexOf(lane.widget))[0]
    timeline._grid.setRowStretch(row, 1 if visible else 0)  # a hidden lane leaves no gap


def lane_visible(timeline: TimelineView, name: str) -> bool:
    return not timeline.lane(name).widget.isHidden()


def set_lane_order(timeline: TimelineView, names: list[str]) -> None:
    """Lanes in ``names`` order (lanes not named keep their relative order, after them)."""
    order = [timeline.lane(n) for n in names if any(lane.name == n for lane in timeline.lanes)]
    order += [lane for lane in timeline.lanes if lane not in order]
    grid = timeline._grid
    for lane in order:
        old = grid.getItemPosition(grid.indexOf(lane.widget))[0]
        grid.setRowStretch(old, 0)
        grid.removeWidget(lane.label)
        grid.removeWidget(lane.widget)
    for lane in order:
        row, timeline._next_row = timeline._next_row, timeline._next_row + 1
        grid.addWidget(lane.label, row, 0)
        grid.addWidget(lane.widget, row, 1)
        grid.setRowStretch(row, 0 if lane.widget.isHidden() else 1)
    timeline.lanes[:] = order
    timeline._update_axes()


def set_lane_height(timeline: TimelineView, name: str, pixels: int) -> None:
    timeline.lane(name).widget.setMinimumHeight(max(24, int(pixels)))


class LanesDialog(QDialog):
    """A list of lanes: tick to show, drag to reorder; one height for all lanes."""

    def __init__(self, timeline: TimelineView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Timeline lanes")
        self.timeline = timeline
        self.list = QListWidget(self)
        self.list.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        for lane in timeline.lanes:
            item = QListWidgetItem(lane.name, self.list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
            item.setCheckState(
                Qt.CheckState.Checked if lane_visible(timeline, lane.name) else Qt.CheckState.Unchecked
            )
        self.height_box = QSpinBox(self)
        self.height_box.setRange(24, 400)
        self.height_box.setSuffix(" px")
        self.height_box.setValue(max(24, timeline.lanes[0].widget.minimumHeight()) if timeline.lanes else 64)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Lane height", self.height_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.accepted.connect(self.apply)

    def apply(self) -> None:
        names = [self.list.item(i).text() for i in range(self.list.count())]
        for i, name in enumerate(names):
            set_lane_visible(self.timeline, name, self.list.item(i).checkState() == Qt.CheckState.Checked)
            set_lane_height(self.timeline, name, self.height_box.value())
        set_lane_order(self.timeline, names)


def install_lane_controls(window: QMainWindow) -> QAction:
    """View ▸ Lanes… on ``window``."""
    action = QAction("&Lanes…", window)
    action.setToolTip("Show, hide, reorder the timeline lanes and set their height")

    def show() -> None:
        dialog = LanesDialog(window.timeline, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.lanes_dialog = dialog
        dialog.show()

    action.triggered.connect(show)
    menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&View"), None)
    (menu or window.menuBar().addMenu("&View")).addAction(action)
    return action
