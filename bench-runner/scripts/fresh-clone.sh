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
python3 - "$out" "$commit" "$had_target" "$run_s" "$run_rc" "$test_s" "$test_rc" "$keep_target" <<'EOF'
import json, os, platform, re, subprocess, sys
out, commit, had_target, run_s, run_rc, test_s, test_rc, keep = sys.argv[1:]
workspace = {"bench-runner", "plugin-host"}
def lines(name):
    with open(os.path.join(out, name)) as f:
        return [l.rstrip("\n") for l in f]
def split(l):
    t, _, rest = l.strip().partition(" ")
    return float(t), rest.strip()
def cargo_finished(ls):
    # "Finished `dev` profile [optimized + debuginfo] target(s) in 6m 12s": the compile's end.
    for l in ls:
        t, rest = split(l)
        if rest.startswith("Finished "):
            return t
    return None
def compiled(ls):
    names = []
    for l in ls:
        m = re.match(r"Compiling (\S+) v", split(l)[1])
        if m:
            names.append(m.group(1))
    return names
run, test = lines("run.log"), lines("test.log")
run_compiled, test_compiled = compiled(run), compiled(test)
announced = None
measure_start = measure_end = None
for l in run:
    t, rest = split(l)
    m = re.search(r"^measuring .*\(~(\d+) s\)", rest)
    if m:
        announced, measure_start = int(m.group(1)), t
    if rest.startswith("wrote ") and rest.endswith("results.json"):
        measure_end = t
installed = [split(l)[1] for l in run + test
             if re.search(r"installing it:|installs? |into \.cache/venv|rustup target add", split(l)[1])
             and "Compiling" not in l][:20]
summary = [split(l)[1] for l in test if re.match(r"test result: ", split(l)[1])]
passed = sum(int(re.search(r"(\d+) passed", s).group(1)) for s in summary)
failed = sum(int(re.search(r"(\d+) failed", s).group(1)) for s in summary)
ignored = sum(int(re.search(r"(\d+) ignored", s).group(1)) for s in summary)
run_compile = cargo_finished(run)
test_compile = cargo_finished(test)
doc = {
    "what": "the README's two commands, literally, in a fresh clone (no target/, no .cache/)",
    "commit": commit,
    "date": subprocess.run(["date", "-u", "+%Y-%m-%dT%H:%M:%SZ"], capture_output=True, text=True).stdout.strip(),
    "host": {"cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
             "cores": os.cpu_count(), "kernel": platform.release()},
    "wasm_target_present_at_start": had_target == "1",
    "wasm_target_removed_first": keep == "0",
    "run": {
        "command": "cargo run -p bench-runner",
        "exit_code": int(run_rc),
        "wall_s": float(run_s),
        "compile_s": run_compile,
        "crates_compiled": len(run_compiled),
        "measuring_announced_s": announced,
        "measuring_took_s": None if measure_start is None or measure_end is None else round(measure_end - measure_start, 1),
        "installed": installed,
        "skipped_lines": [split(l)[1] for l in run if split(l)[1].startswith("skipping ")],
    },
    "test": {
        "command": "cargo test --workspace",
        "exit_code": int(test_rc),
        "wall_s": float(test_s),
        "compile_s": test_compile,
        "crates_compiled": len(test_compiled),
        "workspace_crates_compiled": sorted(set(n for n in test_compiled if n in workspace)),
        # crates the run had compiled already and the test command compiled again (the goal: none)
        "recompiled_from_the_run": sorted(set(n for n in test_compiled if n not in workspace and n in run_compiled)),
        # dev-dependencies and theirs: compiled once, by the first test build
        "test_only_crates_compiled": sorted(set(n for n in test_compiled if n not in workspace and n not in run_compiled)),
        "passed": passed, "failed": failed, "ignored": ignored,
        "left_out_lines": [split(l)[1] for l in test if "LEFT OUT" in l or "SKIPPING" in l],
    },
}
tmp = os.path.join(out, "fresh.json.tmp")
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, os.path.join(out, "fresh.json"))
print(json.dumps(doc, indent=2))
EOF
# The run folder the first command wrote lives in the temporary clone: keep its results.json beside.
latest=$(readlink -f results/latest 2>/dev/null || true)
[ -n "$latest" ] && [ -f "$latest/results.json" ] && cp "$latest/results.json" "$out/run-results.json"
[ "${KEEP:-0}" = 1 ] && echo "clone kept: $work/clone"
[ "$run_rc" = 0 ] && [ "$test_rc" = 0 ]
