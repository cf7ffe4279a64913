"""The hostile-input corpus of issue 23: each case is a file (or argument) the test makes, run through the
real ``affectscope`` command. Every one must exit 2 with one line ``affectscope: error: ...`` on stderr,
print nothing on stdout, raise no traceback, and leave the project database exactly as it was.

Before the fixes each of these was a traceback (exit 1) or a silent acceptance (exit 0).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from tests.clipfactory import make_clip
from tests.db_backends import make_backend_url, table_rows

HEADER = "path,label,annotator,start,end,label_set,created_at\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one 2 s clip and one label, made once; each case works on its own copy."""
    root = tmp_path_factory.mktemp("hostile")
    make_clip(root / "clips" / "a.mp4", n_frames=50, fps=25)
    assert main(["project", "init", str(root / "p"), "--clips", str(root / "clips"), "--json"]) == 0
    assert main(["label", "a.mp4", "positive", "--project", str(root / "p"), "--annotator", "ann"]) == 0
    return root


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template / "p", tmp_path / "p")
    return tmp_path / "p"


def _clip(template: Path) -> str:
    return str(template / "clips" / "a.mp4")


def _state(project: Path) -> str:
    """The database's whole content (or, for a file SQLite cannot read, its bytes)."""
    try:
        with sqlite3.connect(project / "project.db") as con:
            return "\n".join(con.iterdump())
    except sqlite3.DatabaseError:
        return hashlib.sha256((project / "project.db").read_bytes()).hexdigest()


def _refused(capsys: pytest.CaptureFixture, project: Path, argv: list[str], says: str) -> None:
    capsys.readouterr()
    before = _state(project)
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, f"exit {rc}; stdout {out[:300]!r}; stderr {err[:300]!r}"
    assert out == ""
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("affectscope: error: "), err[:500]
    assert "Traceback" not in err and len(err) < 1500
    assert says in err, err
    assert _state(project) == before


# -- label manifests ----------------------------------------------------------------------------------
def _eaf(media: str, slots: str, ref2: str = "ts2") -> str:
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<ANNOTATION_DOCUMENT AUTHOR="x" DATE="2026-01-01T00:00:00+00:00" VERSION="2.8" FORMAT="2.8"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv2.8.xsd">
 <HEADER><MEDIA_DESCRIPTOR MEDIA_URL="file://{media}" MIME_TYPE="video/mp4" /></HEADER>
 <TIME_ORDER>{slots}</TIME_ORDER>
 <TIER TIER_ID="emotion7@ann" LINGUISTIC_TYPE_REF="default-lt"><ANNOTATION>
  <ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="{ref2}">
   <ANNOTATION_VALUE>happy</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION></TIER>
 <LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true" GRAPHIC_REFERENCES="false" />
</ANNOTATION_DOCUMENT>
"""


MANIFESTS: dict[str, tuple[str, Callable[[str], bytes | str], str]] = {
    # name: (file name, content given the clip's path, what the message says)
    "non-UTF-8 CSV": ("l.csv", lambda a: (HEADER + f"{a},positive,Zoë,,,sentiment3,\n").encode("latin-1"),
                      "is not UTF-8 text"),
    "128 KiB field": ("l.csv", lambda a: HEADER + f"{a},{'x' * 140_000},ann,,,sentiment3,\n",
                      "not readable as CSV (field larger than field limit"),
    "NaN span": ("l.csv", lambda a: HEADER + f"{a},positive,bob,,,,\n{a},happy,ann,nan,1,emotion7,\n",
                 "line 3: start 'nan' is not a finite time"),
    "infinite span": ("l.csv", lambda a: HEADER + f"{a},happy,ann,0,inf,emotion7,\n", "is not a finite time"),
    "span ending at 1e9 s": ("l.csv", lambda a: HEADER + f"{a},happy,ann,0,1e9,emotion7,\n",
                             "past the end of any clip"),
    "year 0001": ("l.csv", lambda a: HEADER + f"{a},negative,bob,,,sentiment3,0001-01-01T00:00:00+05:00\n",
                  "is not an ISO 8601 time"),
    "year 9999": ("l.csv", lambda a: HEADER + f"{a},negative,bob,,,sentiment3,9999-01-01T00:00:00\n",
                  "is not a plausible time"),
    "label_sets as a list": ("l.json", lambda a: json.dumps({"label_sets": ["x"], "labels": []}),
                             '"label_sets" must map each set'),
    "label_sets {x: abc}": ("l.json", lambda a: json.dumps({"label_sets": {"x": "abc"}, "labels": []}),
                            '"label_sets" must map each set'),
    "start: true": ("l.json", lambda a: json.dumps({"labels": [{"path": a, "label": "happy", "start": True,
                                                                "end": 1, "label_set": "emotion7"}]}),
                    "start True is not a time"),
    "deeply nested JSON": ("l.json", lambda a: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "unaligned EAF": ("l.eaf", lambda a: _eaf(a, '<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0" />'
                                              '<TIME_SLOT TIME_SLOT_ID="ts2" />'), "not aligned to times"),
    "EAF slot missing": ("l.eaf", lambda a: _eaf(a, '<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/>', "ts9"),
                         "refers to a missing time slot"),
    "huge EAF times": ("l.eaf", lambda a: _eaf(a, '<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0" />'
                                               '<TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="10000000000000"/>'),
                       "past the end of any clip"),
    "annotator of 200 characters": ("l.csv", lambda a: HEADER + f"{a},positive,{'w' * 200},,,sentiment3,\n",
                                    "annotator is 200 characters long"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MANIFESTS))
def test_hostile_label_files(case: str, template: Path, project: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    name, content, says = MANIFESTS[case]
    data = content(_clip(template))
    path = tmp_path / name
    path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
    _refused(capsys, project, ["import", "labels", str(path), "--project", str(project), "--json"], says)


# -- command-line arguments ---------------------------------------------------------------------------
ARGUMENTS = {
    "--span nan 1": (["--span", "nan", "1"], "a span needs finite times"),
    "--span 0 inf": (["--span", "0", "inf"], "a span needs finite times"),
    "--span 0 1e9": (["--span", "0", "1e9"], "a span must lie within a clip"),
    "--span 0 100 on a 2 s clip": (["--span", "0", "100"], "span end 100.0 s lies after the clip's end"),
    "annotator > 128": (["--annotator", "n" * 129], "at most 128 characters"),
}


@pytest.mark.parametrize("case", list(ARGUMENTS))
def test_hostile_label_arguments(case: str, project: Path, capsys) -> None:  # noqa: ANN001
    extra, says = ARGUMENTS[case]
    label = "positive" if "--span" not in extra else "happy"
    label_set = [] if "--span" not in extra else ["--label-set", "emotion7"]
    argv = ["label", "a.mp4", label, *extra, *label_set, "--project", str(project), "--json"]
    _refused(capsys, project, argv, says)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["export", "labels", "--format", "csv", "-o", "{tmp}/no/such/folder/l.csv"], "cannot write"),
        (["export", "labels", "--format", "json", "-o", "{tmp}/no/such/folder/l.json"], "cannot write"),
        (["export", "labels", "--format", "eaf", "-o", "/proc/affectscope-eaf"], "cannot write"),
        (["import", "labels", "{tmp}"], "holds no .eaf files"),
        (["history", "--limit", "-5"], "--limit must be 1 or more"),
    ],
)
def test_hostile_export_and_history_arguments(
    project: Path, tmp_path: Path, capsys, argv: list, says: str
) -> None:  # noqa: ANN001
    """A folder that does not exist, a folder holding no .eaf files, a negative --limit: a traceback,
    a silent "imported 0" and a silent empty history before."""
    argv = [a.replace("{tmp}", str(tmp_path / "empty")) for a in argv]
    (tmp_path / "empty").mkdir()
    _refused(capsys, project, [*argv, "--project", str(project), "--json"], says)
    assert list((tmp_path / "empty").iterdir()) == []


def test_annotator_over_128_characters_on_postgresql(template: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """PostgreSQL refused the name mid-write with a DataError traceback; now the same one line as SQLite."""
    for url in make_backend_url("postgres", tmp_path):
        folder = tmp_path / "pg"
        assert main(["project", "init", str(folder), "--db", url, "--clips", str(template / "clips")]) == 0
        capsys.readouterr()
        rc = main(["label", "a.mp4", "positive", "--annotator", "n" * 129, "--project", str(folder)])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1 and "at most 128 characters" in err
        assert main(["history", "--project", str(folder), "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == []


def test_hostile_label_files_and_arguments_on_postgresql(template: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """The label cases above against a project on PostgreSQL (its types and errors are not SQLite's: the
    128-character annotator was a DataError traceback there only): each refused with one line, and the
    database row for row as it was."""
    for url in make_backend_url("postgres", tmp_path):
        folder = tmp_path / "pg"
        assert main(["project", "init", str(folder), "--db", url, "--clips", str(template / "clips")]) == 0
        assert main(["label", "a.mp4", "positive", "--project", str(folder), "--annotator", "ann"]) == 0
        before = table_rows(url)
        runs = []
        for case, (name, content, says) in MANIFESTS.items():
            data = content(_clip(template))
            path = tmp_path / f"{len(runs)}-{name}"
            path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
            runs.append((case, ["import", "labels", str(path)], says))
        for case, (extra, says) in ARGUMENTS.items():
            span = "--span" in extra
            label = ["happy", "--label-set", "emotion7"] if span else ["positive"]
            runs.append((case, ["label", "a.mp4", label[0], *extra, *label[1:]], says))
        for case, argv, says in runs:
            capsys.readouterr()
            rc = main([*argv, "--project", str(folder), "--json"])
            out, err = capsys.readouterr()
            assert rc == 2 and out == "", (case, rc, out[:300], err[:300])
            assert err.count("\n") == 1 and err.startswith("affectscope: error: "), (case, err)
            assert says in err, (case, err)
            assert table_rows(url) == before, case


# -- the project itself -------------------------------------------------------------------------------
def test_damaged_database_pages(project: Path, capsys) -> None:  # noqa: ANN001
    """Pages of the labels table overwritten (the file keeps its size and header): found by the first
    query that reads them, which used to end in a DatabaseError traceback."""
    with sqlite3.connect(project / "project.db") as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'labels'").fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
    raw = bytearray((project / "project.db").read_bytes())
    raw[(page - 1) * size : page * size] = b"\x5a" * size
    (project / "project.db").write_bytes(bytes(raw))
    _refused(capsys, project, ["history", "--project", str(project), "--json"], "is damaged")


@pytest.mark.parametrize(
    ("meta", "says"),
    [
        ({"format": "1", "name": "p"}, '"format" must be a whole number'),
        ({"format": None, "name": "p"}, '"format" must be a whole number'),
        ([1, 2], "not a JSON object"),
        ({"format": 1, "db_url": 5}, '"db_url" must be a database URL'),
    ],
)
def test_project_file_of_the_wrong_shape(project: Path, capsys, meta: object, says: str) -> None:  # noqa: ANN001
    (project / "affectscope.json").write_text(json.dumps(meta))
    _refused(capsys, project, ["history", "--project", str(project), "--json"], says)


def test_study_arm_naming_a_missing_model(project: Path, capsys) -> None:  # noqa: ANN001
    argv = ["study", "create", "s", "--arm", "x:audiovisual:model=999", "--clips", "a.mp4"]
    _refused(capsys, project, [*argv, "--project", str(project), "--json"], "no model version 999")


_CREMA_HEADER = '"","A","D","F","H","N","S","fileName","numResponses"\n'
CREMA = {
    "bad vote count": ('"100001",0,0,0,1,x,0,"1001_IEO_NEU_XX",11\n', "the N vote count 'x'"),
    "negative vote count": ('"100001",0,0,0,1,-3,0,"1001_IEO_NEU_XX",11\n', "the N vote count '-3'"),
    "unknown emotion": ('"100001",0,0,0,1,10,0,"1001_IEO_XYZ_XX",11\n', "not ACTOR_SENTENCE_EMOTION_LEVEL"),
    "file name without parts": ('"100001",0,0,0,1,10,0,"bad",11\n', "not ACTOR_SENTENCE_EMOTION_LEVEL"),
    "id of no presentation": ('"900001",0,0,0,1,10,0,"1001_IEO_NEU_XX",11\n', "must start with 1, 2 or 3"),
    "missing columns": (None, "no \"\", A, D, F, H, N, S, fileName column"),
    "not UTF-8": (b"\xff\xfe\x00\x01", "is not UTF-8 text"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CREMA))
def test_malformed_crema_d_files_leave_no_study(case: str, project: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """5 of 7 malformed files were tracebacks, and a bad vote count left an empty crema-d study behind
    that blocked a retry; now each is one line and nothing is created."""
    rows, says = CREMA[case]
    folder = tmp_path / "crema"
    folder.mkdir()
    votes = folder / "tabulatedVotes.csv"
    if isinstance(rows, bytes):
        votes.write_bytes(rows)
    else:
        votes.write_text('"a","b"\n1,2\n' if rows is None else _CREMA_HEADER + rows)
    _refused(
        capsys, project, ["study", "import-crema-d", str(folder), "--project", str(project), "--json"], says
    )
    assert main(["study", "show", "--project", str(project), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"studies": []}


# -- figure specs -------------------------------------------------------------------------------------
def _spec(project: Path, **change: object) -> dict:
    spec = {"affectscope_figure": 1, "kind": "confusion", "project": str(project), "run": 1, "runs": [],
            "clip": None, "start": None, "end": None, "study": None, "width_mm": 89.0, "height_mm": None,
            "dpi": 300, "options": {}}  # fmt: skip
    spec.update(change)
    return spec


SPECS = {
    'run: "abc"': ({"run": "abc"}, "'run' must be a whole number"),
    "options: []": ({"options": []}, "'options' must be an object"),
    "width NaN": ({"width_mm": float("nan")}, "'width_mm' must be a finite number"),
    "width 1e6": ({"width_mm": 1e6}, "'width_mm' is 1e+06; it must lie between 20 and 500"),
    "dpi -5": ({"dpi": -5}, "'dpi' is -5"),
    "dpi 20000": ({"dpi": 20_000}, "'dpi' is 20000"),
    "title of 2 million characters": ({"options": {"title": "t" * 2_000_000}}, "has 2000000 characters"),
    "metrics unknown": ({"kind": "per-class", "options": {"metrics": ["nope"]}}, "'metrics' must list"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SPECS))
def test_hostile_figure_specs(case: str, project: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    change, says = SPECS[case]
    spec_file = tmp_path / "fig.png.json"
    spec_file.write_text(json.dumps(_spec(project, **change)))  # NaN written as the bare token, as json does
    argv = ["figure", "--from", str(spec_file), "-o", str(tmp_path / "out.png")]
    _refused(capsys, project, argv, says)
    assert not (tmp_path / "out.png").exists()


def test_deeply_nested_figure_spec(project: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    spec_file = tmp_path / "fig.png.json"
    spec_file.write_text("{" + '"a":{' * 50_000 + "}" * 50_001)
    _refused(
        capsys,
        project,
        ["figure", "--from", str(spec_file), "-o", str(tmp_path / "o.png")],
        "nested too deeply",
    )


@pytest.mark.parametrize(("flag", "value", "says"), [("--width-mm", "nan", "'width_mm' must be a finite"),
                                                     ("--dpi", "-5", "'dpi' is -5")])  # fmt: skip
def test_hostile_figure_arguments(
    project: Path, tmp_path: Path, capsys, flag: str, value: str, says: str
) -> None:  # noqa: ANN001
    argv = [
        "figure",
        "confusion",
        "--project",
        str(project),
        "--run",
        "1",
        flag,
        value,
        "-o",
        str(tmp_path / "o.png"),
    ]
    _refused(capsys, project, argv, says)


def test_a_spec_naming_another_project(template: Path, project: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """``figure --from SPEC --project DIR`` drew from, and recorded in, whatever project the spec named."""
    other = tmp_path / "other"
    shutil.copytree(template / "p", other)
    spec_file = tmp_path / "fig.png.json"
    spec_file.write_text(json.dumps(_spec(other)))
    before = _state(other)
    argv = ["figure", "--from", str(spec_file), "--project", str(project), "-o", str(tmp_path / "o.png")]
    _refused(capsys, project, argv, "the figure spec belongs to the project")
    assert _state(other) == before
