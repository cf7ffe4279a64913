"""Strict JSON (issue 23 item 8): no NaN/Infinity token is ever written, and none is read back."""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from affectscope import strict_json

REPO = Path(__file__).resolve().parents[1]


def test_undefined_numbers_become_null_at_any_depth():
    doc = {"p": [0.5, math.nan, math.inf, -math.inf], "nested": {"x": (float("nan"), 1)}, "ok": 2.5}
    text = strict_json.dumps(doc, sort_keys=True)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"nested": {"x": [None, 1]}, "ok": 2.5, "p": [0.5, None, None, None]}


def test_numpy_values_are_plain_numbers_and_nan_in_arrays_is_null():
    doc = {
        "a": np.array([[1.0, np.nan], [np.inf, 2.0]], dtype=np.float32),
        "i": np.int64(3),
        "f": np.float64("nan"),
    }
    assert json.loads(strict_json.dumps(doc)) == {"a": [[1.0, None], [None, 2.0]], "i": 3, "f": None}


def test_default_converts_unknown_objects_and_its_result_is_cleaned_too():
    class Odd:
        pass

    assert strict_json.dumps([Odd()], default=lambda o: math.nan) == "[null]"
    assert strict_json.dumps({"when": Path("/x")}, default=str) == '{"when": "/x"}'
    with pytest.raises(TypeError, match="Odd"):
        strict_json.dumps(Odd())


def test_dump_writes_the_same_text_as_dumps():
    out = io.StringIO()
    strict_json.dump({"v": math.nan}, out, indent=1)
    assert out.getvalue() == strict_json.dumps({"v": math.nan}, indent=1) == '{\n "v": null\n}'


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_loads_refuses_non_standard_tokens(token):
    assert json.loads(f'{{"v": {token}}}')  # the standard library takes them: the reason for this module
    with pytest.raises(ValueError, match=token):
        strict_json.loads(f'{{"v": {token}}}')
    assert strict_json.loads('{"v": null, "w": 1e308}') == {"v": None, "w": 1e308}


def test_no_code_writes_json_except_through_strict_json():
    """Every --json output and stored JSON goes through the helper: plain ``json.dump(s)`` is banned."""
    pattern = re.compile(r"(?<![\w.])json\.dumps?\(")
    offenders = []
    for folder in ("affectscope", "app", "db", "models", "media", "analysis", "packaging"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "strict_json.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}")
    assert offenders == []
