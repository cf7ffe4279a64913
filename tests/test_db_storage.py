"""Labels, history, undo/redo, caches, browser queries and predictions on real databases (SQLite file and,
when configured, a PostgreSQL server)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from affectscope.db import clips as clip_rows
from affectscope.db import labels as label_rows
from affectscope.db import predictions
from affectscope.db.engine import head_revision, open_database
from affectscope.db.label_sets import BUILTIN_LABEL_SETS, LabelError, add_label_set
from affectscope.db.schema import AnnotatorCurrent, ClipCurrent, Label
from affectscope.db.uow import unit_of_work
from affectscope.errors import StorageError

pytest_plugins = ["tests.db_backends"]  # the backend_url fixture: SQLite and PostgreSQL


def _add_clips(db, n: int) -> list[int]:  # noqa: ANN001
    with unit_of_work(db, write=True) as s:
        ids = []
        for i in range(n):
            clip = clip_rows.add_clip(
                s, path=f"/clips/c{i:03d}.mp4", content_hash=f"h{i}", duration=5.0, fps=25.0, width=320,
                height=240, n_frames=125, has_audio=True, size_bytes=1000 + i, mtime=0.0,
            )  # fmt: skip
            ids.append(clip.id)
    return ids


def _label(db, clip_id, value, who, span=None, label_set="sentiment3", source="human"):  # noqa: ANN001, ANN202
    with unit_of_work(db, write=True) as s:
        return label_rows.add_label(s, clip_id, label_set, value, who, span=span, source=source)


def _current(db, clip_id, label_set="sentiment3"):  # noqa: ANN001, ANN202
    with unit_of_work(db) as s:
        rec = label_rows.current_label(s, clip_id, label_set)
    return None if rec is None else rec.value


def _caches(db) -> tuple[set, set]:  # noqa: ANN001
    with unit_of_work(db) as s:
        a = {
            (r.clip_id, r.label_set, r.annotator_id, r.label_id, r.value)
            for r in s.scalars(s.query(AnnotatorCurrent).statement)
        }
        c = {
            (r.clip_id, r.label_set, r.label_id, r.value, r.n_annotators, r.agreement)
            for r in s.scalars(s.query(ClipCurrent).statement)
        }  # noqa: E501
    return a, c


def test_open_migrates_and_reopens(backend_url: str) -> None:
    db = open_database(backend_url)
    with db.read_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    db.dispose()
    db = open_database(backend_url)  # second open: already at head, nothing to do
    assert db.integrity_check() == "ok"
    db.dispose()


def test_newer_database_is_refused_and_untouched(backend_url: str) -> None:
    db = open_database(backend_url)
    ids = _add_clips(db, 1)
    _label(db, ids[0], "positive", "ann")
    with db.write_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    db.dispose()
    with pytest.raises(StorageError, match="newer version of Affectscope"):
        open_database(backend_url)
    # Nothing was changed: the label is still there once the stamp is put back.
    from sqlalchemy import create_engine

    from affectscope.db.engine import normalize_url

    raw = create_engine(normalize_url(backend_url))
    with raw.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM labels")).scalar() == 1
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()})
    raw.dispose()
    db = open_database(backend_url)
    assert _current(db, ids[0]) == "positive"
    db.dispose()


def test_relabel_appends_and_history_shows_old_to_new(backend_url: str) -> None:
    db = open_database(backend_url)
    (clip,) = _add_clips(db, 1)
    first = _label(db, clip, "neutral", "ann")
    second = _label(db, clip, "negative", "bob")
    assert (first.old, first.new) == (None, "neutral")
    assert (second.old, second.new) == ("neutral", "negative")
    assert _current(db, clip) == "negative"
    with unit_of_work(db) as s:
        hist = label_rows.history(s, clip_id=clip)
        assert s.query(Label).count() == 2  # append-only: the first row is still there
    assert [(h.annotator, h.previous, h.value, h.source) for h in hist] == [
        ("bob", "neutral", "negative", "human"),
        ("ann", None, "neutral", "human"),
    ]
    assert hist[0].created_at >= hist[1].created_at and hist[0].created_at.tzinfo is not None
    db.dispose()


def test_undo_redo_survive_restart_per_annotator(backend_url: str) -> None:
    db = open_database(backend_url)
    c1, c2 = _add_clips(db, 2)
    _label(db, c1, "positive", "ann")
    _label(db, c1, "negative", "ann")
    _label(db, c2, "neutral", "bob")
    _label(db, c2, "positive", "ann")
    db.dispose()

    db = open_database(backend_url)  # "restart"
    with unit_of_work(db, write=True) as s:
        change = label_rows.undo(s, "ann")
    assert (change.clip_id, change.old, change.new) == (c2, "positive", "neutral")  # bob's label shows again
    with unit_of_work(db, write=True) as s:
        change = label_rows.undo(s, "ann")
    assert (change.clip_id, change.old, change.new) == (c1, "negative", "positive")
    db.dispose()

    db = open_database(backend_url)
    assert (_current(db, c1), _current(db, c2)) == ("positive", "neutral")
    with unit_of_work(db, write=True) as s:
        redo = label_rows.redo(s, "ann")  # redo restores the most recent undo first
    assert (redo.clip_id, redo.new) == (c1, "negative")
    with unit_of_work(db, write=True) as s:
        assert label_rows.redo(s, "ann").clip_id == c2
        assert label_rows.redo(s, "ann") is None  # stack empty
    assert (_current(db, c1), _current(db, c2)) == ("negative", "positive")
    # bob's stack is his own: his undo leaves ann's label current on c2 and touches only his row.
    with unit_of_work(db, write=True) as s:
        change = label_rows.undo(s, "bob")
        assert (change.clip_id, change.old, change.new) == (c2, "positive", "positive")
        assert label_rows.undo(s, "bob") is None
    # A new label empties the redo stack.
    with unit_of_work(db, write=True) as s:
        label_rows.undo(s, "ann")
    _label(db, c1, "neutral", "ann")
    with unit_of_work(db, write=True) as s:
        assert label_rows.redo(s, "ann") is None
        counts = label_rows.label_counts(s)
    assert counts == {"set": 5, "undo": 4, "redo": 2}
    db.dispose()


def test_undo_everything_then_history_marks_undone(backend_url: str) -> None:
    db = open_database(backend_url)
    (clip,) = _add_clips(db, 1)
    for value in ("positive", "neutral", "negative"):
        _label(db, clip, value, "ann")
    seen = []
    with unit_of_work(db, write=True) as s:
        while (change := label_rows.undo(s, "ann")) is not None:
            seen.append(change.new)
    assert seen == ["neutral", "positive", None]
    assert _current(db, clip) is None
    with unit_of_work(db) as s:
        sets = [h for h in label_rows.history(s, clip_id=clip) if h.action == "set"]
    assert all(h.undone for h in sets)
    assert _caches(db) == (set(), set())
    db.dispose()


def test_caches_equal_a_rebuild_from_history(backend_url: str) -> None:
    db = open_database(backend_url)
    clips = _add_clips(db, 4)
    import random

    rng = random.Random(3)
    for _ in range(60):
        who = rng.choice(["ann", "bob", "cy"])
        if rng.random() < 0.25:
            with unit_of_work(db, write=True) as s:
                label_rows.undo(s, who) if rng.random() < 0.6 else label_rows.redo(s, who)
        else:
            _label(db, rng.choice(clips), rng.choice(BUILTIN_LABEL_SETS["sentiment3"]), who)
    before = _caches(db)
    with unit_of_work(db, write=True) as s:
        label_rows.rebuild_current(s)
    assert _caches(db) == before
    assert before[1], "some clip must have a current label"
    db.dispose()


def test_spans_and_bad_input(backend_url: str) -> None:
    db = open_database(backend_url)
    (clip,) = _add_clips(db, 1)
    _label(db, clip, "happy", "ann", span=(1.0, 2.5), label_set="emotion7")
    change = _label(db, clip, "sad", "ann", span=(1.0, 2.5), label_set="emotion7")
    _label(db, clip, "fear", "bob", span=(3.0, 3.04), label_set="emotion7")
    assert change.old == "happy" and change.start == 1.0 and change.end == 2.5
    with unit_of_work(db) as s:
        spans = label_rows.current_spans(s, [clip])
    assert [(sp.value, sp.start, sp.end, sp.annotator) for sp in spans] == [
        ("sad", 1.0, 2.5, "ann"),
        ("fear", 3.0, 3.04, "bob"),
    ]
    assert _current(db, clip, "emotion7") is None  # spans are not whole-clip labels
    with pytest.raises(LabelError, match="not a label of 'sentiment3'"):
        _label(db, clip, "happy", "ann")
    with pytest.raises(LabelError, match="start < end"):
        _label(db, clip, "happy", "ann", span=(2.0, 1.0), label_set="emotion7")
    with pytest.raises(LabelError, match="after the clip's end"):
        _label(db, clip, "happy", "ann", span=(9.0, 10.0), label_set="emotion7")
    with pytest.raises(LabelError, match="no label set named"):
        _label(db, clip, "x", "ann", label_set="nope")
    with unit_of_work(db, write=True) as s:
        add_label_set(s, "valence2", ["pleasant", "unpleasant"])
    _label(db, clip, "pleasant", "ann", label_set="valence2")
    assert _current(db, clip, "valence2") == "pleasant"
    db.dispose()


def test_browser_sorts_and_filters(backend_url: str) -> None:
    db = open_database(backend_url)
    c = _add_clips(db, 5)
    _label(db, c[0], "positive", "ann")
    _label(db, c[0], "positive", "bob")
    _label(db, c[1], "negative", "ann")
    _label(db, c[1], "neutral", "bob")
    _label(db, c[2], "neutral", "bob")
    with unit_of_work(db) as s:
        by_label = clip_rows.list_clips(s, clip_rows.ClipQuery(sort="label"))
        positive = clip_rows.list_clips(s, clip_rows.ClipQuery(label="positive"))
        unlabelled = clip_rows.list_clips(s, clip_rows.ClipQuery(label="-"))
        by_ann = clip_rows.list_clips(s, clip_rows.ClipQuery(annotator="ann"))
        disputed = clip_rows.list_clips(s, clip_rows.ClipQuery(max_agreement=0.5))
        newest = clip_rows.list_clips(s, clip_rows.ClipQuery(sort="labelled_at", descending=True, limit=1))
        n = clip_rows.count_clips(s, clip_rows.ClipQuery(text="c00"))
    assert [(r.id, r.label) for r in by_label] == [(c[1], "neutral"), (c[2], "neutral"), (c[0], "positive"),
                                                  (c[3], None), (c[4], None)]  # fmt: skip
    assert by_label[0].label_by == "bob" and by_label[0].label_at is not None
    assert (
        [r.id for r in positive] == [c[0]] and positive[0].agreement == 1.0 and positive[0].n_annotators == 2
    )
    assert [r.id for r in unlabelled] == [c[3], c[4]]
    assert [r.id for r in by_ann] == [c[0], c[1]]
    assert [(r.id, r.label, r.label_by) for r in disputed] == [(c[1], "neutral", "bob")]
    assert newest[0].id == c[2]
    assert n == 5
    db.dispose()


def test_predictions_are_not_labels(backend_url: str) -> None:
    db = open_database(backend_url)
    (clip,) = _add_clips(db, 1)
    _label(db, clip, "neutral", "ann")
    with unit_of_work(db, write=True) as s:
        mv = predictions.record_model_version(
            s, "lightweight", "1", "sentiment3", BUILTIN_LABEL_SETS["sentiment3"]
        )
        again = predictions.record_model_version(
            s, "lightweight", "1", "sentiment3", BUILTIN_LABEL_SETS["sentiment3"]
        )
        assert again.id == mv.id
        n = predictions.add_predictions(
            s, mv.id, clip, clip_probs=[0.7, 0.2, 0.1], as_label=True,
            timeline=[(0, 1, [0.1, 0.8, 0.1]), (1, 2, [0.2, 0.2, 0.6])],
        )  # fmt: skip
        assert n == 3
        with pytest.raises(LabelError, match="2 probabilities for 3 labels"):
            predictions.add_predictions(s, mv.id, clip, clip_probs=[0.5, 0.5])
    with unit_of_work(db) as s:
        (pred,) = predictions.clip_predictions(s, clip)
        line = predictions.time_predictions(s, mv.id, clip)
        hist = label_rows.history(s, clip_id=clip)
    assert (pred.label, pred.confidence) == ("positive", 0.7)
    assert [(p.t_start, p.label) for p in line] == [(0.0, "neutral"), (1.0, "negative")]
    assert hist[0].source == "model" and hist[0].annotator == "lightweight@1" and hist[0].value == "positive"
    assert _current(db, clip) == "neutral"  # the model's opinion does not replace the annotator's label
    db.dispose()
