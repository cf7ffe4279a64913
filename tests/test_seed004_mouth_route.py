"""Why seed 004's mouth branch "contributes 0" (issue 19, item 5d): it is a router, not evidence.

The mouth CNN only chooses which network decides a window: mouth closed → the face-only CNN, open →
the audio-visual net. Muting it (``mouth_mask`` 0) falls back to "open when there is audio" (the
paper's rule for a missing mouth). So on every window where the mouth CNN says "open" — speech
windows, nearly always — muting it changes nothing and its Shapley / leave-one-out value is exactly 0
by construction; it matters only on windows with audio where it says "closed".
"""

from __future__ import annotations

import torch

from affectscope.models.inference import load_model


def _batch(n: int = 4) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "face": torch.rand(n, 3, 96, 96, generator=g),
        "face_mask": torch.ones(n),
        "mouth": torch.rand(n, 3, 28, 28, generator=g),
        "mouth_mask": torch.ones(n),
        "audio": torch.rand(n, 3, 64, 64, generator=g),
        "audio_mask": torch.ones(n),
    }


def _route_and_logits(model, batch):
    with torch.no_grad():
        out = model(batch)
    return out.hidden["route_audiovisual"].flatten(), out.logits


def test_muting_the_mouth_changes_nothing_when_it_says_open_and_everything_when_it_says_closed():
    _, model = load_model("lightweight-streaming")
    batch = _batch()
    muted = {**batch, "mouth_mask": torch.zeros(4)}
    saved = model.mouth_threshold
    try:
        model.mouth_threshold = -1.0  # the mouth CNN says "open" on every window
        route_open, logits_open = _route_and_logits(model, batch)
        route_muted, logits_muted = _route_and_logits(model, muted)
        assert route_open.eq(1).all() and route_muted.eq(1).all()
        assert torch.equal(logits_open, logits_muted)  # contribution exactly 0

        model.mouth_threshold = 2.0  # it says "closed": the face-only CNN decides instead
        route_closed, logits_closed = _route_and_logits(model, batch)
        assert route_closed.eq(0).all()
        assert not torch.allclose(logits_closed, logits_muted)
    finally:
        model.mouth_threshold = saved


def test_without_audio_the_mouth_never_matters():
    _, model = load_model("lightweight-streaming")
    batch = {**_batch(), "audio_mask": torch.zeros(4)}
    route, logits = _route_and_logits(model, batch)
    route_m, logits_m = _route_and_logits(model, {**batch, "mouth_mask": torch.zeros(4)})
    assert route.eq(0).all() and route_m.eq(0).all()
    assert torch.equal(logits, logits_m)
