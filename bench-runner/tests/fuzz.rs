//! `fuzz`: a few thousand seeded inputs through every implementation (the Wasm plugins built by the
//! runner's cached build, in-process through plugin-host; Lua in a stand-alone LuaJIT) must find no
//! divergence from the reference; and the command's flags and exit statuses.

mod common;
use bench_runner::bench::fuzz;
use common::{built_all, project, run, text};

#[test]
fn every_implementation_agrees_with_the_reference_on_3000_seeded_inputs() {
    let mut names: Vec<String> = built_all(None).into_iter().map(|b| b.name).collect();
    assert!(!names.is_empty(), "no Wasm plugin to fuzz");
    names.push("lua".into());
    let mut targets = fuzz::targets(&project(), Some(&names)).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(targets.len(), names.len());
    let summary = fuzz::fuzz(&mut targets, 3000, 1, &mut |_, _| {}).unwrap();
    eprintln!(
        "fuzz: 3000 inputs through {}",
        summary.implementations.join(", ")
    );
    assert_eq!(summary.divergences, 0, "{}", summary.render());
}

#[test]
fn the_command_prints_json_and_exits_0_when_all_agree() {
    built_all(Some(&["rust"]));
    let o = run(&[
        "fuzz", "--cases", "300", "--seed", "5", "--only", "rust", "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["cases"], 300);
    assert_eq!(v["divergences"], 0);
    assert_eq!(v["implementations"], serde_json::json!(["rust"]));
    assert_eq!(v["found"], serde_json::json!([]));
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    for (args, needle) in [
        (&["fuzz", "--cases", "0"][..], "--cases"),
        (&["fuzz", "--cases", "many"][..], "--cases"),
        (&["fuzz", "--seed", "x"][..], "--seed"),
        (&["fuzz", "--only", "nosuch"][..], "nosuch"),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let first = String::from_utf8_lossy(&o.stderr)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(first.contains(needle), "{args:?}: {first}");
    }
}

#[test]
fn a_missing_luajit_is_an_exit_2_saying_what_to_install() {
    let o = common::bin()
        .env("PATH", "/nonexistent")
        .args(["fuzz", "--cases", "10", "--only", "lua"])
        .output()
        .expect("bench-runner runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("apt-get install -y luajit"), "{err}");
}
