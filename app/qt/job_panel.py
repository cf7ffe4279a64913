"""Shared behaviour of inspector panels that run one worker job at a time.

The Perception and Models tabs both have a start button, a Cancel button, a progress bar and a
status line around a single ``Workers`` job; this mixin holds that bookkeeping once.
"""

from __future__ import annotations

from typing import Any


class OneJobPanel:
    """Mixin for a QWidget panel with ``start_button``, ``cancel_button``, ``progress``, ``status``.

    The panel sets ``handle`` to what ``Workers.start`` returned and calls ``_job_over()`` from its
    finished/failed/cancelled handlers.
    """

    handle: Any = None
    path: str | None = None

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    def _job_over(self) -> None:
        self.handle = None
        self.cancel_button.setEnabled(False)  # type: ignore[attr-defined]
        self.start_button.setEnabled(self.path is not None)  # type: ignore[attr-defined]

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setMaximum(max(total, 1))  # type: ignore[attr-defined]
        self.progress.setValue(done)  # type: ignore[attr-defined]
        self.status.setText(message)  # type: ignore[attr-defined]
