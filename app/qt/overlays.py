"""Perception overlays painted over the video frame: face boxes, 68 landmarks, mouth, body skeletons.

Each overlay follows the frame view's hook (``name``, ``visible``, ``paint(painter, t, index)``) and
looks its data up by time in the ``ClipSignals`` it was given: the analysed frame at or before ``t``,
if it is no older than ``hold`` seconds (so a 10 fps analysis covers a 30 fps clip without
showing stale boxes after a cut or a seek far away). Paint code only draws: no decoding, no model.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF

from affectscope.models.extractors.pose import SKELETON
from affectscope.models.signals import EXPRESSIONS, ClipSignals, FaceObservation

TRACK_COLOURS = [
    QColor(c) for c in ("#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176", "#90a4ae")
]
OPEN_COLOUR, CLOSED_COLOUR = QColor("#ff5252"), QColor("#69f0ae")
HELD_AFTER = 0.012  # seconds past an analysed frame: less than one frame even at 60 fps


class SignalsOverlay:
    """Base: holds the clip's signals and finds the analysed frame shown at time ``t``."""

    name = "perception"

    def __init__(self) -> None:
        self.visible = True
        self.signals: ClipSignals | None = None
        self.hold = 0.25
        # True while the frame shown is not an analysed one: what is drawn comes from the nearest
        # analysed frame before it, so it is drawn dashed and faded (the user sees it is not exact).
        self.held = False

    def set_signals(self, signals: ClipSignals | None) -> None:
        self.signals = signals
        if signals is not None and len(signals.frame_times) > 1:
            self.hold = 1.5 * float(np.median(np.diff(signals.frame_times)))

    def frame_at(self, t: float) -> int | None:
        s = self.signals
        if s is None or len(s.frame_times) == 0:
            return None
        i = int(np.searchsorted(s.frame_times, t + 1e-6, side="right")) - 1
        if i < 0 or t - s.frame_times[i] > self.hold:
            self.held = False
            return None
        self.held = t - s.frame_times[i] > HELD_AFTER
        return i

    def faces_at(self, t: float) -> list[FaceObservation]:
        i = self.frame_at(t)
        return (
            [] if i is None or self.signals is None or i >= len(self.signals.faces) else self.signals.faces[i]
        )

    def pen(self, colour: QColor, width: float = 2.0) -> QPen:
        if self.held:
            colour = QColor(colour)
            colour.setAlpha(150)
        pen = QPen(colour, width)
        pen.setCosmetic(True)  # the same thickness however the frame is scaled
        if self.held:
            pen.setStyle(Qt.PenStyle.DashLine)
        return pen

    def paint(self, painter: QPainter, t: float, frame_index: int) -> None:
        raise NotImplementedError


class FaceBoxOverlay(SignalsOverlay):
    """A box per face in its track's colour, labelled with the track id and the top expression; the face
    the Expression lane follows (``followed``, a track id) has a thicker box and says so."""

    name = "Face boxes"
    followed: int | None = None

    def paint(self, painter: QPainter, t: float, frame_index: int) -> None:
        font = QFont(painter.font())
        font.setPixelSize(12)
        painter.setFont(font)
        for face in self.faces_at(t):
            colour = TRACK_COLOURS[face.track_id % len(TRACK_COLOURS)]
            x0, y0, x1, y1 = face.box
            followed = face.track_id == self.followed
            painter.setPen(self.pen(colour, 4.0 if followed else 2.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            label = f"#{face.track_id}" + (" (Expression lane)" if followed else "")
            if face.expression is not None:
                k = int(np.argmax(face.expression))
                label += f" {EXPRESSIONS[k]} {face.expression[k]:.0%}"
            painter.drawText(QPointF(x0, max(y0 - 4, 12)), label)


class LandmarkOverlay(SignalsOverlay):
    """The 68 dlib landmarks as small dots."""

    name = "Landmarks"

    def paint(self, painter: QPainter, t: float, frame_index: int) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        faces = self.faces_at(t)
        painter.setBrush(QColor(255, 255, 255, 110 if self.held else 220))
        for face in faces:
            if face.landmarks is None:
                continue
            r = max(1.0, (face.box[2] - face.box[0]) / 90)
            for x, y in face.landmarks:
                painter.drawEllipse(QPointF(float(x), float(y)), r, r)


class MouthOverlay(SignalsOverlay):
    """The outer lip contour (points 49–60), red when the mouth is open, green when closed."""

    name = "Mouth"

    def paint(self, painter: QPainter, t: float, frame_index: int) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for face in self.faces_at(t):
            if face.landmarks is None:
                continue
            is_open = face.mouth_open is not None and face.mouth_open >= 0.5
            painter.setPen(self.pen(OPEN_COLOUR if is_open else CLOSED_COLOUR, 2.0))
            lips = face.landmarks[48:60]
            painter.drawPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in lips]))


class SkeletonOverlay(SignalsOverlay):
    """Every person's BlazePose skeleton: bones between keypoints BlazePose considers visible."""

    name = "Skeleton"
    min_visibility = 0.3

    def paint(self, painter: QPainter, t: float, frame_index: int) -> None:
        i = self.frame_at(t)
        if i is None or self.signals is None or i >= len(self.signals.people):
            return
        for p, kp in enumerate(self.signals.people[i]):
            colour = QColor.fromHsv((40 + 70 * p) % 360, 200, 255)
            painter.setPen(self.pen(colour, 2.5))
            seen = kp[:, 3] >= self.min_visibility
            for a, b in SKELETON:
                if seen[a] and seen[b]:
                    painter.drawLine(
                        QPointF(float(kp[a, 0]), float(kp[a, 1])), QPointF(float(kp[b, 0]), float(kp[b, 1]))
                    )
            painter.setBrush(colour)
            for x, y in kp[seen, :2]:
                painter.drawEllipse(QPointF(float(x), float(y)), 2.5, 2.5)


def perception_overlays() -> list[SignalsOverlay]:
    """One of each, in drawing order (skeleton under the face marks)."""
    return [SkeletonOverlay(), FaceBoxOverlay(), LandmarkOverlay(), MouthOverlay()]
