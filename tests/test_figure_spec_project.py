"""A figure spec names its project; drawing it in another project is refused in every path (issue 23).

Only ``figure --from SPEC --project DIR`` checked it: ``export_figure(project, spec)`` and
``regenerate(spec, project=...)`` drew the other project's spec from this project's data and recorded
the figure here under the other project's name. Two real projects with the same run ids (one a copy of
the other) make that silent: the same run id exists in both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services import evaluation_runs as runs
from affectscope.app.services import figures
from affectscope.app.services.evaluation_runs import EvaluationError
from affectscope.app.services.project import Project
from affectscope.db.evaluations import figure_specs
from affectscope.db.uow import unit_of_work
from tests.evalfactory import make_eval_project


@pytest.fixture(scope="module")
def two_projects(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("specproj")
    a, _ = make_eval_project(root / "a")
    run = runs.evaluate_project(a, "lightweight-streaming")
    folder_a = Path(a.folder)
    a.close()
    folder_b = root / "b-copy"
    shutil.copytree(folder_a, folder_b)
    with Project.open(folder_a) as a, Project.open(folder_b) as b:
        yield a, b, run


def _figures(project: Project) -> list:
    with unit_of_work(project.db) as s:
        return figure_specs(s)


def test_a_spec_is_drawn_only_in_its_own_project(two_projects, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    a, b, run = two_projects
    before_a, before_b = _figures(a), _figures(b)
    spec_a = figures.make_spec(a, "confusion", run=run)

    # In its own project it draws and records (so the refusals below are not about the run or the data).
    own = figures.export_figure(a, spec_a, tmp_path / "own.png")
    assert Path(own["output"]).is_file() and len(_figures(a)) == len(before_a) + 1
    before_a = _figures(a)

    with pytest.raises(EvaluationError, match="the figure spec belongs to the project"):
        figures.export_figure(b, spec_a, tmp_path / "other.png")
    with pytest.raises(EvaluationError, match="the figure spec belongs to the project"):
        figures.regenerate(own["spec"], tmp_path / "again.png", project=b)
    with pytest.raises(EvaluationError, match="the figure spec belongs to the project"):
        figures.preview_png(b, spec_a)
    with pytest.raises(EvaluationError, match="the figure spec belongs to the project"):
        figures.draw(b, spec_a)
    assert not (tmp_path / "other.png").exists() and not (tmp_path / "again.png").exists()
    assert not (tmp_path / "other.png.json").exists() and not (tmp_path / "again.png.json").exists()
    assert _figures(a) == before_a and _figures(b) == before_b

    # The command line, --project naming the copy: exit 2, one line, nothing drawn or recorded.
    capsys.readouterr()
    argv = ["figure", "--from", own["spec"], "--project", str(b.folder), "-o", str(tmp_path / "cli.png")]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "belongs to the project" in err
    assert not (tmp_path / "cli.png").exists()
    assert _figures(a) == before_a and _figures(b) == before_b

    # Without --project the spec's own project is the one drawn in: that works and records there.
    assert main(["figure", "--from", own["spec"], "-o", str(tmp_path / "redrawn.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["figure_id"] is not None
    assert len(_figures(a)) == len(before_a) + 1 and _figures(b) == before_b
