#!/usr/bin/env bash
# The example figures in this folder, from the demo project, through the documented commands only.
# Usage: bash docs/figures/make_examples.sh [WORK_DIR]   (about a minute on one CPU core)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
as="${AFFECTSCOPE:-affectscope}"
work="${1:-$(mktemp -d)}"
demo="$(python -c 'from affectscope.app.services.demo import demo_project_dir; print(demo_project_dir())')"
cp -r "$demo/clips" "$work/clips"
$as project init "$work/proj" --clips "$work/clips" >/dev/null
for clip in happy:positive neutral:neutral angry:negative sad:negative; do
  $as label "astronaut_${clip%%:*}.mp4" "${clip##*:}" --annotator demo --project "$work/proj" >/dev/null
  $as predict "$work/clips/astronaut_${clip%%:*}.mp4" --project "$work/proj" >/dev/null
done
run=$($as evaluate --model lightweight-streaming --project "$work/proj" --json | python -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
for kind in confusion per-class reliability modality; do
  $as figure "$kind" --project "$work/proj" --run "$run" --dpi 150 -o "$here/$kind.png"
done
$as figure clip --project "$work/proj" --clip astronaut_angry.mp4 --start 0.5 --end 4.5 --at 2.5 --dpi 150 \
  -o "$here/clip.png"
$as figure modality --project "$work/proj" --clip astronaut_angry.mp4 --dpi 150 -o "$here/modality-clip.png"
# Specs name the temporary project; keep only the pictures here.
rm -f "$here"/*.png.json
