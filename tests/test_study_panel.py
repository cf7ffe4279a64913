"""The Study window: the designer creates a study with stored orders; results show the statistics and the
figure; case screens of each presentation render (screenshots written to $AFFECTSCOPE_SHOTS if set)."""

from __future__ import annotations

import os
from pathlib import Path

from affectscope.app.qt.reader_mode import ReaderView
from affectscope.app.qt.study_panel import StudyPanel
from affectscope.app.services import studies
from tests.study_factory import make_study_project


def _shot(widget, name: str) -> None:  # noqa: ANN001
    folder = os.environ.get("AFFECTSCOPE_SHOTS")
    if folder:
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def test_designer_reader_screens_and_results(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    project, sid = make_study_project(tmp_path)
    panel = StudyPanel(project)
    qtbot.addWidget(panel)
    panel.resize(1100, 760)
    panel.show()
    qtbot.waitExposed(panel)
    d = panel.designer
    d.name.setText("designed")
    d.add_arm("audio-only", "audio", "")
    d.selection.setCurrentIndex(2)
    d.per_label.setValue(1)
    d.seed.setValue(5)
    d.readers.setText("ann, ben")
    _shot(panel, "study_designer")
    new = d.create_study()
    assert new is not None and "created study designed with 3 cases" in d.status.text()
    doc = studies.show_study(project.db, "designed")
    assert [a["presentation"] for a in doc["arms"]] == ["audiovisual", "audio"]
    assert [r["assigned"] for r in doc["readers"]] == [6, 6] and doc["seed"] == 5
    assert panel.study.count() == 2

    for presentation in ("audio", "video", "audiovisual"):
        sid_p = studies.create_study(
            project.db, f"shot-{presentation}", "sentiment3", [studies.ArmSpec("a", presentation)],
            studies.select_cases(project.db, "sentiment3"), readers=["zoe"],
        )  # fmt: skip
        view = ReaderView(studies.ReadingSession(project.db, sid_p, "zoe"))
        qtbot.addWidget(view)
        view.resize(640, 560)
        view.show()
        qtbot.waitExposed(view)
        if presentation != "audio":
            qtbot.waitUntil(
                lambda v=view: v.frame.grab().toImage().pixelColor(48, 32).value() > 0, timeout=5000
            )
        _shot(view, f"study_case_{presentation}")
        view.close()

    # bo's order starts with the model-assisted arm: the screen shows the model's answer, nothing more.
    view = ReaderView(studies.ReadingSession(project.db, sid, "bo"))
    qtbot.addWidget(view)
    view.resize(640, 600)
    view.show()
    qtbot.waitExposed(view)
    assert view.stimulus.assistance is not None and view.assist.isVisible()
    _shot(view, "study_case_assisted")
    view.close()

    # Answer the pilot (two arms) and look at the results.
    for who in ("ada", "bo"):
        session = studies.ReadingSession(project.db, sid, who)
        while (st := session.next_stimulus()) is not None:
            session.answer(
                st, "positive" if who == "ada" else st.labels[st.position % 3], time_ms=800.0 + st.position
            )
    panel.refresh()
    panel.study.setCurrentText("pilot")
    stats = panel.results.show_study("pilot", n_resamples=200)
    panel.tabs.setCurrentIndex(1)
    assert panel.results.table.rowCount() == 2
    assert panel.results.table.item(0, 0).text() == "plain" and panel.results.table.item(0, 5).text() == "8"
    assert not panel.results.figure.pixmap().isNull()
    assert "helped minus plain" in panel.results.summary.text()
    assert stats["arms"]["helped"]["n_responses"] == 8
    _shot(panel, "study_results")
    project.close()


def test_clips_sent_from_an_evaluation_become_a_new_studys_cases(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    """The Evaluation dock's "Send to a new reader study" opens the designer on exactly those clips."""
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services import evaluation_runs
    from affectscope.app.services.settings import Settings

    project, _ = make_study_project(tmp_path)
    folder = project.folder
    project.close()
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.session.project_opened, timeout=60000):
        window.session.open_project(folder)
    opened = window.session.project
    chosen = [c.id for c in opened.clips()][:2]
    sel = evaluation_runs.send_clips(opened, "study", chosen, "run 3: true negative, predicted positive")
    window.evaluation.clips_sent.emit("study", chosen)
    panel = window._study_panel
    qtbot.addWidget(panel)
    d = panel.designer
    assert panel.tabs.currentWidget() is d and d.selection.currentData() == (sel, chosen)
    d.name.setText("from-cell")
    assert d.create_study() is not None and "with 2 cases" in d.status.text()
    from sqlalchemy import select

    from affectscope.db.studies import Study, StudyCase
    from affectscope.db.uow import unit_of_work

    with unit_of_work(opened.db) as s:
        q = (
            select(StudyCase.clip_id)
            .join(Study, Study.id == StudyCase.study_id)
            .where(Study.name == "from-cell")
        )
        assert sorted(s.scalars(q)) == sorted(chosen)
    assert evaluation_runs.pending_clip_selections(opened, "study") == []  # taken by the study
    assert d.selection.count() == 3
    window.shutdown()
