#!/usr/bin/env python3
"""Two counts of the same modules, per (implementation, engine, workload): the relative difference of
instructions per request. Usage: repeat.py FIRST/results.json SECOND/results.json"""
import json, sys

a = json.load(open(sys.argv[1]))["micro"]["instructions"]["entries"]
b = json.load(open(sys.argv[2]))["micro"]["instructions"]["entries"]
key = lambda e: (e["implementation"], e["engine"], e["workload"])
second = {key(e): e for e in b}
rows = []
for x in a:
    y = second[key(x)]
    d = (y["per_request"] - x["per_request"]) / x["per_request"] * 100
    rows.append((abs(d), d, *key(x), x["per_request"], y["per_request"]))
rows.sort(reverse=True)
print("| implementation | engine | workload | first | second | difference |")
print("|---|---|---|---:|---:|---:|")
for _, d, imp, eng, wl, p, q in rows:
    print(f"| {imp} | {eng} | {wl} | {p:.1f} | {q:.1f} | {d:+.4f}% |")
print()
print(f"within 0.01%: {sum(r[0] < 0.01 for r in rows)} of {len(rows)}; "
      f"within 0.1%: {sum(r[0] < 0.1 for r in rows)} of {len(rows)}; largest {rows[0][0]:.4f}%")
