"""Label imports (issue 23 items 4 and 6): exactly the file a row names, all rows checked before any is
written, and importing the same manifest twice adds nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from affectscope.app.services import interop
from affectscope.app.services.project import Project
from affectscope.db import labels as label_rows
from affectscope.db.uow import unit_of_work
from tests.clipfactory import make_clip
from tests.db_backends import BACKENDS, make_backend_url

HEADER = "path,label,annotator,start,end,label_set,created_at\n"


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    make_clip(folder / "a.mp4", n_frames=50, fps=25)  # 2.0 s
    make_clip(folder / "b.mp4", n_frames=25, fps=25)  # 1.0 s
    return folder


@pytest.fixture(params=BACKENDS)
def project(request: pytest.FixtureRequest, tmp_path: Path, clip_dir: Path) -> Iterator[Project]:
    for url in make_backend_url(request.param, tmp_path):
        p = Project.init(tmp_path / "p", db_url=None if request.param == "sqlite" else url)
        p.import_clips(clip_dir)
        yield p
        p.close()


def _history(project: Project) -> list[tuple]:
    with unit_of_work(project.db) as s:
        return [
            (r.clip_path, r.label_set, r.value, r.annotator, r.start, r.end, r.action, r.source)
            for r in label_rows.history(s, limit=100_000)
        ]


def _clip_paths(project: Project) -> list[str]:
    return sorted(c.path for c in project.clips())


def test_a_row_never_imports_a_folder(project: Project, clip_dir: Path, tmp_path: Path) -> None:
    # A folder of videos outside the project: the old code added all of them for a row naming one.
    other = tmp_path / "elsewhere"
    other.mkdir()
    for name in ("x.mp4", "y.mp4", "z.mp4"):
        shutil.copy(clip_dir / "a.mp4", other / name)
    (tmp_path / "m").mkdir()
    manifest = tmp_path / "m" / "rows.csv"
    manifest.write_text(
        HEADER + f"{other / 'x.mp4'},positive,ann,,,sentiment3,\n"
        "../../../../../../../../etc/passwd,positive,ann,,,sentiment3,\n"
        f"{clip_dir / 'missing.mp4'},positive,ann,,,sentiment3,\n"
        f"{clip_dir / 'a.mp4'},positive,ann,,,sentiment3,\n"
    )
    before = _clip_paths(project)
    report = interop.import_labels(project, manifest)
    assert _clip_paths(project) == before and report.clips_added == 0
    assert report.imported == 1
    reasons = dict(report.skipped)
    assert "lies outside its clip folders" in reasons["x.mp4 positive"]
    assert (
        "/etc/passwd is not a clip of the project and lies outside its clip folders"
        in reasons["passwd positive"]
    )
    assert "no such file" in reasons["missing.mp4 positive"]


def test_a_new_file_in_a_clip_folder_is_added_alone(project: Project, clip_dir: Path, tmp_path: Path) -> None:
    sub = clip_dir / "later"
    sub.mkdir(exist_ok=True)
    try:
        shutil.copy(clip_dir / "b.mp4", sub / "new.mp4")
        shutil.copy(clip_dir / "b.mp4", sub / "sibling.mp4")
        (sub / "notes.txt").write_text("not a clip")
        manifest = tmp_path / "rows.csv"
        manifest.write_text(
            HEADER + f"{sub / 'new.mp4'},neutral,ann,,,sentiment3,\n{sub / 'notes.txt'},neutral,ann,,,,\n"
        )
        report = interop.import_labels(project, manifest)
        assert (report.clips_added, report.imported) == (1, 1)
        assert "is not a video file" in dict(report.skipped)["notes.txt neutral"]
        assert str(sub / "sibling.mp4") not in _clip_paths(project)
    finally:
        shutil.rmtree(sub)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{a},happy,ann,nan,1.0,emotion7,", "start 'nan' is not a finite time"),
        ("{a},happy,ann,0,inf,emotion7,", "end 'inf' is not a finite time"),
        ("{a},happy,ann,0.5,,emotion7,", "a span needs both start and end"),
        ("{a},positive,ann,,,sentiment3,0001-01-01T00:00:00+01:00", "is not an ISO 8601 time"),
        ("{a},positive,ann,,,sentiment3,0001-01-01T00:00:00", "is not a plausible time"),
        ("{a},positive,ann,,,sentiment3,9999-12-31T00:00:00", "is not a plausible time"),
        ("{a},positive,ann,,,sentiment3,yesterday", "is not an ISO 8601 time"),
        ("{a},positive," + "w" * 129 + ",,,sentiment3,", "annotator is 129 characters long"),
        ("{a},happy,ann,0,1e12,emotion7,", "past the end of any clip"),
    ],
)
def test_a_bad_row_refuses_the_whole_file(
    project: Project, clip_dir: Path, tmp_path: Path, row: str, message: str
) -> None:
    """The good rows before the bad one are not written (the old code committed them, then failed)."""
    manifest = tmp_path / "rows.csv"
    good = f"{clip_dir / 'a.mp4'},positive,ann,,,sentiment3,\n" + f"{clip_dir / 'b.mp4'},negative,bob,,,,\n"
    manifest.write_text(HEADER + good + row.format(a=clip_dir / "a.mp4") + "\n")
    with pytest.raises(interop.InteropError, match="rows.csv line 4: .*" + message.replace("(", r"\(")):
        interop.import_labels(project, manifest)
    assert _history(project) == []


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"label_sets": ["valence"], "labels": []}, '"label_sets" must map each set'),
        ({"label_sets": {"x": "abc"}, "labels": []}, '"label_sets" must map each set'),
        ({"labels": [{"path": "{a}", "label": "happy", "start": True, "end": 1, "label_set": "emotion7"}]},
         "start True is not a time"),
        ({"labels": [{"path": "{a}", "label": 5}]}, "label 5 is not text"),
        ({"labels": {"path": "{a}"}}, '"labels" must be a list'),
        ({"labels": ["{a}"]}, "a row must be an object"),
    ],
)  # fmt: skip
def test_bad_json_manifests_write_nothing(
    project: Project, clip_dir: Path, tmp_path: Path, doc: dict, message: str
) -> None:
    manifest = tmp_path / "rows.json"
    text = json.dumps(doc).replace("{a}", str(clip_dir / "a.mp4"))
    manifest.write_text(text)
    with pytest.raises(interop.InteropError, match=message):
        interop.import_labels(project, manifest)
    assert _history(project) == []
    assert "x" not in project.label_sets()


def test_a_span_past_the_clips_end_is_skipped_with_its_reason(
    project: Project, clip_dir: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "rows.csv"
    manifest.write_text(HEADER + f"{clip_dir / 'a.mp4'},happy,ann,0,1000,emotion7,\n")
    report = interop.import_labels(project, manifest)
    assert report.imported == 0 and "span end 1000.0 s lies after the clip's end" in report.skipped[0][1]
    assert _history(project) == []


def test_importing_twice_adds_nothing_with_several_rows_per_clip_and_annotator(
    project: Project, clip_dir: Path, tmp_path: Path
) -> None:
    """The issue's manifest: 6 rows, several per clip and annotator; the old code went 6 -> 12 -> 18."""
    a, b = clip_dir / "a.mp4", clip_dir / "b.mp4"
    manifest = tmp_path / "rows.csv"
    manifest.write_text(
        HEADER + f"{a},positive,ann,,,sentiment3,2024-01-01T10:00:00+00:00\n"
        f"{a},negative,ann,,,sentiment3,2024-01-02T10:00:00+00:00\n"
        f"{a},neutral,bob,,,sentiment3,\n"
        f"{a},positive,bob,,,sentiment3,\n"
        f"{b},happy,ann,0.2,0.6,emotion7,\n"
        f"{b},sad,ann,0.2,0.6,emotion7,\n"
    )
    first = interop.import_labels(project, manifest)
    assert (first.imported, first.duplicates) == (6, 0)
    rows = _history(project)
    assert len(rows) == 6
    for _ in range(2):
        again = interop.import_labels(project, manifest)
        assert (again.imported, again.duplicates) == (0, 6)
        assert _history(project) == rows
    # The last row of each key is what each annotator says now.
    assert {(r.annotator, r.label) for r in interop.current_rows(project.db)} == {
        ("ann", "negative"),
        ("bob", "positive"),
        ("ann", "sad"),
    }
    # A row the project really lacks is still appended; one already there (same time) is not.
    manifest.write_text(
        HEADER + f"{a},positive,ann,,,sentiment3,2024-01-01T10:00:00+00:00\n{a},neutral,ann,,,sentiment3,\n"
    )
    third = interop.import_labels(project, manifest)
    assert (third.imported, third.duplicates) == (1, 1)
    assert project.clip("a.mp4").label == "neutral"


def test_a_cancelled_import_writes_nothing(project: Project, clip_dir: Path, tmp_path: Path) -> None:
    from affectscope.jobs import Cancelled, Job

    manifest = tmp_path / "rows.csv"
    manifest.write_text(HEADER + f"{clip_dir / 'a.mp4'},positive,ann,,,sentiment3,\n" * 3)
    job = Job()
    job.cancel()
    with pytest.raises(Cancelled):
        interop.import_labels(project, manifest, job=job)
    assert _history(project) == []


def test_many_rows_import_in_one_pass(project: Project, clip_dir: Path, tmp_path: Path) -> None:
    """20,000 span rows on two clips: the old per-row transactions took minutes (about 70 rows/s)."""
    lines = [HEADER]
    for i in range(10_000):
        start, end = (i % 1000) / 1000, (i % 1000 + 1 + i // 1000) / 1000  # 10,000 distinct spans
        for clip, who in ((clip_dir / "a.mp4", "ann"), (clip_dir / "b.mp4", "bob")):
            lines.append(f"{clip},happy,{who},{start:.3f},{end:.3f},emotion7,\n")
    manifest = tmp_path / "rows.csv"
    manifest.write_text("".join(lines))
    t0 = time.perf_counter()
    report = interop.import_labels(project, manifest)
    elapsed = time.perf_counter() - t0
    assert (report.imported, report.duplicates, report.skipped) == (20_000, 0, [])
    with unit_of_work(project.db) as s:
        assert len(label_rows.current_spans(s)) == 20_000
    assert elapsed < 60, f"20,000 rows took {elapsed:.1f} s"
