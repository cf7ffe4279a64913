#!/usr/bin/env bash
# Install Affectscope into ./.venv on a fresh Debian/Ubuntu machine (or refresh an existing one).
#   packaging/install.sh          the application
#   packaging/install.sh --dev    plus the test tools and the system packages the tests need
# Idempotent: a stamp of pyproject.toml's hash skips pip when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

# System libraries: Qt's xcb platform (real windows, Xvfb), libpulse for QtMultimedia, EGL/GL for
# Qt's offscreen rendering; PostgreSQL for the storage tests, PulseAudio and its tools for the sound
# test (a null sink records what the window plays: tests/test_sound_sink.py). Only as root with apt.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  pkgs="libpulse0 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
        libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-cursor0 libxcb-xinerama0 \
        libxcb-xkb1 libxcb-shape0 libxcb-randr0 xvfb xauth"
  [ $DEV = 1 ] && pkgs="$pkgs postgresql pulseaudio pulseaudio-utils"
  missing=""
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "installing system packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3.12 python3; do command -v "$c" >/dev/null 2>&1 && { PY=$c; break; }; done
fi
[ -d .venv ] || "$PY" -m venv .venv
. .venv/bin/activate

stamp=".venv/.affectscope-$(cat pyproject.toml setup.py | sha256sum | cut -c1-16)-$DEV"
if [ ! -f "$stamp" ]; then
  python -m pip install -q --upgrade pip
  if [ $DEV = 1 ]; then python -m pip install -q -e ".[dev,keras]"; else python -m pip install -q -e .; fi
  # mediapipe 0.10.21 is the last release that ships BlazePose's model files; its declared
  # requirements (jax, opencv-contrib-python, sentencepiece...) would pull a second OpenCV into cv2/
  # and numpy 2, and pose estimation needs none of them: install it alone. Its real runtime needs
  # (absl-py, attrs, flatbuffers, protobuf<5, matplotlib, numpy<2) are in pyproject.toml.
  python -m pip install -q --no-deps "mediapipe==0.10.21"
  # tf-keras declares the full `tensorflow` wheel; tensorflow-cpu (the keras extra) provides it.
  if [ $DEV = 1 ]; then python -m pip install -q --no-deps "tf-keras==2.19.0"; fi
  rm -f .venv/.affectscope-*
  touch "$stamp"
fi
echo "affectscope installed in $(pwd)/.venv"
