r"""Render docs/screenshots/byo_explain.png: docs/byo.md section 4 done in the window, as a reader does it.

    xvfb-run -s "-screen 0 1920x1080x24" .venv/bin/python packaging/screenshot_byo_explain.py \
        byo/proj/clips/vgaf_val_1_1_negative.mp4 tiny docs/screenshots/byo_explain.png \
        [--at 2.5] [--size 1920x1080]

Run after the how-to's sections 0-3 (the clip in its project, the model imported). Opens the clip as
``affectscope open`` does, chooses the model in the Models tab, runs it, shows the Explain tab, moves the
playhead, waits for the maps at the playhead and the sound-saliency lane, and saves the screen (under
Xvfb: the real window, not an offscreen rendering). Deliberately a script: tests write their pictures
to tmp_path, never to docs/.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import qt_wait  # packaging/, beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clip", type=Path)
    parser.add_argument("model")
    parser.add_argument("out", type=Path)
    parser.add_argument("--at", type=float, default=2.5)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    def wait(until: Callable[[], bool], timeout: float, what: str) -> None:
        qt_wait.wait(app, until, timeout, what)

    window = MainWindow(settings=Settings())
    window.resize(width, height)
    window.show()
    try:
        window.open_path(args.clip)
        wait(lambda: window.is_ready, 120, "the clip")
        box = window.models.model_box
        if box.findData(args.model) < 0:
            raise SystemExit(f"{args.model} is not in the Models tab's list: import it first (docs/byo.md)")
        box.setCurrentIndex(box.findData(args.model))
        ready: list[int] = []
        window.explain.ready.connect(lambda: ready.append(1))
        window.models.run_action.trigger()
        wait(lambda: bool(ready), 600, "the explanation")
        window.inspector.setCurrentWidget(window.explain)
        panel, request = window.explain, window.explain.request
        window.clock.seek(args.at)
        wait(lambda: panel.request > request, 10, "a playhead request")
        wait(lambda: panel.current is not None and panel.current.request == panel.request, 300, "the maps")
        sound = panel.lanes.sound if panel.lanes is not None else None
        wait(lambda: sound is None or (sound.map is not None and sound.map.complete), 600, "the sound lane")
        for _ in range(40):
            app.processEvents()
            time.sleep(0.02)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        window.screen().grabWindow(0).save(str(args.out))
        print(args.out)
    finally:
        window.workers.cancel_all()
        window.shutdown()


if __name__ == "__main__":
    main()
