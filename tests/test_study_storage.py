"""Study storage on SQLite and PostgreSQL through the same code: design, orders, answers once and final,
resume, imported cases without media, reader votes per clip, and the migration's tables."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from affectscope.app.services import studies
from affectscope.db import clips as clip_rows
from affectscope.db import labels as label_rows
from affectscope.db.engine import open_database
from affectscope.db.studies import StudyAssignment, StudyResponse, StudySession
from affectscope.db.uow import unit_of_work

pytest_plugins = ["tests.db_backends"]


def _clips(db, n: int = 6) -> None:  # noqa: ANN001
    with unit_of_work(db, write=True) as s:
        for i in range(n):
            facts = dict(duration=1.0, fps=25.0, width=8, height=8, n_frames=25, has_audio=True, size_bytes=1)
            clip = clip_rows.add_clip(s, path=f"/nowhere/c{i}.mp4", content_hash=f"h{i}", mtime=0.0, **facts)
            label_rows.add_label(s, clip.id, "sentiment3", ("positive", "neutral", "negative")[i % 3], "lead")


def test_study_round_trip(backend_url: str, tmp_path) -> None:  # noqa: ANN001
    db = open_database(backend_url)
    try:
        tables = set(inspect(db.write_engine).get_table_names())
        assert {"studies", "study_arms", "study_cases", "study_readers", "study_assignments"} <= tables
        assert {"study_sessions", "study_responses"} <= tables
        _clips(db)
        sample = studies.select_cases(db, "sentiment3", per_label=1, seed=1)
        assert sorted(c.truth for c in sample) == ["negative", "neutral", "positive"]
        assert studies.select_cases(db, "sentiment3", per_label=1, seed=1) == sample  # seeded
        by_hand = studies.select_cases(db, "sentiment3", refs=["c0.mp4", 2])
        assert [c.clip_id for c in by_hand] == [1, 2]
        neutral = clip_rows.ClipQuery(label_set="sentiment3", label="neutral")
        filtered = studies.select_cases(db, "sentiment3", query=neutral)
        assert {c.truth for c in filtered} == {"neutral"} and len(filtered) == 2
        cases = studies.select_cases(db, "sentiment3")
        cases.append(studies.CaseSpec(None, "imported-stimulus", (0.5, 1.5), "neutral"))  # no media, a span
        arms = [studies.ArmSpec("a", "audio"), studies.ArmSpec("v", "video")]
        # These clip rows have no files: the design is refused, naming them, unless kept on purpose.
        with pytest.raises(studies.StudyError, match=r"c0\.mp4 \(its media file is missing\)"):
            studies.create_study(db, "s", "sentiment3", arms, cases, design="split", seed=3)
        studies.create_study(
            db, "s", "sentiment3", arms, cases, design="split", seed=3, readers=["r1", "r2", "r3"],
            allow_mismatch=True,
        )  # fmt: skip
        kept = studies.show_study(db, "s")["misfits"]
        assert {m["case"] for m in kept} == {f"c{i}.mp4" for i in range(len(cases) - 1)}
        with pytest.raises(studies.StudyError, match="exists already"):
            studies.create_study(
                db, "s", "sentiment3", [studies.ArmSpec("a", "audio")], cases, allow_mismatch=True
            )
        with pytest.raises(studies.StudyError, match="presentation"):
            studies.create_study(db, "t", "sentiment3", [studies.ArmSpec("a", "smell")], cases)
        with unit_of_work(db) as s:
            n_assign = s.scalar(select(StudyAssignment.id).order_by(StudyAssignment.id.desc()).limit(1))
        assert n_assign == 3 * len(cases)  # split: each reader reads each case once

        r1 = studies.ReadingSession(db, "s", "r1")
        first = r1.next_stimulus()
        assert first.position == 1 and first.n_sessions == 2
        rid = r1.answer(first, "neutral", confidence=80, note="hm", time_ms=1234.5, plays=2)
        with pytest.raises(studies.StudyError, match="already answered"):
            r1.answer(first, "positive")
        with pytest.raises(studies.StudyError, match="not one of"):
            r1.answer(r1.next_stimulus(), "joy")
        # Resume in a "new process": the answered case is skipped; the order continues.
        again = studies.ReadingSession(db, "s", "r1")
        nxt = again.next_stimulus()
        assert (nxt.arm_id, nxt.case_id) != (first.arm_id, first.case_id)
        seen_spans = []
        while (st := again.next_stimulus()) is not None:
            seen_spans.append(st.span)
            again.answer(st, "positive")
        assert again.progress() == (len(cases), len(cases))
        with unit_of_work(db) as s:
            row = s.get(StudyResponse, rid)
            assert (row.label, row.confidence, row.note, row.time_ms, row.plays) == (
                "neutral",
                80,
                "hm",
                1234.5,
                2,
            )
            assert (
                s.scalar(select(StudySession.ended_at).order_by(StudySession.id.desc()).limit(1)) is not None
            )
        votes = studies.clip_reader_votes(db)
        assert set(votes) == {c.clip_id for c in cases if c.clip_id is not None}  # no media: no clip votes
        assert sum(len(v) for v in votes.values()) == len(cases) - 1
        assert all(v.reader == "r1" and v.study == "s" for vs in votes.values() for v in vs)
        from affectscope.app.services.study_stats import study_stats

        stats = study_stats(db, "s", n_resamples=50)  # the plain-driver-rows path, on each backend
        assert stats["arms"]["a"]["n_responses"] + stats["arms"]["v"]["n_responses"] == len(cases)
        assert {stats["arms"]["a"]["n_readers"], stats["arms"]["v"]["n_readers"]} == {1}
        summary = studies.show_study(db, "s")
        assert [r["answered"] for r in summary["readers"]] == [len(cases), 0, 0]
        with pytest.raises(studies.StudyError, match="not a reader"):
            studies.ReadingSession(db, "s", "stranger")

        # Answers from a CSV (issue 21) land the same way on each backend; the practice flag filters.
        import csv

        from affectscope.app.services.answer_import import import_answers

        r2 = studies.ReadingSession(db, "s", "r2")
        arm_name = {a.id: a.name for a in r2.arms.values()}
        first = r2.next_stimulus()
        sheet = tmp_path / "answers.csv"
        with open(sheet, "w", newline="") as fh:
            csv.writer(fh).writerows(
                [("reader", "arm", "case", "label", "confidence", "time_ms"),
                 ("r2", arm_name[first.arm_id], first.case_key, "negative", "", "900")]
            )  # fmt: skip
        assert import_answers(db, "s", sheet)["imported"] == 1
        assert studies.ReadingSession(db, "s", "r2").next_stimulus().case_id != first.case_id
        with unit_of_work(db) as s:
            from affectscope.db import studies as rows

            assert rows.study_cases(s, 1, practice=True) == []
            assert len(rows.study_cases(s, 1, practice=None)) == len(cases)
    finally:
        db.dispose()


def test_orders_reproducible_and_counterbalanced() -> None:
    a = studies.reader_order("crossed", 11, 0, [1, 2, 3], list(range(10, 30)))
    assert a == studies.reader_order("crossed", 11, 0, [1, 2, 3], list(range(10, 30)))
    b = studies.reader_order("crossed", 11, 1, [1, 2, 3], list(range(10, 30)))
    assert a != b and [s[2] for s in a[::20]] == [1, 2, 3] and [s[2] for s in b[::20]] == [2, 3, 1]
    split = [studies.reader_order("split", 0, p, [1, 2], list(range(8))) for p in range(2)]
    for order in split:
        assert sorted(c for *_, c in order) == list(range(8))
    # across the two readers every case is read in both arms
    pairs = {(arm, case) for order in split for _, _, arm, case in order}
    assert len(pairs) == 16


def test_migrations_form_one_chain_through_the_study_tables() -> None:
    """Parallel branches' migrations are chained: one head, and 0003_studies lies on the way to it."""
    from alembic.script import ScriptDirectory

    from affectscope.db.engine import _alembic_config

    scripts = ScriptDirectory.from_config(_alembic_config())
    assert len(scripts.get_heads()) == 1
    chain = [rev.revision for rev in scripts.walk_revisions()]
    assert "0003_studies" in chain and chain[-1] == "0001"


def test_study_services_hold_no_sql() -> None:
    """Issue 24: every reader-study query is a db/studies.py function; the services import no SQLAlchemy."""
    import ast

    from tests.conftest import REPO

    for name in ("studies", "study_stats", "reading", "answer_import"):
        tree = ast.parse((REPO / "app" / "services" / f"{name}.py").read_text())
        imported = [
            n.module if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in (n.names if isinstance(n, ast.Import) else [n])
        ]
        assert not [m for m in imported if m and m.split(".")[0] == "sqlalchemy"], name
