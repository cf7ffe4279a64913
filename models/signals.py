"""What perception extracts from a clip, as timestamped arrays (the contract between extractors
and the five systems). Torch-free and Qt-free; arrays are numpy, times are media seconds.

Every signal is a ``Track``: its own timestamps, because video frames, 16 kHz audio windows,
pose and laughter windows run at different rates. An empty track carries a ``reason`` that the
window shows ("no face found", "clip has no audio track").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER-2013 order


@dataclass
class Track:
    """A time series: ``values[i]`` holds at ``times[i]`` (seconds, media time)."""

    times: np.ndarray  # (N,) float64
    values: np.ndarray  # (N, ...) float32
    names: tuple[str, ...] = ()  # column names when values is (N, C)
    reason: str = ""  # why the track is empty, when it is

    @classmethod
    def empty(cls, reason: str, width: int | tuple[int, ...] = ()) -> Track:
        shape = (0, *((width,) if isinstance(width, int) else width))
        return cls(np.zeros(0), np.zeros(shape, np.float32), reason=reason)

    def __len__(self) -> int:
        return len(self.times)

    def at(self, t: float) -> np.ndarray | None:
        """The sample in force at time t (last sample at or before t), or None."""
        if len(self.times) == 0:
            return None
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return self.values[max(i, 0)]


@dataclass
class FaceObservation:
    """One face in one analysed frame."""

    track_id: int  # stable across frames for the same person
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
    landmarks: np.ndarray | None  # (68, 2) pixels, dlib/iBUG order, or None
    expression: np.ndarray | None  # (7,) probabilities in EXPRESSIONS order
    mouth_open: float | None  # probability the mouth is open


@dataclass
class ClipSignals:
    """Everything perception found in one clip; each system picks what its inputs need."""

    clip_hash: str
    duration: float
    width: int
    height: int
    frame_times: np.ndarray  # (N,) times of the analysed frames
    faces: list[list[FaceObservation]]  # per analysed frame
    tracks: dict[str, Track] = field(default_factory=dict)
    # Well-known track names (extractors fill what they can):
    #   face_count (N,), expression_mean/min/max (N,7), face_features22 (N,22: seed 000's
    #   min/max/mean of 7 probs over faces + face count), mouth_open (N,),
    #   pose (N,33,4: x,y in pixels, z, visibility), pose_confidence (N,), people_count (N,),
    #   vad (M,) speech probability, laughter (K,) probability,
    #   audio (S,) mono waveform at audio_rate, with times = sample times,
    #   face_crop96 (F,96,96,3) uint8 RGB, face_crop64 (F,64,64) uint8 grey, mouth_crop28 (F,28,28,3)
    #   uint8 RGB: the largest face, only at analysed frames where a face was found.
    # Per-frame tracks hold NaN where nothing was found (expression_*, mouth_open, pose x/y/z; pose
    # visibility is 0 there); face_features22 is zero-filled with face_count 0, as seed 000 had it.
    audio_rate: int = 16000
    extractor_versions: dict[str, str] = field(default_factory=dict)
    # Skeletons of every person found, per analysed frame: list of (33, 4) arrays (x, y px, z, vis).
    people: list[list[np.ndarray]] = field(default_factory=list)
    # Settings the extraction ran with (rate_hz, modalities, ...) and whether it came from the cache.
    settings: dict = field(default_factory=dict)
    from_cache: bool = False
    # Times of analysed frames whose data is damaged (gaps: NaN in the per-frame tracks).
    undecodable_times: list[float] = field(default_factory=list)

    @property
    def undecodable_frames(self) -> int:
        return len(self.undecodable_times)

    def track(self, name: str) -> Track:
        if name in self.tracks:
            return self.tracks[name]
        return Track.empty(f"{name} was not extracted")
