"""Native libraries that share one process: openSMILE beside mediapipe and TensorFlow.

TensorFlow loads its libraries RTLD_GLOBAL; openSMILE's library loaded after it segfaults on the
first signal. mediapipe imported TensorFlow (for docs decorators) whenever it was installed, so pose
estimation followed by seed 001's openSMILE functionals killed the window. Each case runs in a child
process, so a crash fails the test instead of the test session.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from tests.conftest import REPO, skip_or_fail

SIGNAL = "import numpy as np; x = (np.random.default_rng(0).standard_normal(16000) * 0.1).astype(np.float32)"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)


def test_opensmile_after_pose_estimation_in_one_process() -> None:
    code = f"""{SIGNAL}
import sys
from affectscope.models.extractors.pose import PoseEstimator
with PoseEstimator():
    pass
assert not any(m.startswith('tensorflow') for m in sys.modules), 'mediapipe pulled TensorFlow in'
from affectscope.models.systems.audio_functionals import audio_functionals
print(audio_functionals(x, 16000).shape)
"""
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(1582,)" in proc.stdout


def test_opensmile_after_keras_explanation_loads_tensorflow() -> None:
    if importlib.util.find_spec("tensorflow") is None:
        skip_or_fail("the keras extra is not installed")  # CI installs it: there this fails
    code = f"""{SIGNAL}
from affectscope.models.explain.keras import _tf_env
_tf_env()
import tensorflow
from affectscope.models.systems.audio_functionals import audio_functionals, smile
smile.cache_clear()  # a fresh openSMILE instance after TensorFlow, as a later feature set would be
print(audio_functionals(x * 0.5, 16000, "eGeMAPSv02").shape)
"""
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(88,)" in proc.stdout
