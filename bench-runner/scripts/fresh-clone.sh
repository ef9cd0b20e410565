#!/usr/bin/env bash
# Times the README's two commands on a fresh clone, as a newcomer runs them (issue 14):
#
#   bench-runner/scripts/fresh-clone.sh [OUT] [--keep-wasm-target]
#
# Clones HEAD into a temporary folder (no target/, no .cache/: no Envoy, no built plugin, a cold Rust
# build), removes the Rust target wasm32-wasip1 unless --keep-wasm-target (the runner must add it
# itself), then runs, literally and in this order, `cargo run -p bench-runner` and `cargo test
# --workspace`. Writes into OUT (default results/measurements/fresh-clone-<date>/):
#   fresh.json   what was measured: wall and compile time of each command, crates compiled (the test
#                command's split into workspace crates, test-only dependencies and the rest), the time
#                the run announced for measuring against the time it took, what was installed, the test
#                summary; `bench-runner readme --fresh OUT` puts it into the README;
#   run.log, test.log   both commands' output, each line prefixed with seconds since its start.
# What a fresh clone does not cold-start here: the caches in $HOME (cargo registry, Go module and build
# caches, npm, pip) are this machine's, so downloads and the Go compile are mostly cached; the Rust
# build, the C++ and AssemblyScript builds, Envoy's install and everything in the clone start cold.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$repo/results/measurements/fresh-clone-$(date -u +%Y%m%d)}
case "$out" in /*) ;; *) out="$repo/$out" ;; esac
keep_target=0
[ "${2:-}" = "--keep-wasm-target" ] && keep_target=1
mkdir -p "$out"
work=$(mktemp -d /tmp/fresh-clone.XXXXXX)
# KEEP=1 keeps the clone (e.g. to run .ci/run in it afterwards); it is printed at the end.
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/clone"
cd "$work/clone"
commit=$(git rev-parse HEAD)
if [ $keep_target = 0 ] && rustup target list --installed | grep -qx wasm32-wasip1; then
  rustup target remove wasm32-wasip1
fi
had_target=$(rustup target list --installed | grep -cx wasm32-wasip1 || true)
unset ENVOY_BIN CARGO_TARGET_DIR BENCH_ROOT BENCH_CACHE
# Each output line with the seconds since the command started.
stamp() { python3 -u -c '
import sys, time
t0 = time.monotonic()
for line in sys.stdin:
    sys.stdout.write("%8.1f %s" % (time.monotonic() - t0, line))'; }
timed() { # log cmd...
  local log=$1; shift
  local t0 rc=0
  t0=$(date +%s.%N)
  "$@" 2>&1 | stamp >"$log" || rc=$?
  python3 -c "import sys; print(round($(date +%s.%N) - $t0, 1), $rc)"
}
read -r run_s run_rc < <(timed "$out/run.log" cargo run -p bench-runner)
read -r test_s test_rc < <(timed "$out/test.log" cargo test --workspace)
python3 "$repo/bench-runner/scripts/fresh-summary.py" "$out" "$commit" "$had_target" "$run_s" "$run_rc" "$test_s" "$test_rc" "$keep_target"
# The run folder the first command wrote lives in the temporary clone: keep its results.json beside.
latest=$(readlink -f results/latest 2>/dev/null || true)
[ -n "$latest" ] && [ -f "$latest/results.json" ] && cp "$latest/results.json" "$out/run-results.json"
[ "${KEEP:-0}" = 1 ] && echo "clone kept: $work/clone"
[ "$run_rc" = 0 ] && [ "$test_rc" = 0 ]
