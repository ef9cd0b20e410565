//! Load from several workers, merged: three `bench-runner load` processes with one `--start-at`
//! against one real Envoy on 127.0.0.1, their `--save-histograms` files merged by `merge` and
//! checked against the histograms added here; a worker pointed at a closed port and a corrupt file
//! are reported, never dropped; `k8s`'s Job parsed back. Behaviour only, never timings.

mod common;

use bench_runner::bench::variants::{Variant, PASSTHROUGH_BODY};
use bench_runner::envoy::session::{allocate_ports, Launch};
use bench_runner::load::{latency_us, new_hist, worker};
use common::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

fn read_worker(p: &Path) -> worker::WorkerRecord {
    worker::parse(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Three workers against one Envoy, the third printing its file to stdout (as in a pod's log).
fn three_workers(url: &str, dir: &Path) -> (Vec<std::path::PathBuf>, String) {
    let start = worker::rfc3339(SystemTime::now() + Duration::from_secs(4));
    let mut children = Vec::new();
    for i in 0..3 {
        let file = dir.join(format!("w{i}.hlog"));
        let save = if i == 2 {
            "-".to_string()
        } else {
            file.display().to_string()
        };
        let id = format!("w{i}");
        let args = [
            "load",
            url,
            "--rate",
            "300",
            "-d",
            "1s",
            "--warmup",
            "200ms",
            "-c",
            "2",
            "--start-at",
            &start,
            "--worker-id",
            &id,
            "--save-histograms",
            &save,
            "--expect-body",
            PASSTHROUGH_BODY,
        ];
        let out = if i == 2 {
            Stdio::from(std::fs::File::create(&file).unwrap())
        } else {
            Stdio::piped()
        };
        children.push(
            bin()
                .args(args)
                .stdout(out)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    let mut files = Vec::new();
    for (i, c) in children.into_iter().enumerate() {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "worker {i}: {}", text(&o));
        files.push(dir.join(format!("w{i}.hlog")));
    }
    (files, start)
}

fn merge_json(files: &[&Path]) -> (Option<i32>, serde_json::Value, String) {
    let mut args = vec!["merge".to_string(), "--json".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o.status.code(), v, text(&o))
}

/// The percentiles (values of histogram buckets) exactly; the mean to the last digits JSON keeps.
fn same_percentiles(got: &serde_json::Value, want: &bench_runner::load::LatencyUs) {
    for (k, v) in [
        ("p50", want.p50),
        ("p90", want.p90),
        ("p99", want.p99),
        ("p999", want.p999),
        ("max", want.max),
    ] {
        assert_eq!(got[k].as_f64(), Some(v), "{k}: {got} vs {want:?}");
    }
    let mean = got["mean"].as_f64().unwrap();
    assert!(
        (mean - want.mean).abs() <= 1e-9 * want.mean.abs(),
        "{got} vs {want:?}"
    );
}

#[test]
fn three_workers_with_one_start_merge_exactly_and_failures_are_reported() {
    let envoy = envoy();
    let project = project();
    let dir = tempfile::tempdir().unwrap();
    let ports = allocate_ports(2, None).unwrap();
    let listener = Variant::baseline().listener(ports[1]).unwrap();
    let launch = Launch {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
        stem: "gateway",
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let mut e = launch.start(&[listener]).unwrap();
    let url = format!("http://127.0.0.1:{}/", ports[1]);
    let (files, start) = three_workers(&url, dir.path());

    // each worker kept the shared schedule: its origin is the --start-at time
    let records: Vec<_> = files.iter().map(|f| read_worker(f)).collect();
    for r in &records {
        let c = &r.meta.clock;
        assert_eq!(c.planned_start.as_deref(), Some(start.as_str()));
        assert_eq!(c.origin, c.planned_start, "{c:?}");
        assert_eq!(r.meta.rate_rps, Some(300.0));
        let s = r.meta.summary.as_ref().unwrap();
        assert_eq!((s.requests, s.errors), (300, 0), "{}", r.meta.worker_id);
        assert!(c.target_offset.is_some(), "Envoy sends Date: {c:?}");
    }
    let paths: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let (code, m, out) = merge_json(&paths);
    assert_eq!(code, Some(0), "{out}");
    let sum: u64 = records
        .iter()
        .map(|r| r.meta.summary.as_ref().unwrap().ok)
        .sum();
    assert_eq!(m["merged"]["ok"], sum);
    assert_eq!(m["merged"]["requests"], 900);
    assert_eq!(m["total_intended_rps"], 900.0);
    assert_eq!(m["workers"].as_array().unwrap().len(), 3);
    assert!(m["common_window"]["seconds"].as_f64() > Some(0.0), "{m}");
    assert_eq!(m["problems"].as_array().unwrap().len(), 0, "{m}");
    // the reference: the three histograms added here
    let mut all = new_hist();
    for r in &records {
        all.add(&r.latency).unwrap();
    }
    same_percentiles(&m["merged"]["latency_us"], &latency_us(&all));
    assert_eq!(all.len(), sum);
    for (w, r) in m["workers"].as_array().unwrap().iter().zip(&records) {
        same_percentiles(&w["latency_us"], &latency_us(&r.latency));
        assert_eq!(w["worker_id"], r.meta.worker_id.as_str());
    }

    // a worker pointed at a closed port writes its file, and merge names it (exit 1)
    let closed = allocate_ports(1, None).unwrap()[0];
    let dead = dir.path().join("dead.hlog");
    let o = run(&[
        "load",
        &format!("http://127.0.0.1:{closed}/"),
        "-n",
        "5",
        "--warmup",
        "0s",
        "--worker-id",
        "dead",
        "--save-histograms",
        dead.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let mut with_dead = paths.clone();
    with_dead.push(&dead);
    let (code, m, out) = merge_json(&with_dead);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        m["workers"].as_array().unwrap().len(),
        4,
        "kept, not dropped"
    );
    assert!(
        out.contains("worker dead") && out.contains("dead.hlog"),
        "{out}"
    );
    assert_eq!(m["merged"]["errors"], 5);

    // a corrupt file: exit 2 naming it
    let cut = dir.path().join("cut.hlog");
    let good = std::fs::read_to_string(&files[0]).unwrap();
    std::fs::write(&cut, good.replace("HISTF", "HISTx")).unwrap();
    let o = run(&["merge", files[1].to_str().unwrap(), cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cut.hlog"),
        "{}",
        text(&o)
    );
    e.stop();
}

#[test]
fn k8s_generates_an_indexed_job_of_load_workers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("job.yaml");
    let o = run(&[
        "k8s",
        "--target",
        "http://higress-gateway.higress-system/",
        "--workers",
        "3",
        "--rate",
        "250",
        "--duration",
        "30s",
        "--image",
        "registry.example/bench-runner:1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let yaml = std::fs::read_to_string(&out).unwrap();
    let job: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["apiVersion"], "batch/v1");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["parallelism"], 3);
    assert_eq!(spec["completions"], 3);
    let c = &spec["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "registry.example/bench-runner:1");
    let args: Vec<&str> = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let after = |flag: &str| {
        let i = args
            .iter()
            .position(|a| *a == flag)
            .unwrap_or_else(|| panic!("{flag} in {args:?}"));
        args[i + 1]
    };
    assert_eq!(
        args[..2],
        ["load", "http://higress-gateway.higress-system/"]
    );
    assert_eq!(after("--rate"), "250");
    assert_eq!(after("--save-histograms"), "-");
    assert!(after("--worker-id").contains("$(WORKER_INDEX)"));
    assert!(args.contains(&"--allow-remote"));
    let start = worker::parse_rfc3339(after("--start-at")).expect("an RFC 3339 start");
    assert!(start > SystemTime::now(), "the start is ahead");
    // the collect-and-merge commands and the Higress sequence are in the comments
    for needle in [
        "kubectl logs",
        "bench-runner merge",
        "<WasmPlugin manifest for $IMPL>",
        "kubectl wait",
    ] {
        assert!(yaml.contains(needle), "{needle}:\n{yaml}");
    }
}
