//! The ext_proc implementation (plugins/extproc-rust) through a real Envoy: it passes every
//! conformance case, refuses an invalid configuration at start in one line, and its processor dies
//! with the runner (Ctrl-C and SIGKILL of a real quick run).

mod common;
use common::*;
use std::time::{Duration, Instant};

const PROCESSOR: &str = "mock-extproc";

#[test]
fn extproc_passes_conformance_and_refuses_an_invalid_configuration_in_one_line() {
    let o = run(&["conformance", "--only", "extproc-rust"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("cases pass for 1 implementations (extproc-rust)"),
        "{}",
        text(&o)
    );

    // Conformance built it; the runner's start of it reports the processor's one line.
    let binary = root().join("plugins/extproc-rust/target/release/mock-extproc");
    let dir = tempfile::tempdir().unwrap();
    let bad = r#"{"content": "x", "crash_every": -1}"#.to_string();
    let err = match bench_runner::envoy::extproc::Processor::start(
        &binary,
        dir.path(),
        "bad",
        &["{}".to_string(), bad.clone()],
    ) {
        Ok(_) => panic!("the processor accepted {bad}"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("did not start: mock-response: invalid configuration: crash_every"),
        "{err}"
    );
    let log = std::fs::read_to_string(dir.path().join("bad-extproc.log")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("bad-extproc-1.json"), "{log}");

    // A valid one serves, and stops with its handle.
    let mut p = bench_runner::envoy::extproc::Processor::start(
        &binary,
        dir.path(),
        "good",
        &["{}".to_string()],
    )
    .unwrap();
    assert!(p.port > 0 && p.is_running());
    let (pid, t) = (p.pid, bench_runner::sys::start_ticks(p.pid).unwrap());
    drop(p);
    assert!(!bench_runner::sys::process_is(pid, t));
}

#[test]
fn a_quick_run_reports_envoy_and_processor_cpu_and_matches_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(&[
        "run",
        "--profile",
        "quick",
        "--only",
        "extproc-rust",
        "--rounds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let errors = schema_errors("results/schema.json", &results);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let variants = results["variants"].as_array().unwrap();
    let v = |id: &str| variants.iter().find(|v| v["id"] == id).unwrap().clone();
    let ext = v("extproc-rust-mock");
    assert_eq!(ext["runtime"], "ext_proc");
    let (envoy, processor, total) = (
        ext["cpu_us_per_req"].as_f64().unwrap(),
        ext["processor_cpu_us_per_req"].as_f64().unwrap(),
        ext["total_cpu_us_per_req"].as_f64().unwrap(),
    );
    assert!(envoy > 0.0 && processor > 0.0 && total > envoy, "{ext}");
    // The processor's figure comes from its own CPU time in every round's slices (the raw data kept
    // in `rounds`), not from Envoy's: each round has it, positive, and the summary lies among them.
    let rounds: Vec<&serde_json::Value> = results["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["variant"] == "extproc-rust-mock")
        .collect();
    assert_eq!(rounds.len(), 2, "one record per round");
    for key in ["processor_cpu_us_per_req", "processor_fixed_cpu_us_per_req"] {
        let per_round: Vec<f64> = rounds.iter().map(|r| r[key].as_f64().unwrap()).collect();
        assert!(per_round.iter().all(|x| *x > 0.0), "{key}: {per_round:?}");
        let (lo, hi) = per_round
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        let summary = ext[key].as_f64().unwrap();
        assert!(
            lo <= summary && summary <= hi,
            "{key} {summary} outside {per_round:?}"
        );
    }
    // The processor counts for ext_proc variants alone, in the raw data as in the summary.
    assert!(v("baseline").get("processor_cpu_us_per_req").is_none());
    assert!(results["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["variant"] != "extproc-rust-mock" && r["variant"] != "extproc-rust-headers")
        .all(|r| r.get("processor_cpu_us_per_req").is_none()));
}

fn exe_name(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The parent of `pid` (field 4 of /proc/PID/stat, counted after the name's last `)`).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// (pid, start time) of the live external processors the runner `parent` started.
fn processors(parent: u32) -> Vec<(u32, u64)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|p| parent_of(*p) == Some(parent) && exe_name(*p).ends_with(PROCESSOR))
        .filter_map(|p| Some((p, bench_runner::sys::start_ticks(p)?)))
        .collect()
}

/// Starts a real quick run of extproc-rust, waits until its processors serve and its first round is
/// written, sends `signal` to the runner, and checks that none of its processors is left.
fn run_then(signal: i32) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let log = std::fs::File::create(dir.path().join("runner.log")).unwrap();
    let mut runner = bin()
        .args([
            "run",
            "--profile",
            "quick",
            "--only",
            "extproc-rust",
            "--rounds",
            "40",
        ])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let runner_log = || std::fs::read_to_string(dir.path().join("runner.log")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !out.join("results.json").exists() {
        if Instant::now() > deadline || runner.try_wait().unwrap().is_some() {
            let _ = runner.kill();
            panic!("no round within 300 s, or the run ended:\n{}", runner_log());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mine = processors(runner.id());
    assert!(
        !mine.is_empty(),
        "no {PROCESSOR} running:\n{}",
        runner_log()
    );
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(runner.id() as i32, signal) };
    let status = runner.wait().unwrap();
    if signal == libc::SIGINT {
        assert_eq!(status.code(), Some(130), "{}", runner_log());
    }
    wait_until_none(
        &format!("processors outlived the runner (signal {signal})"),
        || {
            mine.iter()
                .filter(|(p, t)| bench_runner::sys::process_is(*p, *t))
                .collect()
        },
    );
}

#[test]
fn the_processor_dies_with_the_runner_on_ctrl_c_and_on_sigkill() {
    run_then(libc::SIGINT);
    run_then(libc::SIGKILL);
}
