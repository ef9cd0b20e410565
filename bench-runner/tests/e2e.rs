//! End to end through a real Envoy: conformance, config validation, the load generator's error
//! accounting, interruption, exit codes and the results schema. Behaviour only, never timings.

mod common;

use bench_runner::bench::variants::Variant;
use bench_runner::envoy::session::{allocate_ports, validate, Launch};
use bench_runner::envoy::{Filter, ListenerSpec};
use bench_runner::load::{self, LoadPlan, Pace};
use common::*;
use std::time::{Duration, Instant};

#[test]
fn conformance_rust_and_lua_pass_every_case() {
    let o = run(&["conformance", "--only", "rust,lua"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("cases pass for 2 implementations"), "{t}");
    assert!(!t.contains("FAIL"), "{t}");
}

#[test]
fn conformance_reports_a_wrong_expectation_as_a_failed_cell() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.json");
    std::fs::write(
        &cases,
        r#"[{"name": "deliberately wrong", "config": {"content": "a"},
             "requests": [{"path": "/", "authority": "h", "status": 200, "body": "b"}]},
            {"name": "accepted config marked rejected", "config": {"content": "a"}, "rejected": true}]"#,
    )
    .unwrap();
    let o = run(&[
        "conformance",
        "--only",
        "rust,lua",
        "--cases",
        cases.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL deliberately wrong / rust"), "{t}");
    assert!(t.contains("FAIL deliberately wrong / lua"), "{t}");
    assert!(
        t.contains("FAIL accepted config marked rejected / rust: the configuration was accepted"),
        "{t}"
    );
}

#[test]
fn every_generated_envoy_config_passes_validate() {
    let envoy = envoy();
    let Some(rust) = built("rust") else {
        return;
    };
    let mut variants = vec![Variant::baseline()];
    for w in ["mock", "headers"] {
        variants.push(Variant::lua(&lua(), w).unwrap());
        variants.push(Variant::wasm(&rust, "v8", w).unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let ports = allocate_ports(variants.len() + 1, None).unwrap();
    let listeners: Vec<ListenerSpec> = variants
        .iter()
        .zip(&ports[1..])
        .map(|(v, p)| v.listener(*p).unwrap())
        .collect();
    let project = project();
    let launch = Launch {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
        stem: "all",
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let path = launch.write_config(&listeners).unwrap();
    validate(&envoy, &path)
        .unwrap_or_else(|e| panic!("envoy --mode validate rejected {}: {e}", path.display()));
    // and a broken one is caught by the same check
    std::fs::write(
        &path,
        "{\"static_resources\": {\"listeners\": [{\"name\": 3}]}}",
    )
    .unwrap();
    assert!(validate(&envoy, &path).is_err());
}

fn plan(port: u16, body: &str) -> LoadPlan {
    LoadPlan {
        addr: ([127, 0, 0, 1], port).into(),
        host: "localhost".into(),
        path: "/".into(),
        connections: 2,
        pace: Pace::Closed,
        warmup: Duration::ZERO,
        duration: None,
        requests: Some(50),
        max_duration: Duration::from_secs(20),
        timeout: Duration::from_secs(2),
        expect_status: 200,
        expect_body: Some(body.as_bytes().to_vec()),
        cpu: None,
        cpu_probe_pid: None,
        cpu_probe_tid: None,
        cpu_probe_extra_pid: None,
        http2: false,
        body_bytes: 0,
        exchange: None,
    }
}

#[test]
fn load_generator_counts_wrong_bodies_and_refused_connections_as_errors() {
    let envoy = envoy();
    let dir = tempfile::tempdir().unwrap();
    let ports = allocate_ports(2, None).unwrap();
    let project = project();
    let launch = Launch {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
        stem: "e",
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let mut e = launch
        .start(&[ListenerSpec {
            upstream: None,
            name: "baseline".into(),
            port: ports[1],
            filter: Filter::None,
        }])
        .unwrap();

    let good = load::run(&plan(ports[1], "passthrough"), None).unwrap();
    assert_eq!((good.ok, good.errors.total()), (50, 0));
    assert_eq!(good.latency.len(), 50);

    let wrong = load::run(&plan(ports[1], "something else"), None).unwrap();
    assert_eq!(wrong.ok, 0);
    assert_eq!(wrong.errors.body, 50);
    assert!(
        wrong.latency.is_empty(),
        "a wrong body must never be a latency sample"
    );

    let mut open = plan(ports[1], "passthrough");
    open.pace = Pace::Open { rate: 400.0 };
    open.requests = Some(120);
    open.warmup = Duration::from_millis(100);
    let o = load::run(&open, None).unwrap();
    assert_eq!(
        o.ok + o.errors.total(),
        120,
        "open loop sends exactly the requested count"
    );
    e.stop();

    // Envoy is gone: its port now refuses connections.
    let refused = load::run(&plan(ports[1], "passthrough"), None).unwrap();
    assert_eq!(refused.ok, 0);
    assert!(refused.errors.connect > 0, "{:?}", refused.errors);
}

#[test]
fn bad_flags_and_inputs_exit_2_with_a_clear_message() {
    let o = run(&["run", "--profile", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--profile"), "{}", text(&o));

    let o = run(&["load", "http://10.1.2.3:80/"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("loopback"), "{}", text(&o));

    let o = run(&["load", "http://127.0.0.1:1/", "-c", "0", "-n", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("-c/--connections"), "{}", text(&o));

    let o = run(&["conformance", "--cases", "/nonexistent/cases.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("/nonexistent/cases.json"), "{}", text(&o));

    let o = run(&["report", "/nonexistent/results.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("/nonexistent/results.json"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_busy_port_gives_exit_2_naming_the_port() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "run",
        "--profile",
        "quick",
        "--only",
        "lua",
        "--rounds",
        "1",
        "--base-port",
        &port.to_string(),
        "--out",
        dir.path().join("run").to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains(&format!("127.0.0.1:{port} is in use")), "{t}");
    assert!(t.contains("--base-port"), "{t}");
}

#[test]
fn a_quick_run_writes_results_that_match_the_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(&[
        "run",
        "--profile",
        "quick",
        "--only",
        "rust,lua",
        "--rounds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // the plan and its time before any Envoy starts, the answer on stdout, the files named last
    let err = String::from_utf8_lossy(&o.stderr);
    let plan = err
        .find("plan: start 2 Envoy processes")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        plan < err.find("starting 2 Envoy processes").unwrap(),
        "{err}"
    );
    assert!(err.contains("the full tables and charts: "), "{err}");
    let answer = String::from_utf8_lossy(&o.stdout);
    for imp in ["lua", "rust-v8"] {
        assert!(
            answer
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{imp} "))),
            "{answer}"
        );
    }
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let errors = schema_errors("results/schema.json", &results);
    assert!(
        errors.is_empty(),
        "results.json violates results/schema.json:\n{}",
        errors.join("\n")
    );

    // the quick profile leaves the footprint phase and the in-process micro-benchmarks out, and says
    // so (`footprint` and `micro` measure them alone, as the default profile does; tests/footprint.rs,
    // tests/micro.rs)
    for (sections, note) in [
        (
            &["memory", "cold_start"][..],
            "footprint (memory, start-up): not measured in the quick profile",
        ),
        (
            &["micro"][..],
            "in-process micro-benchmarks: not measured in the quick profile",
        ),
    ] {
        for section in sections {
            assert!(
                results[section].is_null(),
                "{section}: {}",
                results[section]
            );
        }
        assert!(
            results["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().starts_with(note)),
            "{note}: {}",
            results["notes"]
        );
    }
    let ids: Vec<&str> = results["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    // the A/A listener is in every run, measured like a plugin
    assert_eq!(ids, ["baseline", "baseline-aa", "lua-mock", "rust-v8-mock"]);
    for v in &results["variants"].as_array().unwrap()[1..] {
        // 2 rounds: 2 Envoy processes, so every overhead has an interval
        assert_eq!(v["processes"], 2, "{v}");
        for k in [
            "p50",
            "p90",
            "p99",
            "cpu_us_per_req",
            "fixed_cpu_us_per_req",
            "cpu_pct",
        ] {
            let e = &v["overhead"][k];
            assert!(
                e["ci95_low"].as_f64().unwrap() <= e["ci95_high"].as_f64().unwrap(),
                "{k}: {v}"
            );
        }
        assert_eq!(v["errors"], 0, "{v}");
    }
    assert_eq!(results["status"], "complete");
    assert_eq!(results["rounds"].as_array().unwrap().len(), 8);
    let processes: std::collections::BTreeSet<u64> = results["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["process"].as_u64().unwrap())
        .collect();
    assert_eq!(processes.into_iter().collect::<Vec<_>>(), [0, 1]);
    // one pooled latency record per process and variant
    assert_eq!(results["pooled"].as_array().unwrap().len(), 8);
    assert!(results["health"]["aa_p50"]["estimate"].is_number());
    // every round record carries its CPU slices of both regimes, each figure their median; every
    // plugin record its interleaved baseline side, answered in full
    let slices = results["profile"]["cpu"]["slices"].as_u64().unwrap() as usize;
    for r in results["rounds"].as_array().unwrap() {
        for (list, figure) in [
            ("cpu_slices_us_per_req", "cpu_us_per_req"),
            ("fixed_cpu_slices_us_per_req", "fixed_cpu_us_per_req"),
        ] {
            let mut xs: Vec<f64> = r[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            assert_eq!(xs.len(), slices, "{r}");
            assert!(xs.iter().all(|x| *x > 0.0), "{r}");
            xs.sort_by(f64::total_cmp);
            let median = if slices % 2 == 1 {
                xs[slices / 2]
            } else {
                (xs[slices / 2 - 1] + xs[slices / 2]) / 2.0
            };
            let cpu = r[figure].as_f64().unwrap();
            assert!((cpu - median).abs() < 1e-9, "{cpu} vs median {median}: {r}");
        }
        if r["variant"] != "baseline" {
            let (mine, base) = (&r["latency"], &r["paired_baseline"]);
            assert!(mine["ok"].as_u64().unwrap() > 0, "{r}");
            assert_eq!(base["errors"], 0, "{r}");
            // the window's slots are shared in balanced blocks: the two sides differ by at most one
            let (a, b) = (
                mine["requests"].as_i64().unwrap(),
                base["requests"].as_i64().unwrap(),
            );
            assert!((a - b).abs() <= 1, "{a} vs {b}: {r}");
        }
    }
    // where the wall time went, phase by phase
    let phases: Vec<&str> = results["health"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    // (the quick profile counts instructions too, unless valgrind is left out of the tests)
    let want: &[&str] = if opted_out("valgrind") {
        &["prepare", "start", "rounds"]
    } else {
        &["prepare", "start", "rounds", "instructions"]
    };
    assert_eq!(phases, want, "{}", results["health"]);
    assert!(results["envoy"]["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "v8"));
    assert!(
        out.join("report.md").is_file()
            && out.join("envoy-1.log").is_file()
            && out.join("envoy-2.log").is_file()
    );
    // the report re-renders from saved data alone
    std::fs::remove_file(out.join("report.md")).unwrap();
    let o = run(&["report", out.join("results.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::read_to_string(out.join("report.md"))
        .unwrap()
        .contains("rust-v8-mock"));
}

#[test]
fn one_round_gives_no_interval_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(&[
        "run",
        "--profile",
        "quick",
        "--only",
        "lua",
        "--rounds",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // the answer's row of lua, and its summary, say there is no interval
    let stdout = String::from_utf8_lossy(&o.stdout);
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("lua "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("± n/a"), "{row}");
    assert!(stdout.contains("no intervals (1 Envoy process"), "{stdout}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let lua = r["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "lua-mock")
        .unwrap();
    assert!(lua["overhead"]["p50"]["estimate"].is_number(), "{lua}");
    assert!(lua["overhead"]["p50"]["ci95_low"].is_null(), "{lua}");
    let note = lua["overhead"]["note"].as_str().unwrap();
    assert!(
        note.contains("1 Envoy process") && note.contains("at least 2"),
        "{note}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("No intervals in this run"), "{md}");
}

#[test]
fn sigint_stops_envoy_and_keeps_the_finished_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("interrupted-run");
    let mut child = bin()
        .args([
            "run",
            "--profile",
            "quick",
            "--only",
            "lua",
            "--rounds",
            "40",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    while !out.join("results.json").exists() {
        assert!(Instant::now() < deadline, "no round finished within 180 s");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !processes_mentioning(out.to_str().unwrap()).is_empty(),
        "Envoy should be running now"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the runner did not stop within 30 s of SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        processes_mentioning(out.to_str().unwrap()).is_empty(),
        "an Envoy outlived the runner"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["status"], "interrupted");
    assert!(!r["rounds"].as_array().unwrap().is_empty());
    assert!(!r["variants"].as_array().unwrap().is_empty());
}

#[test]
fn every_implementation_traps_on_its_first_request_with_crash_every_1() {
    let envoy = envoy();
    let project = project();
    let built = built_all(None);
    let config = serde_json::json!({"content": "x", "crash_every": 1});
    let mut variants: Vec<Variant> = built
        .iter()
        .map(|b| Variant::wasm(b, "v8", "mock").unwrap())
        .collect();
    variants.push(Variant::lua(&lua(), "mock").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let ports = allocate_ports(variants.len() + 1, None).unwrap();
    let listeners: Vec<ListenerSpec> = variants
        .iter()
        .zip(&ports[1..])
        .map(|(v, p)| ListenerSpec {
            upstream: None,
            name: v.info.id.clone(),
            port: *p,
            filter: v.filter_with(&config).unwrap(),
        })
        .collect();
    let launch = Launch {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
        stem: "crash",
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let mut e = launch.start(&listeners).unwrap();
    for (v, port) in variants.iter().zip(&ports[1..]) {
        let lua = v.info.language == "lua";
        // A Lua script error does not fail the request: Envoy logs it and the request continues
        // down the chain (here: the route's own "passthrough" answer). A Wasm trap gives a 5xx.
        let mut p = plan(*port, if lua { "passthrough" } else { "x" });
        p.connections = 1;
        p.requests = Some(1);
        let o = load::run(&p, None).unwrap();
        if lua {
            assert_eq!(
                o.ok, 1,
                "{}: the request should continue past the failing script: {:?}",
                v.info.id, o.errors
            );
            // A filter that never ran gives `passthrough` too: the Lua filter's own error counter
            // says the script ran and raised.
            let (_, stats) = e.admin("/stats?filter=lua.errors").unwrap();
            let errors = stats
                .lines()
                .filter_map(|l| l.split_once(": "))
                .find(|(name, _)| name.contains(&format!(".{}.lua.errors", v.info.id)))
                .map(|(_, n)| n.trim().to_string());
            assert_eq!(
                errors.as_deref(),
                Some("1"),
                "{}: the Lua filter's error stat after one request:\n{stats}",
                v.info.id
            );
            continue;
        }
        assert_eq!(o.ok, 0, "{}: the first request must trap", v.info.id);
        assert_eq!(
            o.errors.status, 1,
            "{}: expected a 5xx, got {:?}",
            v.info.id, o.errors
        );
        assert!(
            o.wrong_statuses.iter().all(|s| *s >= 500),
            "{}: {:?}",
            v.info.id,
            o.wrong_statuses
        );
    }
    e.stop();
    let log = std::fs::read_to_string(launch.log_path()).unwrap();
    let wasm_traps = log.matches("proxy_on_request_headers failed").count();
    assert_eq!(
        wasm_traps,
        built.len(),
        "one logged trap per Wasm plugin:\n{log}"
    );
}

/// What the `headers` workload leaves on a request, seen by a real upstream behind Envoy: the
/// in-process implementations (every Wasm plugin, the Lua filter, the dynamic module) add, read and
/// remove their 20 headers within Envoy, so none arrives; ext_proc's are one header mutation that
/// stays on the request, so all 20 arrive (plugins/README.md, "the fair form"). The in-process work
/// itself is checked by host conformance, and through Envoy by its instruction count
/// (tests/instructions.rs).
#[test]
fn the_upstream_sees_ext_procs_header_mutation_and_no_header_of_the_in_process_plugins() {
    let envoy = envoy();
    let project = project();
    let up = bench_runner::upstream::Upstream::start(PASSTHROUGH).unwrap();
    let (built, missing) = bench_runner::plugins::build_all(&project, None, false).unwrap();
    for m in &missing {
        assert!(opted_out(&m.name), "{}: {}", m.name, m.reason);
    }
    let mut variants: Vec<Variant> = built
        .iter()
        .filter_map(|b| Variant::of(b, &["v8"], "headers").into_iter().next())
        .collect();
    variants.push(Variant::lua(&lua(), "headers").unwrap());
    variants.push(Variant::baseline());
    assert!(
        variants.iter().any(|v| v.info.id.starts_with("extproc-")) || opted_out("extproc-rust"),
        "no ext_proc variant: {:?}",
        variants.iter().map(|v| &v.info.id).collect::<Vec<_>>()
    );
    for v in &mut variants {
        v.upstream = Some(up.port());
    }
    let dir = tempfile::tempdir().unwrap();
    let ports = allocate_ports(variants.len() + 1, None).unwrap();
    let listeners: Vec<ListenerSpec> = variants
        .iter()
        .zip(&ports[1..])
        .map(|(v, p)| v.listener(*p).unwrap())
        .collect();
    let launch = Launch {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
        stem: "upstream-headers",
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let mut e = launch.start(&listeners).unwrap();
    for (v, port) in variants.iter().zip(&ports[1..]) {
        let mut p = plan(*port, PASSTHROUGH);
        p.requests = Some(5);
        let o = load::run(&p, None).unwrap();
        assert_eq!(
            (o.ok, o.errors.total()),
            (5, 0),
            "{}: {:?}",
            v.info.id,
            o.errors
        );
    }
    e.stop();
    let seen = up.header_names_by_listener();
    let want: std::collections::BTreeSet<String> =
        (0..20).map(|i| format!("x-bench-{i}")).collect();
    for v in &variants {
        let bench: std::collections::BTreeSet<String> = seen
            .get(&v.info.id)
            .unwrap_or_else(|| panic!("{}: nothing reached the upstream: {seen:?}", v.info.id))
            .iter()
            .filter(|n| n.starts_with("x-bench-") && *n != bench_runner::upstream::LISTENER_HEADER)
            .cloned()
            .collect();
        if v.info.runtime.as_deref() == Some(bench_runner::results::EXT_PROC_RUNTIME) {
            assert_eq!(bench, want, "{}: the mutation's headers", v.info.id);
        } else {
            assert!(
                bench.is_empty(),
                "{} left {bench:?} on the request",
                v.info.id
            );
        }
    }
}

const PASSTHROUGH: &str = bench_runner::bench::variants::PASSTHROUGH_BODY;
