"""Faces in the group clip, in the real window: "Find more faces" in the Perception tab analyses with the
second detector, the Faces lane shows two faces where HOG alone saw at most one, the Expression lane can
follow either face (most-seen first in its list), and the choice of detector is remembered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.qt.perception_lanes import per_face_expression
from affectscope.app.services.settings import Settings


# ~30 s on 2 cores: 25 real frames through both face detectors and the expression CNN, the smallest run
# that still holds several two-face frames. Detection itself is covered fast in test_faces_more.py.
@pytest.mark.slow
def test_more_faces_in_the_group_clip_and_the_expression_lane_follows_one(
    qtbot, shared_data: Path, monkeypatch
) -> None:  # noqa: ANN001
    import affectscope.models.extractors.pipeline as pipeline

    monkeypatch.setattr(pipeline, "MODALITIES", ("faces",))  # faces only: the test is about faces
    settings = Settings()
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    panel = window.perception
    try:
        panel.set_rate(5.0)
        panel.more_faces_box.setChecked(True)
        assert settings.more_faces and panel.more_faces
        with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
            window.load_clip(shared_data / "clips" / "vgaf_val_1_1_negative.mp4")
        with qtbot.waitSignal(panel.analysed, timeout=120000) as blocker:
            panel.analyse_action.trigger()
        signals = blocker.args[0]
        assert signals.settings["more_faces"] is True
        counts = signals.track("face_count").values
        assert np.nanmax(counts) >= 2 and int((counts >= 2).sum()) >= 2
        faces = [panel.expression_mode.itemText(i) for i in range(3, panel.expression_mode.count())]
        assert len(faces) >= 2
        seen = [sum(f.track_id == int(name.split()[1]) for fr in signals.faces for f in fr) for name in faces]
        assert seen == sorted(seen, reverse=True)  # the people most in view come first
        lane = panel.lanes.lanes["Expression"]
        for name in faces[:2]:
            panel.expression_mode.setCurrentText(name)
            want = per_face_expression(signals, int(name.split()[1]))
            assert np.allclose(lane.curves[3].getData()[1], want[:, 3], equal_nan=True)
        assert panel.lanes.expression_mode == faces[1]
        boxes = [o for o in panel.overlays if o.name == "Face boxes"][0]
        assert boxes.followed == int(faces[1].split()[1])  # the frame marks the face the lane follows
        panel.expression_mode.setCurrentText("mean")
        assert boxes.followed is None
    finally:
        window.workers.cancel_all()
        window.shutdown()
