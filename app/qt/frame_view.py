"""The video frame, scaled to fit, with overlays painted on top in frame pixel coordinates.

Overlay hook (face boxes, landmarks, skeleton, saliency): any object with

    name: str
    visible: bool
    def paint(self, painter: QPainter, t: float, frame_index: int) -> None

added with ``MainWindow.player.add_overlay(overlay)``. ``paint`` is called on every repaint with
the painter already transformed so (0, 0)-(width, height) is the frame's pixel grid; ``t`` is the
shown frame's media time (look your data up by time, not by index). Paint code must be fast and must
never query the database or decode: prepare data when the clip changes, look it up here.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


@runtime_checkable
class FrameOverlay(Protocol):
    """Something painted over the frame at the shown frame's time."""

    name: str
    visible: bool

    def paint(self, painter: QPainter, t: float, frame_index: int) -> None: ...


class FrameView(QWidget):
    """Shows one RGB frame (numpy HxWx3 uint8) and its overlays; keeps the array it shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # holds focus so Space/arrows reach the shortcuts
        self.frame: np.ndarray | None = None
        self.frame_index = -1
        self.frame_time = 0.0
        self.message = "No clip open"
        self.overlays: list[FrameOverlay] = []
        self._image: QImage | None = None

    def add_overlay(self, overlay: FrameOverlay) -> None:
        self.overlays.append(overlay)
        self.update()

    def remove_overlay(self, overlay: FrameOverlay) -> None:
        if overlay in self.overlays:
            self.overlays.remove(overlay)
            self.update()

    def set_frame(self, rgb: np.ndarray, index: int, t: float) -> None:
        rgb = np.ascontiguousarray(rgb)
        h, w = rgb.shape[:2]
        self.frame, self.frame_index, self.frame_time = rgb, index, t
        # QImage borrows the buffer; ``self.frame`` keeps it alive as long as the image.
        self._image = QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888)
        self.message = ""
        self.update()

    def clear(self, message: str = "No clip open") -> None:
        self.frame, self._image, self.frame_index = None, None, -1
        self.message = message
        self.update()

    def frame_rect(self) -> QRectF:
        """Where the frame lies in widget coordinates (aspect kept, centred)."""
        if self.frame is None:
            return QRectF()
        h, w = self.frame.shape[:2]
        scale = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 28))
        if self._image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message
            )
            painter.end()
            return
        target = self.frame_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self._image)
        h, w = self.frame.shape[:2]
        painter.translate(target.topLeft())
        painter.scale(target.width() / w, target.height() / h)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for overlay in self.overlays:
            if getattr(overlay, "visible", True):
                painter.save()
                overlay.paint(painter, self.frame_time, self.frame_index)
                painter.restore()
        painter.end()
