"""View ▸ Lanes (issue 14): lanes can be hidden and shown, reordered and given another height, through
the dialog; a hidden lane leaves no gap and keeps being filled by its panel."""

from __future__ import annotations

from PySide6.QtCore import Qt

from affectscope.app.qt.lane_controls import lane_visible
from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings


def test_lanes_hide_reorder_and_height_through_the_dialog(qtbot) -> None:
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    try:
        timeline = window.timeline
        before = [lane.name for lane in timeline.lanes]
        assert before[:2] == ["Waveform", "Spectrogram"] and "Labels" in before
        window.lanes_action.trigger()
        dialog = window.lanes_dialog
        lst = dialog.list
        # hide the spectrogram, move Labels to the top, make lanes 100 px high
        spec = lst.findItems("Spectrogram", Qt.MatchFlag.MatchExactly)[0]
        spec.setCheckState(Qt.CheckState.Unchecked)
        labels_row = lst.row(lst.findItems("Labels", Qt.MatchFlag.MatchExactly)[0])
        lst.insertItem(0, lst.takeItem(labels_row))
        dialog.height_box.setValue(100)
        dialog.accept()

        names = [lane.name for lane in timeline.lanes]
        assert names[0] == "Labels" and sorted(names) == sorted(before)
        assert not lane_visible(timeline, "Spectrogram") and lane_visible(timeline, "Waveform")
        qtbot.waitUntil(lambda: timeline.lane("Waveform").widget.height() >= 100)
        grid = timeline._grid
        rows = [grid.getItemPosition(grid.indexOf(timeline.lane(n).widget))[0] for n in names]
        assert rows == sorted(rows)  # the grid shows them in the new order

        def top(name: str) -> int:
            widget = timeline.lane(name).widget
            return widget.mapTo(timeline, widget.rect().topLeft()).y()

        qtbot.waitUntil(lambda: top("Labels") < top("Waveform"), timeout=5000)

        window.lanes_action.trigger()  # the dialog shows the state as it is, and can show it again
        dialog = window.lanes_dialog
        assert dialog.list.item(0).text() == "Labels"
        spec = dialog.list.findItems("Spectrogram", Qt.MatchFlag.MatchExactly)[0]
        assert spec.checkState() == Qt.CheckState.Unchecked
        spec.setCheckState(Qt.CheckState.Checked)
        dialog.accept()
        assert lane_visible(timeline, "Spectrogram")
    finally:
        window.shutdown()
