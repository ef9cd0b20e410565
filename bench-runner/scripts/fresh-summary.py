#!/usr/bin/env python3
"""fresh.json from the two logs that bench-runner/scripts/fresh-clone.sh wrote (also runnable again on them):
fresh-summary.py OUT COMMIT HAD_TARGET RUN_S RUN_RC TEST_S TEST_RC KEPT_TARGET"""
import json, os, platform, re, subprocess, sys
out, commit, had_target, run_s, run_rc, test_s, test_rc, keep = sys.argv[1:]
workspace = {"bench-runner", "plugin-host"}
def crate(n):
    return n.split("@")[0]
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
        m = re.match(r"Compiling (\S+) v(\S+)", split(l)[1])
        if m:
            names.append(m.group(1) + "@" + m.group(2))
    return names
run, test = lines("run.log"), lines("test.log")
run_compiled, test_compiled = compiled(run), compiled(test)
announced = None
measure_start = measure_end = None
for l in run:
    t, rest = split(l)
    m = re.search(r"^measuring .*\(~(\d+) s", rest)
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
    "date": os.environ.get("FRESH_DATE") or subprocess.run(["date", "-u", "+%Y-%m-%dT%H:%M:%SZ"], capture_output=True, text=True).stdout.strip(),
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
        "workspace_crates_compiled": sorted(set(crate(n) for n in test_compiled if crate(n) in workspace)),
        # crates the run had compiled already and the test command compiled again (the goal: none)
        "recompiled_from_the_run": sorted(set(n for n in test_compiled if crate(n) not in workspace and n in run_compiled)),
        # dev-dependencies and theirs: compiled once, by the first test build
        "test_only_crates_compiled": sorted(set(n for n in test_compiled if crate(n) not in workspace and n not in run_compiled)),
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
