#!/usr/bin/env python3
"""The header work in-process: per implementation and engine, instructions per request of the
`headers` workload minus the `mock` one, from `micro --instructions` folders (before and after a
change). Prints Markdown.

usage: inproc-headers.py LABEL=DIR [LABEL=DIR ...]
"""
import json
import sys


def work(d):
    r = json.load(open(d + "/results.json"))
    per = {}
    for e in r["micro"]["instructions"]["entries"]:
        per[(e["implementation"], e["engine"], e["workload"])] = e["per_request"]
    out = {}
    for (i, eng, w), v in per.items():
        if w == "headers" and (i, eng, "mock") in per:
            out[(i, eng)] = v - per[(i, eng, "mock")]
    return r, out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = [(a.split("=", 1)[0], a.split("=", 1)[1], *work(a.split("=", 1)[1])) for a in sys.argv[1:]]
    print("# The header work in-process: `headers` minus `mock`, instructions per request\n")
    for label, d, r, _ in runs:
        print(f"- {label}: `{d}` (started {r['started_at']})")
    print()
    keys = sorted({k for *_, w in runs for k in w})
    print("| implementation | engine | " + " | ".join(label for label, *_ in runs)
          + (" | change |" if len(runs) == 2 else " |"))
    print("|---|---|" + "---:|" * (len(runs) + (1 if len(runs) == 2 else 0)))
    for k in keys:
        vals = [w.get(k) for *_, w in runs]
        cells = [f"{v:,.0f}" if v is not None else "-" for v in vals]
        if len(runs) == 2 and all(v is not None for v in vals):
            cells.append(f"{100 * (vals[1] - vals[0]) / vals[0]:+.1f}%")
        elif len(runs) == 2:
            cells.append("-")
        print(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
