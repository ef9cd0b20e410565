#!/usr/bin/env python3
"""The instruction gate as a detector, from `bench-runner instructions --only rust --workloads mock
--processes N [--spin K]` folders: pairs of Envoy processes (process i of BASE against process i of
each other folder) judged as `compare --threshold-pct instructions=PCT` judges two runs: the change of
the variant's added instructions per request as % of BASE's instructions per request of its listener,
flagged beyond the threshold. Prints Markdown.

usage: detector-instructions.py VARIANT PCT BASE_DIR LABEL=DIR [LABEL=DIR ...]
"""
import json
import statistics
import sys
from pathlib import Path


def load(d):
    r = json.loads((Path(d) / "results.json").read_text())
    return r


def variant(r, vid):
    for v in r["instructions"]["variants"]:
        if v["id"] == vid:
            return v
    sys.exit(f"{vid} is not in the run")


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    vid, pct, base_dir = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    base_r = load(base_dir)
    base = variant(base_r, vid)
    total = base["per_request"]["estimate"]
    b = base["added_per_process"]
    s = base_r["instructions"]
    print(f"# The instruction gate as a detector: `{vid}`, threshold {pct}% of the listener's instructions per request\n")
    print(f"Base: `{base_dir}` ({len(b)} Envoy processes, {s['protocol']['windows']} windows of "
          f"{s['protocol']['requests_per_window']} requests, started {base_r['started_at']}); the listener's "
          f"instructions per request {total:,.0f}; its added instructions per process: "
          f"median {statistics.median(b):,.0f}, range {min(b):,.0f} to {max(b):,.0f} "
          f"({100 * (max(b) - min(b)) / total:.3f}% of the request).\n")
    print("| pairs (base process i against process i of) | spin K | pairs | flagged | change of added instructions, % of the request: median [min, max] | added instructions per request, median |")
    print("|---|---:|---:|---:|---|---:|")
    for arg in sys.argv[4:]:
        label, d = arg.split("=", 1)
        r = load(d)
        v = variant(r, vid)
        n = v["added_per_process"]
        k = min(len(b), len(n))
        ch = [100 * (n[i] - b[i]) / total for i in range(k)]
        flagged = sum(1 for c in ch if abs(c) > pct)
        spin = r.get("profile", {}).get("spin", "?")
        print(f"| {label} (`{d}`) | {spin} | {k} | {flagged} of {k} | {statistics.median(ch):+.3f} "
              f"[{min(ch):+.3f}, {max(ch):+.3f}] | {statistics.median(n):,.0f} |")


if __name__ == "__main__":
    main()
