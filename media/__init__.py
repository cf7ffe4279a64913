"""Frame-accurate video and audio decoding by timestamps (PyAV). Never imports Qt.

``probe`` reads a clip's facts, ``VideoReader`` returns exactly frame ``i`` (or the frame on screen
at time ``t``), ``load_audio`` decodes audio on the same time axis, ``content_hash`` identifies a
clip by its bytes and ``scan_folder`` finds clips.
"""

from affectscope.errors import MediaError
from affectscope.media.audio import Audio, NoAudioError, load_audio
from affectscope.media.files import VIDEO_EXTENSIONS, content_hash, media_kind, scan_folder
from affectscope.media.probe import ClipInfo, probe, probe_with_times
from affectscope.media.reader import UndecodableFrameError, VideoReader

__all__ = [
    "VIDEO_EXTENSIONS",
    "Audio",
    "ClipInfo",
    "MediaError",
    "NoAudioError",
    "UndecodableFrameError",
    "VideoReader",
    "content_hash",
    "load_audio",
    "media_kind",
    "probe",
    "probe_with_times",
    "scan_folder",
]
