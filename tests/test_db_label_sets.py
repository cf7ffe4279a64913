"""The database's canonical label sets and the model registry's copy must stay equal (they cannot import
each other: db and models are independent layers)."""

from __future__ import annotations

from affectscope.db.label_sets import BUILTIN_LABEL_SETS, LabelError, check_label_set_definition
from affectscope.models.registry import LABEL_SETS


def test_models_and_db_agree_on_label_sets() -> None:
    assert {k: tuple(v) for k, v in LABEL_SETS.items()} == BUILTIN_LABEL_SETS
    assert BUILTIN_LABEL_SETS["emotion7"] == (
        "angry",
        "disgust",
        "fear",
        "happy",
        "sad",
        "surprise",
        "neutral",
    )


def test_custom_label_set_definitions_are_checked() -> None:
    assert check_label_set_definition("valence", [" pleasant", "unpleasant "]) == ("pleasant", "unpleasant")
    for name, labels, reason in (
        ("sentiment3", ["a"], "built-in"),
        ("bad name", ["a"], "letters, digits"),
        ("v", [], "at least one"),
        ("v", ["a", "a"], "twice"),
        ("v", ["a,b"], "commas"),
    ):
        try:
            check_label_set_definition(name, labels)
        except LabelError as exc:
            assert reason in str(exc)
        else:
            raise AssertionError(f"{name} {labels} was accepted")
