"""Run model honours the analysis rate and the "find more faces" choice of the Perception tab (issue 14):
on a clip not analysed yet, the frames are analysed with them (that cache entry exists afterwards, the
default's does not), and the Explain tab builds its explainer from the same analysis."""

from __future__ import annotations

from pathlib import Path

import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from affectscope.models.registry import get
from tests.clipfactory import make_clip


def test_run_model_analyses_at_the_chosen_rate(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import affectscope.models.extractors.pipeline as pipeline
    from affectscope.app.services.explain import build_explainer
    from affectscope.models.inference import perception_modalities

    # Its own cache: another test may have analysed a byte-identical made clip with other settings.
    monkeypatch.setenv("AFFECTSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    clip = make_clip(tmp_path / "clip.mp4", n_frames=25, fps=25, audio="speech")
    rates: list[tuple[float, bool]] = []
    real = pipeline.extract_clip

    def recording(*args: object, **kwargs: object):  # noqa: ANN202
        if not kwargs.get("cache_only"):
            rates.append((float(kwargs.get("rate_hz", 10.0)), bool(kwargs.get("more_faces", False))))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "extract_clip", recording)
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.show()
    try:
        with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
            window.load_clip(clip)
        box = window.perception.rate_box
        box.setCurrentIndex(box.findData(5.0))  # the user's choice in the Perception tab
        assert window.perception.rate_hz == 5.0
        window.perception.more_faces_box.setChecked(True)
        with qtbot.waitSignal(window.models.predicted, timeout=120000):
            window.models.run_action.trigger()
        # The run (and the explanation the window starts after it, which reads the same cache entry)
        # asked for the chosen settings only.
        assert rates and set(rates) == {(5.0, True)}
        mods = perception_modalities(tuple(get(window.models.model_name).modalities))
        assert real(clip, mods, rate_hz=5.0, cache_only=True, more_faces=True) is not None
        assert real(clip, mods, rate_hz=5.0, cache_only=True) is None
        assert real(clip, mods, rate_hz=10.0, cache_only=True, more_faces=True) is None
        # Explaining the run (the window does it after a run, too) reads the analysis at the same rate.
        rates.clear()
        build_explainer(str(clip), window.models.model_name, None, rate_hz=5.0, more_faces=True)
        assert rates and set(rates) == {(5.0, True)}
    finally:
        window.workers.cancel_all()
        window.shutdown()
