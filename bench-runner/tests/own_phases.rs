//! Plugins of your own in the phases beside `run` (issue 31 item 3), through a real Envoy: the
//! worked example's memory and start-up (`footprint`), named by file name and sha256; its failure
//! scenarios (`failure --crash-on`), each request classified, the crash request the trap, and the
//! phase listed as skipped, with what to give, without `--crash-on`; its ECDS and LDS swaps under
//! load without a failed request (`lifecycle`); and two builds of it compared in the same Envoy
//! processes (`ab --base-plugin/--new-plugin`). Behaviour only, never timings.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    root().join("examples/auth-rust")
}

fn json_of(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The sha256 of the module the runner built from the example.
fn example_sha() -> String {
    let wasm = example().join("target/wasm32-wasip1/release/auth_rust.wasm");
    bench_runner::plugins::sha256_hex(&std::fs::read(wasm).unwrap())
}

#[test]
fn footprint_measures_the_worked_example_named_by_file_name_and_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fp");
    let o = run(&[
        "footprint",
        "--profile",
        "quick",
        "--concurrency",
        "1",
        "--repetitions",
        "1",
        "--plugins-dir",
        example().to_str().unwrap(),
        "--request",
        example().join("requests.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    // The probe first, as in `run`.
    assert!(
        t.contains("probe: auth-rust-v8-own GET /api/orders/42 -> 200"),
        "{t}"
    );
    assert_eq!(
        processes_mentioning(out.to_str().unwrap()),
        Vec::<u32>::new()
    );

    let r = json_of(&out.join("results.json"));
    let errors = schema_errors("results/schema.json", &r);
    assert!(errors.is_empty(), "schema: {}", errors.join("\n"));
    let sha = example_sha();
    let p = &r["own"]["plugins"][0];
    assert_eq!(
        (p["file_name"].as_str(), p["sha256"].as_str()),
        (Some("auth_rust.wasm"), Some(sha.as_str()))
    );
    // Without --only, the plugin alone against the baseline.
    let samples = r["memory"]["samples"].as_array().unwrap();
    let ids: std::collections::BTreeSet<&str> = samples
        .iter()
        .map(|s| s["variant"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.into_iter().collect::<Vec<_>>(),
        ["auth-rust-v8-own", "baseline"]
    );
    let s = samples
        .iter()
        .find(|s| s["variant"] == "auth-rust-v8-own")
        .unwrap();
    assert!(s["idle"]["rss_kb"].as_u64().unwrap() > 0, "{s}");
    // Start-up to the first answer as stated (200, `passthrough`, x-auth-user), then a load
    // whose every answer was as stated.
    assert!(s["first_reply_ms"].as_f64().is_some(), "{s}");
    assert_eq!(
        (s["load_errors"].as_u64(), s["load_ok"].as_u64()),
        (Some(0), Some(500)),
        "{s}"
    );
    assert_eq!(
        r["memory"]["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == "auth-rust-v8-own")
            .unwrap()["module_bytes"],
        p["bytes"]
    );
    // Its requests reached the upstream through the plugin.
    assert!(
        r["own"]["upstream"]["served_by_listener"]["auth-rust-v8-own"]
            .as_u64()
            .unwrap()
            > 0
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Your plugins") && md.contains(&sha), "{md}");
}

#[test]
fn failure_sends_the_crash_request_every_nth_under_each_policy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("failure");
    let o = run(&[
        "failure",
        "--plugins-dir",
        example().to_str().unwrap(),
        "--request",
        example().join("requests.toml").to_str().unwrap(),
        "--crash-on",
        example().join("crash.toml").to_str().unwrap(),
        "--crash-every",
        "5",
        "--policies",
        "closed,open,reload-short",
        "--rate",
        "40",
        "--window",
        "2s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert_eq!(
        processes_mentioning(out.to_str().unwrap()),
        Vec::<u32>::new()
    );
    let f = &json_of(&out.join("failure.json"))["failure"];
    let sha = example_sha();
    assert_eq!(f["own"]["plugins"][0]["sha256"], sha.as_str());
    assert_eq!(f["own"]["plugins"][0]["file_name"], "auth_rust.wasm");
    assert_eq!(f["crash_on"]["requests"][0]["headers"][1], "x-crash: 1");
    // The suite's implementations are not run without --only; no runaway for a plugin of yours.
    let scenarios = f["scenarios"].as_array().unwrap();
    let ids: Vec<&str> = scenarios
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "auth-rust-crash5-closed",
            "auth-rust-crash5-open",
            "auth-rust-crash5-reload-short"
        ]
    );
    assert!(f["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["variant"] == "auth-rust-runaway"));
    for s in scenarios {
        let tl = s["timeline"].as_array().unwrap();
        assert_eq!(tl.len(), 80, "{}", s["id"]);
        // The four stated requests before the first crash request are answered as stated.
        for r in &tl[..4] {
            assert_eq!(
                (r["class"].as_str(), r.get("crash_request")),
                (Some("plugin"), None),
                "{r}"
            );
        }
        // Every fifth request is the crash request; the first one traps the VM.
        let crash: Vec<u64> = tl
            .iter()
            .filter(|r| r["crash_request"] == true)
            .map(|r| r["i"].as_u64().unwrap())
            .collect();
        assert_eq!(crash, (1..=16).map(|k| 5 * k - 1).collect::<Vec<_>>());
        assert_eq!(
            (tl[4]["class"].as_str(), tl[4]["status"].as_u64()),
            (Some("local_5xx"), Some(503))
        );
        assert_eq!(tl[4]["details"], "wasm_fail_stream", "{}", tl[4]);
        assert_eq!(s["first_crash"]["i"], 4);
        let after: Vec<&str> = tl[5..]
            .iter()
            .map(|r| r["class"].as_str().unwrap())
            .collect();
        match s["policy"].as_str().unwrap() {
            // Fail closed: every later request gets 503, the plugin never comes back.
            "closed" => assert!(after.iter().all(|c| *c == "local_5xx"), "{after:?}"),
            // Fail open: later requests bypass the plugin (the upstream's body without the
            // plugin's x-auth-user header).
            "open" => assert!(after.iter().all(|c| *c == "upstream"), "{after:?}"),
            // Reload: a fresh VM answers as stated again.
            _ => assert!(s["plugin_back_after_ms"].is_number(), "{s}"),
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains(&sha) && md.contains("--crash-on"), "{md}");
}

#[test]
fn without_crash_on_the_failure_phase_says_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("failure");
    let o = run(&[
        "failure",
        "--plugins-dir",
        example().to_str().unwrap(),
        "--request",
        example().join("requests.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let f = &json_of(&out.join("failure.json"))["failure"];
    assert!(f["scenarios"].as_array().unwrap().is_empty());
    let skipped = f["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["variant"], "auth-rust-*");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("give --crash-on REQUEST"),
        "{}",
        skipped[0]
    );
    assert_eq!(f["own"]["plugins"][0]["sha256"], example_sha().as_str());
}

#[test]
fn lifecycle_swaps_the_worked_example_under_load_without_a_failed_request() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lifecycle");
    let o = run(&[
        "lifecycle",
        "--plugins-dir",
        example().to_str().unwrap(),
        "--request",
        example().join("requests.toml").to_str().unwrap(),
        "--swaps",
        "6",
        "--interval",
        "300ms",
        "--window",
        "100ms",
        "--rate",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert_eq!(
        processes_mentioning(out.to_str().unwrap()),
        Vec::<u32>::new()
    );
    let j = json_of(&out.join("lifecycle.json"));
    let errors = schema_errors("results/lifecycle.schema.json", &j);
    assert!(errors.is_empty(), "schema: {}", errors.join("\n"));
    let l = &j["lifecycle"];
    assert_eq!(l["own"]["plugins"][0]["sha256"], example_sha().as_str());
    assert_eq!(l["own"]["plugins"][0]["file_name"], "auth_rust.wasm");
    // Only the plugin of yours without --only; the remote cases are the suite's.
    let imps = l["implementations"].as_array().unwrap();
    assert_eq!(imps.len(), 1, "{imps:?}");
    assert_eq!(
        (imps[0]["implementation"].as_str(), imps[0]["kind"].as_str()),
        (Some("auth-rust"), Some("wasm"))
    );
    assert!(l["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["variant"] == "auth-rust-remote"));
    let swaps = imps[0]["swaps"].as_array().unwrap();
    let modes: Vec<&str> = swaps.iter().map(|s| s["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["ecds-config", "ecds-module", "lds"]);
    for s in swaps {
        assert_eq!(s["swaps_done"], 6, "{}", s["mode"]);
        assert!(s["requests"].as_u64().unwrap() > 100, "{}", s["mode"]);
        // Every answer as stated (x-auth-user included), the keep-alive clients' too.
        assert_eq!(s["failed"]["total"], 0, "{}: {}", s["mode"], s["failed"]);
        assert_eq!(
            s["keepalive"]["failed"], 0,
            "{}: {}",
            s["mode"], s["keepalive"]
        );
        assert_eq!(s["envoy_alive_after"], true);
        assert_eq!(s["swaps_not_switched"], 0, "{}", s["mode"]);
    }
    // The requests went through the plugin to the upstream it was probed against.
    assert!(l["own"]["upstream"]["served_by_listener"]
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.starts_with("auth-rust-")));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("## Your plugins") && md.contains(&example_sha()),
        "{md}"
    );
}

#[test]
fn ab_compares_two_builds_of_the_worked_example_in_the_same_envoy_processes() {
    // The module the runner builds, and a second build of it: the same code with one custom
    // section appended (other bytes, another sha256).
    let built = example().join("target/wasm32-wasip1/release/auth_rust.wasm");
    if !built.exists() {
        // Built as every command with --plugins-dir builds it (the cheapest: failure's probe).
        let dir = tempfile::tempdir().unwrap();
        let f = run(&[
            "failure",
            "--plugins-dir",
            example().to_str().unwrap(),
            "--request",
            example().join("requests.toml").to_str().unwrap(),
            "--out",
            dir.path().join("f").to_str().unwrap(),
        ]);
        assert_eq!(f.status.code(), Some(0), "{}", text(&f));
    }
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("auth-new.wasm");
    let mut bytes = std::fs::read(&built).unwrap();
    bytes.extend_from_slice(&[0, 3, 1, b'x', b'y']);
    std::fs::write(&new, &bytes).unwrap();
    let config = r#"{"header": "x-api-key", "keys": {"k-alice": "alice", "k-bob": "bob"}}"#;
    let ab = |new: &Path, out: &Path| {
        run(&[
            "ab",
            "--base-plugin",
            &format!("auth={}", built.display()),
            "--new-plugin",
            &format!("auth={}", new.display()),
            "--plugin-config",
            config,
            "--request",
            example().join("requests.toml").to_str().unwrap(),
            "--processes",
            "2",
            "--out",
            out.to_str().unwrap(),
        ])
    };

    // The same file on both sides: said so, not measured.
    let same = dir.path().join("same");
    let o = ab(&built, &same);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json_of(&same.join("ab.json"));
    assert_eq!(j["implementations"][0]["status"], "identical build");
    assert!(j["comparisons"].as_array().unwrap().is_empty());

    let out = dir.path().join("ab");
    let o = ab(&new, &out);
    let t = text(&o);
    let j = json_of(&out.join("ab.json"));
    let errors = schema_errors("results/ab.schema.json", &j);
    assert!(errors.is_empty(), "schema: {}", errors.join("\n"));
    assert_eq!(j["mode"], "own");
    let imp = &j["implementations"][0];
    let sha = |p: &Path| bench_runner::plugins::sha256_hex(&std::fs::read(p).unwrap());
    assert_eq!(
        (imp["base"]["file"].as_str(), imp["base"]["sha256"].as_str()),
        (Some("auth_rust.wasm"), Some(sha(&built).as_str()))
    );
    assert_eq!(
        (imp["new"]["file"].as_str(), imp["new"]["sha256"].as_str()),
        (Some("auth-new.wasm"), Some(sha(&new).as_str()))
    );
    // Both builds were listeners of the same Envoy processes, paired.
    assert_eq!(j["pairs"][0]["base"], "auth-v8-own@base");
    assert_eq!(j["pairs"][0]["new"], "auth-v8-own@new");
    let c = &j["comparisons"][0];
    assert_eq!(c["variant"], "auth-v8-own");
    // A verdict as ab gives it, and the exit status that goes with it (never a timing).
    let verdict = c["verdict"].as_str().unwrap();
    assert!(
        ["unchanged", "improved", "regressed", "not compared"].contains(&verdict),
        "{verdict}"
    );
    assert_eq!(
        o.status.code(),
        Some(i32::from(verdict == "regressed")),
        "{t}"
    );
    assert_eq!(
        processes_mentioning(out.to_str().unwrap()),
        Vec::<u32>::new()
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("auth-new.wasm") && md.contains(&sha(&new)[..12]),
        "{md}"
    );
}
