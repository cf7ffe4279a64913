"""The "Export figure…" dialog: size (journal columns or millimetres), DPI, a preview drawn exactly as
the file will be, and Save as PNG, SVG or PDF (with the spec written beside it and recorded in the
project). Opened from the clip view (File ▸ Export figure…) and the Evaluation view's tabs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from affectscope.analysis.figures.style import WIDTHS_MM
from affectscope.app.services import figures
from affectscope.errors import UserFacingError

WIDTH_CHOICES = [
    ("Single column (89 mm)", "single"),
    ("1.5 columns (120 mm)", "onehalf"),
    ("Double column (183 mm)", "double"),
    ("Custom", None),
]


class FigureExportDialog(QDialog):
    """Preview and save one figure spec."""

    exported = Signal(dict)  # {"output", "spec", "kind", "figure_id"}

    def __init__(
        self,
        project: Any,
        spec: dict[str, Any],
        parent: QWidget | None = None,
        alternatives: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """``alternatives``: {title: spec} the user may switch between (clip panel, modality activation)."""
        super().__init__(parent)
        self.project = project
        self.spec = dict(spec)
        self.alternatives = dict(alternatives or {})
        self.setWindowTitle(f"Export figure — {spec['kind']}")
        self.kind_choice = QComboBox(self)
        for title, alt in self.alternatives.items():
            self.kind_choice.addItem(title, alt)
        self.kind_choice.setVisible(bool(self.alternatives))
        self.width_choice = QComboBox(self)
        for text, key in WIDTH_CHOICES:
            self.width_choice.addItem(text, key)
        self.width_mm = QDoubleSpinBox(self)
        self.width_mm.setRange(30.0, 400.0)
        self.width_mm.setSuffix(" mm")
        self.width_mm.setValue(float(spec["width_mm"]))
        self.dpi = QSpinBox(self)
        self.dpi.setRange(72, 1200)
        self.dpi.setValue(int(spec.get("dpi", 300)))
        self.dpi.setToolTip("PNG resolution; SVG and PDF are vector and ignore it (images inside excepted)")
        match = next(
            (i for i, (_, k) in enumerate(WIDTH_CHOICES) if k and WIDTHS_MM[k] == spec["width_mm"]), 3
        )
        self.width_choice.setCurrentIndex(match)
        self.preview = QLabel("drawing…", self)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea(self)
        scroll.setWidget(self.preview)
        scroll.setWidgetResizable(True)
        scroll.setMinimumSize(560, 380)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.save_button = QPushButton("Save…", self)
        self.save_button.setDefault(True)
        close = QPushButton("Close", self)
        form = QFormLayout()
        if self.alternatives:
            form.addRow("Figure", self.kind_choice)
        form.addRow("Width", self.width_choice)
        form.addRow("", self.width_mm)
        form.addRow("PNG DPI", self.dpi)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.kind_choice.currentIndexChanged.connect(self._on_kind_choice)
        self.width_choice.currentIndexChanged.connect(self._on_width_choice)
        self.width_mm.valueChanged.connect(lambda _v: self.refresh())
        self.save_button.clicked.connect(self._on_save)
        close.clicked.connect(self.reject)
        self.refresh()

    def _on_kind_choice(self, index: int) -> None:
        self.spec = dict(self.kind_choice.itemData(index))
        self.setWindowTitle(f"Export figure — {self.spec['kind']}")
        self.refresh()

    def _on_width_choice(self, index: int) -> None:
        key = WIDTH_CHOICES[index][1]
        self.width_mm.setEnabled(key is None)
        if key is not None:
            self.width_mm.setValue(WIDTHS_MM[key])  # refreshes through valueChanged

    def current_spec(self) -> dict[str, Any]:
        spec = dict(self.spec)
        spec["width_mm"] = float(self.width_mm.value())
        spec["dpi"] = int(self.dpi.value())
        return spec

    def refresh(self) -> bool:
        """Redraw the preview (100 DPI); False with the reason shown when the figure cannot be drawn."""
        try:
            png = figures.preview_png(self.project, self.current_spec(), dpi=100)
        except UserFacingError as exc:
            self.preview.setText(str(exc))
            self.save_button.setEnabled(False)
            return False
        pix = QPixmap()
        pix.loadFromData(png, "PNG")
        self.preview.setPixmap(pix)
        self.save_button.setEnabled(True)
        return True

    def export_to(self, path: str | Path) -> dict[str, Any]:
        result = figures.export_figure(self.project, self.current_spec(), path)
        self.status.setText(f"Saved {Path(result['output']).name} and its spec {Path(result['spec']).name}")
        self.exported.emit(result)
        return result

    def _on_save(self) -> None:
        default = str(Path(self.project.folder) / f"{self.spec['kind']}.pdf")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save figure", default, "PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"
        )
        if path:
            try:
                self.export_to(path)
            except UserFacingError as exc:
                self.status.setText(str(exc))
