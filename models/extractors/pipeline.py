"""``extract_clip``: run the perception extractors over one clip and return its ``ClipSignals``.

Video extractors share one pass over the analysed frames (every frame up to ``rate_hz``, 10 fps by
default, chosen by timestamp so variable-rate clips are sampled evenly): faces + 68 landmarks
(dlib), face tracks, expression (mini-Xception), mouth opening, crops for seed 004, body pose
(BlazePose). Audio extractors share one decode at 16 kHz: voice activity (silero-vad), laughter
(Switchboard ResNet) and the waveform itself. Results are cached (``cache.py``) by clip content
hash, extractor versions and settings. ``job.check()`` runs before every frame and every audio
batch, so a cancel stops within one batch. Bad input never raises here beyond a clip that cannot
be decoded at all (``MediaError``): no face, no person, no audio track, a very dark or tiny video
all give empty tracks whose ``reason`` says why.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from affectscope.jobs import Job, ensure_job
from affectscope.models.extractors import cache as cache_mod
from affectscope.models.extractors.mouth import MouthClassifier
from affectscope.models.signals import ClipSignals, Track

log = logging.getLogger(__name__)

MODALITIES = ("faces", "pose", "vad", "laughter", "audio")
VIDEO_MODALITIES = ("faces", "pose")
AUDIO_MODALITIES = ("vad", "laughter", "audio")
AUDIO_RATE = 16000
DARK_LEVEL = 16.0  # mean grey level under which a frame is too dark for the detectors
MIN_SIDE = 48  # pixels: below this no face or body can be found
CONCURRENT_AUDIO = True  # audio extractors in a thread beside the video pass (bench_extract.py compares)


@dataclass(frozen=True)
class ExtractSettings:
    """What to extract and how; part of the cache key."""

    modalities: tuple[str, ...] = MODALITIES
    rate_hz: float = 10.0
    max_people: int = 6
    laughter_hop_frames: int = 8
    crops: bool = True
    mouth_model: str = ""  # name of a MouthClassifier replacing the landmark ratio, "" for none
    more_faces: bool = False  # a second face detector for group shots (extractors/faces_more.py)

    def __post_init__(self) -> None:
        unknown = [m for m in self.modalities if m not in MODALITIES]
        if unknown:
            from affectscope.errors import UserFacingError

            raise UserFacingError(
                f"unknown modality {', '.join(unknown)}; choose from {', '.join(MODALITIES)}"
            )
        if not self.rate_hz > 0:
            from affectscope.errors import UserFacingError

            raise UserFacingError(f"the analysis rate must be positive, not {self.rate_hz}")

    def to_json(self) -> dict:
        d = asdict(self)
        d["modalities"] = sorted(self.modalities)
        if not self.more_faces:
            del d["more_faces"]  # the default keeps the cache keys that existed before the option
        return d


def extractor_versions(modalities: tuple[str, ...]) -> dict[str, str]:
    """Version strings of the extractors the modalities use (a new version invalidates the cache)."""
    from affectscope.models.extractors import expression, faces, laughter, pose, vad

    table = {
        "faces": {"faces": faces.VERSION, "expression": expression.VERSION, "mouth": "mar-logistic/1"},
        "pose": {"pose": pose.VERSION},
        "vad": {"vad": vad.VERSION},
        "laughter": {"laughter": laughter.VERSION},
        "audio": {"audio": f"pyav-{AUDIO_RATE}/1"},
    }
    out: dict[str, str] = {}
    for m in modalities:
        out.update(table[m])
    return out


def select_frames(times: np.ndarray, rate_hz: float) -> np.ndarray:
    """Indices of the frames to analyse: the first frame at or after each tick of a ``rate_hz`` clock."""
    if len(times) == 0:
        return np.zeros(0, int)
    chosen, next_t = [], times[0]
    for i, t in enumerate(times):
        if t >= next_t - 1e-6:
            chosen.append(i)
            next_t = max(next_t + 1.0 / rate_hz, t)
    return np.asarray(chosen, int)


@dataclass
class _Stages:
    """Maps each stage's own progress onto one 0..1000 bar for the job."""

    job: Job
    weights: dict[str, float]
    done: dict[str, float] = field(default_factory=dict)

    lock: threading.Lock = field(default_factory=threading.Lock)  # audio reports from its own thread

    def report(self, stage: str, done: int, total: int, message: str) -> None:
        with self.lock:
            self.done[stage] = done / max(total, 1)
            total_w = sum(self.weights.values()) or 1.0
            frac = sum(self.weights[s] * self.done.get(s, 0.0) for s in self.weights) / total_w
            self.job.progress(int(frac * 1000), 1000, message)

    def sub(self, stage: str) -> Job:
        """A job handle for one stage: shares the cancel flag, reports into this bar."""
        parent = self.job
        stages = self

        class _Sub(Job):
            def progress(self, done: int, total: int, message: str = "") -> None:
                stages.report(stage, done, total, message)

            def check(self) -> None:
                parent.check()

            def cancelled(self) -> bool:
                return parent.cancelled()

        return _Sub()


def extract_clip(
    path: str | Path,
    modalities: tuple[str, ...] | list[str] | None = None,
    rate_hz: float = 10.0,
    job: Job | None = None,
    use_cache: bool = True,
    project_dir: str | Path | None = None,
    mouth_model: MouthClassifier | None = None,
    mouth_model_name: str = "",
    cache_only: bool = False,
    more_faces: bool = False,
) -> ClipSignals | None:
    """Everything perception finds in a clip (see module doc); cached unless ``use_cache`` is False.

    ``cache_only``: return the cached result or None, never compute (the window uses it on opening a clip).
    """
    from affectscope.media import content_hash, probe

    job = ensure_job(job)
    settings = ExtractSettings(
        modalities=tuple(modalities) if modalities else MODALITIES,
        rate_hz=float(rate_hz),
        mouth_model=mouth_model_name if mouth_model is not None else "",
        more_faces=bool(more_faces),
    )
    info = probe(path)  # MediaError for a file that is not a decodable video
    clip_hash = content_hash(path)
    versions = extractor_versions(settings.modalities)
    root, key = (
        cache_mod.cache_root(project_dir),
        cache_mod.cache_key(clip_hash, versions, settings.to_json()),
    )
    if use_cache:
        hit = cache_mod.load(root, key)
        if hit is not None:
            job.progress(1000, 1000, "loaded from cache")
            return hit
    if cache_only:
        return None
    started = time.perf_counter()
    video = [m for m in settings.modalities if m in VIDEO_MODALITIES]
    audio = [m for m in settings.modalities if m in AUDIO_MODALITIES]
    stages = _Stages(job, {"video": 6.0 if video else 0.0, "vad": 1.0, "laughter": 1.0})
    signals = ClipSignals(
        clip_hash=clip_hash,
        duration=info.duration,
        width=info.width,
        height=info.height,
        frame_times=np.zeros(0),
        faces=[],
        audio_rate=AUDIO_RATE,
        extractor_versions=versions,
        settings=settings.to_json(),
    )
    if video and audio and CONCURRENT_AUDIO:
        # The audio extractors (torch, which releases the GIL) run beside the video pass: on two cores
        # a clip's perception takes about the longer of the two instead of their sum. Each writes its
        # own tracks; a failure or a cancel in either is raised here after both have stopped.
        from concurrent.futures import ThreadPoolExecutor

        from affectscope.models.extractors.video_pass import run_video_pass

        with ThreadPoolExecutor(1, thread_name_prefix="extract-audio") as pool:
            audio_done = pool.submit(_run_audio, path, signals, settings, stages)
            try:
                run_video_pass(path, signals, settings, stages.sub("video"), mouth_model)
            finally:
                audio_error = audio_done.exception()  # waits; the audio stage checks the same cancel flag
        if audio_error is not None:
            raise audio_error
    elif video or audio:
        if video:
            from affectscope.models.extractors.video_pass import run_video_pass

            run_video_pass(path, signals, settings, stages.sub("video"), mouth_model)
        if audio:
            _run_audio(path, signals, settings, stages)
    job.progress(1000, 1000, f"extracted in {time.perf_counter() - started:.1f} s")
    if use_cache:
        cache_mod.save(signals, root, key)
    return signals


def _run_audio(path: str | Path, signals: ClipSignals, settings: ExtractSettings, stages: _Stages) -> None:
    from affectscope.media import NoAudioError, load_audio

    wanted = [m for m in settings.modalities if m in AUDIO_MODALITIES]
    try:
        clip_audio = load_audio(path, rate=AUDIO_RATE, mono=True)
    except NoAudioError:
        for m in wanted:
            signals.tracks[m] = Track.empty("clip has no audio track")
        return
    samples = np.asarray(clip_audio.samples, np.float32)
    t0 = float(clip_audio.start_time)
    if "audio" in wanted:
        signals.tracks["audio"] = Track(
            t0 + np.arange(len(samples)) / AUDIO_RATE, samples, names=("amplitude",)
        )
    if "vad" in wanted:
        from affectscope.models.extractors.vad import speech_probability

        signals.tracks["vad"] = speech_probability(samples, AUDIO_RATE, t0, stages.sub("vad"))
    if "laughter" in wanted:
        from affectscope.models.extractors.laughter import laughter_probability

        signals.tracks["laughter"] = laughter_probability(
            samples, AUDIO_RATE, t0, stages.sub("laughter"), hop_frames=settings.laughter_hop_frames
        )
