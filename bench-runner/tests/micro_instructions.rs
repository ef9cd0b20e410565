//! `micro --instructions` end to end: the real plugins in plugin-host under a real valgrind, one
//! process per module and engine; the breakdown of every Wasm implementation, its parts adding up,
//! the host calls of the `headers` workload named and counted, `spin` landing in the plugin's own
//! code, extra work inside a host function landing in that host call's part, the result against the
//! committed schema and re-rendered by `report`, valgrind missing named with its fix, and no valgrind
//! left behind by a killed or interrupted runner. Behaviour only: counts are compared with each
//! other, never with a figure written here.
//!
//! valgrind is a requirement: without it these tests fail with the fix, unless `BENCH_TEST_SKIP`
//! names `valgrind`.

mod common;

use bench_runner::bench::micro::count;
use bench_runner::results::breakdown::{InstructionEntry, InstructionSection};
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// valgrind's path, or None when the tests may leave counting out (`BENCH_TEST_SKIP=valgrind`).
fn valgrind() -> Option<bench_runner::callgrind::Valgrind> {
    match bench_runner::callgrind::valgrind() {
        Ok(v) => Some(v),
        Err(why) if opted_out("valgrind") => {
            eprintln!("LEFT OUT the instruction counts ({SKIP_VAR} names valgrind): {why}");
            None
        }
        Err(why) => panic!(
            "{why}; or name it in {SKIP_VAR}=valgrind to leave the instruction counts out of the tests"
        ),
    }
}

fn schema_errors(results: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("results/schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the committed schema compiles");
    validator
        .iter_errors(results)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn section_of(dir: &Path) -> (serde_json::Value, InstructionSection) {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let s = serde_json::from_value(v["micro"]["instructions"].clone()).unwrap();
    (v, s)
}

fn part(e: &InstructionEntry, id: &str) -> f64 {
    e.part(id).map_or(0.0, |p| p.per_request)
}

/// The guest's own code, whatever the module's names let us split it into.
fn guest(e: &InstructionEntry) -> f64 {
    e.group("guest")
}

fn parts_add_up(e: &InstructionEntry) {
    let sum: f64 = e.parts.iter().map(|p| p.per_request).sum();
    assert!(
        (sum - e.per_request).abs() <= 1e-6 * e.per_request,
        "{} {} {}: parts {sum} != total {}",
        e.implementation,
        e.engine,
        e.workload,
        e.per_request
    );
    let unattributed = part(e, "unattributed");
    assert!(
        unattributed <= 0.01 * e.per_request,
        "{} {} {}: {unattributed} of {} instructions per request unattributed",
        e.implementation,
        e.engine,
        e.workload,
        e.per_request
    );
}

#[test]
fn every_wasm_implementation_is_counted_its_parts_add_up_and_headers_names_its_host_calls() {
    let Some(_) = valgrind() else { return };
    let built = built_all(None);
    assert!(!built.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("count");
    let only: Vec<&str> = built.iter().map(|b| b.name.as_str()).collect();
    let o = run(&[
        "micro",
        "--instructions",
        "--only",
        &only.join(","),
        "--engines",
        "wasmtime-cranelift,wasmi",
        "--workloads",
        "mock,headers,body",
        "--requests",
        "20",
        "--windows",
        "2",
        "--warmup-requests",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let (v, s) = section_of(&out);
    let errors = schema_errors(&v);
    assert!(
        errors.is_empty(),
        "results.json violates the schema:\n{}",
        errors.join("\n")
    );
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    for b in &built {
        for engine in ["wasmtime-cranelift", "wasmi"] {
            for wl in ["mock", "headers", "body"] {
                let e = s
                    .find(&b.name, engine, wl)
                    .unwrap_or_else(|| panic!("{} on {engine}, {wl}: not counted", b.name));
                assert_eq!(e.window_instructions.len(), 2);
                assert_eq!(e.wasm_sha256, b.sha256);
                parts_add_up(e);
                assert!(guest(e) > 0.0, "{} {engine} {wl}: no guest code", b.name);
                assert!(part(e, "engine:entry") > 0.0);
                // JIT code is located with the host's code map; the interpreter's is its handlers.
                let guest_ids: Vec<&str> = e
                    .parts
                    .iter()
                    .filter(|p| p.group == "guest")
                    .map(|p| p.id.as_str())
                    .collect();
                if engine == "wasmi" {
                    assert_eq!(guest_ids, ["guest:interpreted"], "{}", b.name);
                    assert!(e.guest_functions.is_empty());
                } else {
                    assert!(!guest_ids.contains(&"guest:interpreted"), "{}", b.name);
                    assert!(!e.guest_functions.is_empty(), "{}", b.name);
                    assert!(e.functions.is_some_and(|n| n > 0));
                }
            }
            let h = s.find(&b.name, engine, "headers").unwrap();
            for call in [
                "proxy_add_header_map_value",
                "proxy_get_header_map_value",
                "proxy_remove_header_map_value",
            ] {
                let p = h.part(&format!("host:{call}")).unwrap_or_else(|| {
                    panic!("{} on {engine}: no {call} in {:?}", b.name, h.parts)
                });
                assert_eq!(p.group, "host call");
                // SPEC: the headers workload adds, reads back and removes header_count (20) headers.
                assert!(
                    p.calls_per_request.unwrap_or(0.0) >= 20.0,
                    "{} on {engine}: {call} called {:?} times per request",
                    b.name,
                    p.calls_per_request
                );
                assert!(p.per_request > 0.0);
            }
            // The body workload reads the buffered body once, and answers.
            let body = s.find(&b.name, engine, "body").unwrap();
            let read = body.part("host:proxy_get_buffer_bytes").unwrap();
            assert!(read.calls_per_request.unwrap_or(0.0) >= 1.0, "{}", b.name);
            assert!(
                read.copies_per_request > 0.0,
                "{}: the body is copied into the guest",
                b.name
            );
            let m = s.find(&b.name, engine, "mock").unwrap();
            let reply = m.part("host:proxy_send_local_response").unwrap();
            assert!(reply.calls_per_request.unwrap_or(0.0) >= 1.0, "{}", b.name);
            assert!(
                m.part("host:proxy_add_header_map_value").is_none(),
                "{}",
                b.name
            );
            assert!(
                h.per_request > m.per_request,
                "{} on {engine}: headers {} <= mock {}",
                b.name,
                h.per_request,
                m.per_request
            );
        }
    }
    // The report and its chart, and `report DIR` drawing them again from results.json alone.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("### Instructions per request, and where they go"),
        "{md}"
    );
    assert!(md.contains("`proxy_get_header_map_value`"), "{md}");
    let svg =
        std::fs::read_to_string(out.join("chart-instructions-wasmtime-cranelift.svg")).unwrap();
    std::fs::remove_file(out.join("report.md")).unwrap();
    std::fs::remove_file(out.join("chart-instructions-wasmtime-cranelift.svg")).unwrap();
    std::fs::remove_file(out.join("chart-instructions-wasmtime-cranelift.png")).unwrap();
    let o = run(&["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), md);
    assert_eq!(
        std::fs::read_to_string(out.join("chart-instructions-wasmtime-cranelift.svg")).unwrap(),
        svg
    );
    assert!(out
        .join("chart-instructions-wasmtime-cranelift.png")
        .is_file());
    assert!(out.join("chart-instructions-wasmi.svg").is_file());
}

/// Counts the Rust plugin's mock workload with a `spin`.
fn rust_mock_with_spin(spin: u64) -> InstructionEntry {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("spin-{spin}"));
    let o = run(&[
        "micro",
        "--instructions",
        "--only",
        "rust",
        "--engines",
        "wasmtime-cranelift",
        "--workloads",
        "mock",
        "--requests",
        "20",
        "--windows",
        "2",
        "--spin",
        &spin.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (_, s) = section_of(&out);
    assert_eq!(s.settings.spin, spin);
    s.find("rust", "wasmtime-cranelift", "mock")
        .unwrap()
        .clone()
}

#[test]
fn spin_grows_the_plugins_own_part_with_k_and_nothing_else() {
    let Some(_) = valgrind() else { return };
    if built("rust").is_none() {
        return;
    }
    let runs: Vec<InstructionEntry> = [0, 1000, 3000]
        .into_iter()
        .map(rust_mock_with_spin)
        .collect();
    let g: Vec<f64> = runs.iter().map(guest).collect();
    assert!(
        g[0] < g[1] && g[1] < g[2],
        "guest code per request by spin 0/1000/3000: {g:?}"
    );
    // K rounds of the same hash: three times the rounds, three times the added work (within 10%).
    let (one, three) = (g[1] - g[0], g[2] - g[0]);
    assert!(
        (three / one - 3.0).abs() < 0.3,
        "added guest code {one} for K=1000, {three} for K=3000"
    );
    for r in &runs[1..] {
        for id in [
            "host:proxy_send_local_response",
            "engine:entry",
            "host:driver",
        ] {
            let (a, b) = (part(&runs[0], id), part(r, id));
            assert!(
                (a - b).abs() <= 0.01 * a.max(1.0),
                "{id} moved with spin: {a} -> {b}"
            );
        }
    }
}

/// A plugin that answers with `hello higress` and, on every request, logs `len` bytes: the host's
/// `proxy_log` copies and checks them, the guest only passes a pointer and a length.
fn logging_plugin(dir: &Path, len: usize) -> bench_runner::plugins::Built {
    let wat_src = format!(
        r#"(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0x400) "hello higress")
  (global $heap (mut i32) (i32.const 0x8000))
  (func (export "proxy_on_memory_allocate") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (memory.fill (i32.const 0x1000) (i32.const 0x61) (i32.const {len}))
    (drop (call $log (i32.const 2) (i32.const 0x1000) (i32.const {len})))
    (drop (call $reply (i32.const 200) (i32.const 0) (i32.const 0) (i32.const 0x400) (i32.const 13)
      (i32.const 0) (i32.const 0) (i32.const -1)))
    (i32.const 1))
)"#
    );
    let bytes = wat::parse_str(&wat_src).unwrap();
    let name = format!("log{len}");
    let module = dir.join(format!("{name}.wasm"));
    std::fs::write(&module, &bytes).unwrap();
    bench_runner::plugins::Built {
        name: name.clone(),
        language: "wat".into(),
        description: String::new(),
        kind: bench_runner::plugins::WASM_KIND.into(),
        module,
        sha256: bench_runner::plugins::sha256_hex(&bytes),
        bytes: bytes.len() as u64,
        rebuilt: false,
        note: None,
        workload_notes: Default::default(),
    }
}

#[test]
fn work_inside_a_host_function_is_counted_in_that_host_calls_part() {
    let Some(vg) = valgrind() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (short, long) = (
        logging_plugin(dir.path(), 16),
        logging_plugin(dir.path(), 16 * 1024),
    );
    let s = count::settings(vec!["mock".into()], 20, 2, 10, 0, 0, &vg.version);
    let engines = ["wasmtime-cranelift".to_string(), "wasmi".to_string()];
    let exe = Path::new(env!("CARGO_BIN_EXE_bench-runner"));
    let section = count::count(&[short, long], &engines, &s, &vg.path, exe, |_| {}).unwrap();
    assert!(section.skipped.is_empty(), "{:?}", section.skipped);
    for engine in &engines {
        let a = section.find("log16", engine, "mock").unwrap();
        let b = section.find("log16384", engine, "mock").unwrap();
        parts_add_up(a);
        parts_add_up(b);
        let log = |e: &InstructionEntry| part(e, "host:proxy_log");
        let grown = log(b) - log(a);
        // 16 KiB more to copy and check, in the host function: at least an instruction per 8 bytes.
        assert!(grown > 2048.0, "{engine}: proxy_log grew by {grown}");
        // Everything else moved by a small fraction of that: the guest's own code (it fills the
        // message: Wasm code, or the engine's memory.fill built-in) aside, only the allocator's paths
        // in other host calls and the driver, which the bigger heap of the log lines changes a little.
        let fill = ["guest:unnamed", "guest:interpreted", "engine:builtins"];
        let others: f64 = a
            .parts
            .iter()
            .chain(&b.parts)
            .map(|p| p.id.as_str())
            .filter(|id| *id != "host:proxy_log" && !fill.contains(id))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|id| (part(b, id) - part(a, id)).abs())
            .sum();
        assert!(
            others < 0.05 * grown,
            "{engine}: the other parts moved by {others} in all, proxy_log by {grown}: {:?} -> {:?}",
            a.parts,
            b.parts
        );
        assert_eq!(
            b.part("host:proxy_log").unwrap().calls_per_request,
            Some(1.0)
        );
    }
}

#[test]
fn without_valgrind_counting_fails_naming_the_fix_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("none");
    for (var, value, needle) in [
        ("VALGRIND", "/nonexistent/valgrind", "/nonexistent/valgrind"),
        ("PATH", "/nonexistent", "not on PATH"),
    ] {
        let o = bin()
            .args(["micro", "--instructions", "--out", out.to_str().unwrap()])
            .env_remove("VALGRIND")
            .env(var, value)
            .output()
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains("--instructions needs valgrind"), "{t}");
        assert!(t.contains(needle), "{t}");
        assert!(t.contains("apt-get install -y valgrind"), "{t}");
        assert!(t.lines().count() <= 2, "{t}");
        assert!(!out.exists());
    }
}

#[test]
fn bad_counting_flags_are_named() {
    for (args, flag) in [
        (
            &["--instructions", "--workloads", "latency"][..],
            "--workloads",
        ),
        (&["--instructions", "--requests", "0"][..], "--requests"),
        (&["--instructions", "--windows", "51"][..], "--windows"),
        (&["--instructions", "--batches", "3"][..], "--batches"),
        (&["--spin", "10"][..], "--spin"),
        (&["--instructions", "--engines", "v8"][..], "--engines"),
    ] {
        let mut argv = vec!["micro"];
        argv.extend_from_slice(args);
        let o = run(&argv);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
        assert!(t.contains(flag), "{args:?}: {t}");
    }
}

/// Kills the runner if the test fails before it does.
struct Runner(std::process::Child);

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (pid, start time) of the runner's child running the probe, once it runs.
fn probe_child(r: &mut Runner) -> (u32, u64) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        for pid in processes_mentioning("micro-probe") {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(r.0.id()) {
                if let Some(t) = bench_runner::sys::start_ticks(pid) {
                    return (pid, t);
                }
            }
        }
        assert!(
            r.0.try_wait().unwrap().is_none(),
            "the runner ended before its probe started"
        );
        assert!(
            Instant::now() < deadline,
            "no probe under valgrind after 600 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn no_valgrind_outlives_a_killed_or_interrupted_runner() {
    let Some(_) = valgrind() else { return };
    if built("rust").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (n, signal) in [libc::SIGKILL, libc::SIGINT].into_iter().enumerate() {
        let out = dir.path().join(format!("killed-{n}"));
        // A count far longer than the test: the interpreter, many windows of many requests.
        let mut r = Runner(
            bin()
                .args([
                    "micro",
                    "--instructions",
                    "--only",
                    "rust",
                    "--engines",
                    "wasmi",
                    "--workloads",
                    "headers",
                    "--requests",
                    "100000",
                    "--windows",
                    "50",
                    "--out",
                    out.to_str().unwrap(),
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let (pid, t) = probe_child(&mut r);
        // SAFETY: signalling the child this test started.
        unsafe { libc::kill(r.0.id() as i32, signal) };
        let status = r.0.wait().unwrap();
        if signal == libc::SIGINT {
            assert_eq!(status.code(), Some(130));
        } else {
            assert_eq!(status.code(), None, "killed by a signal");
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while bench_runner::sys::process_is(pid, t) {
            assert!(
                Instant::now() < deadline,
                "valgrind {pid} still runs 15 s after the runner got signal {signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!out.join("results.json").exists());
    }
}
