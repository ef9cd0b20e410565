#!/usr/bin/env bash
# The benchmarks of `bench-runner ab` (issue 30), each run kept as its ab.json (+ report.md):
#
#   bench-runner/scripts/ab-benchmarks.sh OUT [PAIRS] [KIND...]
#
# KIND (default: identical spin2 one):
#   identical  PAIRS x `ab --base HEAD --measure-identical --profile quick`, every implementation: both
#              sides the same builds, measured anyway (sibling listeners of the same module); a run
#              that flags a change is a false alarm (goal: at most 1 of 20). Its wall times are those of
#              a quick ab of every implementation (goal: <= 6 minutes).
#   spin2      PAIRS x `ab --base HEAD --new SPIN --only rust --profile quick`, SPIN a commit made here
#              (detached: no ref moves) whose Rust plugin spins 1000 rounds per request by default,
#              about +2 µs in Envoy (the detector calibration in docs/regressions.md): detected in >= 19 of 20 by the
#              time figures alone (p50 or CPU), 20 of 20 by instructions.
#   one        one quick ab of the Rust plugin alone with a change (the spin commit) on the working
#              tree's base: its wall time (goal: <= 3 minutes).
#   envoy      (not by default) `ab --base-envoy 1.39.3 --new-envoy 1.40.0 --profile default`, every
#              implementation: what the upgrade does to each plugin's cost (OUT/envoy-1.39.3-1.40.0;
#              its table in docs/regressions.md: bench-runner readme --ab-envoy OUT/envoy-1.39.3-1.40.0).
#
# Runs already complete in OUT are kept (the script resumes after an interruption; SPIN is recorded in
# OUT/spin2/commit). Nothing else should run on the machine meanwhile: every run measures time.
# Then the tables in docs/regressions.md: bench-runner readme --ab-benchmarks OUT
set -euo pipefail
out=${1:?usage: ab-benchmarks.sh OUT [PAIRS] [KIND...]}
pairs=${2:-20}
shift $(( $# >= 2 ? 2 : $# ))
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(identical spin2 one)
root=$(cd "$(dirname "$0")/../.." && pwd)
br=${CARGO_TARGET_DIR:-$root/target}/debug/bench-runner
[ -x "$br" ] || { echo "ab-benchmarks.sh: $br not found: run cargo build -p bench-runner first" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The commit whose Rust plugin spins 1000 rounds by default (made once, recorded).
spin_commit() {
  local file="$out/spin2/commit"
  if [ -s "$file" ] && git -C "$root" cat-file -e "$(cat "$file")^{commit}" 2>/dev/null; then
    cat "$file"; return
  fi
  local tmp; tmp=$(mktemp -d)
  git -C "$root" worktree add --detach --quiet "$tmp/tree" HEAD
  sed -i 's/int(top, "spin", 0)?/int(top, "spin", 1000)?/' "$tmp/tree/plugins/rust/src/config.rs"
  git -C "$tmp/tree" -c user.name=ab-benchmarks -c user.email=ab@benchmarks commit --quiet --no-verify -am \
    "ab benchmark: the Rust plugin spins 1000 rounds per request by default (about +2 µs)"
  local c; c=$(git -C "$tmp/tree" rev-parse HEAD)
  git -C "$root" worktree remove --force "$tmp/tree"; rm -rf "$tmp"
  mkdir -p "$out/spin2"; echo "$c" > "$file"; echo "$c"
}

# one_run DIR ARGS...: `ab ARGS --out DIR`, kept when complete; exit 0 and 1 are both results.
one_run() {
  local dir=$1; shift
  if [ -f "$dir/ab.json" ] && python3 -c "import json,sys; sys.exit(json.load(open('$dir/ab.json'))['status'] != 'complete')"; then
    echo "ab-benchmarks.sh: $dir is complete, kept" >&2; return
  fi
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$(dirname "$dir")"
  echo "ab-benchmarks.sh: $dir ($(date -u +%H:%M:%S))" >&2
  local rc=0
  (cd "$root" && "$br" ab "$@" --out "$dir.tmp" >"$dir.log" 2>&1) || rc=$?
  if { [ $rc -ne 0 ] && [ $rc -ne 1 ]; } || [ ! -f "$dir.tmp/ab.json" ]; then
    echo "ab-benchmarks.sh: $dir failed (exit $rc), see $dir.log" >&2; exit 1
  fi
  mkdir -p "$dir"
  mv "$dir.tmp/ab.json" "$dir.tmp/report.md" "$dir/"
  echo "$rc" > "$dir/exit-status"
  rm -rf "$dir.tmp" "$dir.log"
}

for kind in "${kinds[@]}"; do
  case "$kind" in
    identical)
      for i in $(seq -w 1 "$pairs"); do
        one_run "$out/identical/$i" --base HEAD --measure-identical --profile quick
      done ;;
    spin2)
      spin=$(spin_commit)
      for i in $(seq -w 1 "$pairs"); do
        one_run "$out/spin2/$i" --base HEAD --new "$spin" --only rust --profile quick
      done ;;
    one)
      spin=$(spin_commit)
      one_run "$out/one/01" --base "$spin" --only rust --profile quick ;;
    envoy)
      one_run "$out/envoy-1.39.3-1.40.0" --base-envoy 1.39.3 --new-envoy 1.40.0 --profile default ;;
    *) echo "ab-benchmarks.sh: unknown kind $kind (identical, spin2, one, envoy)" >&2; exit 2 ;;
  esac
done
echo "ab-benchmarks.sh: done; the tables in docs/regressions.md: $br readme --ab-benchmarks $out" >&2
