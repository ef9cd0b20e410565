//! `bench-runner lifecycle` end to end, through the real binary, a real Envoy and the runner's own
//! servers: the Rust plugin's module fetched over HTTP (and refused with a wrong sha256 or truncated),
//! three swaps of its config and module via ECDS and of its listener via LDS under load. Checks what
//! lifecycle.json records (its schema, the behaviour it shows), and that nothing is left running.
//! Behaviour only, never timings.

mod common;
use common::*;
use serde_json::Value;

fn case<'a>(remote: &'a Value, id: &str) -> &'a Value {
    remote["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("remote case {id} missing"))
}

fn check_remote(remote: &Value, late_ms: f64) {
    let ok = case(remote, "ok");
    assert!(ok["first_plugin_reply_ms"].is_number(), "{ok}");
    assert!(remote["load_ms_median"].is_number(), "{remote}");
    for id in ["wrong-sha256", "truncated"] {
        let c = case(remote, id);
        assert!(
            c["first_plugin_reply_ms"].is_null(),
            "{id}: a plugin reply: {c}"
        );
        let outcomes = c["outcomes"].as_object().unwrap();
        assert!(!outcomes.is_empty(), "{id}: no probe");
        assert!(!outcomes.contains_key("200"), "{id}: a 200: {c}");
        assert!(c["envoy_alive"].as_bool().unwrap(), "{id}: Envoy died");
        let log = c["log_lines"].to_string();
        assert!(log.contains("failed to load"), "{id}: log says {log}");
    }
    let wrong = case(remote, "wrong-sha256");
    assert!(
        wrong["stats"]["wasm.remote_load_fetch_failures"].as_u64() >= Some(1),
        "{wrong}"
    );
    let late = case(remote, "server-late");
    let first = late["first_plugin_reply_ms"]
        .as_f64()
        .expect("server-late never loaded");
    assert!(
        first >= late_ms,
        "loaded at {first} ms before the server came up"
    );
}

fn check_swaps(imp: &Value) {
    let swaps = imp["swaps"].as_array().unwrap();
    let modes: Vec<&str> = swaps.iter().map(|s| s["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["ecds-config", "ecds-module", "lds"]);
    for s in swaps {
        let mode = &s["mode"];
        assert_eq!(s["swaps_done"], 3, "{mode}");
        // What the README claims for every swap mode: no request failed (no 5xx, wrong body,
        // connection error or timeout) while the plugin or the listener was swapped.
        assert_eq!(s["failed"]["total"], 0, "{mode}: {}", s["failed"]);
        assert!(s["failed_per_swap_mean"].is_number(), "{mode}");
        assert!(s["keepalive"]["connections_closed"].is_u64(), "{mode}");
        assert!(s["envoy_alive_after"].as_bool().unwrap(), "{mode}");
        assert!(s["rss_before_kib"].as_u64() > Some(0), "{mode}");
        for r in s["per_swap"].as_array().unwrap() {
            assert!(r["requests"].as_u64() > Some(0), "{mode} {r}");
            assert!(
                r["new_body"].as_u64() > Some(0),
                "{mode}: never the new body: {r}"
            );
            assert_eq!(r["failed"]["total"], 0, "{mode}: {r}");
        }
    }
    let config = &swaps[0];
    assert_eq!(config["per_swap"][0]["expected_body"], "lifecycle v2");
    assert_eq!(config["per_swap"][1]["expected_body"], "lifecycle v1");
    let ecds = |s: &Value, k: &str| {
        s["stats_after"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(n, _)| n.starts_with("extension_config_discovery.") && n.ends_with(k))
            .and_then(|(_, v)| v.as_u64())
    };
    // The initial config and three swaps, all accepted.
    assert_eq!(
        ecds(config, ".update_success"),
        Some(4),
        "{}",
        config["stats_after"]
    );
    assert_eq!(ecds(config, ".update_rejected"), Some(0));
    let lds = &swaps[2];
    assert_eq!(lds["stats_after"]["listener_manager.lds.update_success"], 4);
}

#[test]
fn lifecycle_records_remote_loads_and_swaps_of_the_rust_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(&[
        "lifecycle",
        "--only",
        "rust",
        "--swaps",
        "3",
        // Long enough for a module swap on a busy machine: every swap must show its new body.
        "--interval",
        "3s",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("lifecycle.json")).unwrap())
            .unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("results/lifecycle.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the committed schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "lifecycle.json against its schema: {errors:?}"
    );
    let l = &json["lifecycle"];
    assert_eq!(l["status"], "complete");
    assert_eq!(l["skipped"], serde_json::json!([]));
    let imp = &l["implementations"][0];
    assert_eq!(imp["implementation"], "rust");
    check_remote(
        &imp["remote"],
        l["settings"]["remote_late_ms"].as_f64().unwrap(),
    );
    check_swaps(imp);
    for f in [
        "report.md",
        "chart-lifecycle.svg",
        "chart-lifecycle.png",
        "chart-lifecycle-rss.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let needle = out.to_string_lossy().to_string();
    assert!(
        processes_mentioning(&needle).is_empty(),
        "processes still running with {needle} in their command line"
    );
}
