#!/usr/bin/env bash
# Reproducibility as a measured result: two independent runs of the same code, one after the other,
# then `bench-runner reproduce A B`: per figure, does B's estimate lie inside A's 95% interval (and A's
# inside B's)? Writes OUT/reproducibility.{json,md} for `bench-runner readme --reproducibility OUT`.
#
#   bench-runner/scripts/reproducibility.sh [OUT] [PROFILE]     (default OUT results/measurements/reproducibility-<date>, PROFILE default)
#
# Run it on a machine doing nothing else: each run is a full `run --profile PROFILE`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/results/measurements/reproducibility-$(date -u +%Y%m%d)}"
profile="${2:-default}"
cd "$root"
cargo build -q -p bench-runner
bin="$root/target/debug/bench-runner"
mkdir -p "$out"
for side in a b; do
  if [ ! -f "$out/run-$side/results.json" ]; then
    echo "run $side ($profile profile) ..." >&2
    "$bin" run --profile "$profile" --out "$out/run-$side" >"$out/run-$side.stdout" 2>"$out/run-$side.stderr"
  fi
done
"$bin" reproduce "$out/run-a" "$out/run-b" --out "$out"
