//! Failure scenarios through a real Envoy and a real upstream: what clients get when a plugin traps under
//! FAIL_OPEN and FAIL_CLOSED, per language; hangs are classified as hangs; nothing is left running, even
//! when the runner is killed. Behaviour only, never timings.

mod common;

use bench_runner::bench::failure::client::{self, Class, Outcome, Timeline};
use bench_runner::bench::failure::{self, Context, FailurePlan, Implementation, Policy};
use bench_runner::upstream::Upstream;
use common::*;
use std::time::{Duration, Instant};

/// A short plan: `policies` x crash_every 1, 15 requests at 50 req/s, no runaway.
fn short_plan(policies: Vec<Policy>) -> FailurePlan {
    FailurePlan {
        window: Duration::from_millis(300),
        crash_every: vec![1],
        policies,
        runaway: false,
        stop_grace: Duration::from_secs(3),
        ..FailurePlan::default()
    }
}

fn assert_nothing_left(dir: &std::path::Path, upstream: &str) {
    let needle = dir.to_string_lossy().to_string();
    assert!(
        processes_mentioning(&needle).is_empty(),
        "processes still running with {needle} in their command line"
    );
    let addr: std::net::SocketAddr = upstream.parse().unwrap();
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err(),
        "the upstream {upstream} still accepts connections"
    );
}

#[test]
fn every_wasm_plugin_fails_open_to_the_upstream_and_fails_closed_with_503() {
    let project = project();
    let envoy = envoy();
    let built = built_all(None);
    assert!(!built.is_empty(), "no Wasm plugin could be built");
    let imps: Vec<Implementation> = built.iter().map(|b| Implementation::of(b, "v8")).collect();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
    };
    let f = failure::run_scenarios(&ctx, &short_plan(vec![Policy::Open, Policy::Closed]), &imps)
        .unwrap();
    assert_eq!(f.status, "complete");
    assert!(f.skipped.is_empty(), "{:?}", f.skipped);
    for b in &built {
        let get = |p: Policy| {
            f.scenarios
                .iter()
                .find(|s| s.implementation == b.name && s.policy == p)
                .unwrap_or_else(|| panic!("{} {p:?} missing", b.name))
        };
        let open = get(Policy::Open);
        assert!(open.timeline.len() >= 10, "{}", open.id);
        let first = &open.timeline[0];
        assert_ne!(
            first.class,
            Class::Plugin,
            "{}: crash_every 1 must trap on the first request",
            open.id
        );
        assert_ne!(
            first.class,
            Class::Hang,
            "{}: the trapping request hung",
            open.id
        );
        for r in &open.timeline[1..] {
            assert_eq!(
                r.class,
                Class::Upstream,
                "{}: request {} under FAIL_OPEN: {r:?}",
                open.id,
                r.i
            );
        }
        let closed = get(Policy::Closed);
        for r in &closed.timeline {
            assert_eq!(
                r.class,
                Class::Local5xx,
                "{}: request {}: {r:?}",
                closed.id,
                r.i
            );
            assert_eq!(r.status, Some(503), "{}: request {}: {r:?}", closed.id, r.i);
        }
        assert!(
            closed.details.contains_key("wasm_fail_stream"),
            "{}: {:?}",
            closed.id,
            closed.details
        );
        assert!(open.envoy_alive && closed.envoy_alive);
    }
    assert_nothing_left(dir.path(), &f.upstream);
}

#[test]
fn lua_script_errors_are_recorded_as_they_are() {
    let project = project();
    let envoy = envoy();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
    };
    let f = failure::run_scenarios(
        &ctx,
        &short_plan(vec![Policy::Closed]),
        &[Implementation::of(&lua(), "v8")],
    )
    .unwrap();
    assert_eq!(f.scenarios.len(), 1);
    let s = &f.scenarios[0];
    assert_eq!(s.policy, Policy::None);
    assert_eq!(s.counts.total() as usize, s.timeline.len());
    assert_eq!(
        s.counts.plugin, 0,
        "every request raises error(): {:?}",
        s.counts
    );
    assert_eq!(s.counts.hang, 0, "{:?}", s.counts);
    assert!(s.envoy_alive);
    assert_nothing_left(dir.path(), &f.upstream);
}

#[test]
fn a_server_that_never_answers_gives_hangs_not_latency_samples() {
    let silent = Upstream::silent().unwrap();
    let t = Timeline {
        addr: silent.addr(),
        rate_per_s: 20.0,
        count: 3,
        timeout: Duration::from_millis(300),
        delay: Duration::ZERO,
        own: None,
    };
    let t0 = Instant::now();
    let samples = client::run_together(std::slice::from_ref(&t))
        .unwrap()
        .remove(0);
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "the timeline is bounded by its timeout"
    );
    assert_eq!(samples.len(), 3);
    assert!(
        samples.iter().all(|s| s.outcome == Outcome::Hang),
        "{samples:?}"
    );
    let records = failure::records(&samples, &Default::default());
    for r in &records {
        assert_eq!(r.class, Class::Hang);
        assert_eq!(r.latency_ms, None, "a hang must not be a latency sample");
        assert_eq!(r.status, None);
    }
    let s = failure::summarize(&records);
    assert_eq!(s.counts.hang, 3);
    assert_eq!(s.max_latency_ms, None);
    // A port nobody listens on is a connection error, not a hang.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = client::run_together(&[Timeline {
        addr: closed,
        count: 1,
        ..t
    }])
    .unwrap()
    .remove(0);
    assert!(
        matches!(refused[0].outcome, Outcome::ConnectionError(_)),
        "{refused:?}"
    );
}

#[test]
fn a_runaway_plugin_stalls_its_worker_and_envoy_is_still_stopped() {
    let project = project();
    let envoy = envoy();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
    };
    let plan = FailurePlan {
        crash_every: vec![1],
        policies: vec![Policy::Unset],
        runaway: true,
        runaway_window: Duration::from_secs(1),
        timeout: Duration::from_millis(500),
        stop_grace: Duration::from_secs(2),
        window: Duration::from_millis(100),
        ..FailurePlan::default()
    };
    let t0 = Instant::now();
    let f = failure::run_scenarios(&ctx, &plan, &[Implementation::of(&lua(), "v8")]).unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(60),
        "every wait is bounded"
    );
    assert_eq!(f.runaway.len(), 1, "{:?}", f.skipped);
    let r = &f.runaway[0];
    assert_eq!(
        r.counts.plugin, 0,
        "a spin of {} rounds cannot answer within 0.5 s: {:?}",
        r.spin, r.counts
    );
    assert!(r.worker_stalled, "{r:?}");
    assert!(
        r.neighbours_stalled,
        "one worker: the plugin-free neighbour hangs too: {:?}",
        r.neighbour_counts
    );
    assert!(r.stop.killed || r.stop.exited_on_sigterm || r.stop.already_exited);
    assert_nothing_left(dir.path(), &f.upstream);
}

#[test]
fn a_killed_runner_leaves_no_envoy_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut child = bin()
        .args([
            "failure",
            "--only",
            "lua",
            "--crash-every",
            "1",
            "--window",
            "30s",
            "--rate",
            "5",
            "--no-runaway",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let needle = out.to_string_lossy().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let envoy_pid = loop {
        let others: Vec<u32> = processes_mentioning(&needle)
            .into_iter()
            .filter(|p| *p != child.id())
            .collect();
        if let Some(p) = others.first() {
            break *p;
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("the runner never started an Envoy with {needle} in its command line");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap(); // SIGKILL: no cleanup code of the runner runs
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_mentioning(&needle).is_empty() {
        assert!(
            Instant::now() < deadline,
            "Envoy {envoy_pid} outlived the killed runner"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
