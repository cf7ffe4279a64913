"""VideoReader returns exactly frame N: every container, VFR, long GOPs, B-frames, seeks and back-steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.media import VideoReader
from tests.clipfactory import make_clip, read_index, vfr_times

CONFIGS = {
    "mp4-h264-bframes": ("clip.mp4", {}),
    "mp4-h264-no-bframes": ("clip.mp4", {"bframes": False}),
    "mp4-vfr": ("clip.mp4", {"vfr": True}),
    "mp4-long-gop": ("clip.mp4", {"gop": 250, "n_frames": 300}),
    "mp4-audio": ("clip.mp4", {"audio": "tone"}),
    "mov-h264-audio": ("clip.mov", {"audio": "tone"}),
    "mkv-h264-vfr-audio": ("clip.mkv", {"vfr": True, "audio": "tone"}),
    "webm-vp9-audio": ("clip.webm", {"codec": "libvpx-vp9", "audio": "tone"}),
    "webm-vp8": ("clip.webm", {"codec": "libvpx"}),
    "avi-mpeg4-bframes-audio": ("clip.avi", {"codec": "mpeg4", "audio": "tone"}),
    "m4v-29.97fps": ("clip.m4v", {"fps": 30000 / 1001}),
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    name, kwargs = CONFIGS[request.param]
    return make_clip(tmp_path_factory.mktemp(request.param) / name, **kwargs), kwargs


def test_sequential_frames_are_exact_without_seeking(clip: tuple[Path, dict]) -> None:
    path, kwargs = clip
    with VideoReader(path) as reader:
        assert len(reader) == kwargs.get("n_frames", 60)
        got = [read_index(reader.frame(i)) for i in range(len(reader))]
        # One seek to the start, then the running decoder serves i + 1 every time.
        assert reader.seeks == 1
    assert got == list(range(len(got)))


def test_random_seeks_and_backward_steps_are_exact(clip: tuple[Path, dict]) -> None:
    path, _ = clip
    rng = np.random.default_rng(7)
    # A tiny cache forces real seeks instead of cache hits.
    with VideoReader(path, cache_mb=1) as reader:
        n = len(reader)
        targets = [int(i) for i in rng.integers(0, n, size=25)]
        targets += [n - 1, 0, n // 2, n // 2 - 1, n // 2 - 2, n // 2 + 1, n - 1, n - 2]
        for i in targets:
            assert read_index(reader.frame(i)) == i, f"asked for {i}"
        assert reader.seeks > 1


def test_times_follow_the_written_timestamps(clip: tuple[Path, dict]) -> None:
    path, kwargs = clip
    n, fps = kwargs.get("n_frames", 60), kwargs.get("fps", 25.0)
    expected = vfr_times(n, fps) if kwargs.get("vfr") else np.arange(n) / fps
    with VideoReader(path) as reader:
        assert reader.times.dtype == np.float64
        # The containers' clocks (1/1000 s for Matroska) round the written times.
        np.testing.assert_allclose(reader.times, expected, atol=1.1e-3)


def test_index_at_is_the_frame_on_screen(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "vfr.mp4", vfr=True, n_frames=30)
    with VideoReader(path) as reader:
        times = reader.times
        for i in range(len(times)):
            assert reader.index_at(times[i]) == i
            if i + 1 < len(times):
                assert reader.index_at((times[i] + times[i + 1]) / 2) == i
                assert reader.index_at(times[i + 1] - 1e-6) == i
        assert reader.index_at(-5.0) == 0
        assert reader.index_at(1e6) == len(times) - 1
        i, rgb = reader.frame_at(float(times[17]) + 0.001)
        assert i == 17 and read_index(rgb) == 17


def test_backward_stepping_in_a_long_gop_decodes_the_gop_once(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "long.mp4", n_frames=120, gop=250)
    with VideoReader(path) as reader:
        assert read_index(reader.frame(100)) == 100
        seeks = reader.seeks
        for i in range(99, 80, -1):  # ← pressed 19 times
            assert read_index(reader.frame(i)) == i
        # The jump to 100 skipped frames nothing refers to; the first step back past the few kept
        # decodes the GOP once, and every later step comes from the cache.
        assert reader.seeks <= seeks + 1, "backward steps must not seek every time"


def test_frames_are_rgb_read_only_and_bad_indices_raise(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "c.mp4", n_frames=10, size=(160, 96))
    with VideoReader(path) as reader:
        rgb = reader.frame(3)
        assert rgb.shape == (96, 160, 3) and rgb.dtype == np.uint8
        assert not rgb.flags.writeable
        with pytest.raises(IndexError, match=r"frames 0\.\.9"):
            reader.frame(10)
        with pytest.raises(IndexError):
            reader.frame(-1)


@pytest.mark.slow
def test_4k_clip_decodes_with_bounded_memory(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "4k.mp4", n_frames=8, size=(3840, 2160), gop=8)
    with VideoReader(path, cache_mb=64) as reader:
        assert (reader.info.width, reader.info.height) == (3840, 2160)
        for i in (7, 3, 6, 0):
            assert read_index(reader.frame(i)) == i
        assert reader._cache.nbytes <= 64 * 1024 * 1024 + 3840 * 2160 * 3


def test_real_clips_decode_exactly_as_a_plain_decode(shared_data: Path) -> None:
    """Random access on real files gives the same pixels as decoding from the start."""
    import av

    from affectscope.media.frame_cache import to_rgb

    for name in ("vgaf_val_1_1_negative.mp4", "woman2_unlabelled.mp4"):
        path = shared_data / "clips" / name
        with av.open(str(path)) as c:
            plain = [to_rgb(f) for _, f in zip(range(40), c.decode(video=0), strict=False)]
        with VideoReader(path) as reader:
            assert len(reader) > 100
            for i in (37, 5, 20, 39, 0, 1):
                assert np.array_equal(reader.frame(i), plain[i]), (name, i)
                # Neighbouring frames differ, so an off-by-one answer could not pass the check above.
                assert not np.array_equal(plain[i], plain[i + 1 if i < 39 else i - 1])
            last = reader.frame(len(reader) - 1)
            assert last.shape == plain[0].shape


def test_clipfactory_index_round_trips_and_rejects_other_pictures() -> None:
    from tests.clipfactory import draw_frame

    for i in (0, 1, 255, 4097, 65535):
        assert read_index(draw_frame(i, 160, 96)) == i
    with pytest.raises(ValueError, match="unreadable"):
        read_index(np.full((96, 160, 3), 128, dtype=np.uint8))
    # Two frames blended (what a broken decoder might hand out) is refused, not misread.
    blend = (draw_frame(5, 160, 96).astype(int) + draw_frame(10, 160, 96)) // 2
    with pytest.raises(ValueError):
        read_index(blend.astype(np.uint8))
