"""The relabel queue says when reader-study answers are among a clip's votes, and leaves them out when
asked (service, CLI ``--no-reader-votes``, and the Queue tab's builder)."""

from __future__ import annotations

import json
from pathlib import Path

from affectscope.app.cli.main import main
from affectscope.app.services import queue as queue_svc
from affectscope.app.services.reading import ReadingSession
from tests.study_factory import TRUTH, make_study_project


def test_reader_votes_are_named_and_can_be_left_out(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    project, sid = make_study_project(tmp_path)
    for reader in ("ada", "bo"):  # both answer every case "negative" in both arms: 4 votes per clip
        session = ReadingSession(project.db, sid, reader)
        while (st := session.next_stimulus()) is not None:
            session.answer(st, "negative")
    q = queue_svc.build_queue(project, "disagreement")
    by_clip = {i.clip_id: i for i in q.items}
    positive = [cid for cid, t in enumerate(TRUTH, start=1) if t == "positive"]
    for cid in positive:  # lead said positive, four readers negative: a disagreement, said to be readers'
        item = by_clip[cid]
        assert item.reader_votes == 4 and sorted(item.votes) == ["negative"] * 4 + ["positive"]
        assert "5 votes (4 from reader studies): negative 4, positive 1" in "; ".join(item.reasons)
    assert q.to_json()["vote_sources"] == ["annotators", "readers"]

    plain = queue_svc.build_queue(project, "combined", vote_sources=("annotators",))
    assert all(i.reader_votes == 0 and len(i.votes) == 1 for i in plain.items)
    assert not any("reader studies" in r for i in plain.items for r in i.reasons)

    folder = str(project.folder)
    project.close()
    argv = ["queue", "--project", folder, "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {i["clip_id"]: i["n_reader_votes"] for i in doc["items"]}[positive[0]] == 4
    assert main([*argv, "--no-reader-votes"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["vote_sources"] == ["annotators"] and {i["n_reader_votes"] for i in doc["items"]} == {0}


def test_queue_tab_box_leaves_reader_votes_out(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    project, sid = make_study_project(tmp_path)
    session = ReadingSession(project.db, sid, "ada")
    while (st := session.next_stimulus()) is not None:
        session.answer(st, "negative")
    folder = project.folder
    project.close()
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.session.project_opened, timeout=60000):
        window.session.open_project(folder)
    panel = window.queue
    assert panel.reader_votes_box.isChecked()  # by default reader answers are votes, and said to be
    with qtbot.waitSignal(panel.queue_ready, timeout=60000) as got:
        panel.start()
    assert got.args[0].vote_sources == ("annotators", "readers")
    assert any("from reader studies" in panel.table.item(r, 3).text() for r in range(panel.table.rowCount()))
    panel.reader_votes_box.setChecked(False)
    with qtbot.waitSignal(panel.queue_ready, timeout=60000) as got:
        panel.start()
    q = got.args[0]
    assert q.vote_sources == ("annotators",) and all(i.reader_votes == 0 for i in q.items)
    window.shutdown()
