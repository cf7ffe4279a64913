"""Seed 004: multimodal sentiment on video streams with lightweight networks (Yakaew et al. 2021).

Per analysed moment: find the face and mouth, classify the mouth open/closed (28×28 CNN, sigmoid
thresholded at 0.5, eq. 2); closed → the face-only CNN (96×96) decides; open → the audio-visual
net decides (the face CNN and a spectrogram CNN, 400×400, whose softmax outputs are concatenated
and classified by a 6→3 softmax layer). Predictions over time are accumulated with an
exponentially weighted moving average (eq. 1, ``ewma``), started from y0 = 0 as eq. 1 does.

EWMA time constant: the paper predicts every 30 ms with alpha = 0.1, a memory of
-0.03 / ln(0.9) ≈ 0.285 s. Here one prediction covers a 1 s window every 0.25 s, so alpha is set
from that time constant (``ewma_time_constant``): alpha = 1 − exp(−hop / 0.285) ≈ 0.58 at 0.25 s.
(alpha = 0.1 at our hop would remember ~2.4 s.) An explicit ``ewma_alpha`` overrides it.

Here one prediction covers a 1 s window (hop 0.25 s): the face and mouth crops of the analysed
frame nearest the window's centre and the spectrogram of the window's audio. Inputs come from
``ClipSignals`` tracks ``face_crop96`` (N, 96, 96, 3) and ``mouth_crop28`` (N, 28, 28, 3), uint8,
which the inference pipeline adds from the decoded frames (``add_crops``), and ``audio``.
Missing face → audio-only decision; missing audio → face-only; missing mouth → open when there is
audio. Nothing missing ever raises.

With ``speaker_norm`` (off for the shipped weights, which scored better without it; on for weights
whose card says so) every spectrogram image is standardised per frequency row with its speaker's
statistics, computed from the clips being analysed (``adapt``: ``evaluate`` and project evaluations
pass every clip with its speaker first), falling back to the run's pooled clips, a long lone clip's
own statistics, or the training set's (``speaker_norm.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from affectscope.models.signals import ClipSignals, Track
from affectscope.models.systems.base import Batch, EmotionSystem, SystemOutput, collate
from affectscope.models.systems.lightweight_inputs import (
    FACE_SIZE,
    MOUTH_SIZE,
    SPEC_SIZE,
    face_tensor,
    mouth_tensor,
    spectrogram_image,
    spectrogram_images,
    stft_params,
)
from affectscope.models.systems.lightweight_nets import (
    AudioVisualNet,
    MouthNet,
    paper_parameter_count,
    visual_cnn,
)
from affectscope.models.systems.speaker_norm import (
    MIN_CLIP_SECONDS,
    MIN_GROUP,
    AudioKeys,
    clip_moments,
    resolve,
    to_network,
)

EWMA_ALPHA = 0.1  # the paper's, per 30 ms step
PAPER_STEP_S = 0.03
EWMA_TIME_CONSTANT = -PAPER_STEP_S / float(np.log(1 - EWMA_ALPHA))  # ≈ 0.285 s


def alpha_for_step(step_s: float, time_constant: float = EWMA_TIME_CONSTANT) -> float:
    """The EWMA coefficient that keeps ``time_constant`` seconds of memory at ``step_s`` per prediction."""
    return float(1.0 - np.exp(-step_s / time_constant))


FACE_TRACK = "face_crop96"
MOUTH_TRACK = "mouth_crop28"


def ewma(probs: np.ndarray, alpha: float = EWMA_ALPHA, y0: np.ndarray | None = None) -> np.ndarray:
    """Eq. 1: a_0 = y_0 (the first prediction, or ``y0``), a_t = alpha·y_t + (1 − alpha)·a_{t−1}.

    The paper's clip decision used y_0 = 0; pass ``y0=np.zeros(C)`` for that.
    """
    p = np.asarray(probs, dtype=np.float64)
    out = np.empty_like(p)
    if len(p) == 0:
        return out
    acc = p[0] if y0 is None else alpha * p[0] + (1 - alpha) * np.asarray(y0, dtype=np.float64)
    out[0] = acc
    for t in range(1, len(p)):
        acc = alpha * p[t] + (1 - alpha) * acc
        out[t] = acc
    return out


def _nearest_in(track: Track, t0: float, t1: float) -> np.ndarray | None:
    """The track's sample inside [t0, t1) nearest the window centre, or None."""
    if len(track) == 0:
        return None
    lo, hi = np.searchsorted(track.times, [t0, t1], side="left")
    if hi <= lo:
        return None
    centre = (t0 + t1) / 2
    i = lo + int(np.argmin(np.abs(track.times[lo:hi] - centre)))
    return track.values[i]


class LightweightStreaming(EmotionSystem):
    """Mouth-routed face / audio-visual sentiment (seed 004)."""

    modalities = ("face", "mouth", "audio")
    #: what ``adapt`` reads: the speaker statistics come from sound alone (no face perception for them)
    adapt_modalities = ("audio",)

    def __init__(
        self,
        num_classes: int = 3,
        window_seconds: float = 1.0,
        hop_seconds: float = 0.25,
        ewma_alpha: float | None = None,
        mouth_threshold: float = 0.5,
        audio_rate: int = 16000,
        spectrogram_size: int = SPEC_SIZE,
        ewma_time_constant: float = EWMA_TIME_CONSTANT,
        speaker_norm: bool = False,
        min_group: int = MIN_GROUP,
        min_clip_seconds: float = MIN_CLIP_SECONDS,
        **_paper: Any,
    ) -> None:
        super().__init__()
        self.shared_settings(num_classes, window_seconds, hop_seconds)
        self.ewma_alpha = (
            float(ewma_alpha) if ewma_alpha is not None else alpha_for_step(hop_seconds, ewma_time_constant)
        )
        #: eq. 1's y0: the accumulator starts from zero
        self.ewma_y0 = np.zeros(num_classes)
        self.spectrogram_size = int(spectrogram_size)
        self.mouth_threshold = mouth_threshold
        self.audio_rate = audio_rate
        self.mouth = MouthNet()
        self.visual = visual_cnn(num_classes)  # face-only classifier (mouth closed)
        # its own face CNN + audio CNN + fusion
        self.audiovisual = AudioVisualNet(num_classes, self.spectrogram_size)
        self.speaker_norm = bool(speaker_norm)
        self.min_group, self.min_clip_seconds = int(min_group), float(min_clip_seconds)
        #: audio content key -> (row mean, row std, how) or None (the training statistics apply)
        self._norm: dict[bytes, tuple[np.ndarray, np.ndarray, str] | None] = {}
        self._keys = AudioKeys()

    # -- speaker normalisation --------------------------------------------------------------------
    def adapt(self, clips: Iterable[tuple[ClipSignals, str]]) -> dict[str, int]:
        """Speaker statistics of these (clip, speaker) pairs, consumed lazily (only each clip's row
        sums are kept); returns how many clips are normalised each way. A no-op without
        ``speaker_norm`` (the generator is then never read, so nothing is decoded)."""
        if not self.speaker_norm:
            return {}
        keys, moments, groups = [], [], []
        for sig, speaker in clips:
            wave = self._wave(sig)
            if wave is None:
                continue
            keys.append(self._keys(sig.track("audio").values))
            moments.append(clip_moments(wave, sig.audio_rate, self.spectrogram_size, 1.0, self.hop_seconds))
            groups.append(speaker)
        if not moments:
            return {}
        resolved = resolve(moments, groups, self.min_group, self.min_clip_seconds)
        for key, r in zip(keys, resolved, strict=True):
            self._norm[key] = r
        hows = [r[2] if r is not None else "training" for r in resolved]
        return {h: hows.count(h) for h in set(hows)}

    def follow_card(self, card: dict[str, Any] | None) -> None:
        """Weights whose card says how their audio CNN's input was normalised (``speaker_norm``) are
        run that way, whatever the registry's default: the network only knows the inputs it learnt."""
        if card and isinstance(card.get("speaker_norm"), bool):
            self.speaker_norm = card["speaker_norm"]

    def normalisation_of(self, signals: ClipSignals) -> tuple[np.ndarray, np.ndarray, str] | None:
        """The (row mean, row std, how) a clip's images are standardised with, or None (training
        statistics). A clip ``adapt`` never saw is a lone clip: its own statistics when its speech
        lasts ``min_clip_seconds``, else None."""
        if not self.speaker_norm:
            return None
        wave = self._wave(signals)
        if wave is None:
            return None
        key = self._keys(signals.track("audio").values)
        if key not in self._norm:
            m = clip_moments(wave, signals.audio_rate, self.spectrogram_size, 1.0, self.hop_seconds)
            self._norm[key] = resolve([m], ["lone"], self.min_group, self.min_clip_seconds)[0]
        return self._norm[key]

    def _standardised(self, signals: ClipSignals, spec: torch.Tensor | None) -> torch.Tensor | None:
        norm = None if spec is None else self.normalisation_of(signals)
        if norm is None:
            return spec
        net_norm = self.audiovisual.audio.input_norm
        return to_network(spec, norm[0], norm[1], net_norm.mean, net_norm.std)

    @staticmethod
    def _wave(signals: ClipSignals) -> np.ndarray | None:
        track = signals.track("audio")
        return None if len(track) == 0 else np.asarray(track.values, np.float32).reshape(-1)

    # -- inputs ---------------------------------------------------------------------------------
    def batch_from_signals(self, signals: ClipSignals, t0: float, t1: float) -> Batch:
        audio = self._audio(signals, t0, t1)
        spec = None if audio is None else spectrogram_image(audio, signals.audio_rate, self.spectrogram_size)
        return self._window_batch(signals, t0, t1, self._standardised(signals, spec))

    def batch_from_windows(self, windows: list[tuple[ClipSignals, float, float]]) -> Batch:
        """Spectrograms of all windows in one batched STFT per (rate, length) group."""
        audios = [self._audio(s, t0, t1) for s, t0, t1 in windows]
        specs: list[torch.Tensor | None] = [None] * len(windows)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, a in enumerate(audios):
            if a is not None:
                groups.setdefault((windows[i][0].audio_rate, len(a)), []).append(i)
        for (rate, _), idx in groups.items():
            imgs = spectrogram_images(
                torch.from_numpy(np.stack([audios[i] for i in idx])), rate, self.spectrogram_size
            )
            for j, i in enumerate(idx):
                specs[i] = self._standardised(windows[i][0], imgs[j])
        return collate([self._window_batch(s, t0, t1, specs[i]) for i, (s, t0, t1) in enumerate(windows)])

    def _window_batch(self, signals: ClipSignals, t0: float, t1: float, spec: torch.Tensor | None) -> Batch:
        face = _nearest_in(signals.track(FACE_TRACK), t0, t1)
        mouth = _nearest_in(signals.track(MOUTH_TRACK), t0, t1)
        size = self.spectrogram_size
        return {
            "face": (face_tensor(face) if face is not None else torch.zeros(3, FACE_SIZE, FACE_SIZE))[None],
            "face_mask": torch.tensor([float(face is not None)]),
            "mouth": (mouth_tensor(mouth) if mouth is not None else torch.zeros(3, MOUTH_SIZE, MOUTH_SIZE))[
                None
            ],
            "mouth_mask": torch.tensor([float(mouth is not None)]),
            "audio": (spec if spec is not None else torch.zeros(3, size, size))[None],
            "audio_mask": torch.tensor([float(spec is not None)]),
        }

    def _audio(self, signals: ClipSignals, t0: float, t1: float) -> np.ndarray | None:
        track = signals.track("audio")
        if len(track) == 0:
            return None
        lo, hi = np.searchsorted(track.times, [t0, t1], side="left")
        w, _ = stft_params(signals.audio_rate)
        if hi - lo < w:
            return None
        x = np.asarray(track.values[lo:hi], dtype=np.float32)
        want = int(round((t1 - t0) * signals.audio_rate))
        if len(x) < want:  # the clip's last window: pad with silence so the time scale stays fixed
            x = np.pad(x, (0, want - len(x)))
        return x

    # -- forward --------------------------------------------------------------------------------
    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        face, audio = batch["face"], batch["audio"]
        fm = batch.get("face_mask", torch.ones(face.shape[0], device=face.device))[:, None]
        am = batch.get("audio_mask", torch.ones(face.shape[0], device=face.device))[:, None]
        mm = batch.get("mouth_mask", torch.ones(face.shape[0], device=face.device))[:, None]

        # Networks whose input is absent from the whole batch are skipped (an audio-only evaluation
        # runs only the audio CNN); their outputs are zeros, which the masks below never select.
        b = face.shape[0]
        zeros = face.new_zeros(b, self.num_classes)
        any_face, any_audio = bool((fm > 0).any()), bool((am > 0).any())
        p_open = torch.sigmoid(self.mouth(batch["mouth"])) if bool((mm > 0).any()) else face.new_zeros(b, 1)
        face_only = self.visual(face) if any_face else zeros
        av_face = self.audiovisual.face(face) if any_face and any_audio else zeros
        audio_logits = self.audiovisual.audio(audio) if any_audio else zeros
        pf = torch.softmax(av_face, dim=1) * fm
        pa = torch.softmax(audio_logits, dim=1) * am
        av_logits = self.audiovisual.fuse(pf, pa)

        has_face, has_audio = fm > 0, am > 0
        # Boolean algebra, not torch.where on booleans: ONNX Runtime has no boolean Where kernel.
        mouth_open = ((mm > 0) & (p_open >= self.mouth_threshold)) | ((mm <= 0) & has_audio)
        use_av = has_face & has_audio & mouth_open
        fused = torch.where(use_av, av_logits, face_only)
        fused = torch.where(~has_face & has_audio, audio_logits, fused)
        fused = torch.where(~has_face & ~has_audio, torch.zeros_like(fused), fused)
        return SystemOutput(
            logits=fused,
            per_modality={"face": face_only, "audio": audio_logits, "audiovisual": av_logits},
            hidden={"face": pf, "audio": pa, "mouth": p_open, "route_audiovisual": use_av.float()},
        )

    def decision_bias(self) -> torch.nn.Parameter:
        """The audio CNN's classifier bias: audio-only windows decide by it, and the audio-visual
        fusion reads the shifted audio probabilities (``models.class_bias``)."""
        return self.audiovisual.audio.classifier.bias

    def paper_parameter_counts(self) -> dict[str, int]:
        """Parameters per network, counted as the paper's tables count them."""
        return {
            "mouth": paper_parameter_count(self.mouth),
            "visual": paper_parameter_count(self.visual),
            "audio": paper_parameter_count(self.audiovisual.audio),
            "audiovisual": paper_parameter_count(self.audiovisual),
            "total": paper_parameter_count(self),
        }


def build(**config: Any) -> LightweightStreaming:
    return LightweightStreaming(**config)
