"""A Keras model file is data: ``explain --keras`` never runs code stored in it (issue 23 item 1).

tf_keras ignores ``safe_mode`` for .h5 files, so a Lambda layer's marshalled bytecode ran on load.
These tests build hostile .h5 files with the real tf_keras (in a subprocess, so TensorFlow stays out
of this process) and run the real command.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import pytest

from tests.clipfactory import make_clip
from tests.conftest import data_required

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.fixture(scope="module")
def keras() -> None:
    if importlib.util.find_spec("tf_keras") is None:
        if data_required():  # CI installs the keras extra: there a missing tf_keras must fail
            pytest.fail("tf_keras is not installed (CI installs the keras extra)")
        pytest.skip("the keras extra is not installed")


def _build(script: str) -> None:
    """Run a tf_keras model-building script in a fresh interpreter."""
    prelude = "import tf_keras\nfrom tf_keras import layers\n"
    subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)], check=True, env=ENV, cwd=REPO, timeout=300
    )


def _explain(clip: Path, h5: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "affectscope", "explain", str(clip), "--keras", str(h5), "--json"]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "c.mp4", n_frames=10)


def test_lambda_layer_code_never_runs(keras: None, clip: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    h5 = tmp_path / "hostile.h5"
    _build(
        f"""
        import pathlib
        # self-contained, as an attacker writes it: the loader gives the code its own globals
        evil = eval("lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")
        model = tf_keras.Sequential([layers.Input((64, 64, 1)), layers.Lambda(evil), layers.Conv2D(2, 3)])
        pathlib.Path({str(marker)!r}).unlink()  # tracing the model ran it once here
        model.save({str(h5)!r})
        """
    )
    assert h5.is_file() and not marker.exists()
    with h5py.File(h5) as f:  # the file really holds the Lambda's bytecode
        assert '"Lambda"' in f.attrs["model_config"] and '"function"' in f.attrs["model_config"]
    run = _explain(clip, h5)
    assert not marker.exists(), "the Lambda layer's code ran"
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert "refusing Keras model hostile.h5: it holds a Lambda layer" in run.stderr
    assert "Traceback" not in run.stderr


def test_custom_layers_and_non_models_are_refused_before_loading(
    keras: None, clip: Path, tmp_path: Path
) -> None:
    h5 = tmp_path / "custom.h5"
    _build(f"tf_keras.Sequential([layers.Input((64, 64, 1)), layers.Conv2D(2, 3)]).save({str(h5)!r})")
    with h5py.File(h5, "r+") as f:  # a class only the author's code defines
        f.attrs["model_config"] = f.attrs["model_config"].replace('"Conv2D"', '"EvilConv"')
    run = _explain(clip, h5)
    assert run.returncode == 2 and "holds custom layers (EvilConv)" in run.stderr, run.stderr

    cell = tmp_path / "cell.h5"  # stored bytecode anywhere in the config, not only in a Lambda
    config = {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {}}]}}
    config["config"]["layers"][0]["config"]["function"] = ["AAAA", None, None]
    with h5py.File(cell, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
    run = _explain(clip, cell)
    assert run.returncode == 2 and "holds stored code ('function')" in run.stderr, run.stderr

    text = tmp_path / "not.h5"
    text.write_text("print('hi')")
    run = _explain(clip, text)
    assert run.returncode == 2 and "is not an HDF5 (.h5) Keras model" in run.stderr, run.stderr


def test_the_real_mini_xception_still_passes_the_check(keras: None, shared_data: Path) -> None:
    from affectscope.models.explain.keras import check_keras_file

    check_keras_file(shared_data / "weights" / "fer2013_mini_xception.hdf5")  # raises if refused
