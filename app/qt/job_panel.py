"""Shared behaviour of inspector panels that run one worker job at a time.

The Perception, Models, Retrain and Evaluation panels each have a start button, a Cancel button, a
progress bar and a status line around a single ``Workers`` job; this mixin holds that run / cancel /
progress bookkeeping once (``start_job``, ``cancel``, ``_on_progress``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class OneJobPanel:
    """Mixin for a QWidget panel with ``start_button``, ``cancel_button``, ``progress``, ``status``.

    ``start_job`` starts the panel's job; the panel's finished / failed / cancelled handlers run after
    the panel is free again (``_job_over``), so they only say what happened.
    """

    handle: Any = None
    path: str | None = None

    def start_job(
        self,
        workers: Any,
        fn: Callable[..., Any],
        args: tuple = (),
        kwargs: dict | None = None,
        *,
        title: str,
        on_finished: Callable[[Any], None],
        on_failed: Callable[[BaseException], None],
        on_cancelled: Callable[[], None],
        on_partial: Callable[[Any], None] | None = None,
    ) -> Any:
        """Run ``fn`` on ``workers``: Start off, Cancel on, the bar from 0, its progress on the bar."""
        self.start_button.setEnabled(False)  # type: ignore[attr-defined]
        self.cancel_button.setEnabled(True)  # type: ignore[attr-defined]
        self.progress.setValue(0)  # type: ignore[attr-defined]

        def over(handler: Callable[..., None]) -> Callable[..., None]:
            def run(*result: Any) -> None:
                self._job_over()
                handler(*result)

            return run

        self.handle = workers.start(
            fn,
            args,
            kwargs,
            title=title,
            on_finished=over(on_finished),
            on_failed=over(on_failed),
            on_cancelled=over(on_cancelled),
            on_progress=self._on_progress,
            on_partial=on_partial,
        )
        return self.handle

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
