#!/usr/bin/env python3
"""Envoy under callgrind, one window per variant, broken down by object file.

For each implementation, an Envoy of its own (valgrind caps the address space that V8 reserves per
Wasm VM) holds the no-plugin baseline listener and the implementation's listeners, taken from a run's
saved bootstrap (envoy-1.json of a run folder: the same filters, configurations and routes as the
run). After warm-up requests on every listener, instrumentation goes on; then per listener: zero the
counters, N serial requests on one keep-alive connection (`bench-runner load -n N -c 1`), dump.
`bench-runner objects` then gives each window's instructions by object (all threads of the window),
and this script the variant minus the baseline of the same Envoy, per object.

Usage: envoy-objects.py --bootstrap RUN/envoy-1.json --envoy ENVOY --runner BENCH_RUNNER --out DIR
       [--only rust,cpp,...] [--requests 1000] [--warmup 200]
Every process it starts (valgrind's Envoy) dies with it (parent-death signal), also on Ctrl-C.
"""
import argparse, ctypes, json, os, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def die_with_me():
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setpgid(0, 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rewrite_paths(node, old_root, new_root):
    if isinstance(node, dict):
        return {k: rewrite_paths(v, old_root, new_root) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite_paths(v, old_root, new_root) for v in node]
    if isinstance(node, str) and old_root and node.startswith(old_root + "/plugins/"):
        return new_root + node[len(old_root):]
    return node


def module_root(bootstrap):
    """The project root the bootstrap's module paths start with (before /plugins/)."""
    text = json.dumps(bootstrap)
    i = text.find("/plugins/")
    if i < 0:
        return None
    j = text.rfind('"', 0, i)
    return text[j + 1 : i]


def groups(listeners, only):
    """implementation -> its listener names (the baseline is added to every group)."""
    out = {}
    for l in listeners:
        name = l["name"]
        if name in ("baseline", "baseline-aa") or name.startswith("extproc-"):
            continue  # the ext_proc processor runs in a process of its own
        impl = name.rsplit("-", 1)[0]
        for rt in ("-v8", "-null"):
            if impl.endswith(rt):
                impl = impl[: -len(rt)]
        if only and impl not in only:
            continue
        out.setdefault(impl, []).append(name)
    return out


def wait_ready(port, proc, timeout):
    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"Envoy under valgrind exited at start ({proc.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                if r.status == 200:
                    return time.time() - start
        except Exception:
            pass
        time.sleep(0.5)
    raise SystemExit(f"Envoy under valgrind not ready after {timeout} s")


def load(runner, port, n):
    out = subprocess.run(
        [runner, "load", f"http://127.0.0.1:{port}/", "-n", str(n), "-c", "1", "--warmup", "0s",
         "--timeout", "60s", "--json"],
        capture_output=True, text=True, check=True)
    s = json.loads(out.stdout)
    if s.get("errors", 0):
        raise SystemExit(f"errors on port {port}: {out.stdout}")
    return s


def control(*args):
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True)


def dump_files(d, label):
    """The thread files of the dump whose trigger names `label`."""
    files = []
    for f in sorted(d.glob("callgrind.out.*")):
        with open(f, errors="replace") as fh:
            head = fh.read(4096)
        if f"desc: Trigger: dump {label}\n" in head:
            files.append(f)
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--envoy", required=True)
    ap.add_argument("--runner", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--keep-profiles", action="store_true", help="keep callgrind's files")
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    template = json.load(open(a.bootstrap))
    old_root = module_root(template)
    listeners = {l["name"]: l for l in template["static_resources"]["listeners"]}
    only = [x for x in a.only.split(",") if x]
    summary = {"requests": a.requests, "warmup": a.warmup, "bootstrap": a.bootstrap,
               "envoy": a.envoy, "valgrind": subprocess.run(["valgrind", "--version"],
               capture_output=True, text=True).stdout.strip(), "implementations": {}}
    for impl, names in groups(template["static_resources"]["listeners"], only).items():
        d = out / impl
        d.mkdir(exist_ok=True)
        for f in d.glob("callgrind.out*"):
            f.unlink()
        cfg = json.loads(json.dumps(template))
        cfg["admin"]["address"]["socket_address"]["port_value"] = admin = free_port()
        chosen = ["baseline"] + names
        ports = {}
        cfg["static_resources"]["listeners"] = []
        for n in chosen:
            l = json.loads(json.dumps(listeners[n]))
            l["address"]["socket_address"]["port_value"] = ports[n] = free_port()
            cfg["static_resources"]["listeners"].append(l)
        cfg = rewrite_paths(cfg, old_root, a.root)
        (d / "envoy.json").write_text(json.dumps(cfg, indent=1))
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes",
               f"--callgrind-out-file={d}/callgrind.out", f"--log-file={d}/valgrind.log",
               a.envoy, "-c", str(d / "envoy.json"), "--concurrency", "1", "--disable-hot-restart",
               "-l", "warning"]
        log = open(d / "envoy.log", "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, preexec_fn=die_with_me)
        try:
            ready_s = wait_ready(admin, proc, 900)
            (d / "maps.txt").write_text(open(f"/proc/{proc.pid}/maps").read())
            for n in chosen:
                load(a.runner, ports[n], a.warmup)
            control("-i", "on", str(proc.pid))
            windows = {}
            for n in chosen:
                control("-z", str(proc.pid))
                load(a.runner, ports[n], a.requests)
                control(f"--dump={n}", str(proc.pid))
                time.sleep(1)
                files = dump_files(d, n)
                if not files:
                    raise SystemExit(f"{impl}: no dump for {n}")
                r = subprocess.run([a.runner, "objects", "--json", "--requests", str(a.requests),
                                    "--maps", str(d / "maps.txt"), *map(str, files)],
                                   capture_output=True, text=True, check=True)
                windows[n] = json.loads(r.stdout)
                windows[n]["files"] = [f.name for f in files]
            summary["implementations"][impl] = {"ready_s": round(ready_s, 1), "windows": windows}
            print(f"{impl}: ready in {ready_s:.0f} s, {len(chosen)} windows", file=sys.stderr)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if not a.keep_profiles:
            for f in d.glob("callgrind.out*"):
                f.unlink()  # the per-object sums are kept; the profiles are large
    (out / "objects.json").write_text(json.dumps(summary, indent=1) + "\n")
    write_markdown(summary, out / "objects.md")


def write_markdown(summary, path):
    n = summary["requests"]
    lines = [f"Instructions per request by object, each window {n} requests (all threads); "
             "added = variant minus the baseline window of the same Envoy.", ""]
    lines.append("| variant | per request | added | added: no object (JIT code) | added: envoy | "
                 "added: libc memcpy/memmove/memset | added: libc other | added: other objects |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")

    def by(w):
        o = {}
        for p in w["parts"]:
            key = "???" if p["object"] == "???" else ("envoy" if p["object"] == "envoy" else
                  ("libc-copies" if p["object"].startswith("libc") and p["copies"] else
                   ("libc-other" if p["object"].startswith("libc") else "other")))
            o[key] = o.get(key, 0) + p["instructions"] / n
        return o

    for impl, r in summary["implementations"].items():
        base = by(r["windows"]["baseline"])
        for name, w in r["windows"].items():
            if name == "baseline":
                continue
            o = by(w)
            d = {k: o.get(k, 0) - base.get(k, 0) for k in ("???", "envoy", "libc-copies", "libc-other", "other")}
            total = w["total"] / n
            lines.append(f"| {name} | {total:,.0f} | {total - r['windows']['baseline']['total'] / n:+,.0f} | "
                         + " | ".join(f"{d[k]:+,.0f}" for k in ("???", "envoy", "libc-copies", "libc-other", "other"))
                         + " |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
