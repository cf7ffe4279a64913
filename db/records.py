"""Plain frozen dataclasses: what leaves the database layer. The GUI never sees a live ORM object."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ClipRecord:
    """A clip row for the browser, with its current label (in one label set) and who set it, when."""

    id: int
    path: str
    content_hash: str
    duration: float
    fps: float
    width: int
    height: int
    n_frames: int
    has_audio: bool
    status: str  # ok | missing | changed
    label: str | None = None
    label_by: str | None = None
    label_at: datetime | None = None
    n_annotators: int = 0
    agreement: float | None = None  # share of annotators agreeing with the majority, None if unlabelled
    speaker: str | None = None  # who speaks in the clip (file-name pattern, CSV or a corpus's names)


@dataclass(frozen=True)
class AnnotatorRecord:
    id: int
    name: str
    kind: str  # human | model


@dataclass(frozen=True)
class LabelRecord:
    """One history row: who did what to which clip or span, when, and the value before."""

    id: int
    clip_id: int
    clip_path: str
    label_set: str
    value: str
    start: float | None  # seconds; None for a whole-clip label
    end: float | None
    annotator: str
    source: str  # human | model | import
    action: str  # set | undo | redo
    target_id: int | None
    previous: str | None  # the clip's (or span's) current value just before this row
    created_at: datetime
    undone: bool = False  # for "set" rows: undone now (by a later undo not redone)
    # Span edits: how this row changed the span it replaces, and that span's old bounds.
    edit: str | None = None  # move | relabel | change | delete; None for an ordinary label
    replaces_id: int | None = None
    previous_start: float | None = None
    previous_end: float | None = None


@dataclass(frozen=True)
class SpanRecord:
    """A current (not undone, not superseded) time-span label."""

    id: int
    clip_id: int
    label_set: str
    value: str
    start: float
    end: float
    annotator: str
    source: str
    created_at: datetime
    comment: str = ""  # free text (the span table's Comment column)


@dataclass(frozen=True)
class LabelChange:
    """What one label action changed: views refresh the clip (and span) named here."""

    label_id: int  # the row appended
    action: str  # set | undo | redo
    clip_id: int
    label_set: str
    start: float | None
    end: float | None
    old: str | None  # current value (clip or that span) before
    new: str | None  # current value after
    annotator: str


@dataclass(frozen=True)
class ClipScan:
    """What importing a folder of clips found: paths per outcome."""

    added: tuple[str, ...] = ()
    moved: tuple[tuple[str, str], ...] = ()  # (old path, new path)
    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (path, reason): files that are not readable media

    def to_json(self) -> dict:
        return {
            "added": list(self.added),
            "moved": [{"from": a, "to": b} for a, b in self.moved],
            "changed": list(self.changed),
            "missing": list(self.missing),
            "unchanged": len(self.unchanged),
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
        }


@dataclass(frozen=True)
class ModelVersionRecord:
    id: int
    name: str
    version: str
    label_set: str
    labels: tuple[str, ...]
    weights_sha256: str | None
    config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PredictionRecord:
    """A per-clip prediction, or one window of a per-time prediction (t_start/t_end set)."""

    model_version_id: int
    clip_id: int
    label: str
    confidence: float
    probs: tuple[float, ...]
    modality: str = "fused"
    t_start: float | None = None
    t_end: float | None = None


@dataclass(frozen=True)
class ClipQuery:
    """What the clip browser (and a study's case filter) asks ``db.clips.list_clips`` for.
    ``label="-"``: unlabelled clips; ``annotator``: clips they labelled."""

    label_set: str = "sentiment3"
    label: str | None = None
    annotator: str | None = None
    min_agreement: float | None = None
    max_agreement: float | None = None
    text: str | None = None  # substring of the path
    status: str | None = None
    sort: str = "path"
    descending: bool = False
    limit: int | None = None
    offset: int = 0
