"""One clip's labels as the Labels tab shows them (``ClipState``), and the label work that returns it:
label the clip or a span, edit a span, undo / redo. Plain functions for the window's one-thread
database worker (so commits keep the order of the keys), callable from tests without a window.

Each write returns the clip's state fetched after the commit, so what the window shows as saved is
saved.
"""

from __future__ import annotations

from dataclasses import dataclass

from affectscope.app.services.commands import AnnotatorHistory, LabelCommand, SpanEditCommand, clip_history
from affectscope.app.services.project import Project
from affectscope.db import labels as label_rows
from affectscope.db.label_sets import MAX_KEYED_LABELS
from affectscope.db.records import ClipRecord, LabelChange, LabelRecord, SpanRecord
from affectscope.db.uow import unit_of_work
from affectscope.jobs import Job

__all__ = ["MAX_KEYED_LABELS", "ClipState", "edit_span", "fetch_state", "label_clip", "step_history"]


@dataclass(frozen=True)
class ClipState:
    """Everything the Labels tab shows about one clip, fetched in one go off the GUI thread."""

    clip: ClipRecord
    history: list[LabelRecord]
    spans: list[SpanRecord]
    can_undo: bool
    can_redo: bool
    change: LabelChange | None = None


def fetch_state(
    project: Project, ref: str | int, change: LabelChange | None = None, job: Job | None = None
) -> ClipState:
    """The clip ``ref`` (path or id): its current label, history, spans and the annotator's undo stack."""
    clip = project.clip(ref)
    with unit_of_work(project.db) as s:
        spans = label_rows.current_spans(s, [clip.id], project.label_set)
    stack = AnnotatorHistory(project.db, project.annotator)
    return ClipState(
        clip, clip_history(project.db, clip.id), spans, stack.can_undo(), stack.can_redo(), change
    )


def label_clip(
    project: Project, ref: str, value: str, span: tuple[float, float] | None, job: Job | None = None
) -> ClipState:
    """Label the clip ``ref`` (or its span ``(start, end)``) ``value`` as the session's annotator."""
    clip = project.clip(ref)
    change = LabelCommand(project.db, clip.id, project.label_set, value, project.annotator, span=span).do()
    return fetch_state(project, clip.id, change)


def step_history(project: Project, ref: str | None, undo: bool, job: Job | None = None) -> ClipState | None:
    """Undo (or redo) the annotator's newest change, on whichever clip it was; None if nothing to do."""
    stack = AnnotatorHistory(project.db, project.annotator)
    change = stack.undo() if undo else stack.redo()
    if change is None:
        return None
    return fetch_state(project, change.clip_id, change)


def edit_span(project: Project, span_id: int, edit: dict, job: Job | None = None) -> ClipState:
    """Commit one span edit (``SpanEditCommand``'s keywords), then fetch the clip's new state."""
    change = SpanEditCommand(project.db, span_id, project.annotator, **edit).do()
    return fetch_state(project, change.clip_id, change)
