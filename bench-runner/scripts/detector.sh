#!/usr/bin/env bash
# Proves the regression detector (issue 6): false alarms on identical runs and detection of injected
# slowdowns (the Rust plugin's `spin` knob), all with the quick profile and `compare`'s default
# thresholds (or the COMPARE_FLAGS given).
#
#   bench-runner/scripts/detector.sh SPIN_2US SPIN_5US [PAIRS] [OUT]
#
# SPIN_* are the `spin` values calibrated to add about +2 us and +5 us of Envoy CPU per request (see
# README). Runs 1 + PAIRS quick runs without spin and PAIRS with each spin, interleaved (base, +2, +5 in a
# rotating order) so that drift hits every kind alike; the runs go under target/detector/. Pairs:
# identical = base i-1 vs base i; injected = base i vs slow i. Writes into OUT (default
# results/measurements/detector-<date>/): every comparison (compare --format json), the runs'
# results.json (runs.tar.gz), and detector.md, the table `bench-runner readme --detector OUT` puts into
# docs/regressions.md.
#
# CALIBRATION="RUN0 RUN1 ..." (run folders of `run --only rust --workloads mock` with `--spin 0` first,
# then other spins) adds the calibration to detector.md: what each spin adds to the Envoy CPU overhead
# of spin 0; their results.json are copied into OUT/calibration/.
set -euo pipefail
cd "$(dirname "$0")/../.."
spin2=${1:?spin for +2 us}; spin5=${2:?spin for +5 us}; pairs=${3:-20}
out=${4:-results/measurements/detector-$(date -u +%Y%m%d)}
runs=${RUNS:-target/detector/$(basename "$out")}  # RUNS=DIR: reuse the runs of an earlier invocation
mkdir -p "$runs" "$out/comparisons"
cargo build -q -p bench-runner  # the dev profile is optimised (see Cargo.toml)
br=${CARGO_TARGET_DIR:-target}/debug/bench-runner
run() { # name spin
  if [ ! -f "$runs/$1/results.json" ]; then
    echo "$(date -u +%H:%M:%S) run $1 (spin $2)" >&2
    "$br" run --profile quick --only rust --spin "$2" --out "$runs/$1" >"$runs/$1.log" 2>&1 ||
      { echo "run $1 failed; see $runs/$1.log" >&2; exit 1; }
  fi
}
run base-0 0
for i in $(seq 1 "$pairs"); do
  case $(( i % 3 )) in
    0) run "base-$i" 0; run "slow2-$i" "$spin2"; run "slow5-$i" "$spin5" ;;
    1) run "slow2-$i" "$spin2"; run "slow5-$i" "$spin5"; run "base-$i" 0 ;;
    2) run "slow5-$i" "$spin5"; run "base-$i" 0; run "slow2-$i" "$spin2" ;;
  esac
done

# shellcheck disable=SC2086 # COMPARE_FLAGS is a list of flags
cmp() { # kind base new
  local f="$out/comparisons/$1-$(basename "$3").json" rc=0
  "$br" compare ${COMPARE_FLAGS:-} --format json "$2" "$3" >"$f" || rc=$?
  [ "$rc" -le 1 ] || { echo "compare $2 $3 failed (exit $rc)" >&2; exit 1; }
}
rm -f "$out"/comparisons/*.json
for i in $(seq 1 "$pairs"); do
  cmp identical "$runs/base-$((i-1))" "$runs/base-$i"
  cmp plus2us "$runs/base-$i" "$runs/slow2-$i"
  cmp plus5us "$runs/base-$i" "$runs/slow5-$i"
done
tar -czf "$out/runs.tar.gz" -C "$runs" $(cd "$runs" && ls -d */results.json)

calibration=""
if [ -n "${CALIBRATION:-}" ]; then
  rm -rf "$out/calibration"; mkdir -p "$out/calibration"
  i=0
  for d in $CALIBRATION; do cp "$d/results.json" "$out/calibration/$i.json"; i=$((i + 1)); done
  calibration="$out/calibration"
fi

python3 - "$out" "$spin2" "$spin5" "$pairs" "${COMPARE_FLAGS:-}" "$calibration" "$runs" <<'EOF'
import glob, json, os, statistics, sys
out, spin2, spin5, pairs, flags, calibration, runs_dir = sys.argv[1:8]
prof = json.load(open(f"{runs_dir}/base-0/results.json"))["profile"]
kinds = [("identical", "identical runs (spin 0 vs spin 0)", "false alarms"),
         ("plus2us", f"about +2 µs injected (spin {spin2} vs 0)", "detected"),
         ("plus5us", f"about +5 µs injected (spin {spin5} vs 0)", "detected")]
metrics = ["p50", "p99", "cpu", "rps"]
rows, mode, thresholds = [], None, None
for kind, label, what in kinds:
    files = sorted(glob.glob(f"{out}/comparisons/{kind}-*.json"))
    flagged, by_metric, cpu_changes = 0, {m: 0 for m in metrics}, []
    for f in files:
        c = json.load(open(f))
        mode, thresholds = c["mode"], c["thresholds"]
        # the run-level gate, as CI applies it: any gated variant (the A/A listener too) regressed
        flagged += c["regressions"] > 0
        for v in (v for v in c["variants"] if v["gated"]):
            for m in v["metrics"]:
                if m["verdict"] == "regressed":
                    by_metric[m["metric"]] += 1
        v = next(v for v in c["variants"] if v["id"] == "rust-v8-mock")
        cpu_changes += [m["change"]["estimate"] for m in v["metrics"] if m["metric"] == "cpu"]
    per = ", ".join(f"{m} {by_metric[m]}" for m in metrics)
    rows.append(f"| {label} | {flagged} of {len(files)} ({what}) | {per} | "
                f"{statistics.median(cpu_changes):+.1f} [{min(cpu_changes):+.1f}, {max(cpu_changes):+.1f}] |")
def th(t):
    v = t["value"]
    return f"{v:g} µs" if t["kind"] == "us" else f"{v:g}%"
thr = ", ".join(f"{m} {th(thresholds[m])}" for m in metrics)
cmd = f"bench-runner/scripts/detector.sh {spin2} {spin5} {pairs}"
if flags:
    cmd = f"COMPARE_FLAGS='{flags}' " + cmd
if calibration:
    cmd = "CALIBRATION='RUN0 RUN1 ...' " + cmd
cal = ""
if calibration:
    def ovh(f):
        r = json.load(open(f))
        v = next(v for v in r["variants"] if v["id"] == "rust-v8-mock")
        return r, v["overhead"]["cpu_us_per_req"]
    runs = [ovh(f"{calibration}/{i}.json") for i in range(len(glob.glob(f"{calibration}/*.json")))]
    (r0, o0), rest = runs[0], runs[1:]
    assert r0["profile"]["spin"] == 0, "the first CALIBRATION run must be --spin 0"
    p = r0["profile"]
    cal = (f"Calibration, {r0['started_at'][:10]} (`run --profile {p['name']} --only rust --workloads mock "
           f"--rounds {p['rounds']} --spin K`, one run per K; runs in `calibration/`): Envoy CPU overhead "
           f"of the Rust plugin and what the spin adds to it:\n\n"
           "| spin K | CPU overhead µs/req [95% CI] | added µs/req | ns per spin round |\n|---:|---:|---:|---:|\n"
           f"| 0 | {o0['estimate']:+.1f} [{o0['ci95_low']:+.1f}, {o0['ci95_high']:+.1f}] | - | - |\n")
    for r, o in sorted(rest, key=lambda x: x[0]["profile"]["spin"]):
        k = r["profile"]["spin"]
        add = o["estimate"] - o0["estimate"]
        cal += (f"| {k} | {o['estimate']:+.1f} [{o['ci95_low']:+.1f}, {o['ci95_high']:+.1f}] | "
                f"{add:+.1f} | {add / k * 1000:.2f} |\n")
    pts = [(r["profile"]["spin"], o["estimate"]) for r, o in runs]
    mk = statistics.mean(k for k, _ in pts); mo = statistics.mean(o for _, o in pts)
    slope = sum((k - mk) * (o - mo) for k, o in pts) / sum((k - mk) ** 2 for k, _ in pts)
    cal += (f"\nLeast-squares slope over these runs: {slope * 1000:.2f} ns per spin round, so spin {spin2} adds "
            f"about {int(spin2) * slope:.1f} µs and spin {spin5} about {int(spin5) * slope:.1f} µs per request.\n\n")
text = cal + f"""Pairs of quick runs of the Rust plugin (`run --profile quick --only rust`: {prof['rounds']} rounds over
{prof.get('processes', 1)} Envoy processes, results schema {json.load(open(f"{runs_dir}/base-0/results.json"))["schema_version"]}), compared with
`bench-runner compare BASE NEW` in its `{mode}` mode (noise thresholds: {thr}). A pair is flagged when
any gated figure regresses (`rust-v8-mock` and the `baseline-aa` null check; both gates: the 95%
interval of the change excludes 0 and the change exceeds the threshold), as CI's exit status would.
Measured with `{cmd}`.

| pairs of quick runs | regressions flagged | flagged by metric | CPU change µs/req, median [min, max] |
|---|---|---|---|
""" + "\n".join(rows) + "\n"
with open(f"{out}/detector.md.tmp", "w") as fh:
    fh.write(text)
os.replace(f"{out}/detector.md.tmp", f"{out}/detector.md")
print(text)
EOF
