#!/usr/bin/env bash
# Build a standalone folder (dist/affectscope/) with PyInstaller from the installed .venv.
# For a small CPU-only bundle, install torch's CPU wheels into the venv first.
set -euo pipefail
cd "$(dirname "$0")"
../packaging/install.sh
. ../.venv/bin/activate
python -m pip install -q "pyinstaller>=6.10"
pyinstaller --noconfirm --distpath ../dist --workpath ../build/pyinstaller affectscope.spec
echo "built: $(cd ../dist/affectscope && pwd)/affectscope"
