#!/usr/bin/env bash
# The gate and the A/A check over many identical runs (issue 13's run-level benchmarks):
#
#   bench-runner/scripts/gate-pairs.sh OUT [PAIRS] [PROFILE]
#
# makes 2 x PAIRS (default 20) runs of the same code with every implementation, one after the other
# (`bench-runner run --profile PROFILE`, default quick, as CI runs it), in OUT/runs/NN-a and NN-b; keeps
# each run's results.json (the Envoy logs, charts and report are left out to keep the folder
# small: `bench-runner report DIR` re-renders a report from results.json); then `gate-injection.py OUT NN-a:NN-b ...` writes OUT/gate.json and OUT/gate.md: identical
# pairs flagged, +5 µs injected into one variant at a time detected, and every run's A/A check.
# A run already complete in OUT is not made again (the script can be resumed after an interruption).
# Nothing else should run on the machine meanwhile: every run measures.
set -euo pipefail
out=${1:?usage: gate-pairs.sh OUT [PAIRS] [PROFILE]}
pairs=${2:-20}
profile=${3:-quick}
root=$(cd "$(dirname "$0")/../.." && pwd)
br=${CARGO_TARGET_DIR:-$root/target}/debug/bench-runner
[ -x "$br" ] || { echo "gate-pairs.sh: $br not found: run cargo build -p bench-runner first" >&2; exit 2; }
mkdir -p "$out/runs"
args=()
for i in $(seq -w 1 "$pairs"); do
  for side in a b; do
    dir="$out/runs/$i-$side"
    if [ -f "$dir/results.json" ] && python3 -c "import json,sys; sys.exit(json.load(open('$dir/results.json'))['status'] != 'complete')"; then
      echo "gate-pairs.sh: $dir is complete, kept" >&2
      continue
    fi
    rm -rf "$dir" "$dir.tmp"
    echo "gate-pairs.sh: run $i-$side of $pairs pairs ($(date -u +%H:%M:%S))" >&2
    (cd "$root" && "$br" run --profile "$profile" --out "$dir.tmp" >"$out/runs/$i-$side.log" 2>&1) || {
      echo "gate-pairs.sh: run $i-$side failed, see $out/runs/$i-$side.log" >&2; exit 1; }
    mkdir -p "$dir"
    mv "$dir.tmp/results.json" "$dir/"
    rm -rf "$dir.tmp" "$out/runs/$i-$side.log"
  done
  args+=("$out/runs/$i-a:$out/runs/$i-b")
done
python3 "$root/bench-runner/scripts/gate-injection.py" "$out" "${args[@]}"
