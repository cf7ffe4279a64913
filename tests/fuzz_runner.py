"""Run fuzz files through probe, extract and predict in a worker process, with a per-file timeout.

``python -m tests.fuzz_runner`` reads file paths from stdin and prints one JSON line per stage
(``{"i", "stage", "outcome", "message"}``) then ``{"i", "stage": "end"}``. ``run_stages`` drives it:
a worker that goes silent past the timeout is killed (the file is a "hang") and a new one takes the
rest; a worker that dies mid-file is a "crash". Outcomes per stage: "ok", "refused" (a
UserFacingError: the clear message a person gets), "error" (any other exception: a bug), "crash",
"hang".
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

MODEL = "lightweight-streaming"


def _stage(i: int, name: str, fn) -> bool:
    from affectscope.errors import UserFacingError

    try:
        fn()
        outcome, message = "ok", ""
    except UserFacingError as exc:
        outcome, message = "refused", str(exc)
    except Exception as exc:  # the finding: not a clear message
        outcome, message = "error", f"{type(exc).__name__}: {exc}"
    print(json.dumps({"i": i, "stage": name, "outcome": outcome, "message": message}), flush=True)
    return outcome == "ok"


def _worker() -> None:
    import torch

    from affectscope.media import probe
    from affectscope.models.extractors.pipeline import extract_clip
    from affectscope.models.inference import analyse_clip, load_model, perception_modalities
    from affectscope.models.inputs import kind_of

    torch.set_num_threads(1)
    spec, _ = load_model(MODEL)
    modalities = perception_modalities(tuple(spec.modalities))
    for line in sys.stdin:
        i, path = line.rstrip("\n").split("\t", 1)
        n = int(i)
        _stage(n, "probe", lambda p=path: probe(p))

        def extract(p: str = path) -> None:
            if kind_of(p) == "video":
                extract_clip(p, modalities)

        _stage(n, "extract", extract)
        _stage(n, "predict", lambda p=path: analyse_clip(p, MODEL))
        print(json.dumps({"i": n, "stage": "end"}), flush=True)


def _feed(stdin, text: str) -> None:  # noqa: ANN001
    try:
        stdin.write(text)
        stdin.close()
    except (BrokenPipeError, ValueError, OSError):  # the worker died or was killed: its stages say so
        pass


def run_stages(
    paths: list[Path], timeout_s: float = 180.0, prefix: tuple[str, ...] = (), env: dict | None = None
) -> dict[int, dict[str, tuple[str, str]]]:
    """Outcomes of probe/extract/predict for every path (index -> stage -> (outcome, message)).
    ``prefix`` runs the worker under another command (``setpriv`` to drop root's privileges)."""
    results: dict[int, dict[str, tuple[str, str]]] = {i: {} for i in range(len(paths))}
    todo = list(range(len(paths)))
    env = {**os.environ, **(env or {}), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    root = Path(__file__).resolve().parents[1]
    while todo:
        proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "tests.fuzz_runner"],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        # Paths go in from a thread: written here, 1,000 of them overfill the pipe while the worker,
        # blocked on its own full stdout pipe, reads no more (both sides waited forever).
        lines = "".join(f"{i}\t{paths[i]}\n" for i in todo)
        feeder = threading.Thread(target=_feed, args=(proc.stdin, lines), daemon=True)
        feeder.start()
        current = todo[0]
        # The first file also pays for imports and the model load.
        deadline = time.monotonic() + timeout_s + 120
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:  # silent past the budget: a hang
                proc.kill()
                proc.wait()
                for stage in ("probe", "extract", "predict"):
                    results[current].setdefault(stage, ("hang", f"no answer within {timeout_s:.0f} s"))
                break
            line = proc.stdout.readline()
            if not line:  # the worker died: a crash (segfault, abort, out of memory)
                proc.wait()
                for stage in ("probe", "extract", "predict"):
                    results[current].setdefault(stage, ("crash", f"worker exited with {proc.returncode}"))
                break
            rec = json.loads(line)
            current = rec["i"]
            if rec["stage"] == "end":
                todo.remove(current)
                if not todo:
                    break
                current = todo[0]
                deadline = time.monotonic() + timeout_s
                continue
            results[current][rec["stage"]] = (rec["outcome"], rec["message"])
        if current in todo:
            todo.remove(current)  # the hung or crashing file is recorded; the rest go to a new worker
        proc.stdout.close()
        if proc.poll() is None:
            proc.wait()
    return results


if __name__ == "__main__":
    _worker()
