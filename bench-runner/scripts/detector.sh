#!/usr/bin/env bash
# Proves the regression detector (issue 6): false alarms on identical runs and detection of injected
# slowdowns (the Rust plugin's `spin` knob), all with the quick profile.
#
#   bench-runner/scripts/detector.sh SPIN_2US SPIN_5US [PAIRS]
#
# SPIN_* are the `spin` values calibrated to add about +2 us and +5 us of Envoy CPU per request
# (see README). Writes every run under target/detector/ and prints the table that goes into README.
set -euo pipefail
cd "$(dirname "$0")/../.."
spin2=${1:?spin for +2 us}; spin5=${2:?spin for +5 us}; pairs=${3:-20}
out=target/detector; mkdir -p "$out"
br() { cargo run -q -p bench-runner -- "$@"; }
run() { # name spin
  [ -f "$out/$1/results.json" ] || br run --profile quick --only rust --spin "$2" --out "$out/$1" >/dev/null
}
for i in $(seq 0 "$pairs"); do run "base-$i" 0; done
for i in $(seq 1 $(( (pairs + 1) / 2 ))); do run "slow2-$i" "$spin2"; run "slow5-$i" "$spin5"; done

verdict() { # base new -> prints 1 if compare found a regression, 0 if not
  if br compare "$1" "$2" >/dev/null 2>&1; then echo 0; else [ $? -eq 1 ] && echo 1 || echo err; fi
}
fa=0; for i in $(seq 1 "$pairs"); do fa=$(( fa + $(verdict "$out/base-$((i-1))" "$out/base-$i") )); done
d2=0; d5=0; n=$(( (pairs + 1) / 2 ))
for i in $(seq 1 "$n"); do
  d2=$(( d2 + $(verdict "$out/base-$i" "$out/slow2-$i") ))
  d5=$(( d5 + $(verdict "$out/base-$i" "$out/slow5-$i") ))
done
echo "| pairs of quick runs (rust-v8-mock) | regressions flagged |"
echo "|---|---|"
echo "| identical (spin 0 vs spin 0) | $fa of $pairs (false alarms) |"
echo "| +2 us injected (spin $spin2) | $d2 of $n |"
echo "| +5 us injected (spin $spin5) | $d5 of $n |"
