#!/usr/bin/env python3
"""Two `curves` runs' slopes side by side, per implementation and figure, for one axis (default
headers): the slope with its 95% interval in each run and the ratio after/before. Times from two
days: an implementation whose code did not change shows how much the day alone moved them. Prints
Markdown.

usage: curves-before-after.py BEFORE_DIR AFTER_DIR [AXIS]
"""
import json
import sys
from pathlib import Path


def fits(d, axis):
    r = json.loads((Path(d) / "curves.json").read_text())
    return r, {(f["implementation"], f["figure"]): f for f in r["fits"] if f["axis"] == axis}


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    axis = sys.argv[3] if len(sys.argv) == 4 else "headers"
    (rb, fb), (ra, fa) = fits(sys.argv[1], axis), fits(sys.argv[2], axis)
    unit = "µs per header" if axis == "headers" else "µs per KiB"
    print(f"# `curves` slopes ({axis}) before and after\n")
    print(f"- before: `{sys.argv[1]}` (started {rb['started_at']}, profile `{rb['profile']['name']}`)")
    print(f"- after: `{sys.argv[2]}` (started {ra['started_at']}, profile `{ra['profile']['name']}`)\n")
    print(f"| implementation | figure | before, {unit} [95%] | after, {unit} [95%] | after / before |")
    print("|---|---|---:|---:|---:|")
    for key in sorted(set(fb) & set(fa)):
        b, a = fb[key]["slope"], fa[key]["slope"]
        cell = lambda s: f"{s['estimate']:+.3f} [{s['ci95_low']:+.3f}, {s['ci95_high']:+.3f}]"
        ratio = a["estimate"] / b["estimate"] if b["estimate"] else float("nan")
        print(f"| {key[0]} | {key[1]} | {cell(b)} | {cell(a)} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
