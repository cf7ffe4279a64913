"""Project database at scale: 100,000 clips and 1,000,000 label rows (SQLite, WAL, synchronous=FULL).

Measures the clip browser's sort/filter queries, one relabel commit (and undo), and exporting all
current labels to CSV. Each number is printed beside a baseline measured in the same run:
  browser: each query's own answer computed from the label history (newest row per clip, or per clip
           and annotator, for agreement and the annotator filter) without the current-label caches;
  relabel: a bare one-row INSERT + commit on the same file (the floor any durable commit pays);
  export:  streaming every label row to CSV with no joins (the floor of reading and writing 1 M rows).

    python bench/bench_db.py [--clips 100000] [--labels 1000000] [--db PATH_OR_URL]
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from affectscope.app.services import interop
from affectscope.app.services.commands import AnnotatorHistory, LabelCommand
from affectscope.db import clips as clip_rows
from affectscope.db.engine import open_database
from affectscope.db.label_sets import BUILTIN_LABEL_SETS
from affectscope.db.schema import Annotator, AnnotatorCurrent, Clip, ClipCurrent, Label
from affectscope.db.uow import unit_of_work

VALUES = BUILTIN_LABEL_SETS["sentiment3"]
ANNOTATORS = [f"annotator{i}" for i in range(8)]


def populate(db, n_clips: int, n_labels: int) -> None:  # noqa: ANN001
    """Bulk rows through Core (the ORM path is what we time later); caches computed alongside."""
    rng = random.Random(0)
    t0 = datetime(2024, 1, 1)
    with db.write_engine.begin() as conn:
        conn.execute(
            insert(Annotator),
            [{"id": i + 1, "name": n, "kind": "human", "created_at": t0} for i, n in enumerate(ANNOTATORS)],
        )
        conn.execute(
            insert(Clip),
            [
                {
                    "id": i + 1,
                    "path": f"/data/clips/{i // 1000:03d}/clip_{i:06d}.mp4",
                    "content_hash": f"{i:0128x}",
                    "duration": 5.0 + (i % 50) / 10,
                    "fps": 25.0,
                    "width": 640,
                    "height": 360,
                    "n_frames": 125,
                    "has_audio": i % 3 != 0,
                    "size_bytes": 1_000_000 + i,
                    "mtime": 0.0,
                    "status": "ok",
                    "added_at": t0,
                    "updated_at": t0,
                }
                for i in range(n_clips)
            ],
        )
        current: dict[tuple[int, int], tuple[int, str, datetime]] = {}
        batch = []
        for label_id in range(1, n_labels + 1):
            clip = rng.randrange(n_clips) + 1
            who = rng.randrange(len(ANNOTATORS)) + 1
            value = rng.choice(VALUES)
            at = t0 + timedelta(seconds=label_id)
            batch.append(
                {
                    "id": label_id,
                    "clip_id": clip,
                    "label_set": "sentiment3",
                    "value": value,
                    "start_ms": None,
                    "end_ms": None,
                    "annotator_id": who,
                    "source": "human",
                    "action": "set",
                    "target_id": None,
                    "supersedes_id": None,
                    "created_at": at,
                }
            )
            current[(clip, who)] = (label_id, value, at)
            if len(batch) == 50_000:
                conn.execute(insert(Label), batch)
                batch = []
        if batch:
            conn.execute(insert(Label), batch)
        conn.execute(
            insert(AnnotatorCurrent),
            [
                {
                    "clip_id": c,
                    "label_set": "sentiment3",
                    "annotator_id": w,
                    "label_id": lid,
                    "value": v,
                    "created_at": at,
                }
                for (c, w), (lid, v, at) in current.items()
            ],
        )
        per_clip: dict[int, list] = {}
        for (c, w), (lid, v, at) in current.items():
            per_clip.setdefault(c, []).append((lid, v, at, w))
        rows = []
        for c, items in per_clip.items():
            lid, v, at, w = max(items)
            votes = Counter(i[1] for i in items)
            rows.append(
                {
                    "clip_id": c,
                    "label_set": "sentiment3",
                    "label_id": lid,
                    "value": v,
                    "annotator_id": w,
                    "created_at": at,
                    "n_annotators": len(items),
                    "agreement": max(votes.values()) / len(items),
                }
            )
        conn.execute(insert(ClipCurrent), rows)
    with db.write_engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE") if db.is_sqlite else None


def timed(fn, repeat: int = 5) -> float:  # noqa: ANN001
    """Median wall time of ``fn()`` in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# Each browser query's baseline: the same answer computed from the label history alone (newest row
# per clip, or per clip and annotator), without the current-label caches the browser reads.
_CUR = """
  SELECT clip_id, value, created_at, ROW_NUMBER() OVER (PARTITION BY clip_id ORDER BY id DESC) AS rn
  FROM labels WHERE label_set = 'sentiment3' AND action = 'set' AND start_ms IS NULL"""
_PER_ANNOTATOR = """
  SELECT clip_id, annotator_id, value,
         ROW_NUMBER() OVER (PARTITION BY clip_id, annotator_id ORDER BY id DESC) AS rn
  FROM labels WHERE label_set = 'sentiment3' AND action = 'set' AND start_ms IS NULL"""
NAIVE = {
    "filter_negative": f"""
SELECT c.id, c.path, l.value, l.created_at FROM clips c LEFT JOIN ({_CUR}) l ON l.clip_id = c.id AND l.rn = 1
WHERE l.value = 'negative' ORDER BY l.created_at DESC LIMIT 200""",
    "sort_label": f"""
SELECT c.id, c.path, l.value FROM clips c LEFT JOIN ({_CUR}) l ON l.clip_id = c.id AND l.rn = 1
ORDER BY l.value, c.path LIMIT 200""",
    "agreement": f"""
WITH cur AS (SELECT clip_id, annotator_id, value FROM ({_PER_ANNOTATOR}) x WHERE rn = 1),
votes AS (SELECT clip_id, value, COUNT(*) AS n FROM cur GROUP BY clip_id, value),
agg AS (SELECT clip_id, MAX(n) * 1.0 / SUM(n) AS agreement FROM votes GROUP BY clip_id)
SELECT c.id, c.path, a.agreement FROM clips c JOIN agg a ON a.clip_id = c.id
WHERE a.agreement <= 0.5 ORDER BY a.agreement, c.path LIMIT 200""",
    "annotator": f"""
SELECT c.id, c.path FROM clips c WHERE c.id IN (
  SELECT x.clip_id FROM ({_PER_ANNOTATOR}) x JOIN annotators a ON a.id = x.annotator_id
  WHERE x.rn = 1 AND a.name = 'annotator3')
ORDER BY c.path LIMIT 200""",
    "all_sorted": f"""
SELECT c.id, c.path, l.value FROM clips c LEFT JOIN ({_CUR}) l ON l.clip_id = c.id AND l.rn = 1
ORDER BY l.value, c.path""",
    "count_negative": f"""
SELECT COUNT(*) FROM ({_CUR}) l WHERE l.rn = 1 AND l.value = 'negative'""",
}


def row(name: str, value: float, baseline: float | None = None, unit: str = "ms") -> None:
    scale = 1000.0 if unit == "ms" else 1.0
    ratio = f"   baseline {baseline * scale:9.2f} {unit}   ratio {value / baseline:6.3f}" if baseline else ""
    print(f"{name:<52} {value * scale:9.2f} {unit}{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--db", help="database (default: a new SQLite file in a temp folder)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="affectscope-bench-"))
    db = open_database(args.db or tmp / "project.db")
    t = time.perf_counter()
    populate(db, args.clips, args.labels)
    print(
        f"{db.display_url}: {args.clips:,} clips, {args.labels:,} label rows "
        f"(populated in {time.perf_counter() - t:.1f} s)"
    )

    def browse(q: clip_rows.ClipQuery) -> None:
        with unit_of_work(db) as s:
            clip_rows.list_clips(s, q)

    def naive(key: str) -> float:
        def run() -> None:
            with db.read_engine.connect() as conn:
                conn.execute(text(NAIVE[key])).fetchall()

        return timed(run, 3)

    print("clip browser (page of 200 rows unless said; each against its own history-only baseline)")
    row(
        "  filter label=negative, sort by labelled_at desc",
        timed(
            lambda: browse(
                clip_rows.ClipQuery(label="negative", sort="labelled_at", descending=True, limit=200)
            )
        ),
        naive("filter_negative"),
    )
    row(
        "  sort by label",
        timed(lambda: browse(clip_rows.ClipQuery(sort="label", limit=200))),
        naive("sort_label"),
    )
    row(
        "  sort by agreement, agreement <= 0.5",
        timed(lambda: browse(clip_rows.ClipQuery(sort="agreement", max_agreement=0.5, limit=200))),
        naive("agreement"),
    )
    row(
        "  filter annotator=annotator3, sort by path",
        timed(lambda: browse(clip_rows.ClipQuery(annotator="annotator3", limit=200))),
        naive("annotator"),
    )
    row(
        f"  all {args.clips:,} rows sorted by label (to records)",
        timed(lambda: browse(clip_rows.ClipQuery(sort="label")), 3),
        naive("all_sorted"),
    )
    with unit_of_work(db) as s:
        row(
            "  count label=negative",
            timed(lambda: clip_rows.count_clips(s, clip_rows.ClipQuery(label="negative"))),
            naive("count_negative"),
        )

    rng = random.Random(1)

    def bare_commit() -> None:
        with db.write_engine.begin() as conn:
            conn.execute(
                text("INSERT INTO project_meta (key, value) VALUES (:k, 'x')"), {"k": f"b{rng.random()}"}
            )

    floor = timed(bare_commit, 30)
    relabel = timed(
        lambda: LabelCommand(
            db, rng.randrange(args.clips) + 1, "sentiment3", rng.choice(VALUES), "annotator1"
        ).do(),
        50,
    )
    history = AnnotatorHistory(db, "annotator1")
    undo = timed(history.undo, 20)
    print("commits (median)")
    row("  one relabel (LabelCommand.do, committed)", relabel, floor)
    row("  one undo (AnnotatorHistory.undo, committed)", undo, floor)

    def raw_export(out: Path) -> None:
        with db.read_engine.connect() as conn, open(out, "w", newline="") as f:
            w = csv.writer(f)
            for r in conn.execute(
                text(
                    "SELECT clip_id, value, annotator_id, start_ms, end_ms, label_set, created_at FROM labels"
                )
            ).yield_per(50_000):
                w.writerow(r)

    raw = timed(lambda: raw_export(tmp / "raw.csv"), 1)
    t = time.perf_counter()
    n = interop.export_csv(db, tmp / "labels.csv")
    export = time.perf_counter() - t
    print(
        f"export (current labels of every annotator: {n:,} rows; baseline: dump of all {args.labels:,} rows)"
    )
    row("  export labels to CSV", export, raw, unit="s")
    print(f"database file: {(tmp / 'project.db').stat().st_size / 1e6:.0f} MB" if not args.db else "")
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
