"""The clip browser: a sortable, filterable table of a folder's clips.

Columns are data, not code paths: ``ClipTableModel.add_column(Column(key, title, value, sort_key))``
adds one (label, prediction, confidence, disagreement ... come from other panels). A column's
``value(row)`` gives the text shown; values that are not facts of the file go in ``row.extra[key]``
through ``model.set_value(path, key, value)`` and are read back by the column's ``value``. Rows whose
file cannot be read keep their place, are shown in red with a warning sign, and say why in a tooltip.
Facts are probed by a job off the GUI thread, row by row (``partial`` results).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from affectscope.errors import UserFacingError
from affectscope.jobs import Job
from affectscope.media import ClipInfo

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass
class ClipRow:
    path: Path
    info: ClipInfo | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Column:
    key: str
    title: str
    value: Callable[[ClipRow], Any]  # what is shown ("" when unknown)
    sort_key: Callable[[ClipRow], Any] | None = None  # defaults to value; must be comparable within a column
    align_right: bool = False
    tooltip: str = ""


def _facts(fn: Callable[[ClipInfo], Any]) -> Callable[[ClipRow], Any]:
    return lambda row: fn(row.info) if row.info is not None else ""


def _num(fn: Callable[[ClipInfo], float]) -> Callable[[ClipRow], float]:
    return lambda row: fn(row.info) if row.info is not None else -1.0


DEFAULT_COLUMNS = [
    Column("name", "Name", lambda r: ("⚠ " if r.error else "") + r.path.name, lambda r: r.path.name.lower()),
    Column("duration", "Duration", _facts(lambda i: f"{i.duration:.2f} s"), _num(lambda i: i.duration), True),
    Column(
        "fps",
        "FPS",
        _facts(lambda i: f"{i.fps:.2f}" + (" VFR" if i.vfr else "")),
        _num(lambda i: i.fps),
        True,
    ),
    Column(
        "size", "Size", _facts(lambda i: f"{i.width}×{i.height}"), _num(lambda i: i.width * i.height), True
    ),
    Column(
        "audio", "Audio", _facts(lambda i: "yes" if i.has_audio else "no"), _facts(lambda i: int(i.has_audio))
    ),
]


class ClipTableModel(QAbstractTableModel):
    """Rows = clips of the open folder; columns = ``Column`` objects (extensible)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: list[Column] = list(DEFAULT_COLUMNS)
        self.rows: list[ClipRow] = []
        self._row_of: dict[Path, int] = {}

    # ------------------------------------------------------------ editing
    def add_column(self, column: Column) -> None:
        n = len(self.columns)
        self.beginInsertColumns(QModelIndex(), n, n)
        self.columns.append(column)
        self.endInsertColumns()

    def set_paths(self, paths: list[Path]) -> None:
        self.beginResetModel()
        self.rows = [ClipRow(Path(p)) for p in paths]
        self._row_of = {row.path: i for i, row in enumerate(self.rows)}
        self.endResetModel()

    def row_for(self, path: str | Path) -> ClipRow | None:
        i = self._row_of.get(Path(path))
        return self.rows[i] if i is not None else None

    def set_info(self, path: str | Path, info: ClipInfo | None, error: str | None = None) -> None:
        i = self._row_of.get(Path(path))
        if i is None:
            return
        self.rows[i].info, self.rows[i].error = info, error
        self._changed(i)

    def mark_error(self, path: str | Path, message: str) -> None:
        i = self._row_of.get(Path(path))
        if i is not None:
            self.rows[i].error = message
            self._changed(i)

    def set_value(self, path: str | Path, key: str, value: Any) -> None:
        """Store a value for an added column (label, prediction, ...) and refresh the row."""
        i = self._row_of.get(Path(path))
        if i is not None:
            self.rows[i].extra[key] = value
            self._changed(i)

    def _changed(self, i: int) -> None:
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))

    # ------------------------------------------------------------ Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].title
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.columns[section].tooltip or None
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(column.value(row))
        if role == SORT_ROLE:
            return (column.sort_key or column.value)(row)
        if role == PATH_ROLE:
            return str(row.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.error or str(row.path)
        if role == Qt.ItemDataRole.ForegroundRole and row.error:
            return QColor(220, 60, 60)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def probe_paths(paths: list[Path], job: Job) -> int:
    """Probe each clip, reporting ``(path, info, error)`` as partial results; returns the count."""
    from affectscope.media import probe

    for i, path in enumerate(paths):
        job.check()
        try:
            job.partial((path, probe(path), None))
        except UserFacingError as exc:
            job.partial((path, None, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one odd file must not stop the listing
            job.partial((path, None, f"{path.name} could not be read: {exc}"))
        job.progress(i + 1, len(paths), path.name)
    return len(paths)


NAME_WIDTH = 170  # the Name column's width where there is room
NAME_MIN = 72  # ... and where there is not: about "03a01Fa.mp4", elided in the middle below that
# What the list gets at 1024×600 (it was ~140 px): Name, Label and Prediction in sight. Not a minimum
# width: with one, Qt's dock layout grew a project-less window to 1068 px when asked for 1024.
MIN_WIDTH = 250
IN_SIGHT = ("label", "prediction", "confidence")  # beside the name, most wanted first


class ClipBrowser(QWidget):
    """Filter field + sortable table; emits ``clip_activated(path)`` when the user picks a clip."""

    clip_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ClipTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter_field = QLineEdit(self)
        self.filter_field.setPlaceholderText("Filter clips…")
        self.filter_field.setClearButtonEnabled(True)
        self.filter_field.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The name keeps a readable width of its own (user-resizable) and stays the leftmost column
        # when later features add columns; the last column takes what is left.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, NAME_WIDTH)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        # In a narrow list the name gives way (down to NAME_MIN) so that Label and Prediction stay in
        # sight; once the user drags its edge, their width is kept.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._name_chosen = False
        self._fitting = False
        header.sectionResized.connect(self._on_section_resized)
        self.table.viewport().installEventFilter(self)
        self.count_label = QLabel("No folder open", self)
        # A long folder path must not widen the dock (and with it the window's minimum width).
        self.count_label.setWordWrap(True)
        self.count_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter_field)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.folder: Path | None = None
        self.model.dataChanged.connect(self._update_count)

    def set_paths(self, paths: list[Path], folder: Path | None = None) -> None:
        self.folder = folder
        self.model.set_paths(paths)
        self._update_count()

    def count_text(self) -> str:
        """Honest counts: files that could not be read are not counted as clips."""
        n = len(self.model.rows)
        bad = sum(1 for row in self.model.rows if row.error)
        ok = n - bad
        text = f"{ok} clip{'s' if ok != 1 else ''}"
        if bad:
            text += f", {bad} unreadable"
        return text

    @Slot()
    def _update_count(self, *_: object) -> None:
        where = f" in {self.folder}" if self.folder else ""
        self.count_label.setText(self.count_text() + where)

    def select(self, path: str | Path) -> None:
        """Make ``path`` the current row without emitting ``clip_activated``."""
        i = self.model._row_of.get(Path(path))
        if i is None:
            return
        proxy_index = self.proxy.mapFromSource(self.model.index(i, 0))
        self.table.selectionModel().blockSignals(True)
        self.table.selectRow(proxy_index.row())
        self.table.setCurrentIndex(proxy_index)
        self.table.selectionModel().blockSignals(False)
        self.table.horizontalScrollBar().setValue(0)  # keep the Name column in view
        self.table.viewport().update()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize and obj is self.table.viewport():
            self.fit_name()
        return False

    def _on_section_resized(self, index: int, _old: int, _new: int) -> None:
        if index == 0 and not self._fitting:
            self._name_chosen = True  # the user dragged the Name column's edge
        elif index != 0:
            self.fit_name()  # Label/Prediction grew with their contents

    def fit_name(self) -> None:
        """Name as wide as NAME_WIDTH where the list has room, narrower (not below NAME_MIN) where
        Label, Prediction and Confidence would otherwise be scrolled off (a 140 px list at 1024×600
        showed neither; at 1500×900 Confidence ran 10 px past the edge). Where all three cannot be in
        sight beside NAME_MIN, Label and Prediction are."""
        if self._name_chosen:
            return
        header = self.table.horizontalHeader()
        keys = [c.key for c in self.model.columns]
        room = self.table.viewport().width()
        for wanted in (IN_SIGHT, IN_SIGHT[:2]):
            shown = sum(header.sectionSize(keys.index(k)) for k in wanted if k in keys)
            if room - shown >= NAME_MIN:
                break
        width = max(NAME_MIN, min(NAME_WIDTH, room - shown))
        if width != header.sectionSize(0):
            self._fitting = True
            header.resizeSection(0, width)
            self._fitting = False

    def bring_forward(self, keys: list[str]) -> None:
        """Show these columns right after the name (the view's order; the model's stays), so what an
        annotator reads (Label, Prediction) is in sight in a 400 px list, not scrolled off to the right."""
        header = self.table.horizontalHeader()
        present = [c.key for c in self.model.columns]
        for place, key in enumerate((k for k in keys if k in present), start=1):
            header.moveSection(header.visualIndex(present.index(key)), place)

    def ordered_paths(self) -> list[str]:
        """The listed clips in the order the user sees them (sorted and filtered as shown)."""
        return [self.proxy.data(self.proxy.index(r, 0), PATH_ROLE) for r in range(self.proxy.rowCount())]

    def neighbour(
        self, path: str | Path | None, step: int, wanted: Callable[[ClipRow], bool] | None = None
    ) -> str | None:
        """The clip ``step`` rows after (or before, negative) ``path`` in the shown order, skipping
        unreadable files and, with ``wanted``, rows it refuses; None past either end."""
        paths = self.ordered_paths()
        here = str(Path(path)) if path is not None else None
        i = paths.index(here) if here in paths else (-1 if step > 0 else len(paths))
        direction = 1 if step > 0 else -1
        left = abs(step)
        i += direction
        while 0 <= i < len(paths):
            row = self.model.row_for(paths[i])
            if row is not None and not row.error and (wanted is None or wanted(row)):
                left -= 1
                if left == 0:
                    return paths[i]
            i += direction
        return None

    @Slot(object)
    def on_probed(self, result: tuple[Path, ClipInfo | None, str | None]) -> None:
        path, info, error = result
        self.model.set_info(path, info, error)

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.clip_activated.emit(self.proxy.data(current, PATH_ROLE))
