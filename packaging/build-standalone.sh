#!/usr/bin/env bash
# Build a standalone folder with PyInstaller.
#   packaging/build-standalone.sh              from .venv (install/refresh it first: packaging/install.sh)
#                                               -> dist/affectscope/ (torch as installed: the CUDA build)
#   AFFECTSCOPE_NO_INSTALL=1 packaging/...     use .venv as it is (no pip; e.g. offline machines)
#   packaging/build-standalone.sh --cpu        from a separate venv with torch's CPU-only wheels
#                                               -> dist/cpu/affectscope/ (no CUDA libraries; README)
# --cpu makes (or reuses) the venv AFFECTSCOPE_CPU_VENV (default ../affectscope-cpu-venv, beside the
# checkout, so it never travels with the repository) from python3.11 (or $PYTHON), installs
# pyproject.toml's dependencies into it with torch pinned by packaging/cpu-constraints.txt, and the
# product from this checkout. The constraints name torch 2.13.0+cpu / torchvision 0.28.0: the newest CPU
# pair our package indexes hold (the project pins 2.14.1 + 0.29.1, whose CPU wheel they lack). Elsewhere
# point pip at torch's CPU index first: PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu.
# TensorFlow (the optional `keras` extra, only `explain --keras`) is left out of the bundle: it would
# add ~1 GB. Set AFFECTSCOPE_BUNDLE_KERAS=1 to keep it (not with --cpu: that venv has no TensorFlow).
set -euo pipefail
cd "$(dirname "$0")"
REPO=$(cd .. && pwd)
CPU=0
[ "${1:-}" = "--cpu" ] && CPU=1

if [ $CPU = 1 ]; then
  VENV=${AFFECTSCOPE_CPU_VENV:-$REPO/../affectscope-cpu-venv}
  stamp="$VENV/.affectscope-cpu-$(cat ../pyproject.toml ../setup.py cpu-constraints.txt | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ] && [ "${AFFECTSCOPE_NO_INSTALL:-0}" != 1 ]; then
    PY=${PYTHON:-}
    if [ -z "$PY" ]; then
      for c in python3.11 python3.12 python3; do command -v "$c" >/dev/null 2>&1 && { PY=$c; break; }; done
    fi
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # pyproject.toml's dependencies with torch/torchvision unpinned, so the constraints choose them.
    "$VENV/bin/python" - ../pyproject.toml >"$VENV/requirements.txt" <<'EOF'
import re, sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
for dep in deps:
    name = re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0]
    print(name if name in ("torch", "torchvision") else dep)
EOF
    "$VENV/bin/python" -m pip install -q -c cpu-constraints.txt -r "$VENV/requirements.txt" "pyinstaller>=6.10"
    # As packaging/install.sh: mediapipe alone (its declared requirements would pull numpy 2), and the
    # product itself without dependencies (pip would replace the CPU torch by the pinned CUDA one).
    "$VENV/bin/python" -m pip install -q --no-deps "mediapipe==0.10.21"
    "$VENV/bin/python" -m pip install -q --no-deps -e "$REPO"
    "$VENV/bin/python" -c "import torch; assert not torch.version.cuda, torch.version.cuda"
    rm -f "$VENV"/.affectscope-cpu-*
    touch "$stamp"
  fi
  PYBIN=$VENV/bin/python
  DIST=../dist/cpu
  WORK=../build/pyinstaller-cpu
else
  if [ "${AFFECTSCOPE_NO_INSTALL:-0}" != 1 ]; then
    ../packaging/install.sh
    . ../.venv/bin/activate
    python -m pip install -q "pyinstaller>=6.10"
  fi
  PYBIN=../.venv/bin/python
  DIST=../dist
  WORK=../build/pyinstaller
fi

start=$(date +%s)
"$PYBIN" -m PyInstaller --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK" affectscope.spec
end=$(date +%s)
echo "built: $(cd "$DIST/affectscope" && pwd)/affectscope in $((end - start)) s," \
  "$(du -sh "$DIST/affectscope" | cut -f1) on disk"
