#!/usr/bin/env python3
"""What the header work costs per implementation, before and after a change, read off saved runs: the
`headers` variant's added p50 and CPU per request (saturation) minus the `mock` variant's, per run,
and (when given) the added instructions per request from each run's counting phase or an
`instructions` folder. Differences of means; the intervals are each figure's own (a difference of two
figures of one run has no interval of its own in results.json). Prints Markdown; with `--json FILE`
also writes the figures as JSON (`bench-runner readme --header-work FILE` renders the README's table
from it: the first LABEL is "before", the last "after").

usage: headers-minus-mock.py [--json FILE] LABEL=RUN_DIR[,INSTRUCTIONS_DIR] [LABEL=RUN_DIR[,INSTRUCTIONS_DIR] ...]
"""
import json
import sys
from pathlib import Path


def load(d):
    return json.loads((Path(d) / "results.json").read_text())


def impl_of(vid, workload):
    return vid[: -len(workload) - 1]


def figures(run_dir, instr_dir):
    r = load(run_dir)
    out = {}
    for v in r["variants"]:
        for w in ("mock", "headers"):
            if v["id"].endswith("-" + w) and v.get("overhead"):
                o = v["overhead"]
                out.setdefault(impl_of(v["id"], w), {})[w] = {
                    "p50": o["p50"]["estimate"],
                    "cpu": o["cpu_us_per_req"]["estimate"],
                }
    src = r if r.get("instructions") else (load(instr_dir) if instr_dir else None)
    if src and src.get("instructions"):
        for v in src["instructions"]["variants"]:
            for w in ("mock", "headers"):
                if v["id"].endswith("-" + w) and v.get("added"):
                    out.setdefault(impl_of(v["id"], w), {}).setdefault(w, {})["instr"] = v["added"]["estimate"]
    return r, out


def main():
    args = sys.argv[1:]
    json_out = None
    if args[:1] == ["--json"] and len(args) >= 2:
        json_out, args = args[1], args[2:]
    if len(args) < 1:
        sys.exit(__doc__)
    runs = []
    for arg in args:
        label, rest = arg.split("=", 1)
        run_dir, _, instr_dir = rest.partition(",")
        r, f = figures(run_dir, instr_dir or None)
        runs.append((label, run_dir, instr_dir, r, f))
    print("# The header work: `headers` minus `mock`, per implementation\n")
    for label, run_dir, instr_dir, r, _ in runs:
        print(f"- {label}: run `{run_dir}` (started {r['started_at']}, {r['profile']['processes']} Envoy processes)"
              + (f", instructions from `{instr_dir}`" if instr_dir else ""))
    print()
    impls = sorted({i for *_, f in runs for i in f})
    head = " | ".join(f"{label}: p50 µs / CPU µs / instructions" for label, *_ in runs)
    print(f"| implementation | {head} |")
    print("|---|" + "---|" * len(runs))
    for i in impls:
        cells = []
        for *_, f in runs:
            m, h = f.get(i, {}).get("mock"), f.get(i, {}).get("headers")
            if not m or not h or "p50" not in m or "p50" not in h:
                cells.append("-")
                continue
            instr = (f"{h['instr'] - m['instr']:+,.0f}" if "instr" in m and "instr" in h else "n/a")
            cells.append(f"{h['p50'] - m['p50']:+.1f} / {h['cpu'] - m['cpu']:+.1f} / {instr}")
        print(f"| {i} | " + " | ".join(cells) + " |")
    if json_out:
        def diff(f, i):
            m, h = f.get(i, {}).get("mock"), f.get(i, {}).get("headers")
            if not m or not h or "p50" not in m or "p50" not in h:
                return None
            d = {"p50_us": h["p50"] - m["p50"], "cpu_us": h["cpu"] - m["cpu"]}
            if "instr" in m and "instr" in h:
                d["instructions"] = h["instr"] - m["instr"]
            return d
        doc = {
            "what": "the headers variant's added figures minus the mock variant's, per implementation and run",
            "made_by": "bench-runner/scripts/headers-minus-mock.py " + " ".join(sys.argv[1:]),
            "sides": [{"label": label, "run": run_dir, "instructions": instr_dir or None,
                       "started_at": r["started_at"], "processes": r["profile"]["processes"]}
                      for label, run_dir, instr_dir, r, _ in runs],
            "rows": [{"implementation": i, "figures": [diff(f, i) for *_, f in runs]} for i in impls],
        }
        Path(json_out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
