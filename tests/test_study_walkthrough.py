"""Issue 21's "done when", as a new user would do it: two readers, two arms (audio-only, and audio-visual
with the model's help), designed with the CLI, each reader's session in the kiosk started from the Study
window (audio check, a break between the arms), then the results with CIs, and never a traceback.
Screens are written to $AFFECTSCOPE_SHOTS when set (1024x600 and 1920x1080)."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from PySide6.QtCore import Qt

from affectscope.app.cli.main import main
from affectscope.app.qt.study_panel import StudyPanel
from affectscope.app.services.project import Project
from affectscope.db import studies as rows
from affectscope.db.uow import unit_of_work
from tests.study_factory import make_study_project

CI = re.compile(r"^-?\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]$")


def _shot(widget, name: str) -> None:  # noqa: ANN001
    folder = os.environ.get("AFFECTSCOPE_SHOTS")
    if folder:
        for w, h in ((1024, 600), (1920, 1080)):
            widget.resize(w, h)
            widget.grab().save(str(Path(folder) / f"{name}_{w}x{h}.png"))


def test_two_readers_two_arms_design_read_with_a_break_results(qtbot, tmp_path: Path, capsys, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.ERROR)
    project, _ = make_study_project(tmp_path, readers=())
    folder = str(project.folder)
    project.close()
    argv = ["study", "create", "walk", "--project", folder, "--arm", "voice:audio",
            "--arm", "helped:audiovisual:model=1", "--readers", "ada,bo", "--break", "1", "--seed", "3",
            "--json"]  # fmt: skip
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (
        doc["break_s"] == 1.0 and doc["misfits"] == [] and [r["assigned"] for r in doc["readers"]] == [8, 8]
    )

    project = Project.open(folder)
    with unit_of_work(project.db) as s:
        truth = {c.id: c.truth for c in rows.study_cases(s, doc["id"])}
    panel = StudyPanel(project)
    qtbot.addWidget(panel)
    panel.show()
    panel.study.setCurrentText("walk")
    for reader in ("ada", "bo"):
        panel.reader.setCurrentText(reader)
        panel.start_reading()
        kiosk = panel.reader_view
        qtbot.addWidget(kiosk)
        assert not panel.isVisible() and kiosk.isFullScreen()
        if reader == "ada":
            _shot(kiosk, "study_kiosk_audio_check")
        qtbot.mouseClick(kiosk.hear_yes, Qt.MouseButton.LeftButton)
        view = kiosk.view
        breaks = 0
        while kiosk.pages.currentWidget() is not kiosk.done_page:
            if kiosk.pages.currentWidget() is kiosk.break_page:
                breaks += 1
                if reader == "ada":
                    _shot(kiosk, "study_kiosk_break")
                qtbot.waitUntil(kiosk.continue_button.isEnabled, timeout=5000)
                qtbot.mouseClick(kiosk.continue_button, Qt.MouseButton.LeftButton)
                continue
            st = view.stimulus
            if reader == "ada" and st.position == 1:
                _shot(kiosk, f"study_kiosk_case_{st.presentation}")
            label = truth[st.case_id] if reader == "ada" else "neutral"
            qtbot.keyClick(view, str(1 + st.labels.index(label)))
            with qtbot.waitSignal(view.answered, timeout=10000):
                qtbot.keyClick(view, Qt.Key.Key_Return)
        assert breaks == 1 and "answered 8 of 8" in kiosk.done_text.text()
        if reader == "bo":
            _shot(kiosk, "study_kiosk_done")
        qtbot.mouseClick(kiosk.close_button, Qt.MouseButton.LeftButton)
        assert panel.isVisible() and not kiosk.isVisible() and panel.reader.currentText() == reader

    stats = panel.results.show_study("walk", n_resamples=300)
    panel.tabs.setCurrentIndex(1)
    assert stats is not None and not stats["interim"]
    table = panel.results.table
    cells = {
        table.item(r, 0).text(): [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(2)
    }
    assert set(cells) == {"voice", "helped"}
    for row in cells.values():
        assert row[5] == "8" and CI.match(row[6]) and CI.match(row[8]), row  # accuracy and Fleiss with CIs
    assert stats["arms"]["voice"]["per_reader"][0]["accuracy"]["value"] == 1.0
    assert re.search(r"helped minus voice: [+-]\d\.\d{3} \[", panel.results.summary.text())
    assert not panel.results.figure.pixmap().isNull()
    _shot(panel, "study_results")
    assert not [r for r in caplog.records if r.exc_info]  # no traceback, logged or otherwise
    project.close()
