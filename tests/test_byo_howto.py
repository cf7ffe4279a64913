"""docs/byo.md, run as written (issue 20: "the how-to followed to the letter in a fresh project"): every
file the page asks the reader to save and every command it gives, in order, in a fresh folder with a
fresh data, config and cache folder, so the page cannot drift from the program.

How the page is read: a ```python block whose first line is ``# PATH`` is saved as PATH; a ```json or
```csv block is saved as the last `byo/...` path the prose names before it ("Save it as `byo/x.json`");
the ```bash blocks are run, in order, as one bash script that stops at the first failing command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "byo.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
PATH_IN_PROSE = re.compile(r"`(byo/[\w./-]+)`")


def howto(doc: str) -> tuple[dict[str, str], str]:
    """The files the page has the reader save (path -> text) and its commands as one script."""
    files: dict[str, str] = {}
    script: list[str] = []
    end = 0
    for m in BLOCK.finditer(doc):
        lang, body, prose = m.group(1), m.group(2), doc[end : m.start()]
        end = m.end()
        if lang == "bash":
            script.append(body)
        elif lang == "python" and body.startswith("# byo/"):
            files[body.splitlines()[0][2:].strip()] = body
        elif lang in ("json", "csv"):
            named = PATH_IN_PROSE.findall(prose)
            assert named, f"a {lang} block with no `byo/...` file named before it: {body[:60]!r}"
            files[named[-1]] = body
    return files, "\n".join(script)


def test_the_page_is_read_as_a_reader_reads_it() -> None:
    files, script = howto(DOC.read_text(encoding="utf-8"))
    assert {"byo/tiny.py", "byo/tiny.spec.json", "byo/colleague.csv"} <= set(files)
    assert json.loads(files["byo/tiny.spec.json"])["format"] == "onnx"
    for command in (
        "models import byo/tiny.onnx",
        "predict ",
        "explain ",
        "import predictions byo/colleague.csv",
    ):
        assert command in script, command


@pytest.mark.slow
def test_the_byo_howto_runs_as_written(shared_data: Path, tmp_path: Path) -> None:
    files, script = howto(DOC.read_text(encoding="utf-8"))
    work = tmp_path / "reader"
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AFFECTSCOPE_SRC": str(REPO),  # this checkout's code, whatever the folder the commands run in
        "AFFECTSCOPE_SHARED_DATA": str(shared_data),
        "AFFECTSCOPE_DATA_DIR": str(tmp_path / "data"),
        "AFFECTSCOPE_CONFIG_DIR": str(tmp_path / "config"),
        "AFFECTSCOPE_CACHE_DIR": str(tmp_path / "cache"),
        "AFFECTSCOPE_MODELS_DIR": str(tmp_path / "models"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    run = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    out = run.stdout
    assert "tiny version" in out and "imported (onnx, sentiment3)" in out
    assert re.search(
        r"vgaf_val_1_1_negative\.mp4: \w+ \(positive [\d.]+, neutral [\d.]+, negative [\d.]+\) by tiny", out
    )
    shot = json.loads(next(line for line in out.splitlines() if line.startswith('{"output"')))
    assert shot["error"] is None and shot["lanes"][-1] == "Predicted: fused"
    assert Path(shot["output"]).is_file()
    # the explanation step: the bars, and the maps drawn on the frame and the spectrogram
    assert re.search(r"tiny on '\w+' at 2\.50 s", out)
    assert {p.name for p in (work / "byo" / "why").iterdir()} >= {
        "face_occlusion_2.50s.png",
        "mel_occlusion_2.50s.png",
    }
    assert "\nsame\n" in f"\n{out}"  # the predictions CSV came back as it went in
    assert (work / "byo" / "elan" / "vgaf_val_1_1_negative.eaf").is_file()
    assert (work / "byo" / "va.png").is_file()  # the continuous outputs' figure
