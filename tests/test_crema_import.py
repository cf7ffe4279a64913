"""CREMA-D's votes import in one transaction (issue 23), on SQLite and PostgreSQL.

The import created the ``crema-d`` study (and the ``crema6`` label set) first and inserted the votes in
a second transaction: a bad vote count stopped it half-way and left an empty study that blocked a
retry ("a study called 'crema-d' exists already"), and a cancelled import left a study with part of its
votes. Each of the 7 malformed files of the hostile corpus is refused here with one line, leaves the
database row for row as it was (byte for byte on SQLite), and a retry with a good file then imports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services.crema_votes import import_crema_d
from affectscope.app.services.project import Project
from affectscope.app.services.studies import StudyError
from affectscope.jobs import Cancelled, Job
from tests.clipfactory import make_clip
from tests.db_backends import BACKENDS, make_backend_url
from tests.db_backends import table_rows as _rows
from tests.test_hostile_inputs import _CREMA_HEADER, CREMA

# Three clips in the three presentations; 4 + 5 + 6 + 3 = 18 votes.
GOOD = (
    '"100001",0,0,0,1,3,0,"1001_IEO_NEU_XX",4\n'
    '"200001",0,0,0,0,5,0,"1001_IEO_NEU_XX",5\n'
    '"300002",1,0,0,0,0,5,"1002_DFA_SAD_XX",6\n'
    '"100003",0,0,0,3,0,0,"1003_ITH_HAP_XX",3\n'
)


@pytest.fixture(params=BACKENDS)
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A project (one clip, one label) on SQLite or on a fresh PostgreSQL database; (folder, URL)."""
    make_clip(tmp_path / "clips" / "a.mp4", n_frames=25, fps=25)
    for url in make_backend_url(request.param, tmp_path / "db"):
        folder = tmp_path / "p"
        db = [] if request.param == "sqlite" else ["--db", url]
        assert main(["project", "init", str(folder), "--clips", str(tmp_path / "clips"), *db, "--json"]) == 0
        assert main(["label", "a.mp4", "positive", "--project", str(folder), "--annotator", "ann"]) == 0
        yield folder, (f"sqlite:///{folder / 'project.db'}" if request.param == "sqlite" else url)


def _votes(folder: Path, rows: str | bytes | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tabulatedVotes.csv"
    if isinstance(rows, bytes):
        path.write_bytes(rows)
    else:
        path.write_text('"a","b"\n1,2\n' if rows is None else _CREMA_HEADER + rows)
    return folder


def test_malformed_files_change_nothing_and_a_retry_imports(
    project: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder, url = project
    before = _rows(url)
    db_file = folder / "project.db"
    raw = hashlib.sha256(db_file.read_bytes()).hexdigest() if db_file.exists() else None
    for case, (rows, says) in CREMA.items():
        votes = _votes(tmp_path / case.replace(" ", "-"), rows)
        capsys.readouterr()
        rc = main(["study", "import-crema-d", str(votes), "--project", str(folder), "--json"])
        out, err = capsys.readouterr()
        assert rc == 2 and out == "", (case, rc, out[:300], err[:300])
        assert err.count("\n") == 1 and err.startswith("affectscope: error: ") and says in err, (case, err)
        assert _rows(url) == before, case
        if raw is not None:
            assert hashlib.sha256(db_file.read_bytes()).hexdigest() == raw, case

    good = _votes(tmp_path / "good", GOOD)
    assert main(["study", "import-crema-d", str(good), "--project", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["name"], doc["n_cases"], doc["n_responses"]) == ("crema-d", 3, 18)
    assert main(["study", "stats", "crema-d", "--resamples", "0", "--project", str(folder), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    # voice: 3 of 4 neutral on clip 1 + 3 of 3 happy on clip 3; face 5/5 neutral; audio-visual 5/6 sad.
    accuracy = {arm: r["accuracy"]["value"] for arm, r in stats["arms"].items()}
    assert accuracy == pytest.approx({"voice": 6 / 7, "face": 1.0, "audiovisual": 5 / 6})


@pytest.mark.parametrize("stop", ["bad vote count", "cancelled"])
def test_the_service_leaves_no_study_behind(tmp_path: Path, stop: str) -> None:
    """Called directly (as the bench and any window do, without the CLI's checks), a refused or cancelled
    import leaves neither the study nor the label set; before, both stayed and blocked a retry."""
    project = Project.init(tmp_path / "p")
    before = _rows(f"sqlite:///{tmp_path / 'p' / 'project.db'}")
    job = Job()
    if stop == "cancelled":
        # 2,500 rows of 10 votes: the first 20,000 responses are inserted before the check at row 2,000.
        many = "".join(f'"1{i:05d}",0,0,0,0,10,0,"{i}_IEO_NEU_XX",10\n' for i in range(2500))
        votes = _votes(tmp_path / "v", many)
        calls: list[int] = []
        job.progress = lambda done, total, message="": calls.append(done) or job.cancel()  # type: ignore done, total, message="": job.cancel()  # type: ignore[method-assign]
        with pytest.raises(Cancelled):
            import_crema_d(project.db, votes, job=job)
        assert calls == [0]  # cancelled at the first report, stopped at row 2,000's check
    else:
        votes = _votes(tmp_path / "v", GOOD + CREMA["bad vote count"][0])
        with pytest.raises(StudyError, match="line 6: the N vote count 'x'"):
            import_crema_d(project.db, votes)
    assert _rows(f"sqlite:///{tmp_path / 'p' / 'project.db'}") == before
    votes = _votes(tmp_path / "v", GOOD)
    study_id = import_crema_d(project.db, votes)
    assert study_id > 0
