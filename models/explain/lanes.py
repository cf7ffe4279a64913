"""Clip-wide explanation lanes from a ``ClipExplainer``: sound saliency, contributions, attention.

Plain functions (the slow ones take an ``affectscope.jobs.Job``) that the window runs in a worker and
tests call directly. They reuse the explainer's cached window inputs (no new extraction) and take its
lock one window at a time, so a playhead explanation can slip in between windows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from affectscope.jobs import Job, ensure_job
from affectscope.models.explain import architecture
from affectscope.models.explain.clip import ClipExplainer
from affectscope.models.explain.imported import LINEAR_ROWS, method_for, spectrogram_keys
from affectscope.models.explain.saliency import spectrogram_inputs, system_maps
from affectscope.models.explain.timelines import (
    SoundSaliency,
    TimeFrequencyMap,
    contribution_over_time,
    even_columns,
    modality_presence,
    stitch_series,
    window_order,
)
from affectscope.models.systems.base import collate

MAX_COLUMNS = 20000  # a long clip's lanes stay a few MB
# The lane is an overview: IG runs its 50 steps once per window instead of doubling them until
# completeness holds to 1 % (up to 800 steps, ~15× the time); the playhead's map still checks it.
IG_OVERVIEW = float("inf")


@dataclass
class ContributionLane:
    """Each modality's Shapley contribution to the fused target probability, per window."""

    times: np.ndarray  # (T,) window centres, seconds
    values: np.ndarray  # (T, M), NaN where the modality had no input
    modalities: tuple[str, ...]
    target: str


@dataclass
class AttentionLane:
    """Last-layer attention over each modality's time steps, stitched over the clip."""

    times: np.ndarray  # (N,) seconds
    values: dict[str, np.ndarray]  # modality -> (N,) weight × steps (1 = uniform), NaN where absent
    what: str  # which attention it is, for the lane's note


def contributions(explainer: ClipExplainer, target: str | None = None) -> ContributionLane:
    """The contribution lane's data: a lookup in the subset table (no model runs). The built table is
    read without the lock, so the GUI thread never waits behind a worker's saliency window."""
    table = explainer.cached_table or explainer.table()
    c = table.target_index(target)
    present = modality_presence(explainer.batch, explainer.modalities, len(table.times))
    values = contribution_over_time(table, c, present)
    return ContributionLane(
        np.asarray(table.times, float), values, tuple(explainer.modalities), explainer.labels[c]
    )


def _column_times(explainer: ClipExplainer, w: int, n_cols: int) -> np.ndarray:
    """Where the spectrogram picture's columns of window ``w`` sit on the clip's time axis."""
    from affectscope.models.explain.imported import column_times, exported_kind

    t0 = float(explainer.starts[w])
    win = float(explainer.model.window_seconds)
    if spectrogram_keys(explainer.model):  # an imported file's log-mel: 10 ms frames
        return column_times(t0, n_cols, win)
    kind = type(explainer.model).__name__
    if kind == "LightweightStreaming" or exported_kind(explainer.model) == "LightweightStreaming":
        from affectscope.models.systems.lightweight_inputs import spectrogram_columns

        rate = int(explainer.signals.audio_rate)
        return t0 + spectrogram_columns(round(win * rate), rate, n_cols)
    return even_columns(t0, t0 + win, n_cols)


def sound_saliency(
    explainer: ClipExplainer,
    target: str | None = None,
    method: str = "gradcam",
    near: float | None = None,
    job: Job | None = None,
) -> TimeFrequencyMap | None:
    """The spectrogram saliency of every window stitched over the clip (None: no spectrogram input).

    The class is the clip's (``target`` or the clip's predicted class), so every column answers the
    same question. Windows nearest ``near`` (the playhead) go first; partial maps are reported.
    """
    job = ensure_job(job)
    method = method_for(explainer.model, method)  # an ONNX file: occlusion, and the lane says so
    keys = spectrogram_inputs(explainer.model) if explainer.is_system else ()
    if not keys:
        return None
    key = keys[0]
    table = explainer.table(job)
    c = table.target_index(target)
    x = explainer.batch[key]
    n_freq, n_cols = int(x.shape[-2]), int(x.shape[-1])
    if key in spectrogram_keys(explainer.model):  # drawn on linear frequency rows (imported.py)
        n_freq = LINEAR_ROWS
    win = float(explainer.model.window_seconds)
    duration = float(explainer.signals.duration)
    rate = float(explainer.signals.audio_rate or 16000)
    acc = SoundSaliency(
        duration,
        n_freq,
        rate / 2,
        max(win / n_cols, duration / MAX_COLUMNS),
        len(explainer.starts),
        explainer.labels[c],
        method,
    )
    present = modality_presence(explainer.batch, explainer.modalities, len(explainer.starts)).get(key)
    last = time.monotonic()
    order = window_order(np.asarray(explainer.times), near)
    for i, w in enumerate(order):
        job.check()
        cols = _column_times(explainer, w, n_cols)
        values = None
        if present is None or present[w] > 0:
            with explainer.lock:  # captum hooks the shared model's layers
                m = system_maps(
                    explainer.model, explainer.batches[w], c, method, only=(key,), ig_tolerance=IG_OVERVIEW
                ).get(key)
            values = None if m is None or m.extra.get("unused") else m.values
        acc.add(cols, values)
        job.progress(i + 1, len(order), "sound saliency")
        if time.monotonic() - last > 0.25 and i + 1 < len(order):
            job.partial(acc.result())
            last = time.monotonic()
    return acc.result()


def attention(explainer: ClipExplainer, job: Job | None = None, chunk: int = 8) -> AttentionLane | None:
    """Attention over time for the transformer systems (seeds 002, 003); None for the others."""
    job = ensure_job(job)
    if not explainer.is_system or type(explainer.model).__name__ not in (
        "SkeletonFusionSystem",
        "CrossModalSystem",
    ):
        return None
    parts: dict[str, list[np.ndarray]] = {}
    n = len(explainer.batches)
    for b0 in range(0, n, chunk):
        job.check()
        with explainer.lock:
            att = architecture.attention_over_time(
                explainer.model, collate(explainer.batches[b0 : b0 + chunk])
            )
        for m, a in (att or {}).items():
            parts.setdefault(m, []).append(np.asarray(a))
        job.progress(min(b0 + chunk, n), n, "attention")
    if not parts:
        return None
    present = modality_presence(explainer.batch, explainer.modalities, n)
    win = float(explainer.model.window_seconds)
    duration = float(explainer.signals.duration)
    weights = {m: np.concatenate(chunks) for m, chunks in parts.items()}
    # One grid for all modalities, as fine as the finest one's steps.
    step = max(min(win / w.shape[1] for w in weights.values()), duration / MAX_COLUMNS)
    values, times = {}, np.zeros(0)
    for m, w in weights.items():
        times, values[m] = stitch_series(explainer.starts, win, w, duration, step, present.get(m))
    what = (
        "visual queries over audio steps"
        if type(explainer.model).__name__ == "CrossModalSystem"
        else "each stream's self-attention"
    )
    return AttentionLane(times, values, f"last layer: {what}; 1 = uniform")
