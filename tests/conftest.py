"""Shared fixtures: offscreen Qt, redirected settings, the shared data folder, small torch thread pools."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path:
    env = os.environ.get("AFFECTSCOPE_SHARED_DATA")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "data"


SHARED_DATA = _shared_data()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (or $AFFECTSCOPE_SHARED_DATA): real clips, speech, faces and weights."""
    if not SHARED_DATA.is_dir():
        why = f"shared data folder not found at {SHARED_DATA}; set AFFECTSCOPE_SHARED_DATA"
        # A fresh clone without the research data still passes; CI and AFFECTSCOPE_REQUIRE_DATA insist.
        if data_required():
            pytest.fail(why + " (required: CI or AFFECTSCOPE_REQUIRE_DATA is set)")
        pytest.skip("needs the research data: " + why)
    return SHARED_DATA


def skip_or_fail(why: str) -> NoReturn:
    """Skip with ``why`` on a developer's machine; fail where everything must run (CI, or
    AFFECTSCOPE_REQUIRE_DATA), so a missing tool or data set can never turn into a quietly green run."""
    if data_required():
        pytest.fail(f"{why} (required: CI or AFFECTSCOPE_REQUIRE_DATA is set)", pytrace=False)
    pytest.skip(why)


def data_required() -> bool:
    """True where missing research data is a failure rather than a skip (CI, or asked for)."""
    return any(os.environ.get(k, "").strip().lower() not in ("", "0", "false", "no") for k in _REQUIRE_DATA)


_REQUIRE_DATA = ("CI", "AFFECTSCOPE_REQUIRE_DATA")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings and caches never touch the user's real config dir during tests."""
    home = tmp_path_factory.getbasetemp() / "user-dirs"
    monkeypatch.setenv("AFFECTSCOPE_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("AFFECTSCOPE_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("AFFECTSCOPE_DATA_DIR", str(home / "data"))


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread():
    """Once a window switched Python's collector to the GUI thread (app/qt/main_thread_gc.py), tests
    that run no event loop still collect, here on the main thread, as Python would have."""
    yield
    import gc

    if not gc.isenabled():
        from affectscope.app.qt.main_thread_gc import collect_if_due

        collect_if_due()


@pytest.fixture(scope="session", autouse=True)
def _torch_threads() -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
