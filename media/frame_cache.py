"""A byte-bounded LRU of decoded frames near the cursor, so frame steps (←/→) are instant.

Frames decoded on the way to a seek target are kept as they came out of the decoder (YUV, half the
bytes of RGB) and converted only if asked for: a backward step then costs one colour conversion,
not a decode from the keyframe.
"""

from __future__ import annotations

from collections import OrderedDict

import av
import numpy as np


def to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """HxWx3 uint8 RGB, read-only.

    PyAV 18's own conversion (swscale) is as fast as OpenCV's YUV->RGB here (0.3-0.7 ms at 720p and
    1080p, bench/bench_media.py measures both) and handles every pixel format and colour range, so
    the OpenCV path STACK.md recommends for older PyAV is not used.
    """
    rgb = frame.to_ndarray(format="rgb24")
    rgb.flags.writeable = False
    return rgb


def _nbytes(item: np.ndarray | av.VideoFrame) -> int:
    if isinstance(item, np.ndarray):
        return item.nbytes
    return sum(p.buffer_size for p in item.planes)


class FrameCache:
    """Frame index -> RGB array (or a not yet converted decoder frame), bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[int, np.ndarray | av.VideoFrame] = OrderedDict()
        self._bytes = 0

    def __contains__(self, index: int) -> bool:
        return index in self._items

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, index: int) -> np.ndarray | None:
        """The RGB frame, converting (and re-storing) a raw one on first access; None if absent."""
        item = self._items.get(index)
        if item is None:
            return None
        if not isinstance(item, np.ndarray):
            rgb = to_rgb(item)
            self._bytes -= _nbytes(item)
            self._items[index] = rgb
            self._bytes += rgb.nbytes
            self._evict(keep=index)
            item = rgb
        self._items.move_to_end(index)
        return item

    def put(self, index: int, item: np.ndarray | av.VideoFrame) -> None:
        old = self._items.pop(index, None)
        if old is not None:
            self._bytes -= _nbytes(old)
        self._items[index] = item
        self._bytes += _nbytes(item)
        self._evict(keep=index)

    def _evict(self, keep: int) -> None:
        while self._bytes > self.max_bytes and len(self._items) > 1:
            oldest = next(iter(self._items))
            if oldest == keep:
                self._items.move_to_end(keep)
                continue
            self._bytes -= _nbytes(self._items.pop(oldest))

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
