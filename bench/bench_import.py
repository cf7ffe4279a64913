"""Importing a large label manifest: rows per second of ``import labels`` against the old per-row path.

A SQLite project gets ``--clips`` clip rows (paths only: a manifest names clips already in the project)
and a CSV of ``--rows`` rows (whole-clip labels of four annotators, a quarter of them spans). Measured
in the same run, on the same file:
  import:   interop.import_labels on the whole CSV (read, check every row, one transaction);
  baseline: the importer before issue 23: per row, a duplicate check over that annotator's history and
            one add_label transaction, on the first ``--baseline-rows`` rows of the same CSV;
and importing the whole CSV a second time (must add nothing). Prints rows/s and the ratio.

    python bench/bench_import.py [--rows 200000] [--clips 50000] [--baseline-rows 1000]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert

from affectscope.app.services import interop
from affectscope.app.services.project import Project
from affectscope.db import labels as label_rows
from affectscope.db.label_sets import BUILTIN_LABEL_SETS
from affectscope.db.schema import Clip
from affectscope.db.uow import unit_of_work

ANNOTATORS = ("ann", "bob", "cy", "dee")


def populate(project: Project, n_clips: int) -> list[str]:
    t0 = datetime(2024, 1, 1)
    paths = [f"/data/clips/{i // 1000:03d}/clip_{i:06d}.mp4" for i in range(n_clips)]
    with project.db.write_engine.begin() as conn:
        conn.execute(
            insert(Clip),
            [
                {"path": p, "content_hash": f"{i:064x}", "duration": 5.0, "fps": 25.0, "width": 640,
                 "height": 360, "n_frames": 125, "has_audio": True, "size_bytes": 1, "mtime": 0.0,
                 "status": "ok", "added_at": t0, "updated_at": t0}
                for i, p in enumerate(paths)
            ],
        )  # fmt: skip
    return paths


def write_manifest(out: Path, paths: list[str], n_rows: int) -> None:
    rng = random.Random(0)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(interop.CSV_COLUMNS)
        for i in range(n_rows):
            path, who = paths[(i // len(ANNOTATORS)) % len(paths)], ANNOTATORS[i % len(ANNOTATORS)]
            if i % 4 == 3:
                start = rng.randrange(0, 4000) / 1000
                at = f"2024-02-01T00:00:{i % 60:02d}+00:00"
                value = rng.choice(BUILTIN_LABEL_SETS["emotion7"])
                w.writerow([path, value, who, f"{start:.3f}", f"{start + 0.5:.3f}", "emotion7", at])
            else:
                value = rng.choice(BUILTIN_LABEL_SETS["sentiment3"])
                w.writerow([path, value, who, "", "", "sentiment3", ""])


def old_import(project: Project, manifest: Path, limit: int) -> int:
    """The per-row loop of the importer before issue 23 (its duplicate check and one commit per row)."""
    rows = interop.read_csv(manifest)[:limit]
    with unit_of_work(project.db) as s:
        ids = {c.path: c.id for c in s.query(Clip.path, Clip.id)}
    for row in rows:
        span = None if row.start is None else (row.start, row.end)
        with unit_of_work(project.db, write=True) as s:
            history = label_rows.history(
                s, clip_id=ids[row.path], annotator=row.annotator, label_set=row.label_set, limit=10_000
            )
            if any(r.value == row.label and r.start is None and span is None for r in history[:1]):
                continue
            label_rows.add_label(
                s, ids[row.path], row.label_set, row.label, row.annotator, span, source="import"
            )
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--clips", type=int, default=50_000)
    parser.add_argument("--baseline-rows", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        manifest = tmp / "labels.csv"
        new = Project.init(tmp / "new")
        paths = populate(new, args.clips)
        write_manifest(manifest, paths, args.rows)
        t0 = time.perf_counter()
        report = interop.import_labels(new, manifest)
        t_new = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = interop.import_labels(new, manifest)
        t_again = time.perf_counter() - t0
        old = Project.init(tmp / "old")
        populate(old, args.clips)
        t0 = time.perf_counter()
        n_old = old_import(old, manifest, args.baseline_rows)
        t_old = time.perf_counter() - t0
    new_rate, old_rate = args.rows / t_new, n_old / t_old
    print(f"manifest: {args.rows} rows on {args.clips} clips (SQLite)")
    counts = f"imported {report.imported}, already there {report.duplicates}, skipped {len(report.skipped)}"
    print(f"import (all rows, one transaction)   {new_rate:10.0f} rows/s  ({t_new:.1f} s; {counts})")
    print(f"import again (adds nothing)           {args.rows / t_again:10.0f} rows/s  "
          f"(imported {again.imported}, already there {again.duplicates})")  # fmt: skip
    print(f"baseline: old per-row path            {old_rate:10.0f} rows/s  ({n_old} rows, {t_old:.1f} s)")
    print(f"ratio import / baseline               {new_rate / old_rate:10.1f} x")
    return 0 if again.imported == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
