#!/usr/bin/env python3
"""What a profile change costs in precision, read off two saved runs: per variant present in both,
the 95% interval half-widths of the added p50 and of the added CPU per request (both regimes), the
ratio NEW/OLD, and each run's processes and wall time by phase. Prints Markdown.

usage: precision.py OLD_RUN_DIR NEW_RUN_DIR
"""
import json
import statistics
import sys
from pathlib import Path


def load(d):
    return json.loads((Path(d) / "results.json").read_text())


def half(e):
    if not e or e.get("ci95_low") is None or e.get("ci95_high") is None:
        return None
    return (e["ci95_high"] - e["ci95_low"]) / 2


def phases(r):
    ph = (r.get("health") or {}).get("phases") or []
    total = sum(p["seconds"] for p in ph)
    parts = ", ".join(f"{p['phase']} {p['seconds']:.0f} s" for p in ph)
    return total, parts


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old_dir, new_dir = sys.argv[1], sys.argv[2]
    old, new = load(old_dir), load(new_dir)
    figures = [("p50", "added p50 (µs)"), ("cpu_us_per_req", "CPU at saturation (µs)"),
               ("fixed_cpu_us_per_req", "CPU at a fixed rate (µs)")]
    by_id = {v["id"]: v for v in old["variants"]}
    print(f"# Precision of `{new_dir}` against `{old_dir}`\n")
    for name, r, d in (("old", old, old_dir), ("new", new, new_dir)):
        total, parts = phases(r)
        p = r["profile"]
        print(f"- {name}: `{d}`, profile {p['name']}: {p['processes']} Envoy processes, "
              f"{p['rounds']} rounds, {p['cpu']['slices']} CPU passes; wall time {total / 60:.1f} min "
              f"({parts}); host {r['host'].get('cpu_model', '?')}")
    print("\nHalf-width of each 95% interval (± µs), old → new, and the ratio new/old. The plugins' code "
          "may differ between the two runs (the estimates are not compared, only how wide the intervals are).\n")
    print("| variant | " + " | ".join(f"{h} old → new (ratio)" for _, h in figures) + " |")
    print("|---|" + "---|" * len(figures))
    ratios = {k: [] for k, _ in figures}
    for v in new["variants"]:
        o = by_id.get(v["id"])
        if not o or v["id"] == "baseline" or not v.get("overhead") or not o.get("overhead"):
            continue
        cells = []
        for k, _ in figures:
            a, b = half(o["overhead"].get(k)), half(v["overhead"].get(k))
            if a is None or b is None or a == 0:
                cells.append("n/a")
                continue
            ratios[k].append(b / a)
            cells.append(f"{a:.1f} → {b:.1f} ({b / a:.2f})")
        print(f"| {v['id']} | " + " | ".join(cells) + " |")
    print()
    for k, h in figures:
        if ratios[k]:
            print(f"- {h}: median ratio {statistics.median(ratios[k]):.2f} over {len(ratios[k])} variants")


if __name__ == "__main__":
    main()
