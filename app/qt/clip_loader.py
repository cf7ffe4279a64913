"""Everything the window needs about a clip before it can play it, loaded as one job off the GUI thread.

Qt-free on purpose (it runs in a worker): frame times from the container, the audio track decoded
once (for playback and the waveform pyramid), or the reason there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectscope.jobs import Job, ensure_job
from affectscope.media import Audio, ClipInfo, NoAudioError, load_audio, probe_with_times
from affectscope.media.waveform import WaveformEnvelope


@dataclass
class LoadedClip:
    path: Path
    info: ClipInfo
    times: np.ndarray  # per-frame presentation times, media seconds
    audio: Audio | None  # mono float32
    envelope: WaveformEnvelope | None
    audio_note: str  # why there is no audio, or ""

    @property
    def duration(self) -> float:
        return float(self.info.duration)


def load_clip(path: str | Path, job: Job | None = None) -> LoadedClip:
    """Probe the clip and decode its audio. Raises MediaError for files that are not playable video."""
    job = ensure_job(job)
    job.progress(0, 3, "reading frame times")
    info, times = probe_with_times(path)
    if len(times) == 0:
        from affectscope.errors import MediaError

        raise MediaError(f"{path} has a video track but no frames could be read; the file is damaged.")
    job.check()
    audio, envelope, note = None, None, ""
    if info.has_audio:
        job.progress(1, 3, "decoding audio")
        try:
            audio = load_audio(path, mono=True)
        except NoAudioError:
            note = "no audio track"
        else:
            job.check()
            job.progress(2, 3, "waveform")
            envelope = WaveformEnvelope(audio.samples, audio.rate, audio.start_time)
    else:
        note = "no audio track"
    job.progress(3, 3, "ready")
    return LoadedClip(Path(path), info, np.asarray(times, dtype=np.float64), audio, envelope, note)
