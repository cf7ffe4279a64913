#!/usr/bin/env bash
# Build a standalone folder (dist/affectscope/) with PyInstaller from the installed .venv.
#   packaging/build-standalone.sh              install/refresh .venv first (packaging/install.sh)
#   AFFECTSCOPE_NO_INSTALL=1 packaging/...     use .venv as it is (no pip; e.g. offline machines)
# TensorFlow (the optional `keras` extra, only `explain --keras`) is left out of the bundle: it would
# add ~1 GB. Set AFFECTSCOPE_BUNDLE_KERAS=1 to keep it. For a small CPU-only bundle, install torch's
# CPU wheels into the venv first.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${AFFECTSCOPE_NO_INSTALL:-0}" != 1 ]; then
  ../packaging/install.sh
  . ../.venv/bin/activate
  python -m pip install -q "pyinstaller>=6.10"
fi
start=$(date +%s)
../.venv/bin/python -m PyInstaller --noconfirm --log-level WARN --distpath ../dist \
  --workpath ../build/pyinstaller affectscope.spec
end=$(date +%s)
echo "built: $(cd ../dist/affectscope && pwd)/affectscope in $((end - start)) s," \
  "$(du -sh ../dist/affectscope | cut -f1) on disk"
