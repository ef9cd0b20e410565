#!/usr/bin/env python3
"""The worked example's default run against a default run of three of the suite's implementations
(issue 31's benchmark): wall time per phase, the A/A check and what was measured, read off the two
saved results.json. Prints Markdown.

usage: own-vs-three.py OWN_RUN_DIR THREE_RUN_DIR
"""
import json
import sys
from pathlib import Path


def load(d):
    return json.loads((Path(d) / "results.json").read_text())


def phases(r):
    return {p["phase"]: p["seconds"] for p in r["health"].get("phases", [])}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    runs = [(sys.argv[1], load(sys.argv[1])), (sys.argv[2], load(sys.argv[2]))]
    names = ["the worked example beside the Rust and Lua mocks", "three of the suite's implementations"]
    print("# The worked example's default run against a default run of three implementations\n")
    for (d, r), name in zip(runs, names):
        impls = sorted({v["id"] for v in r["variants"] if not v["id"].startswith("baseline")})
        print(f"- {name}: `{d}` (started {r['started_at']}, finished {r['finished_at']}, status "
              f"{r['status']}, profile `{r['profile']['name']}`, {r['profile']['processes']} Envoy processes); "
              f"variants: {', '.join(impls)}")
    print()
    all_phases = []
    for _, r in runs:
        for p in phases(r):
            if p not in all_phases:
                all_phases.append(p)
    print("| phase | " + " | ".join(f"{n} (s)" for n in names) + " |")
    print("|---|---:|---:|")
    for p in all_phases:
        print(f"| {p} | " + " | ".join(f"{phases(r).get(p, 0):.0f}" for _, r in runs) + " |")
    print("| **all phases** | " + " | ".join(f"**{sum(phases(r).values()):.0f}**" for _, r in runs) + " |")
    print()
    print("| A/A (baseline-aa minus baseline, added p50 µs, 95% CI) | " + " | ".join(names) + " |")
    print("|---|---|---|")
    cells = []
    for _, r in runs:
        a = r["health"].get("aa_p50") or {}
        est = a.get("estimate", a.get("p50", {}).get("estimate") if isinstance(a.get("p50"), dict) else None)
        lo, hi = a.get("ci95_low"), a.get("ci95_high")
        holds = lo is not None and hi is not None and lo <= 0 <= hi
        cells.append(f"{est:+.2f} [{lo:+.2f}, {hi:+.2f}] ({'holds 0' if holds else 'does NOT hold 0'})"
                     if est is not None else json.dumps(a))
    print("| A/A | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
