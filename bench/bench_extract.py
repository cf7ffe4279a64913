"""Perception speed: milliseconds per frame for each extractor, and the whole extraction of a clip
as a ratio to decoding the same clip and to the clip's duration (all measured here, in this run).

    python bench/bench_extract.py [CLIP] [--rate 10]
    python bench/bench_extract.py --720p [--rate 10]
    python bench/bench_extract.py --face450 [--rate 10]

CLIP defaults to the real 5 s group clip with audio in ../shared/data/clips. ``--720p`` makes the
issue-13 clip: the real talking-face clip (woman2, 596x336) upscaled to 1280x720 at 30 fps with EmoDB
speech under it (in a temporary folder), and also measures face detection on the downscaled frame
against full-resolution detection (recall and IoU of the full-resolution faces). ``--face450`` (issue
22) makes a 720p clip whose face is about 450 px tall (woman2 cropped around the face and scaled up,
10 s, demo speech under it) and adds where the time goes per stage (decode, HOG detection, landmarks,
pose, audio) and face detection that follows the faces' size (``FaceSearch``) against full
resolution. Single-threaded torch, as on our shared 2-core machines; the numbers are for comparing
changes, not absolute promises.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO.parent / "shared" / "data" / "clips" / "vgaf_val_1_1_negative.mp4"


def _time(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


TALKING_FACE = REPO.parent / "shared" / "data" / "clips" / "woman2_unlabelled.mp4"


def make_720p(src: Path, dst: Path, speech_dir: Path = REPO / "resources" / "demo") -> Path:
    """``src`` upscaled to 1280x720 (bicubic), H.264 at its own 30 fps, with EmoDB speech (the demo wavs,
    repeated) laid under it as 48 kHz AAC: a 720p talking-face clip with speech for the real-time goal."""
    return _write_720p(src, dst, speech_dir, lambda frame: frame, seconds=None)


def make_face450(src: Path, dst: Path, speech_dir: Path = REPO / "resources" / "demo") -> Path:
    """10 s of ``src`` cropped around its face (107 px in a 596x336 frame) and scaled to 1280x720, so
    the face is about 450 px tall; the demo's EmoDB speech under it (48 kHz AAC)."""
    x0, y0, w, h = 136, 75, 304, 171  # 16:9 around the face: 107 px -> ~450 px at 1280x720
    return _write_720p(src, dst, speech_dir, lambda frame: frame[y0 : y0 + h, x0 : x0 + w], seconds=10)


def _write_720p(
    src: Path,
    dst: Path,
    speech_dir: Path,
    region: Callable[[np.ndarray], np.ndarray],
    seconds: float | None,
) -> Path:
    """``region`` of each frame of ``src`` (its first ``seconds``, or all) scaled to 1280x720 as H.264
    at the source's rate, with the EmoDB wavs of ``speech_dir`` repeated under it as 48 kHz AAC."""
    from fractions import Fraction

    import av
    import cv2
    import soundfile

    from affectscope.media import VideoReader

    speech = np.concatenate(
        [soundfile.read(str(w), dtype="float32")[0] for w in sorted(speech_dir.glob("*.wav"))]
    )
    speech_rate = 22050  # EmoDB
    with VideoReader(src) as reader, av.open(str(dst), "w") as out:
        fps = Fraction(round(reader.info.fps * 1000), 1000)
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = 1280, 720, "yuv420p"
        v.options = {"crf": "20", "preset": "veryfast"}
        a = out.add_stream("aac", rate=48000, layout="mono")
        n_frames = len(reader) if seconds is None else min(len(reader), int(seconds * reader.info.fps))
        for i in range(n_frames):
            frame = region(np.asarray(reader.frame(i)))
            big = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_CUBIC)
            for packet in v.encode(av.VideoFrame.from_ndarray(big, format="rgb24")):
                out.mux(packet)
        for packet in v.encode(None):
            out.mux(packet)
        length = reader.info.duration if seconds is None else n_frames / reader.info.fps
        n = int(length * 48000)
        t = np.arange(n) / 48000 * speech_rate
        audio = np.interp(t % len(speech), np.arange(len(speech)), speech).astype(np.float32)
        for start in range(0, n, 1024):
            frame = av.AudioFrame.from_ndarray(audio[None, start : start + 1024], format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, start, Fraction(1, 48000)
            for packet in a.encode(frame):
                out.mux(packet)
        for packet in a.encode(None):
            out.mux(packet)
    return dst


def stage_times(frames: list[np.ndarray], audio: np.ndarray, seconds: float) -> dict:
    """Seconds per clip-second of each stage, over the analysed frames: HOG detection (usual scale
    and following the faces), landmarks, pose (frame as is and shrunk), audio (VAD + laughter)."""
    import dlib

    from affectscope.models.extractors import faces, laughter, pose, vad
    from affectscope.models.extractors.faces import FaceSearch, _load, detect_faces

    detector, predictor = _load()
    found = [detect_faces(f) for f in frames]
    t0 = time.perf_counter()
    for f in frames:
        scale = faces.detection_scale(f.shape[1], f.shape[0])
        small = cv2_resize(f, scale)
        detector.run(small, 0, -0.2)
    hog = time.perf_counter() - t0
    t0 = time.perf_counter()
    for f, fs in zip(frames, found, strict=True):
        for d in fs:
            predictor(f, dlib.rectangle(*(round(v) for v in d.box)))
    marks = time.perf_counter() - t0
    search = FaceSearch()
    t0 = time.perf_counter()
    for f in frames:
        search(f)
    followed = time.perf_counter() - t0 - marks  # what is left of FaceSearch without the landmarks
    out = {"hog": hog, "hog_followed": max(followed, 0.0), "landmarks": marks}
    for name, side in (("pose_full", 10**6), ("pose_shrunk", pose.POSE_LONG_SIDE)):
        saved, pose.POSE_LONG_SIDE = pose.POSE_LONG_SIDE, side
        try:
            with pose.PoseEstimator() as est:
                est.estimate(frames[0])
                out[name] = _time(lambda est=est: [est.estimate(f) for f in frames])
        finally:
            pose.POSE_LONG_SIDE = saved
    out["audio"] = _time(
        lambda: (vad.speech_probability(audio, 16000), laughter.laughter_probability(audio, 16000))
    )
    return {k: v / seconds for k, v in out.items()}


def cv2_resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    if scale >= 1.0:
        return rgb
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def followed_recall(frames: list[np.ndarray]) -> dict:
    """FaceSearch (following the faces' size) against full-resolution detection, as detection_recall."""
    from affectscope.models.extractors.faces import FaceSearch, detect_faces
    from affectscope.models.extractors.tracking import iou

    full = [detect_faces(f, scale=1.0) for f in frames]
    search = FaceSearch()
    got = [search(f) for f in frames]
    matched = sum(
        1
        for ref, g in zip(full, got, strict=True)
        for face in ref
        if max((iou(face.box, x.box) for x in g), default=0) >= 0.5
    )
    n_ref = sum(len(r) for r in full)
    return {"faces_full": n_ref, "recall": matched / n_ref if n_ref else float("nan")}


def detection_recall(frames: list[np.ndarray]) -> dict:
    """Faces found on the downscaled frame vs full-resolution detection (the reference): recall at
    IoU >= 0.5, mean IoU of the matched boxes, extra faces, and the time of each per frame."""
    from affectscope.models.extractors.faces import detect_faces, detection_scale
    from affectscope.models.extractors.tracking import iou

    t0 = time.perf_counter()
    full = [detect_faces(f, scale=1.0) for f in frames]
    t1 = time.perf_counter()
    fast = [detect_faces(f) for f in frames]
    t2 = time.perf_counter()
    matched, ious = 0, []
    for ref, got in zip(full, fast, strict=True):
        for face in ref:
            best = max((iou(face.box, g.box) for g in got), default=0.0)
            if best >= 0.5:
                matched += 1
                ious.append(best)
    n_ref = sum(len(r) for r in full)
    h, w = frames[0].shape[:2]
    return {
        "scale": detection_scale(w, h),
        "faces_full": n_ref,
        "recall": matched / n_ref if n_ref else float("nan"),
        "mean_iou": float(np.mean(ious)) if ious else float("nan"),
        "extra": sum(len(g) for g in fast) - matched,
        "full_ms": (t1 - t0) / len(frames) * 1000,
        "fast_ms": (t2 - t1) / len(frames) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clip", nargs="?", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--720p", dest="hd", action="store_true", help="the 720p talking-face clip")
    parser.add_argument("--face450", action="store_true", help="720p with a ~450 px face (issue 22)")
    args = parser.parse_args()
    os.environ["AFFECTSCOPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-extract-")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine: compare ratios)")
    if args.hd:
        args.clip = make_720p(TALKING_FACE, Path(os.environ["AFFECTSCOPE_CACHE_DIR"]) / "woman2_720p.mp4")
    if args.face450:
        args.clip = make_face450(
            TALKING_FACE, Path(os.environ["AFFECTSCOPE_CACHE_DIR"]) / "woman2_face450.mp4"
        )
    import torch

    torch.set_num_threads(1)
    from affectscope.media import VideoReader, load_audio
    from affectscope.models.extractors import expression, laughter, pose, vad
    from affectscope.models.extractors.faces import detect_faces, face_crop
    from affectscope.models.extractors.pipeline import extract_clip, select_frames

    with VideoReader(args.clip) as r:
        n_all = len(r)
        duration = r.info.duration
        decode_s = _time(lambda: [r.frame(i) for i in range(n_all)])
        idx = select_frames(r.times, args.rate)
        frames = [np.array(r.frame(int(i))) for i in idx]
    audio = load_audio(args.clip, rate=16000)
    seconds_audio = len(audio.samples) / 16000
    print(
        f"clip: {args.clip.name}, {n_all} frames, {len(idx)} analysed at {args.rate:g} Hz, "
        f"{seconds_audio:.1f} s audio"
    )
    print(f"decode all frames (baseline): {decode_s * 1000:.0f} ms = {decode_s / n_all * 1000:.1f} ms/frame")

    expression.model(), laughter.model()  # load once, outside the timings
    detect_faces(frames[0])
    faces_s = _time(lambda: [detect_faces(f) for f in frames])
    found = [(f, d) for f in frames for d in detect_faces(f)]
    crops = (
        np.stack([face_crop(f, d.box, 64, grey=True) for f, d in found])
        if found
        else np.zeros((1, 64, 64), np.uint8)
    )
    expr_s = _time(lambda: expression.classify_faces(crops), repeat=3)
    with pose.PoseEstimator() as est:
        est.estimate(frames[0])
        pose_s = _time(lambda: [est.estimate(f) for f in frames])
    vad_s = _time(lambda: vad.speech_probability(audio.samples, 16000))
    laugh_s = _time(lambda: laughter.laughter_probability(audio.samples, 16000))
    per = len(frames)
    if args.face450:
        st = stage_times(frames, audio.samples, seconds_audio)
        print("where the time goes, seconds per second of clip (1.00 = real time on its own):")
        print(f"  decode (every frame)        {decode_s / duration:.3f}")
        print(
            f"  HOG detection, usual scale  {st['hog']:.3f}   "
            f"following the faces' size {st['hog_followed']:.3f}"
        )
        print(f"  68 landmarks                {st['landmarks']:.3f}")
        print(
            f"  pose, 720p frame            {st['pose_full']:.3f}   shrunk to 640 px {st['pose_shrunk']:.3f}"
        )
        print(f"  audio (VAD + laughter)      {st['audio']:.3f}")
        fr = followed_recall(frames[::3])  # full-resolution HOG on 720p is slow: every third frame
        print(
            f"following the faces' size: recall {fr['recall']:.3f} "
            f"of {fr['faces_full']} full-resolution faces"
        )
    r = detection_recall(frames[::3] if args.face450 else frames)
    print(
        f"face detection at scale {r['scale']:.2f} vs full resolution: recall {r['recall']:.3f} of "
        f"{r['faces_full']} faces (IoU >= 0.5), mean IoU {r['mean_iou']:.3f}, {r['extra']} extra; "
        f"{r['fast_ms']:.0f} vs {r['full_ms']:.0f} ms/frame = {r['full_ms'] / r['fast_ms']:.1f}x faster"
    )
    print(
        f"faces + 68 landmarks (dlib HOG): {faces_s / per * 1000:7.1f} ms/frame "
        f"({len(found)} faces in {per} frames)"
    )
    print(f"expression (mini-Xception):      {expr_s / max(len(crops), 1) * 1000:7.2f} ms/face")
    print(f"pose (BlazePose, whole frame):   {pose_s / per * 1000:7.1f} ms/frame")
    print(
        f"voice activity (silero):         {vad_s / seconds_audio * 1000:7.1f} ms per s of audio "
        f"= {vad_s / per * 1000:.1f} ms/analysed frame"
    )
    print(
        f"laughter (ResNet):               {laugh_s / seconds_audio * 1000:7.1f} ms per s of audio "
        f"= {laugh_s / per * 1000:.1f} ms/analysed frame"
    )

    from affectscope.models.extractors import faces, pipeline, video_pass
    from affectscope.models.extractors import pose as pose_mod

    def configured(full_res: bool, concurrent: bool, follow: bool = True) -> tuple[float, float]:
        """Wall seconds and CPU seconds (all threads) of one uncached extraction."""
        saved = faces.DETECT_SHORT_SIDE, faces.REFRESH_EVERY, pose_mod.POSE_LONG_SIDE
        faces.DETECT_SHORT_SIDE = 10**6 if full_res else saved[0]  # never downscale
        if not follow:  # before issue 22: every frame at the usual scale, pose on the whole frame
            faces.REFRESH_EVERY, pose_mod.POSE_LONG_SIDE = 1, 10**6
        pipeline.CONCURRENT_AUDIO = video_pass.POSE_THREAD = concurrent
        try:
            cpu0 = time.process_time()
            wall = _time(lambda: extract_clip(args.clip, rate_hz=args.rate, use_cache=False))
            return wall, time.process_time() - cpu0
        finally:
            faces.DETECT_SHORT_SIDE, faces.REFRESH_EVERY, pose_mod.POSE_LONG_SIDE = saved
            pipeline.CONCURRENT_AUDIO = video_pass.POSE_THREAD = True

    if args.face450:
        rows = (
            ("issue 13 (usual scale, whole-frame pose)", *configured(False, True, follow=False)),
            ("issue 22 (faces followed, pose shrunk)", *configured(False, True)),
        )
        for name, wall, cpu in rows:
            print(
                f"{name:42s} {wall:6.2f} s = {wall / duration:.2f}x real time; "
                f"CPU {cpu / duration:.2f} s per clip-s"
            )
        print(f"speed-up: {rows[0][1] / rows[1][1]:.2f}x wall, {rows[0][2] / rows[1][2]:.2f}x CPU")
        return

    # Before issue 13: full-resolution detection, pose and audio one after the other.
    base_s, base_cpu = configured(full_res=True, concurrent=False)
    serial_s, serial_cpu = configured(full_res=False, concurrent=False)
    whole_s, whole_cpu = configured(full_res=False, concurrent=True)
    for name, wall, cpu in (
        ("before (full-res faces, serial)", base_s, base_cpu),
        ("downscaled faces, serial", serial_s, serial_cpu),
        ("downscaled faces, pose + audio threads", whole_s, whole_cpu),
    ):
        print(
            f"{name:40s} {wall:6.2f} s = {wall / duration:.2f}x real time = {wall / decode_s:.1f}x decoding; "
            f"CPU {cpu:6.2f} s = {cpu / duration:.2f} CPU-s per clip-s"
        )
    print(f"speed-up vs before: {base_s / whole_s:.2f}x wall, {base_cpu / whole_cpu:.2f}x CPU")
    extract_clip(args.clip, rate_hz=args.rate)  # fill the cache
    cached_s = _time(lambda: extract_clip(args.clip, rate_hz=args.rate), repeat=3)
    print(
        f"whole extraction ({args.rate:g} Hz, all modalities): {whole_s:.2f} s = "
        f"{whole_s / decode_s:.1f}x decoding the clip; {whole_s / duration:.2f}x real time"
    )
    print(f"from the cache: {cached_s * 1000:.0f} ms = {cached_s / decode_s:.2f}x decoding the clip")


if __name__ == "__main__":
    main()
