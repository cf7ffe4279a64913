"""Seed 002, skeleton fusion: shapes, sizes, inputs from ClipSignals, masks, training, weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from affectscope.errors import WeightsError
from affectscope.models import registry
from affectscope.models.signals import ClipSignals, FaceObservation, Track
from affectscope.models.systems.base import collate
from affectscope.models.systems.skeleton import SkeletonFusionSystem, build
from affectscope.models.weights import load_state, save_state

WIDTH, HEIGHT, FPS, RATE = 640, 360, 10.0, 16000
OFFSET = 0.013  # frames off the window's step grid, so "the sample in force" is never a tie


def make_signals(
    seconds: float = 6.0, faces: bool = True, audio: bool = True, pose: bool = True
) -> ClipSignals:
    """A hand-built clip: one face whose 'happy' probability rises, a person walking right, a tone."""
    times = OFFSET + np.arange(int(seconds * FPS)) / FPS
    n = len(times)
    tracks: dict[str, Track] = {}
    per_frame: list[list[FaceObservation]] = [[] for _ in range(n)]
    if faces:
        expr = np.full((n, 7), 0.1, np.float32)
        expr[:, 3] = np.linspace(0.1, 0.9, n)
        per_frame = [[FaceObservation(0, (100, 50, 200, 150), None, e, 0.2)] for e in expr]
        feats = np.concatenate([expr, expr, expr, np.ones((n, 1), np.float32)], axis=1)
        tracks["face_features22"] = Track(times, feats)
        tracks["face_count"] = Track(times, np.ones(n, np.float32))
    else:
        tracks["face_count"] = Track(times, np.zeros(n, np.float32))
    if pose:
        kp = np.zeros((n, 33, 4), np.float32)
        kp[..., 0] = np.linspace(50, 600, n)[:, None]  # x in pixels
        kp[..., 1] = 180.0
        kp[..., 2] = -0.3  # z
        kp[..., 3] = 0.9  # visibility
        tracks["pose"] = Track(times, kp)
    if audio:
        t = np.arange(int(seconds * RATE)) / RATE
        tracks["audio"] = Track(t, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    else:
        tracks["audio"] = Track.empty("clip has no audio track")
    return ClipSignals("hash", seconds, WIDTH, HEIGHT, times, per_frame, tracks, audio_rate=RATE)


def random_batch(model: SkeletonFusionSystem, b: int = 2) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {m: torch.randn(b, model.seq_len, model.sources[m][1], generator=gen) for m in model.modalities}


def test_forward_backward_at_paper_sizes() -> None:
    model = build()
    out = model(random_batch(model))
    assert out.logits.shape == (2, 3)
    assert set(out.per_modality) == {"visual", "audio", "skeleton"}
    assert all(v.shape == (2, 3) for v in out.per_modality.values())
    # Fusion input: each stream's NeXtVLAD descriptor, clusters 4 × (2·128 / 8 groups) = 128
    assert {k: tuple(v.shape) for k, v in out.hidden.items()} == {m: (2, 128) for m in model.modalities}
    model.loss_fn(out, torch.tensor([0, 2])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_paper_configuration_and_inputs() -> None:
    model = build(inputs="paper", num_classes=8)
    stream = model.streams["visual"]
    assert isinstance(stream.project, torch.nn.Identity)  # Swin's 768 features go straight in
    assert stream.encoder.self_attn.num_heads == 4
    assert (stream.vlad.groups, stream.vlad.clusters) == (8, 4)
    assert model.fusion.w1.out_features == 512 and model.classifier[0].in_features == 512
    out = model(random_batch(model))
    assert out.logits.shape == (2, 8)
    assert out.hidden["visual"].shape == (2, 768) and out.hidden["skeleton"].shape == (2, 128)
    out.logits.sum().backward()
    # The paper gives no counts; the fusion head by hand: SE on 768+128+128 = 1024 features
    # (W1 1024·512 + BN 1024 + W2 512·64+64 + BN 128 + W3 64·512+512) and MLP 512·512+512 + 512·8+8.
    se = sum(p.numel() for p in model.fusion.parameters())
    mlp = sum(p.numel() for p in model.classifier.parameters())
    assert se == 524_288 + 1_024 + 32_832 + 128 + 33_280
    assert mlp == 262_656 + 4_104


def test_registered_with_the_papers_values() -> None:
    spec = registry.get("skeleton-fusion")
    assert spec.seed == "002" and spec.labels == ("positive", "neutral", "negative")
    assert spec.config["heads"] == 4 and spec.config["groups"] == 8 and spec.config["clusters"] == 4
    assert spec.config["seq_len"] == 100 and spec.config["fusion_dim"] == 512
    model = spec.build()
    assert isinstance(model, SkeletonFusionSystem) and model.num_classes == 3


def test_batch_from_signals_with_everything() -> None:
    model = build()
    signals = make_signals()
    batch = model.batch_from_signals(signals, 1.0, 5.0)
    assert batch["visual"].shape == (1, 100, 22)
    assert batch["audio"].shape == (1, 100, 64)
    assert batch["skeleton"].shape == (1, 100, 99)
    assert all(batch[f"{m}_mask"].item() == 1.0 for m in model.modalities)
    # Step i is centred on 1 + (i + 0.5)·0.04 s; the sample in force is frame floor((t − offset) · 10).
    step_t = 1.0 + (np.arange(100) + 0.5) * 0.04
    frame = np.floor((step_t - OFFSET) * FPS).astype(int)
    x_expected = signals.tracks["pose"].values[frame, 0, 0] / WIDTH
    np.testing.assert_allclose(batch["skeleton"][0, :, 0].numpy(), x_expected, rtol=1e-6)
    np.testing.assert_allclose(batch["skeleton"][0, :, 1].numpy(), 0.5)
    np.testing.assert_allclose(batch["skeleton"][0, :, 2].numpy(), 0.9)  # visibility, not z
    happy = batch["visual"][0, :, 3].numpy()
    assert np.all(np.diff(happy) >= 0) and happy[-1] > happy[0]
    # A 440 Hz tone: one loudest mel band in every step (the window's edges aside), far above silence.
    mel = batch["audio"][0].numpy()
    assert len(set(mel[1:-1].argmax(axis=1))) == 1 and mel.max() > np.log(0.01) + 5


def test_xyz_channels_select_z() -> None:
    model = build(skeleton_channels="xyz")
    batch = model.batch_from_signals(make_signals(), 0.0, 4.0)
    np.testing.assert_allclose(batch["skeleton"][0, :, 2].numpy(), -0.3)


def test_missing_modalities_become_zeros_and_mask_zero() -> None:
    model = build().eval()
    bare = make_signals(faces=False, audio=False, pose=False)
    batch = model.batch_from_signals(bare, 0.0, 4.0)
    for m in model.modalities:
        assert batch[f"{m}_mask"].item() == 0.0
        assert not batch[m].any()
    # A window past the end of every track: nothing there either, still no exception.
    late = model.batch_from_signals(make_signals(), 10.0, 14.0)
    assert all(late[f"{m}_mask"].item() == 0.0 for m in model.modalities)
    out = model(collate([batch, late]))
    assert torch.isfinite(out.logits).all()
    assert all(not h.any() for h in out.hidden.values())


def test_masked_modality_does_not_reach_the_fused_answer() -> None:
    model = build().eval()
    batch = model.batch_from_signals(make_signals(audio=False), 0.0, 4.0)
    assert batch["audio_mask"].item() == 0.0
    noisy = dict(batch, audio=torch.randn_like(batch["audio"]) * 10)
    with torch.no_grad():
        a, b = model(batch), model(noisy)
    torch.testing.assert_close(a.logits, b.logits)
    # ...while the skeleton, which is present, does.
    moved = dict(batch, skeleton=batch["skeleton"] + 0.5)
    with torch.no_grad():
        assert not torch.allclose(model(moved).logits, a.logits)


def test_trains_on_a_learnable_signal() -> None:
    """Where the person stands (skeleton x) decides the class: a few Adam steps must learn it."""
    torch.manual_seed(0)
    model = build(stream_widths={"visual": 32, "audio": 32, "skeleton": 32}, mlp_hidden=64, fusion_dim=64)
    gen = torch.Generator().manual_seed(1)
    target = torch.arange(24) % 3
    batch = {m: torch.randn(24, 100, model.sources[m][1], generator=gen) * 0.1 for m in model.modalities}
    batch["skeleton"][:, :, 0::3] += target.reshape(-1, 1, 1).float()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch).logits, target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    with torch.no_grad():
        assert (model(batch).logits.argmax(1) == target).float().mean() > 0.9


def test_weights_round_trip_and_clear_errors(tmp_path) -> None:
    model = build().eval()
    path = save_state(model, tmp_path / "skeleton.safetensors", card={"data": "synthetic"})
    twin = load_state(build().eval(), path)
    batch = random_batch(model)
    with torch.no_grad():
        torch.testing.assert_close(model(batch).logits, twin(batch).logits)

    with pytest.raises(WeightsError, match="not found"):
        load_state(build(), tmp_path / "absent.safetensors")
    with pytest.raises(WeightsError, match="shape mismatch.*classifier"):
        load_state(build(num_classes=8), path)
    with pytest.raises(WeightsError, match="missing keys"):
        partial = {k: v for k, v in model.state_dict().items() if not k.startswith("fusion.")}
        save_file({k: v.contiguous() for k, v in partial.items()}, str(tmp_path / "partial.safetensors"))
        load_state(build(), tmp_path / "partial.safetensors")
    torch.save(model.state_dict(), tmp_path / "pickled.pt")
    with pytest.raises(WeightsError, match="pickled"):
        load_state(build(), tmp_path / "pickled.pt")


@pytest.mark.slow
def test_learns_sentiment_from_real_speech(shared_data) -> None:
    """EmoDB (audio stream only, the other two masked), speaker-independent: validation loss drops."""
    from affectscope.models.training.datasets import emodb
    from affectscope.models.training.loaders import load_audio

    samples = emodb(shared_data / "emodb")
    train_speakers = {"03", "08", "09", "10", "11", "12", "13", "14"}
    train = [s for s in samples if s.speaker.split(":")[1] in train_speakers]
    val = [s for s in samples if s.speaker.split(":")[1] in {"15", "16"}]
    train = [train[i] for i in np.random.default_rng(0).permutation(len(train))[:160]]
    torch.manual_seed(0)
    model = build()

    def batch_of(items):
        batches = []
        for s in items:
            x = load_audio(s.path)
            track = Track(np.arange(len(x)) / RATE, x)
            signals = ClipSignals(s.path.stem, len(x) / RATE, 0, 0, np.zeros(0), [], {"audio": track})
            batches.append(model.batch_from_signals(signals, 0.0, model.window_seconds))
        return collate(batches), torch.tensor([s.label for s in items])

    (xb, yb), (xv, yv) = batch_of(train), batch_of(val)
    assert xb["audio_mask"].all() and not xb["visual_mask"].any() and not xb["skeleton_mask"].any()

    def val_loss() -> float:
        model.eval()
        with torch.no_grad():
            loss = torch.nn.functional.cross_entropy(model(xv).logits, yv).item()
        model.train()
        return loss

    before, losses = val_loss(), []
    opt = torch.optim.Adam(model.param_groups(3e-4))
    for epoch in range(5):
        order = torch.randperm(len(yb), generator=torch.Generator().manual_seed(epoch))
        for i in range(0, len(order), 16):
            idx = order[i : i + 16]
            opt.zero_grad()
            model.loss_fn(model({k: v[idx] for k, v in xb.items()}), yb[idx]).backward()
            opt.step()
        losses.append(val_loss())
    assert min(losses) < before - 0.1, (before, losses)


@pytest.mark.slow
def test_runs_on_what_perception_extracts_from_a_real_clip(shared_data) -> None:
    """The real group clip (faces, people, speech) through perception, then windows over the clip."""
    from affectscope.models.extractors.pipeline import extract_clip

    signals = extract_clip(shared_data / "clips" / "vgaf_val_1_1_negative.mp4", rate_hz=10.0)
    model = build().eval()
    starts = np.arange(0.0, signals.duration - model.window_seconds + 1e-9, model.hop_seconds)
    batch = collate([model.batch_from_signals(signals, t, t + model.window_seconds) for t in starts])
    for m in model.modalities:
        assert batch[f"{m}_mask"].all(), m  # faces, a person and sound are all in this clip
    with torch.no_grad():
        out = model(batch)
    assert out.logits.shape == (len(starts), 3) and torch.isfinite(out.logits).all()
