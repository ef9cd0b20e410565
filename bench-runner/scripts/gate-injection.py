#!/usr/bin/env python3
"""How the regression gate trades false alarms for detection, from saved runs only (no new measurement).

  bench-runner/scripts/gate-injection.py OUT BASE:NEW [BASE:NEW ...]

Every BASE:NEW is a pair of same-code runs (run folders with results.json). For each pair, `compare`
is run as is (false alarms: any gated figure flagged), then once per plugin variant of NEW with +D µs
injected into that variant alone (p50: its pooled latency p50 in every Envoy process, i.e. its added
p50; cpu: every CPU slice at saturation), with and without --family-wise. Detected = that figure is
flagged; collateral = some other gated figure of the same comparison is flagged. Writes OUT/gate.json
and OUT/gate.md. Needs target/debug/bench-runner (cargo build -p bench-runner).
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BR = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "bench-runner")
SHIFT_US = 5.0
MODES = [("plain", []), ("family-wise", ["--family-wise"])]


def compare(base, new, flags):
    out = subprocess.run([BR, "compare", *flags, "--format", "json", base, new], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"compare {base} {new} failed (exit {out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def flagged(c, skip=None):
    return [(v["id"], m["metric"]) for v in c["variants"] if v["gated"] for m in v["metrics"]
            if m["verdict"] == "regressed" and (v["id"], m["metric"]) != skip]


def inject(results, vid, metric):
    x = json.loads(json.dumps(results))
    if metric == "p50":
        for p in x["pooled"]:
            if p["variant"] == vid:
                p["latency"]["latency_us"]["p50"] += SHIFT_US
    else:
        for r in x["rounds"]:
            if r["variant"] == vid:
                r["cpu_slices_us_per_req"] = [s + SHIFT_US for s in r["cpu_slices_us_per_req"]]
    return x


def main():
    if len(sys.argv) < 3 or any(":" not in p for p in sys.argv[2:]):
        sys.exit(__doc__)
    out_dir, pairs = sys.argv[1], [p.split(":", 1) for p in sys.argv[2:]]
    os.makedirs(out_dir, exist_ok=True)
    report = {"shift_us": SHIFT_US, "pairs": [], "summary": {}}
    tmp = tempfile.mkdtemp(prefix="gate-injection-")
    for base, new in pairs:
        new_results = json.load(open(os.path.join(new, "results.json")))
        ids = [v["id"] for v in new_results["variants"] if v["id"] not in ("baseline", "baseline-aa")]
        entry = {"base": base, "new": new, "identical": {}, "injected": []}
        for mode, flags in MODES:
            entry["identical"][mode] = flagged(compare(base, new, flags))
        for metric in ("p50", "cpu"):
            for vid in ids:
                json.dump(inject(new_results, vid, metric), open(os.path.join(tmp, "results.json"), "w"))
                for mode, flags in MODES:
                    c = compare(base, tmp, flags)
                    hit = (vid, metric) in flagged(c)
                    entry["injected"].append({"variant": vid, "metric": metric, "mode": mode, "detected": hit,
                                              "collateral": flagged(c, skip=(vid, metric))})
        report["pairs"].append(entry)
    lines = [f"Same-code pairs of saved runs, compared as they are and with +{SHIFT_US:g} µs injected into one plugin",
             "variant at a time (`bench-runner/scripts/gate-injection.py`), with `compare`'s default thresholds",
             "(p50 2 µs, p99 25 µs, cpu 2 µs, rps 5%).", "",
             "| first gate | identical pairs flagged | +5 µs added p50 detected | +5 µs CPU detected | injected comparisons with another figure flagged |",
             "|---|---:|---:|---:|---:|"]
    for mode, _ in MODES:
        ident = sum(1 for p in report["pairs"] if p["identical"][mode])
        inj = [i for p in report["pairs"] for i in p["injected"] if i["mode"] == mode]
        det = {m: (sum(i["detected"] for i in inj if i["metric"] == m), sum(1 for i in inj if i["metric"] == m))
               for m in ("p50", "cpu")}
        coll = sum(1 for i in inj if i["collateral"])
        report["summary"][mode] = {"identical_flagged": ident, "pairs": len(report["pairs"]),
                                   "detected": {m: list(v) for m, v in det.items()}, "collateral": coll,
                                   "injected": len(inj)}
        label = "each figure's 95% interval excludes 0" if mode == "plain" else "Holm, 5% family-wise over all gated figures (`--family-wise`)"
        lines.append(f"| {label} | {ident} of {len(report['pairs'])} | {det['p50'][0]} of {det['p50'][1]} | "
                     f"{det['cpu'][0]} of {det['cpu'][1]} | {coll} of {len(inj)} |")
    # Every run's own null check, the A/A listener's added p50 (issue 13: |estimate| <= 1 µs with an
    # interval holding 0 in >= 19 of 20 runs), and where its wall time went (health.phases), from each
    # run's health.
    runs = sorted({r for p in report["pairs"] for r in (p["base"], p["new"])})
    aa, phases = [], {}
    for r in runs:
        health = json.load(open(os.path.join(r, "results.json"))).get("health") or {}
        e = health.get("aa_p50")
        if e and e.get("ci95_low") is not None:
            aa.append({"run": os.path.relpath(r, ROOT), "estimate": e["estimate"], "ci95_low": e["ci95_low"],
                       "ci95_high": e["ci95_high"]})
        ph = health.get("phases") or []
        if ph:
            for x in ph + [{"phase": "total", "seconds": sum(x["seconds"] for x in ph)}]:
                phases.setdefault(x["phase"], []).append(x["seconds"])
    if aa:
        holds = sum(1 for a in aa if a["ci95_low"] <= 0 <= a["ci95_high"])
        small = sum(1 for a in aa if a["ci95_low"] <= 0 <= a["ci95_high"] and abs(a["estimate"]) <= 1.0)
        ests = sorted(a["estimate"] for a in aa)
        half = sorted((a["ci95_high"] - a["ci95_low"]) / 2 for a in aa)
        report["aa"] = {"runs": aa, "holds_zero": holds, "within_1us_and_holds_zero": small}
        lines += ["", f"Every run's A/A check (a second no-plugin listener measured like a plugin, its added p50), over {len(aa)} runs:",
                  f"interval holds 0 in {holds} of {len(aa)}; |estimate| <= 1 µs with the interval holding 0 in {small} of {len(aa)};",
                  f"estimates {ests[0]:+.1f} to {ests[-1]:+.1f} µs (median {ests[len(ests) // 2]:+.1f}), half-widths {half[0]:.1f} to {half[-1]:.1f} µs (median {half[len(half) // 2]:.1f})."]
    if phases:
        med = lambda v: sorted(v)[len(v) // 2]
        report["phases_s"] = {k: {"median": med(v), "min": min(v), "max": max(v), "runs": len(v)} for k, v in phases.items()}
        lines += ["", f"Wall time per run (`health.phases`, {len(phases['total'])} runs), median [min, max]: " +
                  ", ".join(f"{k} {med(v):.0f} s [{min(v):.0f}, {max(v):.0f}]" for k, v in phases.items()) + "."]
    rel = [(os.path.relpath(p["base"], ROOT), os.path.relpath(p["new"], ROOT)) for p in report["pairs"]]
    if len(rel) > 4:
        lines += ["", f"{len(rel)} pairs: " + ", ".join(f"`{b}` vs `{os.path.basename(n)}`" for b, n in rel) + "."]
    else:
        lines += ["", "Pairs:"] + [f"- `{b}` vs `{n}`" for b, n in rel]
    for name, text in (("gate.json", json.dumps(report, indent=1)), ("gate.md", "\n".join(lines) + "\n")):
        path = os.path.join(out_dir, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
