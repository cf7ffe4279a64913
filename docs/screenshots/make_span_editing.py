"""Render docs/screenshots/span_editing.png: the window on a demo clip whose label lane holds two spans,
one of them selected (orange, edges draggable, the Labels tab saying which keys edit it).

Run from the repository root:
``QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_span_editing.py``
(it works in a temporary folder; only the PNG is written here).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
OUT = Path(__file__).with_name("span_editing.png")


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from affectscope.app.qt.application import wait_until
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.commands import LabelCommand
    from affectscope.app.services.demo import build_demo_project
    from affectscope.app.services.project import Project
    from affectscope.app.services.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_demo_project(Path(tmp) / "demo") / "clips"
        clip = sorted(folder.glob("*.mp4"))[0]
        os.environ["AFFECTSCOPE_ANNOTATOR"] = "ann"
        with Project.init(folder) as project:
            project.import_clips(folder)
            clip_id = project.clip(clip.name).id
            LabelCommand(project.db, clip_id, project.label_set, "positive", "ann", span=(0.3, 1.1)).do()
            LabelCommand(project.db, clip_id, project.label_set, "negative", "bob", span=(1.6, 2.4)).do()
        window = MainWindow(settings=Settings())
        window.resize(1280, 900)
        window.show()
        panel = window.labelling

        window.open_path(clip)
        wait_until(lambda: panel.state is not None and len(panel.lane.spans) == 2, 30, "the two spans")
        window.inspector.setCurrentWidget(panel)
        window.clock.seek(0.7)
        panel.lane.select(panel.lane.spans[0].id)
        wait_until(lambda: panel.lane.selected is not None, 2, "the selection")
        lane = window.timeline.lane("Labels")
        window.timeline.scroll.ensureWidgetVisible(lane.widget)  # the lanes scroll: bring Labels into view
        app.processEvents()
        window.grab().save(str(OUT))
        window.shutdown()
        window.close()
    print(OUT)


if __name__ == "__main__":
    main()
