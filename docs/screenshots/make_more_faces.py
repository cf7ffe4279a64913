"""Render more_faces.png (in the temporary folder: the group clip's licence does not let its frames ship in
this repository, so the picture is for looking at, not for committing): the real group clip analysed with
"Find more faces", the face boxes on the frame, the Expression lane following the largest face in view.

Run from the repository root:
``QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_more_faces.py``
(faces only, at 5 frames/s, into a temporary cache).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
OUT = Path(tempfile.gettempdir()) / "more_faces.png"
CLIP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "clips" / "vgaf_val_1_1_negative.mp4"
FRAME_S = 0.6  # a moment where two men face the camera


def main() -> None:
    from PySide6.QtWidgets import QApplication

    import affectscope.models.extractors.pipeline as pipeline
    from affectscope.app.qt.application import wait_until
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    pipeline.MODALITIES = ("faces",)  # the picture is about faces: skip pose and audio
    os.environ["AFFECTSCOPE_CACHE_DIR"] = tempfile.mkdtemp()
    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow(settings=Settings())
    window.resize(1280, 900)
    window.show()
    panel = window.perception
    got: list = []
    panel.analysed.connect(got.append)

    panel.set_rate(5.0)
    panel.more_faces_box.setChecked(True)
    window.load_clip(CLIP)
    wait_until(lambda: panel.path is not None and panel.analyse_button.isEnabled(), 300, "the clip")
    panel.analyse()
    wait_until(lambda: bool(got), 300, "the analysis")
    window.inspector.setCurrentWidget(panel)
    window.clock.seek(FRAME_S)
    wait_until(lambda: abs(window.player.view.frame_time - FRAME_S) < 0.2, 10, "the frame")
    boxes = [o for o in panel.overlays if o.name == "Face boxes"][0]
    shown = boxes.faces_at(window.player.view.frame_time)
    largest = max(shown, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    panel.expression_mode.setCurrentText(f"face {largest.track_id}")  # follow the biggest face in view
    lane = window.timeline.lane("Expression")
    window.timeline.scroll.ensureWidgetVisible(lane.widget)
    app.processEvents()
    window.grab().save(str(OUT))
    window.shutdown()
    window.close()
    print(OUT)


if __name__ == "__main__":
    main()
