"""Issue 19, item 1: a weights file's card records what trained, validated and tuned it, training
refuses uncommitted code unless told, and ``evaluate`` reports how a test set overlaps those records."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.models import provenance as pv
from affectscope.models.training import datasets as ds

MODEL = "lightweight-streaming"
LABELS = ("positive", "neutral", "negative")


def _sample(path: Path, speaker: str) -> ds.Sample:
    return ds.Sample(path, 0, speaker, "test")


def test_records_hash_contents_and_count_each_role(tmp_path: Path) -> None:
    files = []
    for i in range(4):
        f = tmp_path / f"f{i}.bin"
        f.write_bytes(bytes([i]) * 100)
        files.append(f)
    rec = pv.data_records(
        [_sample(files[0], "emodb:10"), _sample(files[1], "image:f1")],
        [_sample(files[2], "emodb:09")],
        [_sample(files[0], "emodb:10")],
    )
    assert rec["train"]["n"] == 2 and rec["train"]["speakers"] == ["emodb:10"]  # stand-ins name nobody
    copy = tmp_path / "renamed.bin"
    shutil.copyfile(files[0], copy)  # a renamed copy is the same item
    got = pv.contamination(rec, [copy, files[2], files[3]], ["emodb:10", "emodb:09", "emodb:03"])
    assert (got["train"], got["validation"], got["tuning"]) == (1, 1, 1)
    assert got["speakers"] == ["emodb:09", "emodb:10"]
    assert got["speaker_roles"] == {"emodb:09": ["validation"], "emodb:10": ["train", "tuning"]}
    assert pv.is_contaminated(got) and "CONTAMINATED" in pv.describe(got)
    clean = pv.contamination(rec, [files[3]], ["emodb:03"])
    assert clean["train"] == clean["validation"] == clean["tuning"] == 0 and clean["speakers"] == []
    assert not pv.is_contaminated(clean)
    assert pv.contamination(None, [files[3]]) is None  # weights without records: nothing can be said
    json.dumps(got, allow_nan=False)


def test_merged_records_keep_every_note_once() -> None:
    """A partial retrain merges the weights' old records with its networks' new ones. A note the old
    records already held (the same network retrained again) replaced every note before it, so the
    card of seed 004's second face retrain forgot how its audio and mouth networks were trained."""
    old = {"train": {"items": ["a"]}, "notes": {"train": "audio CNN: EmoDB; face CNN: distilled"}}
    face = {"train": {"items": ["b"]}, "notes": {"train": "face CNN: distilled"}}
    fusion = {"train": {"items": ["c"]}, "notes": {"train": "fusion: pairs"}}
    merged = pv.merge_records(old, face, fusion)
    assert merged["notes"]["train"] == "audio CNN: EmoDB; face CNN: distilled; fusion: pairs"
    assert merged["train"]["items"] == ["a", "b", "c"] and merged["train"]["n"] == 3


def test_training_refuses_a_dirty_tree_unless_allowed(tmp_path: Path, monkeypatch, capsys) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "a.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    clean = pv.code_state(repo)
    assert clean["dirty"] is False and len(clean["commit"]) == 40
    (repo / "a.py").write_text("x = 2\n")
    dirty = pv.code_state(repo)
    assert dirty["dirty"] is True and dirty["dirty_paths"] == ["a.py"]
    with pytest.raises(pv.DirtyTreeError, match="--allow-dirty"):
        pv.require_clean(False, repo)
    assert pv.require_clean(True, repo)["allow_dirty"] is True

    # Through the CLI: refused with exit 2 and one line, before any training starts.
    monkeypatch.setattr(pv, "code_state", lambda root=None: dirty)
    import numpy as np
    import soundfile as sf

    rows = []
    for i, label in enumerate(LABELS):
        wav = tmp_path / f"s{i}.wav"
        sf.write(wav, np.random.default_rng(i).normal(0, 0.1, 16000).astype(np.float32), 16000)
        rows.append(f"{wav},{label}\n")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\n" + "".join(rows))
    out = tmp_path / "w.safetensors"
    assert main(["train", MODEL, "--manifest", str(manifest), "-o", str(out)]) == 2
    assert "uncommitted changes (a.py)" in capsys.readouterr().err and not out.exists()


def test_the_card_records_the_code_state_from_before_the_weights_were_written(
    tmp_path: Path, monkeypatch
) -> None:
    """Weights written inside the work tree are themselves an untracked file: read after writing them,
    the git state called the committed code that trained them "dirty" (naming the weights file)."""
    import torch

    from affectscope.models.weights import read_card, save_state

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "a.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    real = pv.code_state
    monkeypatch.setattr(pv, "code_state", lambda root=None: real(repo))  # "the code runs from repo"
    out = save_state(torch.nn.Linear(2, 2), repo / "w.safetensors", {"model": "x"})
    assert real(repo)["dirty"] is True  # the new files are there now
    code = read_card(out)["code"]
    assert code["dirty"] is False and code["dirty_paths"] == [] and len(code["commit"]) == 40


@pytest.mark.slow
def test_evaluate_flags_the_models_own_training_files_and_not_held_out_speakers(
    shared_data: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """A model trained through the CLI on two EmoDB speakers: evaluated on its own training files the
    contamination counts them; on two speakers it never heard it is 0 everywhere."""
    emodb = ds.emodb(shared_data / "emodb")
    own = [s for s in emodb if s.speaker in ("emodb:10", "emodb:11")][::6]
    unseen = [s for s in emodb if s.speaker in ("emodb:03", "emodb:08")][::8]

    def write(name: str, samples: list[ds.Sample]) -> Path:
        m = tmp_path / name
        m.write_text("path,label\n" + "".join(f"{s.path},{LABELS[s.label]}\n" for s in samples))
        return m

    out = tmp_path / "own.safetensors"
    dirty = {**pv.code_state(), "dirty": True, "dirty_paths": ["x.py"]}
    monkeypatch.setattr(pv, "code_state", lambda root=None: dirty)  # recorded whatever the tree holds
    args = ["train", MODEL, "--manifest", str(write("train.csv", own)), "--epochs", "1", "--allow-dirty"]
    assert main([*args, "-o", str(out), "--json"]) == 0
    card = json.loads(capsys.readouterr().out)["card"]
    rec = card["data_records"]
    assert rec["train"]["n"] + rec["validation"]["n"] == len(own) and not rec["reconstructed"]
    from affectscope.models.weights import read_card

    assert read_card(out)["code"] == {**dirty, "allow_dirty": True}  # the card says it was allowed

    ev = ["evaluate", "--model", MODEL, "--weights", str(out), "--json"]
    assert main([*ev, "--manifest", str(write("own.csv", own))]) == 0
    c = json.loads(capsys.readouterr().out)["contamination"]
    assert c["train"] == rec["train"]["n"] and c["validation"] == rec["validation"]["n"]
    assert c["speakers"] == ["emodb:10", "emodb:11"]
    assert main([*ev, "--manifest", str(write("unseen.csv", unseen))]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n"] == len(unseen)
    assert doc["contamination"] == {
        "train": 0,
        "validation": 0,
        "tuning": 0,
        "speakers": [],
        "speaker_roles": {},
        "reconstructed": False,
    }


def test_shipped_cards_carry_records_reconstructed_from_their_recipes(shared_data: Path) -> None:
    """Every shipped card says what trained, validated and tuned it, marked as reconstructed, and
    re-running the reconstruction from the recipes gives the same counts (nothing hand-edited)."""
    import importlib.util

    from affectscope.models.registry import get
    from affectscope.models.weights import read_card

    spec = importlib.util.spec_from_file_location(
        "reconstruct_records", Path(__file__).parents[1] / "packaging" / "reconstruct_records.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = module.reconstruct(shared_data, check=True)
    for name in ("fusical", "temporal-fusion", "skeleton-fusion", "lightweight-streaming"):
        card = read_card(get(name).weights_path())
        rec = pv.records_of(card)
        assert rec is not None
        assert "emodb:09" in rec["validation"]["speakers"] and "emodb:03" not in rec["train"]["speakers"]
        assert {f"ravdess:{a:02d}" for a in range(1, 21)} <= set(rec["tuning"]["speakers"])
        assert ("emodb:03" in rec["tuning"]["speakers"]) == (name == "fusical")  # its epochs chosen there
        if name == "temporal-fusion":
            # Retrained whole from committed code with its face heads on the sharp FER-2013 train
            # images (issue 19, item 5): its run wrote the records, nothing is reconstructed.
            assert rec["reconstructed"] is False and card["face_source"] == "train"
            assert card["code"]["dirty"] is False and len(card["code"]["commit"]) == 40
            assert f"{name}: records written by its training run; left as they are" in lines
            continue
        assert rec["reconstructed"] is True and "reconstructed" in rec["notes"]["train"]
        if name in ("fusical", "skeleton-fusion"):
            # Their face heads were retrained alone on the sharp FER-2013 train images (issue 19, item 5)
            # from committed code: the run merged its records with the reconstructed ones of the weights
            # it kept, and the card names both codes.
            commit = card["code"]["commit"]
            assert (
                card["code"]["dirty"] is False and len(commit) == 40 and card["retrained_parts"] == ["face"]
            )
            assert card["init"]["code"]["dirty"] is True and "4186dea" in card["init"]["code"]["note"]
            assert any(
                line.startswith(f"{name}: records written by its training run from {commit[:7]}")
                for line in lines
            )
            continue
        if name == "lightweight-streaming":
            # Its face CNN and fusion layer were retrained on the sharp FER-2013 images (issue 19, 5)
            # from committed code, warm-started from the reconstructed weights: the run wrote the records
            # (its own merged with those it started from) and names its commit; nothing is rebuilt.
            commit = card["code"]["commit"]
            assert card["code"]["dirty"] is False and len(commit) == 40
            assert any(
                line.startswith(f"{name}: records written by its training run from {commit[:7]}")
                for line in lines
            )
            assert "distilled" in rec["notes"]["train"]
            continue
        want = f"{name}: train {rec['train']['n']}, validation {rec['validation']['n']}, "
        assert f"{want}tuning {rec['tuning']['n']} items" in lines
        assert card["code"]["dirty"] is True and "4186dea" in card["code"]["note"]


def test_shipped_seed004_is_flagged_on_its_own_speakers_and_clean_on_held_out_ones(
    shared_data: Path, tmp_path: Path
) -> None:
    """The product path (``evaluate_manifest``) with the shipped weights: EmoDB speaker 10 trained it,
    RAVDESS actor 13 chose its rules, EmoDB speaker 03 did neither."""
    from affectscope.models.evaluation import evaluate_manifest

    emodb = ds.emodb(shared_data / "emodb")
    sets = {
        "own": [s for s in emodb if s.speaker == "emodb:10"][:10],
        "held": [s for s in emodb if s.speaker == "emodb:03"][:10],
        "tuned": ds.ravdess(shared_data / "ravdess_speech", actors={13})[::10],
    }
    got = {}
    for name, samples in sets.items():
        m = tmp_path / f"{name}.csv"
        m.write_text("".join(f"{s.path},{LABELS[s.label]}\n" for s in samples))
        got[name] = evaluate_manifest(MODEL, str(m))["contamination"]
    assert got["own"]["train"] == 10 and got["own"]["speakers"] == ["emodb:10"]
    assert got["own"]["reconstructed"] is True
    assert got["tuned"]["tuning"] == len(sets["tuned"]) and got["tuned"]["speakers"] == ["ravdess:13"]
    assert got["tuned"]["speaker_roles"] == {"ravdess:13": ["tuning"]}
    held = got["held"]
    assert (held["train"], held["validation"], held["tuning"], held["speakers"]) == (0, 0, 0, [])


def test_seed004_retrain_scripts_refuse_a_dirty_tree_and_card_their_own_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``packaging/retrain_seed004_face.py`` and ``..._audio.py`` share ``seed004_retrain``: a dirty tree
    is refused before any training, and the card names the script's command before the recipe's."""
    import importlib.util

    from affectscope.models.registry import get
    from affectscope.models.weights import read_card, save_state

    spec = importlib.util.spec_from_file_location(
        "seed004_retrain", Path(__file__).parents[1] / "packaging" / "seed004_retrain.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    trained = []
    monkeypatch.setattr(module, "default_004", lambda *a, **k: trained.append(a))
    dirty = {"commit": "f" * 40, "dirty": True, "dirty_paths": ["models/x.py"]}
    monkeypatch.setattr(pv, "code_state", lambda root=None: dirty)
    with pytest.raises(pv.DirtyTreeError, match="uncommitted changes"):
        module.retrain(str(tmp_path / "w.safetensors"), str(tmp_path), ("audio", "fusion"))
    assert trained == []
    out = tmp_path / "w.safetensors"
    clean = {"commit": "e" * 40, "dirty": False, "dirty_paths": [], "allow_dirty": False}
    monkeypatch.setattr(pv, "code_state", lambda root=None: clean)  # as the recipe's run saw it
    save_state(get("lightweight-streaming").build(), out, {"command": "affectscope train x -o w"})
    module.write(str(out), read_card(out), clean, "python packaging/retrain_seed004_audio.py OUT")
    card = read_card(out)
    assert card["command"] == "python packaging/retrain_seed004_audio.py OUT (= affectscope train x -o w)"
    assert card["code"]["commit"] == "e" * 40 and card["code"]["dirty"] is False
