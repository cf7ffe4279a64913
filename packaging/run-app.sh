#!/usr/bin/env bash
# Start the window on the demo project. Without a display, run it on a virtual one (Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  echo "no display: starting Affectscope on a virtual screen (xvfb-run); use 'affectscope screenshot' to see it"
  exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/affectscope "$@"
fi
exec .venv/bin/affectscope "$@"
