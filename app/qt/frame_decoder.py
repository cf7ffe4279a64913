"""Decoding the frame the clock asks for on a worker thread that only ever takes the newest request.

``FrameDecoder.request(serial, index)`` replaces any request not yet started (a stale one is never
decoded); the decoded frame comes back through the queued ``frame_ready(serial, index, rgb)`` signal
and the player drops it if a newer seek was made meanwhile. One ``VideoReader`` per clip lives on
the thread (readers are not thread-safe). ``close()`` stops and joins the thread: no stray threads.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from affectscope.errors import UserFacingError

log = logging.getLogger(__name__)


class FrameDecoder(QObject):
    """A single decoding thread per open clip, fed the newest request only."""

    frame_ready = Signal(int, int, object)  # serial, frame index, HxWx3 uint8 RGB
    failed = Signal(int, str)  # serial, message a person can act on

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._pending: tuple[int, int] | None = None
        self._stop = False
        self._thread: threading.Thread | None = None
        self.decoded = 0  # frames decoded (not counting skipped requests), for tests
        self._busy = False

    def open(self, path: str) -> None:
        """Start decoding ``path`` (closes the previous clip's thread first)."""
        self.close()
        self._stop, self._pending = False, None
        self._thread = threading.Thread(
            target=self._run, args=(path,), name="affectscope-frames", daemon=True
        )
        self._thread.start()

    def request(self, serial: int, index: int) -> None:
        with self._cond:
            self._pending = (serial, index)  # an older request not yet taken is simply replaced
            self._cond.notify()

    def close(self) -> None:
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._stop = True
            self._cond.notify()
        thread.join(timeout=10)
        self._thread = None

    @property
    def idle(self) -> bool:
        """No request waiting and none being decoded (its result, if any, is already posted)."""
        with self._cond:
            return self._pending is None and not self._busy

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _take(self) -> tuple[int, int] | None:
        with self._cond:
            while self._pending is None and not self._stop:
                self._cond.wait()
            if self._stop:
                return None
            request, self._pending = self._pending, None
            self._busy = True
            return request

    def _run(self, path: str) -> None:
        from affectscope.media import VideoReader

        try:
            reader = VideoReader(path)
        except UserFacingError as exc:
            self._fail_all(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a decoder crash must become a message, not a dead thread
            log.exception("opening %s", path)
            self._fail_all(f"{path} could not be opened for playback: {exc}")
            return
        try:
            while (request := self._take()) is not None:
                serial, index = request
                try:
                    rgb = reader.frame(index)
                except Exception as exc:  # noqa: BLE001
                    log.exception("decoding frame %d of %s", index, path)
                    self.failed.emit(serial, f"Frame {index} of {path} could not be decoded: {exc}")
                    with self._cond:
                        self._busy = False
                    continue
                self.decoded += 1
                self.frame_ready.emit(serial, index, rgb)
                with self._cond:
                    self._busy = False
        finally:
            reader.close()

    def _fail_all(self, message: str) -> None:
        while (request := self._take()) is not None:
            self.failed.emit(request[0], message)
            with self._cond:
                self._busy = False
