"""Retraining one modality alone (issue 19, item 5): the face heads of fusical and skeleton-fusion learn
from the sharp FER-2013 train images while every speech-only decision stays exactly as the kept weights
made it, so the speech figures that judged those weights still hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.models.registry import get

SYSTEMS = [("fusical", "default-000", "face"), ("skeleton-fusion", "default-002", "visual")]


def _part_names(name: str, modality: str) -> tuple[tuple[str, ...], str]:
    """State-dict prefixes of the modality's branch modules, and the fusion input weight's key."""
    model = get(name).build()
    part = model.modality_part(modality)
    names = {id(m): n for n, m in model.named_modules()}
    return tuple(names[id(m)] + "." for m in part.modules), names[id(part.fusion_in)] + ".weight"


def test_the_part_is_the_branch_and_its_fusion_columns() -> None:
    """Zeroing the modality's features is what a missing modality does; its columns then read zeros."""
    for name, _, modality in SYSTEMS:
        model = get(name).build().eval()
        part = model.modality_part(modality)
        width = part.columns.stop - part.columns.start
        branch = part.modules[0]
        assert width == (branch.hidden_dim if name == "fusical" else branch.vlad.out_features)
        assert part.fusion_in.weight.shape[1] > width
    with pytest.raises(NotImplementedError):
        get("temporal-fusion").build().modality_part("face")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "recipe", "modality"), SYSTEMS)
def test_a_face_retrain_keeps_every_speech_decision(
    name: str, recipe: str, modality: str, shared_data: Path, tmp_path: Path
) -> None:
    from affectscope.models.inference import analyse_signals, load_model, signals_for_file
    from affectscope.models.training import datasets as ds
    from affectscope.models.training.recipes_systems import train_system
    from affectscope.models.weights import read_card, read_tensors

    spec = get(name)
    base = spec.weights_path()
    out = tmp_path / "w.safetensors"
    card = train_system(
        recipe,
        out,
        shared_data,
        epochs=2,
        fer_per_class=30,
        pairs=20,
        speech_limit=20,
        ravdess_actors=(17,),
        test_limit=12,
        parts=("face",),
        base=base,
    )
    old, new = read_tensors(base), read_tensors(out)
    prefixes, fusion_in = _part_names(name, modality)
    assert old.keys() == new.keys()
    for key in old:
        if key.startswith(prefixes):
            continue
        if key == fusion_in:
            part = get(name).build().modality_part(modality)
            outside = torch.ones(old[key].shape[1], dtype=torch.bool)
            outside[part.columns] = False
            assert torch.equal(old[key][:, outside], new[key][:, outside])
            assert not torch.equal(old[key][:, ~outside], new[key][:, ~outside])
        else:
            assert torch.equal(old[key], new[key]), key
    assert any(not torch.equal(old[k], new[k]) for k in old if k.startswith(prefixes))

    # the product path: speech alone is decided exactly as before, window by window
    speech = [s for s in ds.emodb(shared_data / "emodb") if s.speaker == "03"][:4]
    speech += ds.ravdess(shared_data / "ravdess_speech", actors={13})[:2]
    _, before = load_model(name, str(base))
    _, after = load_model(name, str(out))
    for s in speech:
        signals = signals_for_file(s.path, tuple(spec.modalities))
        a = analyse_signals(spec, before, signals, gate=True)
        b = analyse_signals(spec, after, signals, gate=True)
        assert np.array_equal(np.asarray(a.fused), np.asarray(b.fused)), s.path.name

    # the card says what was kept and keeps the kept weights' records (a shared layer learnt from them)
    assert read_card(out)["retrained_parts"] == ["face"] == card["retrained_parts"]
    assert card["init"]["weights"] == base.name and card["face_source"] == "train"
    assert card["trained_branches"] == read_card(base)["trained_branches"]  # not only the part
    assert "--parts face --init" in card["command"]
    uar = card["part_retrain"]["validation_uar_fused_faces"]
    assert 0.0 <= uar["init"] <= 1.0 and 0.0 <= uar["retrained"] <= 1.0
    kept = read_card(base)["data_records"]
    for role in ("train", "validation", "tuning"):
        assert set(kept[role]["items"]) <= set(card["data_records"][role]["items"]), role


def test_the_cli_refuses_a_part_it_cannot_retrain_alone(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from affectscope.app.cli.main import main

    out = str(tmp_path / "w.safetensors")
    shipped = str(get("fusical").weights_path())
    base = ["--data", str(shared_data), "-o", out]
    cases = [
        ("temporal-fusion", "default-001", ["--parts", "face", "--init", shipped], "no part"),
        ("fusical", "default-000", ["--parts", "audio", "--init", shipped], "not audio"),
        ("fusical", "default-000", ["--parts", "face"], "needs --init"),
    ]
    for name, recipe, extra, says in cases:
        assert main(["train", name, "--recipe", recipe, *extra, *base]) == 2
        assert says in capsys.readouterr().err
    assert not Path(out).exists()
