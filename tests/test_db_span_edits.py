"""Span edits on real databases (SQLite file and, when configured, PostgreSQL): moving edges, relabelling
and deleting append rows that replace the old span; undo and redo append again; nothing is rewritten."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from affectscope.app.services.commands import AnnotatorHistory, LabelCommand, SpanEditCommand
from affectscope.db import clips as clip_rows
from affectscope.db import labels as label_rows
from affectscope.db.engine import open_database
from affectscope.db.label_sets import LabelError
from affectscope.db.schema import Label
from affectscope.db.uow import unit_of_work

pytest_plugins = ["tests.db_backends"]  # the backend_url fixture: SQLite and PostgreSQL

SET = "emotion7"


@pytest.fixture
def db(backend_url: str):  # noqa: ANN201
    db = open_database(backend_url)
    yield db
    db.dispose()


def _clip(db) -> int:  # noqa: ANN001
    with unit_of_work(db, write=True) as s:
        return clip_rows.add_clip(
            s, path="/clips/a.mp4", content_hash="h", duration=5.0, fps=25.0, width=320, height=240,
            n_frames=125, has_audio=True, size_bytes=1000, mtime=0.0,
        ).id  # fmt: skip


def _spans(db, clip: int) -> list[tuple]:  # noqa: ANN001
    with unit_of_work(db) as s:
        return [(sp.value, sp.start, sp.end, sp.annotator) for sp in label_rows.current_spans(s, [clip], SET)]


def _span_id(db, clip: int) -> int:  # noqa: ANN001
    with unit_of_work(db) as s:
        (span,) = label_rows.current_spans(s, [clip], SET)
    return span.id


def _rows(db) -> list[tuple]:  # noqa: ANN001
    with unit_of_work(db) as s:
        return [
            (r.id, r.value, r.start_ms, r.end_ms, r.action, r.target_id, r.replaces_id, r.edit, r.created_at)
            for r in s.scalars(select(Label).order_by(Label.id))
        ]


def test_move_relabel_delete_and_undo_each(db) -> None:  # noqa: ANN001
    clip = _clip(db)
    LabelCommand(db, clip, SET, "happy", "ann", span=(1.0, 2.0)).do()
    first = _span_id(db, clip)

    move = SpanEditCommand(db, first, "ann", end=2.5)
    change = move.do()
    assert (change.old, change.new, change.start, change.end) == ("happy", "happy", 1.0, 2.5)
    assert _spans(db, clip) == [("happy", 1.0, 2.5, "ann")]

    relabel = SpanEditCommand(db, _span_id(db, clip), "ann", value="sad")
    assert relabel.do().new == "sad"
    assert _spans(db, clip) == [("sad", 1.0, 2.5, "ann")]

    delete = SpanEditCommand(db, _span_id(db, clip), "ann", delete=True)
    assert delete.do().new is None
    assert _spans(db, clip) == []

    # Undo walks back through each state; redo forward again. The annotator's own stack does the same.
    delete.undo()
    assert _spans(db, clip) == [("sad", 1.0, 2.5, "ann")]
    relabel.undo()
    assert _spans(db, clip) == [("happy", 1.0, 2.5, "ann")]
    history = AnnotatorHistory(db, "ann")
    assert history.undo().action == "undo"  # the move
    assert _spans(db, clip) == [("happy", 1.0, 2.0, "ann")]
    history.redo()
    assert _spans(db, clip) == [("happy", 1.0, 2.5, "ann")]

    # Append-only: the first row is untouched, every edit is a row naming what it replaced.
    rows = _rows(db)
    assert rows[0][:8] == (first, "happy", 1000, 2000, "set", None, None, None)
    edits = [r for r in rows if r[7] is not None]
    assert [(r[7], r[1], r[2], r[3]) for r in edits] == [
        ("move", "happy", 1000, 2500),
        ("relabel", "sad", 1000, 2500),
        ("delete", "sad", 1000, 2500),
    ]
    assert edits[0][6] == first and edits[1][6] == edits[0][0] and edits[2][6] == edits[1][0]
    assert [r[4] for r in rows[4:]] == ["undo", "undo", "undo", "redo"]
    with unit_of_work(db) as s:
        recs = {r.id: r for r in label_rows.history(s, clip_id=clip)}
    moved = recs[edits[0][0]]
    assert moved.annotator == "ann" and moved.created_at is not None
    assert (moved.edit, moved.replaces_id, moved.previous_start, moved.previous_end) == (
        "move",
        first,
        1.0,
        2.0,
    )
    assert recs[edits[2][0]].undone and recs[edits[1][0]].undone and not moved.undone


def test_edit_by_another_annotator_and_stale_edits(db) -> None:  # noqa: ANN001
    clip = _clip(db)
    LabelCommand(db, clip, SET, "fear", "ann", span=(0.5, 1.0)).do()
    ann_span = _span_id(db, clip)
    # Bob moves Ann's span: his row, on his stack; his undo gives Ann's span back.
    SpanEditCommand(db, ann_span, "bob", start=0.4).do()
    assert _spans(db, clip) == [("fear", 0.4, 1.0, "bob")]
    with pytest.raises(LabelError, match="changed or deleted meanwhile"):
        SpanEditCommand(db, ann_span, "ann", delete=True).do()  # Ann's view was stale
    assert AnnotatorHistory(db, "bob").undo() is not None
    assert _spans(db, clip) == [("fear", 0.5, 1.0, "ann")]
    with pytest.raises(LabelError, match="nothing to change"):
        SpanEditCommand(db, ann_span, "ann", start=0.5, end=1.0).do()
    with pytest.raises(LabelError, match="start < end"):
        SpanEditCommand(db, ann_span, "ann", start=1.2).do()
    with pytest.raises(LabelError, match="not a label of"):
        SpanEditCommand(db, ann_span, "ann", value="positive").do()
    with pytest.raises(LabelError, match="not a span label"):
        LabelCommand(db, clip, "sentiment3", "positive", "ann").do()
        with unit_of_work(db) as s:
            whole = label_rows.current_label(s, clip, "sentiment3").id
        SpanEditCommand(db, whole, "ann", delete=True).do()
    # Ann undoes her own move; Bob moves the span meanwhile; Ann's redo would make two spans: refused.
    ann_move = SpanEditCommand(db, ann_span, "ann", end=1.5)
    ann_move.do()
    ann_move.undo()
    SpanEditCommand(db, ann_span, "bob", end=2.0).do()
    with pytest.raises(LabelError, match="changed by someone else"):
        AnnotatorHistory(db, "ann").redo()
    assert _spans(db, clip) == [("fear", 0.5, 2.0, "bob")]
    AnnotatorHistory(db, "bob").undo()
    ann_move.redo()  # the span is as Ann left it again: her redo applies
    assert _spans(db, clip) == [("fear", 0.5, 1.5, "ann")]
    AnnotatorHistory(db, "ann").undo()
    # Labelling the deleted span's exact bounds again starts a fresh span there.
    SpanEditCommand(db, ann_span, "ann", delete=True).do()
    assert _spans(db, clip) == []
    LabelCommand(db, clip, SET, "happy", "ann", span=(0.5, 1.0)).do()
    assert _spans(db, clip) == [("happy", 0.5, 1.0, "ann")]
