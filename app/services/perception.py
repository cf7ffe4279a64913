"""Perception for many clips in one job (the window's Analyse ▸ Analyse all clips): one clip after the
other into the extraction cache that the Perception tab, Run model and Explain read. A clip that fails
is reported and skipped; cancelling keeps what is done. A plain function, so the window runs it in a
worker and tests call it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job


@dataclass
class AllDone:
    """What analysing many clips did: the clips analysed, and each failed one with its message."""

    analysed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def sentence(self) -> str:
        text = f"Analysed {len(self.analysed)} clip{'s' if len(self.analysed) != 1 else ''}"
        if self.failed:
            text += f", {len(self.failed)} failed ({Path(self.failed[0][0]).name}: {self.failed[0][1]})"
        return text


def analyse_all(
    paths: list[str], rate_hz: float, job: Job | None = None, more_faces: bool = False
) -> AllDone:
    """``extract_clip`` for each path (cached ones return at once); each clip is a stage of the job's
    bar ("clip 3/40 a.mp4") and a partial result ``(path, ok, message)``."""
    from affectscope.models.extractors.pipeline import extract_clip

    job = ensure_job(job)
    out = AllDone()
    for i, path in enumerate(paths):
        job.check()
        try:
            extract_clip(
                path,
                rate_hz=rate_hz,
                job=job.stage(i + 1, len(paths), "clip", Path(path).name),
                more_faces=more_faces,
            )
        except UserFacingError as exc:
            out.failed.append((path, str(exc)))
            job.partial((path, False, str(exc)))
            continue
        out.analysed.append(path)
        job.partial((path, True, ""))
    job.progress(1000, 1000, out.sentence())
    return out
