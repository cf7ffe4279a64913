"""The shared trainer follows each system's declared training: loss, parameter groups, stages, schedules."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.nn import functional as F

from affectscope.models.systems.crossmodal import build as build_crossmodal
from affectscope.models.systems.fusical import build as build_fusical
from affectscope.models.systems.temporal import build as build_temporal
from affectscope.models.training.manifest_train import SystemWindows, train_on_samples
from affectscope.models.training.trainer import fit_system, stage_epochs, system_loss
from affectscope.models.weights import read_card
from tests.conftest import skip_or_fail
from tests.signals_factory import make_signals

torch.set_num_threads(1)


def _windows(model: Any, n: int = 6, seed: int = 0) -> SystemWindows:
    signals = [make_signals(duration=4.0, seed=seed + i) for i in range(n)]
    return SystemWindows(model, signals, [i % 3 for i in range(n)], max_windows=1)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v.detach()) for k, v in module.named_parameters())


def test_stage_epochs_split_the_budget_with_one_epoch_at_least() -> None:
    assert stage_epochs([1, 1], 10) == [5, 5]
    assert stage_epochs([1, 1, 1], 2) == [1, 1, 1]
    assert stage_epochs([1, 3], 8) == [2, 6]


def test_crossmodal_loss_is_label_smoothed_and_encoders_learn_at_a_hundredth() -> None:
    torch.manual_seed(0)
    model = build_crossmodal()
    gen = torch.Generator().manual_seed(0)
    items = [
        (
            {
                "visual": torch.randn(1, 8, 3, 64, 64, generator=gen),
                "audio": torch.randn(1, 80000, generator=gen),
            },
            k,
        )
        for k in (0, 1)
    ]
    name, loss = system_loss(model, None)
    assert "label smoothing 0.2" in name
    batch = {k: torch.cat([x[k] for x, _ in items]) for k in items[0][0]}
    y = torch.tensor([0, 1])
    model.eval()
    with torch.no_grad():
        out = model(batch)
        expected = sum(
            F.cross_entropy(logits, y, label_smoothing=0.2)
            for logits in (out.logits, *out.per_modality.values())
        )
        assert torch.allclose(loss(out, y, batch, 0), expected)
        assert not torch.allclose(loss(out, y, batch, 0), F.cross_entropy(out.logits, y) * 3)

    encoders = torch.nn.ModuleList([model.vision, model.speech])
    head = torch.nn.ModuleList([model.attention, model.visual_projection, model.audio_projection])
    enc0, head0 = _snapshot(encoders), _snapshot(head)
    # One Adam step (2 examples, batch 2): each parameter moves by about its group's learning rate.
    _, record = fit_system(model, lambda m, x: m(x), items, items, epochs=1, batch_size=2)
    groups = record["stages"][0]["param_groups"]
    assert record["lr"] == pytest.approx(1e-4) and record["weight_decay"] == pytest.approx(1e-3)
    # §5 lowers the rate of *pretrained* encoders; these are random, so they learn at the head's rate.
    assert [g["lr"] for g in groups] == pytest.approx([1e-4, 1e-4, 1e-4])
    assert sum(g["n_params"] for g in groups[1:]) == sum(p.numel() for p in encoders.parameters())
    step_enc = max((p.detach() - enc0[k]).abs().max() for k, p in encoders.named_parameters())
    step_head = max((p.detach() - head0[k]).abs().max() for k, p in head.named_parameters())
    assert 0.3 < float(step_enc / step_head) < 3
    # Once an encoder is pretrained (a loaded checkpoint), it learns at a hundredth of the head's rate.
    model.vision.pretrained = True
    rates = {g["name"]: g["lr"] for g in model.param_groups(1e-4)}
    assert rates == pytest.approx({"head": 1e-4, "vision": 1e-6, "speech": 1e-4})


def test_fusical_branches_stop_changing_once_the_fusion_stage_starts() -> None:
    torch.manual_seed(0)
    model = build_fusical()
    assert [s.name for s in model.training_stages] == ["branches", "fusion"]
    start_branches = _snapshot(model.branches)
    at_switch: dict[str, dict[str, torch.Tensor]] = {}
    freeze = model.freeze_branches

    def spy_freeze(frozen: bool = True) -> None:  # records the weights at the switch, then freezes
        if frozen:
            at_switch["branches"], at_switch["fusion"] = _snapshot(model.branches), _snapshot(model.fusion)
        freeze(frozen)

    model.freeze_branches = spy_freeze  # type: ignore[method-assign]
    train, val = _windows(model, 6), _windows(model, 3, seed=50)
    res, record = fit_system(model, lambda m, x: m(x), train, val, epochs=4, batch_size=3)
    assert [s["name"] for s in record["stages"]] == ["branches", "fusion"]
    assert [s["epochs"] for s in record["stages"]] == [2, 2]
    assert (
        record["stages"][1]["freeze_branches"]
        and record["stages"][1]["loss"] == "training_loss(stage='fusion')"
    )
    trained = [sum(g["n_params"] for g in stage["param_groups"]) for stage in record["stages"]]
    assert trained[1] < trained[0]  # the fusion stage trains only the fusion layer
    assert _changed(start_branches, model.branches)  # the branches stage trained them
    assert not _changed(at_switch["branches"], model.branches)  # frozen during fusion
    assert _changed(at_switch["fusion"], model.fusion)  # while the fusion still learned
    assert [r["stage"] for r in res.history] == ["branches"] * 2 + ["fusion"] * 2
    assert all(p.requires_grad for p in model.parameters())  # unfrozen again afterwards


def test_temporal_schedules_follow_the_epochs_of_each_stage() -> None:
    torch.manual_seed(0)
    model = build_temporal(face_hidden=16, c3d_hidden=16, face_steps=16)
    seen: list[tuple[str, int]] = []
    training_loss = model.training_loss

    def spy_loss(output: Any, labels: torch.Tensor, batch: Any, stage: str = "fusion", epoch: int = 0) -> Any:
        seen.append((stage, epoch))
        return training_loss(output, labels, batch, stage=stage, epoch=epoch)

    model.training_loss = spy_loss  # type: ignore[method-assign]
    train, val = _windows(model, 4), _windows(model, 2, seed=50)
    res, record = fit_system(model, lambda m, x: m(x), train, val, epochs=6, batch_size=2)
    assert [s["name"] for s in record["stages"]] == ["windows", "modalities", "fusion"]
    assert {e for s, e in seen if s == "windows"} == {0, 1} == {e for s, e in seen if s == "fusion"}
    temps = [r["temperature"] for r in res.history if r["stage"] == "windows"]
    gammas = [r["gamma"] for r in res.history if r["stage"] == "fusion"]
    assert temps == [model.temperature(0), model.temperature(1)] and temps[0] > temps[1]
    assert gammas == [pytest.approx(model.gamma(0)), pytest.approx(model.gamma(1))] and gammas[0] > gammas[1]


def test_weighted_mean_weights_are_chosen_on_validation() -> None:
    torch.manual_seed(0)
    model = build_temporal(fusion="weighted_mean", face_hidden=16, c3d_hidden=16, face_steps=16)
    train, val = _windows(model, 4), _windows(model, 3, seed=50)
    _, record = fit_system(model, lambda m, x: m(x), train, val, epochs=3, batch_size=2)
    weights = record["fusion_weights"]
    assert set(weights) == {"face", "c3d", "audio"} and sum(weights.values()) == pytest.approx(1.0)
    assert model.fusion_weight_map() == pytest.approx(weights)
    assert "skipped" in record["stages"][2]  # a weighted mean has nothing to learn by gradient


def test_the_model_card_records_the_schedule(tmp_path: Path, shared_data: Path) -> None:
    from affectscope.models.training.datasets import read_manifest

    emodb = shared_data / "emodb"
    if not emodb.is_dir():
        skip_or_fail(f"EmoDB not in the shared data at {shared_data}")
    labels = {"W": "negative", "A": "negative", "F": "positive", "N": "neutral"}
    rows = []
    for speaker in ("03", "08", "09", "10"):
        files = sorted(f for f in emodb.glob(f"{speaker}*.wav") if f.name[5] in labels)[:3]
        rows += [(str(f), labels[f.name[5]]) for f in files]
    manifest = tmp_path / "m.csv"
    with manifest.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    samples, _ = read_manifest(manifest)
    out = tmp_path / "fusical.safetensors"
    card = train_on_samples("fusical", samples, out, "speaker", epochs=2)
    saved = read_card(out)
    assert saved is not None and saved["training"] == card["training"]
    stages = saved["training"]["stages"]
    assert [(s["name"], s["freeze_branches"], s["epochs"]) for s in stages] == [
        ("branches", False, 1),
        ("fusion", True, 1),
    ]
    assert [r["stage"] for r in saved["fit"]["history"]] == ["branches", "fusion"]
