"""The embedded demo project: short real clips built on first use from material we may ship.

``affectscope`` with no arguments opens this project, so a new user sees the whole application work
before pointing it at their own data. Each clip animates the public-domain NASA portrait of Eileen
Collins (slow pan and zoom, slight rotation, brightness drift) over one CC0 EmoDB utterance (one
speaker, one sentence, four emotions); see resources/demo/SOURCES.md. The clips are generated, not
shipped, which keeps the wheel small; building all four takes about a second.
"""

from __future__ import annotations

import importlib.resources
import json
import math
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from affectscope import strict_json

DEMO_VERSION = 1  # bump when the clips change, so cached copies are rebuilt
FPS = 25
SIZE = (480, 360)
DURATION = 5.0  # seconds
SPEECH_START = 1.0  # the utterance starts one second in, so the first second is silent
AUDIO_RATE = 22050  # EmoDB's own rate: no resampling on the way in
RESOURCES = Path(str(importlib.resources.files("affectscope.resources") / "demo"))
MANIFEST = "demo.json"


@dataclass(frozen=True)
class DemoClip:
    """One demo clip: its file, the EmoDB utterance under it and that utterance's acted emotion."""

    file: str  # relative to the project folder
    speech: str  # the EmoDB wav in resources/demo
    emotion: str  # EmoDB's label for the utterance (the face is the same portrait in every clip)
    sentiment: str  # 3-class sentiment (data README): positive / neutral / negative
    speech_start: float
    speech_end: float


# (name, wav, emotion, sentiment, zoom from→to, pan in source pixels, max roll degrees, brightness)
_PLAN = [
    ("astronaut_happy", "08a02Fe.wav", "happiness", "positive", (1.9, 2.3), (-8, 6), 4.0, (1.0, 1.15)),
    ("astronaut_neutral", "08a02Na.wav", "neutral", "neutral", (2.1, 2.1), (6, -4), 2.0, (1.0, 1.0)),
    ("astronaut_angry", "08a02Wc.wav", "anger", "negative", (2.0, 2.5), (0, 10), 5.0, (1.05, 0.9)),
    ("astronaut_sad", "08a02Tb.wav", "sadness", "negative", (2.3, 1.9), (10, 4), 3.0, (0.95, 0.75)),
]
# The face's centre in resources/demo/astronaut.jpg (256 px wide), found with dlib's HOG detector.
_FACE = np.array([110.0, 62.0])


def demo_clips() -> list[DemoClip]:
    """What the demo project holds (without building it)."""
    return [
        DemoClip(f"clips/{name}.mp4", wav, emotion, sentiment, SPEECH_START, SPEECH_START + _wav_seconds(wav))
        for name, wav, emotion, sentiment, *_ in _PLAN
    ]


def _wav_seconds(wav: str) -> float:
    import soundfile

    return float(soundfile.info(str(RESOURCES / wav)).duration)


def build_demo_project(dest: Path) -> Path:
    """Write the demo clips into ``dest/clips/`` plus ``dest/demo.json``; return ``dest``.

    Idempotent: a complete project of the current version is left as it is. Files are written
    under temporary names and renamed, so an interrupted build never leaves a half clip behind.
    """
    dest = Path(dest)
    clips = demo_clips()
    manifest = dest / MANIFEST
    if _is_complete(dest, clips):
        return dest
    (dest / "clips").mkdir(parents=True, exist_ok=True)
    portrait = _load_portrait()
    for clip, plan in zip(clips, _PLAN, strict=True):
        target = dest / clip.file
        tmp = target.with_name(f".{target.stem}.partial.mp4")
        _write_clip(tmp, portrait, RESOURCES / clip.speech, *plan[4:])
        os.replace(tmp, target)
    doc = {"version": DEMO_VERSION, "fps": FPS, "clips": [asdict(c) for c in clips]}
    tmp_manifest = manifest.with_name(f".{MANIFEST}.partial")
    tmp_manifest.write_text(strict_json.dumps(doc, indent=2))
    os.replace(tmp_manifest, manifest)
    return dest


def _is_complete(dest: Path, clips: list[DemoClip]) -> bool:
    try:
        doc = json.loads((dest / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return doc.get("version") == DEMO_VERSION and all((dest / c.file).is_file() for c in clips)


def demo_project_dir() -> Path:
    """The demo project under the user cache dir ($AFFECTSCOPE_CACHE_DIR overrides), built on first use."""
    env = os.environ.get("AFFECTSCOPE_CACHE_DIR")
    if env:
        cache = Path(env)
    else:
        import platformdirs

        cache = Path(platformdirs.user_cache_dir("affectscope", appauthor=False))
    return build_demo_project(cache / f"demo-project-v{DEMO_VERSION}")


def _load_portrait() -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(RESOURCES / "astronaut.jpg"), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"demo portrait missing: {RESOURCES / 'astronaut.jpg'} (broken install?)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _render(portrait: np.ndarray, u: float, zoom, pan, roll: float, bright) -> np.ndarray:
    """The frame at progress ``u`` in [0, 1]: the face kept near the upper middle of the picture."""
    import cv2

    ease = 0.5 - 0.5 * math.cos(math.pi * u)  # slow start and stop, like a camera move
    scale = zoom[0] + (zoom[1] - zoom[0]) * ease
    angle = roll * math.sin(2 * math.pi * u)
    centre = _FACE + np.array(pan) * (ease - 0.5) + np.array([0.0, 30.0])
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    # Move the rotation centre to the middle of the output frame.
    m[:, 2] += np.array([SIZE[0] / 2, SIZE[1] / 2]) - centre
    frame = cv2.warpAffine(portrait, m, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    gain = bright[0] + (bright[1] - bright[0]) * ease
    return cv2.convertScaleAbs(frame, alpha=gain)


def _write_clip(path: Path, portrait: np.ndarray, wav: Path, zoom, pan, roll, bright) -> None:
    import av
    import soundfile

    speech, rate = soundfile.read(str(wav), dtype="float32", always_2d=False)
    if rate != AUDIO_RATE or speech.ndim != 1:
        raise ValueError(f"{wav}: expected mono {AUDIO_RATE} Hz, got {rate} Hz with shape {speech.shape}")
    track = np.zeros(int(DURATION * AUDIO_RATE), dtype=np.float32)
    start = int(SPEECH_START * AUDIO_RATE)
    n = min(len(speech), len(track) - start)
    track[start : start + n] = speech[:n]
    n_frames = int(DURATION * FPS)
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height = SIZE
        video.pix_fmt = "yuv420p"
        video.options = {
            "preset": "veryfast",
            "crf": "23",
            "x264-params": "keyint=25:min-keyint=25:scenecut=0",
        }
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        for i in range(n_frames):
            rgb = _render(portrait, i / (n_frames - 1), zoom, pan, roll, bright)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        chunk = audio.codec_context.frame_size or 1024
        for s in range(0, len(track), chunk):
            frame = av.AudioFrame.from_ndarray(
                track[s : s + chunk].reshape(1, -1), format="fltp", layout="mono"
            )
            frame.sample_rate = AUDIO_RATE
            frame.pts = s
            frame.time_base = Fraction(1, AUDIO_RATE)
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))


def data_dir() -> Path:
    """The user's data folder ($AFFECTSCOPE_DATA_DIR overrides): kept, unlike the cache folder."""
    env = os.environ.get("AFFECTSCOPE_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("affectscope", appauthor=False))


def demo_project() -> Path:
    """The demo as a real, writable project (labels, predictions) in the user's data folder.

    Built on first use: the clips, then a project holding them. A cache cleaner cannot take the
    user's demo labels away, as it could from ``demo_project_dir()`` under the cache folder.
    """
    from affectscope.app.services.project import PROJECT_FILE, Project

    dest = build_demo_project(data_dir() / f"demo-project-v{DEMO_VERSION}")
    if not (dest / PROJECT_FILE).is_file():
        with Project.init(dest, name="Affectscope demo") as project:
            project.import_clips(dest / "clips")
    return dest
