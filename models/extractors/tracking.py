"""Face tracks across analysed frames: greedy IoU matching with a short memory.

dlib detects faces frame by frame; a track id lets timelines and models follow one person. A
detection joins the live track whose last box overlaps it most (IoU ≥ ``min_iou``); tracks unseen
for more than ``max_gap`` analysed frames end; unmatched detections start new tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class FaceTracker:
    """Assigns stable ids to the boxes of successive frames; call ``update`` once per analysed frame."""

    min_iou: float = 0.3
    max_gap: int = 5
    _last: dict[int, tuple[Box, int]] = field(default_factory=dict)  # id -> (box, frame seen)
    _frame: int = 0
    _next_id: int = 0

    def update(self, boxes: list[Box]) -> list[int]:
        """Track ids for ``boxes`` (same order)."""
        self._last = {k: v for k, v in self._last.items() if self._frame - v[1] <= self.max_gap}
        pairs = sorted(
            (
                (iou(box, prev), i, tid)
                for i, box in enumerate(boxes)
                for tid, (prev, _) in self._last.items()
            ),
            reverse=True,
        )
        ids: list[int | None] = [None] * len(boxes)
        taken: set[int] = set()
        for overlap, i, tid in pairs:
            if overlap < self.min_iou:
                break
            if ids[i] is None and tid not in taken:
                ids[i] = tid
                taken.add(tid)
        for i, box in enumerate(boxes):
            if ids[i] is None:
                ids[i] = self._next_id
                self._next_id += 1
            self._last[ids[i]] = (box, self._frame)
        self._frame += 1
        return [int(i) for i in ids]  # type: ignore[arg-type]


def track_lengths(ids_per_frame: list[list[int]]) -> dict[int, int]:
    """How many analysed frames each track id appears in."""
    values, counts = np.unique(
        np.array([i for ids in ids_per_frame for i in ids], dtype=int), return_counts=True
    )
    return dict(zip(values.tolist(), counts.tolist(), strict=True))
