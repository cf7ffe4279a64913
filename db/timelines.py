"""Which model versions stored timelines (per-window predictions) for a clip, and in which lanes.

The figure service asks these instead of querying ``time_predictions`` itself (issue 24: every query
in db/); the windows themselves come from ``predictions.time_predictions``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from affectscope.db.schema import TimePrediction


def newest_timeline_version(session: Session, clip_id: int) -> int | None:
    """The newest model version (highest id) with timelines for this clip, or None."""
    return session.scalar(
        select(TimePrediction.model_version_id)
        .where(TimePrediction.clip_id == clip_id)
        .order_by(TimePrediction.model_version_id.desc())
        .limit(1)
    )


def timeline_modalities(session: Session, model_version_id: int, clip_id: int) -> list[str]:
    """The lanes that version stored for the clip: "fused" first, "accumulated" last, the rest by name."""
    names = set(
        session.scalars(
            select(TimePrediction.modality).where(
                TimePrediction.clip_id == clip_id, TimePrediction.model_version_id == model_version_id
            )
        )
    )
    return sorted(names, key=lambda n: (n != "fused", n == "accumulated", n))
