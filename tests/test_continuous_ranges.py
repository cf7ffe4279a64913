"""A continuous predictions file declares each output's range (issue 20, item 2): ``# range NAME=LO:HI``
lines before a CSV's header (JSON: ``"ranges"``), checked (finite, LO < HI, an output of the file),
stored with the version, used by its lanes, written back by export so CSV round trips keep them;
``--range`` overrides the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from tests.clipfactory import make_clip

pytest_plugins = ["tests.db_backends"]  # the backend_url fixture: SQLite and PostgreSQL

ROWS = """clip,start,end,valence,arousal
a.mp4,0.0,1.0,-0.5,2.0
a.mp4,0.5,1.5,0.25,7.5
a.mp4,1.0,2.0,0.5,4.0
"""


@pytest.fixture
def project(tmp_path: Path, backend_url: str) -> Project:
    """A project of one 3 s clip, on SQLite and on PostgreSQL (the ranges live in the version's record)."""
    make_clip(tmp_path / "clips" / "a.mp4", n_frames=75, fps=25)
    with Project.init(tmp_path / "proj", db_url=backend_url) as p:
        p.import_clips(tmp_path / "clips")
    return p


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_csv_declares_its_ranges_and_they_are_stored_drawn_and_exported(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from affectscope.app.services.predict import stored_prediction
    from affectscope.app.services.prediction_io import find_version

    where = ["--project", str(project.folder)]
    src = tmp_path / "va.csv"
    src.write_text("# rated by two annotators, averaged\n# range valence=-1:1 arousal=0:10\n" + ROWS)
    code, out, err = _run(
        capsys, "import", "predictions", str(src), *where, "--name", "va", "--continuous", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["columns"] == ["valence", "arousal"]  # the --json keys as before
    with Project.open(project.folder) as p:
        assert find_version(p, "va").config["ranges"] == {"valence": [-1.0, 1.0], "arousal": [0.0, 10.0]}
        fused = next(
            lane for lane in stored_prediction(p, p.clip("a.mp4").path).lanes if lane.name == "fused"
        )
    assert fused.value_range == (-1.0, 10.0)

    # export writes the ranges back; export -> import -> export gives the same bytes
    back = tmp_path / "back.csv"
    assert (
        _run(capsys, "export", "predictions", *where, "--model", "va", "--format", "csv", "-o", str(back))[0]
        == 0
    )
    assert back.read_text().splitlines()[0] == "# range valence=-1.0:1.0 arousal=0.0:10.0"
    assert _run(capsys, "import", "predictions", str(back), *where, "--name", "va2", "--continuous")[0] == 0
    again = tmp_path / "again.csv"
    assert (
        _run(capsys, "export", "predictions", *where, "--model", "va2", "--format", "csv", "-o", str(again))[
            0
        ]
        == 0
    )
    assert again.read_bytes() == back.read_bytes()

    # --range overrides what the file says, output by output
    assert _run(capsys, "import", "predictions", str(src), *where, "--name", "va3", "--continuous",
                "--range", "arousal=0:8")[0] == 0  # fmt: skip
    with Project.open(project.folder) as p:
        assert find_version(p, "va3").config["ranges"] == {"valence": [-1.0, 1.0], "arousal": [0.0, 8.0]}


def test_declared_ranges_are_checked_and_nothing_is_stored(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--project", str(project.folder)]
    cases = {
        "# range valence=1:-1\n": "the range of valence must be LO:HI, finite numbers with LO < HI",
        "# range valence=0:0\n": "LO < HI",
        "# range arousal=0:inf\n": "the range of arousal must be LO:HI, finite numbers",
        "# range valence=-1:nan\n": "finite numbers",
        "# range dominance=0:1\n": "a range is declared for 'dominance', which is not a continuous output",
        "# range valence=-1..1\n": "write NAME=LO:HI",
    }
    for k, (head, message) in enumerate(cases.items()):
        bad = tmp_path / f"bad{k}.csv"
        bad.write_text(head + ROWS)
        code, _, err = _run(
            capsys, "import", "predictions", str(bad), *where, "--name", f"bad{k}", "--continuous"
        )
        assert code == 2 and message in err and err.count("\n") == 1, (head, err)
    plain = tmp_path / "plain.csv"
    plain.write_text(ROWS)
    code, _, err = _run(capsys, "import", "predictions", str(plain), *where, "--name", "b", "--continuous",
                        "--range", "valence=-inf:1")  # fmt: skip
    assert code == 2 and "finite numbers" in err
    # a categorical file cannot carry ranges
    cat = tmp_path / "cat.csv"
    cat.write_text("# range positive=0:1\nclip,start,end,positive,neutral,negative\na.mp4,0,1,0.2,0.3,0.5\n")
    code, _, err = _run(capsys, "import", "predictions", str(cat), *where, "--name", "c")
    assert code == 2 and "say --continuous" in err
    # JSON: "ranges" checked the same way
    row = {"clip": "a.mp4", "start": 0, "end": 1, "values": [0.1]}
    doc = {"format": "affectscope-predictions", "version": 1, "kind": "continuous", "columns": ["valence"],
           "ranges": {"valence": [1, 0]}, "rows": [row]}  # fmt: skip
    (tmp_path / "r.json").write_text(json.dumps(doc))
    code, _, err = _run(capsys, "import", "predictions", str(tmp_path / "r.json"), *where, "--name", "j")
    assert code == 2 and "the range of valence must be LO:HI" in err
    with Project.open(project.folder) as p:
        from affectscope.db import predictions as pred_rows
        from affectscope.db.uow import unit_of_work

        with unit_of_work(p.db) as s:
            assert pred_rows.model_names(s) == []
