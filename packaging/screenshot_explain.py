"""Render the Explain screenshot for the docs: seed 004 run on a demo clip with speech.

    .venv/bin/python packaging/screenshot_explain.py docs/screenshots/explain_lanes.png

Opens a demo clip in the window, runs the default model (seed 004), waits for its explanation (the
modality bars, the saliency overlay, the sound-saliency and contribution lanes), moves the playhead
into the speech, shows the Explain tab and the explanation lanes, and saves the window as a PNG.
Deliberately a script: tests write their pictures to tmp_path, never to docs/.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from qt_wait import wait  # packaging/, beside this script

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(out: Path, clip_name: str = "astronaut_angry", at: float | None = None) -> Path:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from affectscope.app.qt.explain_lanes import CONTRIBUTION, SOUND
    from affectscope.app.qt.lane_controls import set_lane_order, set_lane_visible
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.demo import SPEECH_START, build_demo_project
    from affectscope.app.services.settings import Settings

    project = build_demo_project(Path(tempfile.mkdtemp()) / "demo")
    window = MainWindow(settings=Settings())
    window.resize(1700, 1050)
    window.show()
    try:
        window.load_clip(project / "clips" / f"{clip_name}.mp4")
        wait(app, lambda: window.is_ready, 60, "the clip")
        done = []
        window.explain.lanes.sound_ready.connect(done.append)
        window.models.run()
        wait(app, lambda: bool(done), 600, "the explanation lanes")
        window.inspector.setCurrentWidget(window.explain)
        window.clock.seek(SPEECH_START + 1.0 if at is None else at)
        request = window.explain.request
        wait(app, lambda: window.explain.request > request, 10, "a playhead request")
        panel = window.explain
        drawn = lambda: panel.current is not None and panel.current.request == panel.request  # noqa: E731
        wait(app, drawn, 300, "the playhead's explanation")
        # The lanes this picture is about, together under the spectrogram (View ▸ Lanes does the same).
        names = [lane.name for lane in window.timeline.lanes]
        keep = ["Waveform", "Spectrogram", SOUND, CONTRIBUTION, "Predicted: fused", "Predicted: EWMA"]
        for name in names:
            set_lane_visible(window.timeline, name, name in keep)
        set_lane_order(window.timeline, [n for n in keep if n in names])
        window.centralWidget().setSizes([520, 480])  # the player above, the lanes below
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        window.timeline.scroll.verticalScrollBar().setValue(0)
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out))
        return out
    finally:
        window.workers.cancel_all()
        window.shutdown()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots/explain_lanes.png")
    print(main(target, *sys.argv[2:3]))
