"""Seed 003, cross-modal attention: shapes, sizes, training specifics, inputs, masks, weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from affectscope.errors import WeightsError
from affectscope.models import registry
from affectscope.models.signals import ClipSignals, Track
from affectscope.models.systems.base import collate
from affectscope.models.systems.crossmodal import build
from affectscope.models.systems.crossmodal_encoders import FrameEncoder, SpeechEncoder
from affectscope.models.weights import load_state, save_state

RATE, FPS = 16000, 10.0


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def make_signals(
    seconds: float = 6.0, faces: bool = True, audio: bool = True, grey: bool = False
) -> ClipSignals:
    """Face crops whose brightness encodes their frame number, and a 440 Hz tone."""
    times = 0.013 + np.arange(int(seconds * FPS)) / FPS
    tracks: dict[str, Track] = {}
    if faces:
        shade = np.arange(len(times), dtype=np.uint8) * 4  # frame k is uniformly 4k grey
        if grey:
            tracks["face_crop64"] = Track(
                times, np.broadcast_to(shade[:, None, None], (len(times), 64, 64)).copy()
            )
        else:
            crops = np.broadcast_to(shade[:, None, None, None], (len(times), 96, 96, 3)).copy()
            tracks["face_crop96"] = Track(times, crops)
    if audio:
        t = np.arange(int(seconds * RATE)) / RATE
        tracks["audio"] = Track(t, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    return ClipSignals("hash", seconds, 640, 360, times, [[] for _ in times], tracks, audio_rate=RATE)


def random_batch(b: int = 2, size: int = 64, seconds: float = 1.0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {
        "visual": torch.randn(b, 8, 3, size, size, generator=gen),
        "audio": torch.randn(b, int(seconds * RATE), generator=gen) * 0.1,
    }


def test_forward_backward_small_configuration() -> None:
    model = build()
    batch = random_batch(seconds=5.0)
    out = model(batch)
    assert out.logits.shape == (2, 3)
    assert set(out.per_modality) == {"visual", "audio"}
    assert all(v.shape == (2, 3) for v in out.per_modality.values())
    assert {k: tuple(v.shape) for k, v in out.hidden.items()} == {"visual": (2, 256), "audio": (2, 256)}
    model.loss_fn(out, torch.tensor([0, 1])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_attention_block_size_by_hand() -> None:
    model = build()
    # N = 256, 8 heads, 3 classes. Three multi-head attentions: in-proj 3·N·N + 3·N, out-proj N·N + N;
    # three layer norms 2·N; three penultimate projections N·N + N; classifier 3N·3 + 3.
    mha = 3 * 256 * 256 + 3 * 256 + 256 * 256 + 256
    assert _count(model.attention) == 3 * mha + 3 * 512 + 3 * (256 * 256 + 256) + 768 * 3 + 3
    assert _count(model.visual_projection) == 512 * 256 + 256  # ResNet-18's 512 channels → N


@pytest.mark.slow
def test_paper_encoders() -> None:
    """ResNet101d as timm builds it and torchaudio's HuBERT Base, untrained; a short forward/backward."""
    model = build(vision_backbone="resnet101d", speech_encoder="hubert_base", frame_size=224)
    vision, speech = model.vision, model.speech
    # timm's resnet101d has 44,568,392 parameters, of which its 2048→1000 fc holds 2,049,000.
    assert _count(vision) == 44_568_392 - 2_049_000
    assert isinstance(vision.net.conv1, torch.nn.Sequential) and len(vision.net.conv1) == 7  # deep stem
    assert isinstance(vision.net.layer2[0].downsample[0], torch.nn.AvgPool2d)  # average-pool shortcut
    assert _count(speech) == 94_370_944  # torchaudio's hubert_base (no head)
    with torch.no_grad():
        assert vision(torch.randn(1, 3, 224, 224)).shape == (1, 2048, 7, 7)
    out = model(random_batch(b=2, size=32, seconds=0.5))
    assert out.logits.shape == (2, 3) and out.hidden["visual"].shape == (2, 256)
    out.logits.sum().backward()
    assert vision.net.conv1[0].weight.grad is not None
    assert speech.model.feature_extractor.conv_layers[0].conv.weight.grad is not None


def test_training_specifics_are_exposed_to_the_trainer() -> None:
    model = build()
    spec = registry.get("crossmodal-attention")
    assert spec.config["label_smoothing"] == 0.2 and spec.config["encoder_lr_scale"] == 1e-2
    # §5's 1e-2 applies to pretrained encoders; random ones train at the full rate until loaded
    assert model.label_smoothing == 0.2 and model.encoder_lr_scale == 1.0
    assert model.pretrained_lr_scale == 1e-2
    assert (model.learning_rate, model.weight_decay) == (1e-4, 1e-3)
    enc = {id(p) for p in model.encoder_parameters()}
    assert enc == {id(p) for p in [*model.vision.parameters(), *model.speech.parameters()]}
    head = [p for p in model.parameters() if id(p) not in enc]
    assert head and all(id(p) not in enc for p in model.attention.parameters())
    # Label-smoothed cross-entropy written out: (1 − ε)·NLL + ε·mean over classes of −log p.
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    target = torch.tensor([0, 1])
    logp = torch.log_softmax(logits, dim=1)
    smoothed = (0.8 * -logp[torch.arange(2), target] - 0.2 * logp.mean(dim=1)).mean()
    from affectscope.models.systems.base import SystemOutput

    assert torch.isclose(model.loss_fn(SystemOutput(logits), target), smoothed)


def test_registered_paper_configuration() -> None:
    spec = registry.get("crossmodal-attention-paper")
    assert spec.seed == "003" and spec.config["vision_backbone"] == "resnet101d"
    assert spec.config["speech_encoder"] == "hubert_base" and spec.config["num_frames"] == 8
    assert spec.modalities == ("visual", "audio") and spec.labels == ("positive", "neutral", "negative")


@pytest.mark.parametrize("grey", [False, True])
def test_batch_from_signals_picks_eight_equally_spaced_frames(grey: bool) -> None:
    model = build()
    batch = model.batch_from_signals(make_signals(grey=grey), 0.0, 5.0)
    assert batch["visual"].shape == (1, 8, 3, 64, 64)
    assert batch["audio"].shape == (1, 80_000)
    assert batch["visual_mask"].item() == 1.0 and batch["audio_mask"].item() == 1.0
    # Undo the ImageNet normalisation of channel 0 and read back which frame each one was.
    red = batch["visual"][0, :, 0].mean(dim=(1, 2)) * 0.229 + 0.485
    frames = torch.round(red * 255 / 4).long().tolist()
    assert frames == [3, 9, 15, 21, 28, 34, 40, 46]  # 50 frames in [0, 5): the centres of 8 equal slices
    np.testing.assert_allclose(batch["audio"][0, :16].numpy(), make_signals().tracks["audio"].values[:16])


def test_missing_modalities_become_zeros_and_mask_zero() -> None:
    model = build().eval()
    no_faces = model.batch_from_signals(make_signals(faces=False), 0.0, 5.0)
    no_audio = model.batch_from_signals(make_signals(audio=False), 0.0, 5.0)
    nothing = model.batch_from_signals(make_signals(faces=False, audio=False), 0.0, 5.0)
    assert no_faces["visual_mask"].item() == 0.0 and not no_faces["visual"].any()
    assert no_audio["audio_mask"].item() == 0.0 and not no_audio["audio"].any()
    assert nothing["visual_mask"].item() == 0.0 and nothing["audio_mask"].item() == 0.0
    with torch.no_grad():
        out = model(collate([no_faces, no_audio, nothing]))
    assert torch.isfinite(out.logits).all()
    assert not out.hidden["visual"][0].any() and not out.hidden["audio"][1].any()


def test_masked_audio_does_not_reach_the_fused_answer() -> None:
    model = build().eval()
    batch = model.batch_from_signals(make_signals(audio=False), 0.0, 5.0)
    noisy = dict(batch, audio=torch.randn_like(batch["audio"]))
    with torch.no_grad():
        torch.testing.assert_close(model(batch).logits, model(noisy).logits)
        present = dict(noisy, audio_mask=torch.ones(1))
        assert not torch.allclose(model(present).logits, model(batch).logits)


def test_trains_with_the_papers_optimiser_groups() -> None:
    """Adam with the encoders at 1e-2 of the head's rate (the paper's groups for pretrained encoders)
    still learns a class carried by the audio."""
    torch.manual_seed(0)
    model = build(frame_size=32, embed_dim=64, heads=4)
    enc = {id(p) for p in model.encoder_parameters()}
    head = [p for p in model.parameters() if id(p) not in enc]
    assert [g["lr"] for g in model.param_groups(3e-3)] == [3e-3, 3e-3, 3e-3]  # random: full rate
    model.vision.pretrained = model.speech.pretrained = True  # as load_backbone_weights marks them
    groups = model.param_groups(3e-3)
    assert [g["lr"] for g in groups] == [3e-3, 3e-5, 3e-5]  # head, vision, speech
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in head}
    opt = torch.optim.Adam(groups, weight_decay=model.weight_decay)
    target = torch.arange(6) % 3
    t = torch.arange(8000) / RATE
    audio = torch.stack([0.3 * torch.sin(2 * torch.pi * (200 + 600 * int(c)) * t) for c in target])
    batch = {"visual": torch.zeros(6, 8, 3, 32, 32), "audio": audio, "visual_mask": torch.zeros(6)}
    losses = []
    for _ in range(12):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch).logits, target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_weights_round_trip_and_clear_errors(tmp_path) -> None:
    model = build().eval()
    path = save_state(model, tmp_path / "crossmodal.safetensors")
    twin = load_state(build().eval(), path)
    batch = random_batch()
    with torch.no_grad():
        torch.testing.assert_close(model(batch).logits, twin(batch).logits)
    with pytest.raises(WeightsError, match="not found"):
        load_state(build(), tmp_path / "absent.safetensors")
    with pytest.raises(WeightsError, match="shape mismatch"):
        load_state(build(num_classes=8), path)
    (tmp_path / "junk.safetensors").write_bytes(b"\x80\x04not a safetensors file")
    with pytest.raises(WeightsError, match="pickled"):
        load_state(build(), tmp_path / "junk.safetensors")


def test_backbone_weights_load_or_say_what_is_wrong(tmp_path) -> None:
    model = build()
    with pytest.raises(WeightsError, match="frame encoder.*not found"):
        model.load_backbone_weights(vision=tmp_path / "resnet18.safetensors")
    donor = FrameEncoder("resnet18")
    save_file(
        {k: v.contiguous() for k, v in donor.net.state_dict().items()}, str(tmp_path / "r18.safetensors")
    )
    model.load_backbone_weights(vision=tmp_path / "r18.safetensors")
    torch.testing.assert_close(model.vision.net.conv1.weight, donor.net.conv1.weight)
    # A plain ResNet-18 file offered to the ResNet-D encoder: the message names the stem keys.
    paper = build(vision_backbone="resnet50d", speech_encoder="small")
    with pytest.raises(WeightsError, match="missing keys: conv1.0.weight"):
        paper.load_backbone_weights(vision=tmp_path / "r18.safetensors")
    speech = SpeechEncoder("small")
    save_file(
        {k: v.contiguous() for k, v in speech.model.state_dict().items()}, str(tmp_path / "s.safetensors")
    )
    model.load_backbone_weights(speech=tmp_path / "s.safetensors")


def test_frames_of_masked_samples_skip_the_cnn_without_changing_anything() -> None:
    model = build().eval()
    frames = torch.randn(3, 8, 3, 64, 64)
    with torch.no_grad():
        full = model._visual_maps(frames, torch.ones(3))
        part = model._visual_maps(frames, torch.tensor([1.0, 0.0, 1.0]))
        none = model._visual_maps(frames, torch.zeros(3))
    assert full.shape == part.shape == none.shape == (3, 512, 2, 2)
    torch.testing.assert_close(full[[0, 2]], part[[0, 2]], rtol=1e-4, atol=1e-5)
    assert not part[1].any() and not none.any()


@pytest.mark.slow
def test_runs_on_what_perception_extracts_from_a_real_clip(shared_data) -> None:
    """The real group clip through perception: face crops feed the frame CNN, its audio the encoder."""
    from affectscope.models.extractors.pipeline import extract_clip

    signals = extract_clip(shared_data / "clips" / "vgaf_val_1_1_negative.mp4", modalities=("faces", "audio"))
    model = build().eval()
    batch = model.batch_from_signals(signals, 0.0, model.window_seconds)
    assert batch["visual_mask"].item() == 1.0 and batch["audio_mask"].item() == 1.0
    assert batch["visual"].shape == (1, 8, 3, 64, 64) and batch["visual"].std() > 0.1
    with torch.no_grad():
        out = model(batch)
    assert torch.isfinite(out.logits).all() and out.hidden["visual"].abs().sum() > 0
