//! Every bad input is a usage error (SPEC section 3): exit 2, at most two lines on stderr, naming the
//! flag or file involved, before any work. Each row runs the real binary with `ENVOY_BIN` pointing at
//! a sentinel that records being run: validation must come before Envoy is located, so no row may
//! run it (nor build or measure anything).

mod common;
use common::*;
use std::path::Path;

/// The files the rows read: junk, truncated, old and misshapen results, bad case files, READMEs.
fn inputs(t: &Path) {
    let fixture = root().join("bench-runner/tests/fixtures/results-quick.json");
    let good = std::fs::read_to_string(&fixture).unwrap();
    let write = |name: &str, text: &str| std::fs::write(t.join(name), text).unwrap();
    write("junk.json", "not json {");
    let cut = (0..=good.len() / 3)
        .rev()
        .find(|&i| good.is_char_boundary(i))
        .unwrap();
    write("truncated.json", &good[..cut]);
    write("v1.json", r#"{"schema_version": 1}"#);
    write("shape.json", r#"{"schema_version": 2, "status": 5}"#);
    write("cases-junk.json", "[{");
    write("cases-empty.json", "[]");
    write(
        "cases-shape.json",
        r#"[{"name": "no requests", "config": {}}]"#,
    );
    write("a-file", "not a folder");
    write(
        "worker-cut.log",
        "----- bench-runner worker file begin -----\n#bench-runner-worker {\"format\":1}\n",
    );
    write("readme-plain.md", "# no generated regions\n");
    // A module with the WebAssembly magic (Envoy is never reached to refuse it), request files.
    write("mod.wasm", "\0asm\x01\0\0\0");
    write("bad-request.toml", "path = \"no-slash\"\n");
    write("request.toml", "path = \"/\"\n");
    write(
        "profile.out",
        "version: 1\nevents: Ir\nfn=f\n0 5\ntotals: 5\n",
    );
    write(
        "readme-regions.md",
        "<!-- generated:implementations:begin -->\n<!-- generated:implementations:end -->\n\
         <!-- generated:results:begin -->\n<!-- generated:results:end -->\n",
    );
    let fifo = std::ffi::CString::new(t.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::fs::create_dir_all(t.join("done-run")).unwrap();
    write("done-run/results.json", &good);
    std::fs::create_dir_all(t.join("done-lifecycle")).unwrap();
    write("done-lifecycle/lifecycle.json", "{}");
    std::fs::create_dir_all(t.join("done-curves")).unwrap();
    write("done-curves/curves.json", "{}");
    std::fs::create_dir_all(t.join("done-ab")).unwrap();
    write("done-ab/ab.json", "{}");
    let sentinel = t.join("envoy-sentinel");
    write(
        "envoy-sentinel",
        &format!(
            "#!/bin/sh\ntouch {}\nexit 1\n",
            t.join("envoy-ran").display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sentinel, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[path = "bad_inputs/own_phases.rs"]
mod own_phases;

/// (arguments, what stderr must name); `T/` is the inputs' folder, `FIX` the saved quick run.
const ROWS: &[(&[&str], &str)] = &[
    (&["nosuch-command"], "nosuch-command"),
    (&["run", "--nosuch"], "--nosuch"),
    (&["run", "--profile", "nope"], "--profile"),
    (&["run", "--only", "nosuch"], "--only"),
    (&["run", "--rounds", "0"], "--rounds"),
    (&["run", "--rounds", "abc"], "--rounds"),
    (&["run", "--format", "yaml"], "--format"),
    (&["report", "T/a-file", "--format", "html"], "--format"),
    (&["run", "--processes", "0"], "--processes"),
    (&["run", "--workloads", "nope"], "--workloads"),
    (&["run", "--rate", "0"], "--rate"),
    (&["run", "--rate", "nan"], "--rate"),
    (&["run", "--base-port", "0"], "--base-port"),
    (&["run", "--base-port", "70000"], "--base-port"),
    (&["run", "--spin", "4294967295"], "--spin"),
    (&["run", "--save-baseline", "../x"], "--save-baseline"),
    (&["run", "--out", "T/a-file"], "T/a-file"),
    (
        &["run", "--out", "T/done-run"],
        "results.json is already there",
    ),
    (&["run", "--out", "/proc/nosuch/run"], "/proc/nosuch/run"),
    (
        &["run", "--envoy", "/nonexistent/envoy", "--out", "T/new-run"],
        "/nonexistent/envoy",
    ),
    (
        &["run", "--envoy", "T/a-file", "--out", "T/new-run"],
        "T/a-file",
    ),
    // Plugins of your own (issue 31): every file, option and request checked before Envoy.
    (&["run", "--plugin", "T/nope.wasm"], "T/nope.wasm"),
    (
        &["run", "--plugin", "T/junk.json"],
        "T/junk.json is not a WebAssembly module",
    ),
    (
        &["run", "--dynamic-module", "T/mod.wasm"],
        "T/mod.wasm is not a shared object",
    ),
    (&["run", "--lua", "T/nope.lua"], "--lua T/nope.lua"),
    (
        &["run", "--plugins-dir", "T/a-file"],
        "--plugins-dir T/a-file",
    ),
    (&["run", "--plugins-dir", "T/done-run"], "no plugin.toml"),
    (
        &["run", "--lua", "T/junk.json", "--plugin-config", "{}"],
        "--plugin-config applies to",
    ),
    (
        &["run", "--root-id", "r", "--plugin", "T/mod.wasm"],
        "--root-id configures the plugin flag before it",
    ),
    (
        &["run", "--plugin", "T/mod.wasm", "--plugin-config", "{nope"],
        "--plugin-config {nope",
    ),
    (
        &[
            "run",
            "--plugin",
            "T/mod.wasm",
            "--vm-config",
            "{\"code\": {}}",
        ],
        "--vm-config",
    ),
    (
        &["run", "--plugin", "rust=T/mod.wasm"],
        "the name `rust` is the suite's",
    ),
    (
        &["run", "--ext-proc", "10.1.2.3:50051"],
        "--ext-proc 10.1.2.3:50051",
    ),
    (&["run", "--request", "T/request.toml"], "--request"),
    (&["run", "--expect", "200"], "--expect"),
    (
        &[
            "run",
            "--plugin",
            "T/mod.wasm",
            "--request",
            "T/bad-request.toml",
        ],
        "--request T/bad-request.toml",
    ),
    (
        &["run", "--plugin", "T/mod.wasm", "--request", "T/junk.json"],
        "--request T/junk.json",
    ),
    (
        &["run", "--plugin", "T/mod.wasm", "--expect", "42"],
        "--expect 42",
    ),
    (
        &["run", "--plugin", "T/mod.wasm", "--expect", "x"],
        "--expect",
    ),
    (
        &["run", "--plugin", "T/mod.wasm", "--expect-header", "a b"],
        "--expect-header",
    ),
    (&["run", "--plugin", "T/mod.wasm", "--http2"], "--http2"),
    (&["build", "--only", "nosuch"], "--only"),
    (&["package", "--only", "nosuch", "--out", "T/pkg"], "--only"),
    (
        &["package", "--only", "extproc-rust", "--out", "T/pkg"],
        "extproc-rust",
    ),
    (
        &["manifests", "--only", "dynmod-rust", "--out", "T/man"],
        "dynmod-rust",
    ),
    (&["manifests", "--only", "lua", "--out", "T/man"], "`lua`"),
    (&["package", "--tag", ".bad", "--out", "T/pkg"], "--tag"),
    (&["package", "--out", "T/a-file"], "T/a-file"),
    (
        &[
            "package",
            "--push",
            "http://127.0.0.1:5000",
            "--out",
            "T/pkg",
        ],
        "--push http://127.0.0.1:5000",
    ),
    (
        &["package", "--push", "127.0.0.1:5000/Bad", "--out", "T/pkg"],
        "--push 127.0.0.1:5000/Bad",
    ),
    // Nothing listens on port 1: the registry is checked before anything is built.
    (
        &["package", "--push", "127.0.0.1:1", "--out", "T/pkg"],
        "--push 127.0.0.1:1: cannot reach the registry",
    ),
    (
        &["package", "--module", "no-equals-sign", "--out", "T/pkg"],
        "--module",
    ),
    (
        &[
            "package",
            "--module",
            "rust=/nonexistent/x.wasm",
            "--out",
            "T/pkg",
        ],
        "/nonexistent/x.wasm",
    ),
    (
        &["package", "--module", "rust=T/junk.json", "--out", "T/pkg"],
        "not a WebAssembly module",
    ),
    (
        &[
            "manifests",
            "--failure-run",
            "/nonexistent/f",
            "--out",
            "T/man",
        ],
        "--failure-run /nonexistent/f",
    ),
    (
        &["manifests", "--failure-run", "T/", "--out", "T/man"],
        "failure.json",
    ),
    (
        &[
            "manifests",
            "--registry",
            "https://r.example",
            "--out",
            "T/man",
        ],
        "--registry https://r.example",
    ),
    (&["manifests", "--tag", "a b", "--out", "T/man"], "--tag"),
    (
        &["manifests", "--only", "nosuch", "--out", "T/man"],
        "--only",
    ),
    (
        &["conformance", "--cases", "/nonexistent/cases.json"],
        "/nonexistent/cases.json",
    ),
    (
        &["conformance", "--cases", "T/cases-junk.json"],
        "T/cases-junk.json",
    ),
    (
        &["conformance", "--cases", "T/cases-shape.json"],
        "T/cases-shape.json",
    ),
    (
        &["conformance", "--cases", "T/cases-empty.json"],
        "T/cases-empty.json",
    ),
    (&["conformance", "--only", "nosuch"], "--only"),
    (&["fuzz", "--cases", "0"], "--cases"),
    (&["fuzz", "--cases", "abc"], "--cases"),
    (&["fuzz", "--seed", "x"], "--seed"),
    (&["fuzz", "--only", "nosuch"], "--only"),
    (&["compare", "FIX"], "BASE and NEW"),
    (
        &["compare", "/nonexistent/a.json", "FIX"],
        "/nonexistent/a.json",
    ),
    (&["compare", "T/junk.json", "FIX"], "T/junk.json"),
    (&["compare", "FIX", "T/truncated.json"], "T/truncated.json"),
    (&["compare", "--baseline", "../x", "FIX"], "--baseline"),
    (
        &["compare", "--baseline", "nosuch-baseline", "FIX"],
        "nosuch-baseline",
    ),
    (
        &["compare", "--threshold-us", "abc", "FIX", "FIX"],
        "--threshold",
    ),
    (
        &["compare", "--threshold-pct", "p50=-3", "FIX", "FIX"],
        "--threshold",
    ),
    (&["compare", "--format", "nope", "FIX", "FIX"], "--format"),
    (
        &["report", "/nonexistent/results.json"],
        "/nonexistent/results.json",
    ),
    (&["report", "T/junk.json"], "T/junk.json"),
    (&["report", "T/truncated.json"], "T/truncated.json"),
    (&["report", "T/v1.json"], "T/v1.json"),
    (&["report", "T/shape.json"], "T/shape.json"),
    (&["report", "T/"], "results.json"),
    (&["export", "FIX"], "--format"),
    (&["export", "--format", "nope", "FIX"], "--format"),
    (
        &["export", "--format", "bmf", "/nonexistent/r.json"],
        "/nonexistent/r.json",
    ),
    (
        &[
            "export",
            "--format",
            "bmf",
            "FIX",
            "--out",
            "T/a-file/x.json",
        ],
        "--out",
    ),
    (
        &["export", "--format", "bmf", "FIX", "--out", "T/"],
        "--out",
    ),
    (
        &["export", "--format", "bmf", "FIX", "--out", "T/fifo"],
        "is a folder or a device",
    ),
    (
        &[
            "readme",
            "--run",
            "/nonexistent/run",
            "--readme",
            "T/readme-regions.md",
        ],
        "/nonexistent/run",
    ),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "/nonexistent/README.md",
        ],
        "/nonexistent/README.md",
    ),
    (
        &["readme", "--run", "FIX", "--readme", "T/readme-plain.md"],
        "T/readme-plain.md",
    ),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--failure-run",
            "/nonexistent/f",
        ],
        "--failure-run",
    ),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--peers",
            "/nonexistent/p",
        ],
        "--peers: cannot read /nonexistent/p",
    ),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--detector",
            "/nonexistent/d",
        ],
        "--detector",
    ),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--fresh",
            "/nonexistent/c",
        ],
        "--fresh",
    ),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--reproducibility",
            "/nonexistent/r",
        ],
        "--reproducibility",
    ),
    (&["reproduce"], "<A> <B>"),
    (&["reproduce", "FIX"], "<A> <B>"),
    (&["reproduce", "/nonexistent/a", "FIX"], "/nonexistent/a"),
    (&["reproduce", "FIX", "FIX", "--out", "T/a-file"], "--out"),
    (&["load", "ftp://127.0.0.1/"], "ftp://127.0.0.1/"),
    (&["load", "http://10.1.2.3/"], "--allow-remote"),
    (&["load", "http://gateway.example/"], "--allow-remote"),
    (
        &[
            "load",
            "http://127.0.0.1:1/",
            "-n",
            "1",
            "--start-at",
            "soon",
        ],
        "--start-at",
    ),
    (
        &[
            "load",
            "http://127.0.0.1:1/",
            "-n",
            "1",
            "--start-at",
            "2000-01-01T00:00:00Z",
        ],
        "--start-at",
    ),
    (
        &[
            "load",
            "http://127.0.0.1:1/",
            "-n",
            "1",
            "--start-at",
            "2999-01-01T00:00:00Z",
        ],
        "--start-at",
    ),
    (
        &["load", "http://127.0.0.1:1/", "-n", "1", "--worker-id", ""],
        "--worker-id",
    ),
    (
        &[
            "load",
            "http://127.0.0.1:1/",
            "-n",
            "1",
            "--save-histograms",
            "T/a-file/w.hlog",
        ],
        "--save-histograms",
    ),
    (&["merge"], "<FILES>"),
    (&["merge", "/nonexistent/w.hlog"], "/nonexistent/w.hlog"),
    (&["merge", "T/junk.json"], "T/junk.json"),
    (&["merge", "T/worker-cut.log"], "T/worker-cut.log"),
    (
        &["k8s", "--workers", "3", "--rate", "10", "--duration", "10s"],
        "--target",
    ),
    (
        &[
            "k8s",
            "--target",
            "ftp://gw/",
            "--workers",
            "3",
            "--rate",
            "10",
            "--duration",
            "10s",
        ],
        "--target",
    ),
    (
        &[
            "k8s",
            "--target",
            "http://gw/",
            "--workers",
            "0",
            "--rate",
            "10",
            "--duration",
            "10s",
        ],
        "--workers",
    ),
    (
        &[
            "k8s",
            "--target",
            "http://gw/",
            "--workers",
            "3",
            "--rate",
            "0",
            "--duration",
            "10s",
        ],
        "--rate",
    ),
    (
        &[
            "k8s",
            "--target",
            "http://gw/",
            "--workers",
            "3",
            "--rate",
            "10",
            "--duration",
            "0",
        ],
        "--duration",
    ),
    (
        &[
            "k8s",
            "--target",
            "http://gw/",
            "--workers",
            "3",
            "--rate",
            "10",
            "--duration",
            "10s",
            "--name",
            "Bad_Name",
        ],
        "--name",
    ),
    (
        &[
            "k8s",
            "--target",
            "http://gw/",
            "--workers",
            "3",
            "--rate",
            "10",
            "--duration",
            "10s",
            "--start-at",
            "2000-01-01T00:00:00Z",
        ],
        "--start-at",
    ),
    (
        &[
            "k8s",
            "--target",
            "http://gw/",
            "--workers",
            "3",
            "--rate",
            "10",
            "--duration",
            "10s",
            "--out",
            "T/a-file/job.yaml",
        ],
        "--out",
    ),
    (
        &["load", "http://127.0.0.1:notaport/"],
        "http://127.0.0.1:notaport/",
    ),
    (&["load", "http://127.0.0.1:0/"], "port 0"),
    (
        &["load", "http://127.0.0.1:1/", "-c", "0", "-n", "1"],
        "--connections",
    ),
    (
        &["load", "http://127.0.0.1:1/", "-c", "20000", "-n", "1"],
        "--connections",
    ),
    (&["load", "http://127.0.0.1:1/", "-n", "0"], "--requests"),
    (
        &["load", "http://127.0.0.1:1/", "--body=-1", "-n", "1"],
        "--body",
    ),
    (
        &["load", "http://127.0.0.1:1/", "--body", "4q", "-n", "1"],
        "--body",
    ),
    (
        &["load", "http://127.0.0.1:1/", "--body", "2m", "-n", "1"],
        "--body",
    ),
    (
        &[
            "load",
            "http://127.0.0.1:1/",
            "--body",
            "1k",
            "--http2",
            "-n",
            "1",
        ],
        "--body",
    ),
    (&["load", "http://127.0.0.1:1/", "-d", "0"], "--duration"),
    (&["load", "http://127.0.0.1:1/", "-d", "ten"], "--duration"),
    (
        &["load", "http://127.0.0.1:1/", "-d", "1e30s"],
        "--duration",
    ),
    (
        &["load", "http://127.0.0.1:1/", "--rate", "0", "-n", "1"],
        "--rate",
    ),
    (
        &["load", "http://127.0.0.1:1/", "--timeout", "0", "-n", "1"],
        "--timeout",
    ),
    (
        &["load", "http://127.0.0.1:1/", "--cpu", "9999", "-n", "1"],
        "--cpu",
    ),
    (
        &[
            "load",
            "http://127.0.0.1:1/",
            "--expect-status",
            "42",
            "-n",
            "1",
        ],
        "--expect-status",
    ),
    (
        &["load", "http://127.0.0.1:1/", "--host", "a b", "-n", "1"],
        "--host",
    ),
    (&["micro", "--engines", "v8"], "--engines"),
    (&["micro", "--benchmarks", "latency"], "--benchmarks"),
    (&["micro", "--batches", "1"], "--batches"),
    (&["micro", "--batch-ms", "0"], "--batch-ms"),
    (
        &["micro", "--only", "nosuch", "--out", "T/new-micro"],
        "--only",
    ),
    (&["micro", "--out", "T/a-file"], "T/a-file"),
    (
        &["micro", "--instructions", "--workloads", "latency"],
        "--workloads",
    ),
    (
        &["micro", "--instructions", "--requests", "0"],
        "--requests",
    ),
    (&["micro", "--instructions", "--windows", "0"], "--windows"),
    (
        &["micro", "--instructions", "--body-bytes", "2000000"],
        "--body-bytes",
    ),
    (&["micro", "--instructions", "--batches", "3"], "--batches"),
    (&["micro", "--instructions", "--engines", "v8"], "--engines"),
    (&["micro", "--spin", "3"], "--spin"),
    (
        &["micro", "--instructions", "--out", "T/a-file"],
        "T/a-file",
    ),
    (&["objects", "T/junk.json"], "T/junk.json"),
    (&["objects", "T/nosuch.out"], "T/nosuch.out"),
    (
        &["objects", "--requests", "0", "T/profile.out"],
        "--requests",
    ),
    (
        &["objects", "--maps", "T/nosuch-maps", "T/profile.out"],
        "T/nosuch-maps",
    ),
    (&["micro-probe", "T/junk.json"], "T/junk.json"),
    (&["peers", "--rounds", "0"], "--rounds"),
    (&["peers", "--duration", "1e30s"], "--duration"),
    (&["peers", "--duration", "100ms"], "--duration"),
    (&["peers", "--connections", "0"], "--connections"),
    (&["peers", "--out", "T/a-file"], "T/a-file"),
    (&["failure", "--policies", "nosuch"], "--policies"),
    (&["failure", "--crash-every", "0"], "--crash-every"),
    (&["failure", "--rate", "0"], "--rate"),
    (&["failure", "--window", "0"], "--window"),
    (&["failure", "--window", "1e30s"], "--window"),
    (&["failure", "--only", "nosuch"], "--only"),
    (&["failure", "--out", "T/a-file"], "T/a-file"),
    (&["lifecycle", "--only", "nosuch"], "--only"),
    (&["lifecycle", "--swaps", "0"], "--swaps"),
    (&["lifecycle", "--swaps", "1000000"], "--swaps"),
    (&["lifecycle", "--swaps=-3"], "--swaps"),
    (&["lifecycle", "--rate", "0"], "--rate"),
    (&["lifecycle", "--rate", "abc"], "--rate"),
    (&["lifecycle", "--interval", "1ms"], "--interval"),
    (&["lifecycle", "--window", "5s"], "--window"),
    (&["lifecycle", "--modes", "nosuch"], "--modes"),
    (&["lifecycle", "--out", "T/a-file"], "T/a-file"),
    (
        &["lifecycle", "--out", "T/done-lifecycle"],
        "lifecycle.json",
    ),
    (
        &["doctor", "--envoy", "/nonexistent/envoy"],
        "/nonexistent/envoy",
    ),
    (&["curves", "--headers", "-1"], "--headers"),
    (&["curves", "--headers=101"], "--headers"),
    (&["curves", "--headers", "0,x"], "--headers"),
    (&["curves", "--body", "-1k"], "--body"),
    (&["curves", "--body", "2m"], "--body"),
    (&["curves", "--body", "0,4q"], "--body"),
    (&["curves", "--processes", "0"], "--processes"),
    (&["curves", "--profile", "nope"], "--profile"),
    (&["curves", "--only", "nosuch"], "--only"),
    (&["curves", "--base-port", "0"], "--base-port"),
    (&["curves", "--out", "T/a-file"], "T/a-file"),
    (&["curves", "--out", "T/done-curves"], "curves.json"),
    (&["report", "T/done-curves"], "curves.json"),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--curves",
            "T/a-file",
        ],
        "--curves",
    ),
    (&["footprint", "--repetitions", "0"], "--repetitions"),
    (&["footprint", "--concurrency", "0"], "--concurrency"),
    (&["footprint", "--concurrency", "two"], "--concurrency"),
    (&["footprint", "--profile", "nope"], "--profile"),
    (&["footprint", "--only", "nosuch"], "--only"),
    (&["footprint", "--out", "T/a-file"], "T/a-file"),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--footprint",
            "T/a-file",
        ],
        "--footprint",
    ),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--footprint",
            "T/done-run",
        ],
        "--footprint",
    ),
    // ab (issue 30): revisions, Envoys, flags and folders checked before any Envoy is located or run.
    (&["ab"], "--base"),
    (
        &["ab", "--base", "no-such-rev-4242"],
        "--base no-such-rev-4242",
    ),
    (
        &["ab", "--base", "HEAD", "--new", "no-such-rev-4343"],
        "--new no-such-rev-4343",
    ),
    (&["ab", "--base", "HEAD", "--new", ""], "--new"),
    (&["ab", "--base", "HEAD", "--only", "nosuch"], "--only"),
    (
        &[
            "ab",
            "--base",
            "HEAD",
            "--base-envoy",
            "1.39.3",
            "--new-envoy",
            "1.40.0",
        ],
        "--base-envoy",
    ),
    (&["ab", "--base-envoy", "1.39.3"], "--new-envoy"),
    (
        &["ab", "--base-envoy", "T/nope", "--new-envoy", "1.40.0"],
        "--base-envoy T/nope",
    ),
    (
        &[
            "ab",
            "--base-envoy",
            "1.39.3",
            "--new-envoy",
            "1.40.0",
            "--processes",
            "3",
        ],
        "--processes 3",
    ),
    (&["ab", "--base", "HEAD", "--processes", "1"], "--processes"),
    (
        &["ab", "--base", "HEAD", "--workloads", "nope"],
        "--workloads",
    ),
    (&["ab", "--base", "HEAD", "--base-port", "0"], "--base-port"),
    (
        &["ab", "--base", "HEAD", "--threshold-us", "p50=x"],
        "--threshold-us",
    ),
    (
        &[
            "ab",
            "--base",
            "HEAD",
            "--threshold-instructions-pct",
            "nan",
        ],
        "--threshold-instructions-pct",
    ),
    (&["ab", "--base", "HEAD", "--out", "T/a-file"], "T/a-file"),
    (&["ab", "--base", "HEAD", "--out", "T/done-ab"], "ab.json"),
    (&["report", "T/done-ab"], "ab.json"),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--ab-benchmarks",
            "T/a-file",
        ],
        "--ab-benchmarks",
    ),
    (
        &[
            "readme",
            "--run",
            "FIX",
            "--readme",
            "T/readme-regions.md",
            "--ab-envoy",
            "T/done-run",
        ],
        "--ab-envoy",
    ),
];

#[test]
fn every_bad_input_exits_2_with_at_most_two_lines_naming_the_flag_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path();
    inputs(t);
    let fixture = root().join("bench-runner/tests/fixtures/results-quick.json");
    let subst = |a: &str| {
        if a == "FIX" {
            fixture.display().to_string()
        } else {
            a.replace("T/", &format!("{}/", t.display()))
        }
    };
    assert!(ROWS.len() >= 30);
    let existed_before = Path::new("/nonexistent").exists();
    let mut wrong = Vec::new();
    for (args, needle) in ROWS.iter().chain(own_phases::ROWS) {
        let args: Vec<String> = args.iter().map(|a| subst(a)).collect();
        let needle = subst(needle);
        let o = bin()
            .args(&args)
            .env("ENVOY_BIN", t.join("envoy-sentinel"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let lines = err.lines().filter(|l| !l.trim().is_empty()).count();
        if o.status.code() != Some(2) || lines > 2 || lines == 0 || !err.contains(&needle) {
            wrong.push(format!(
                "bench-runner {}: exit {:?}, {lines} line(s), want 2 and <= 2 naming `{needle}`:\n{err}",
                args.join(" "),
                o.status.code()
            ));
        }
        assert!(
            !t.join("envoy-ran").exists(),
            "bench-runner {} ran Envoy ($ENVOY_BIN) before refusing its input",
            args.join(" ")
        );
    }
    assert!(
        wrong.is_empty(),
        "{} of {} rows:\n{}",
        wrong.len(),
        ROWS.len(),
        wrong.join("\n")
    );
    // Nothing was left behind by the checks of output folders, nor written where inputs were read.
    assert!(
        existed_before || !Path::new("/nonexistent").exists(),
        "a row wrote under /nonexistent"
    );
    for made in ["new-run", "new-micro"] {
        assert!(!t.join(made).exists(), "{made} was created");
    }
}
