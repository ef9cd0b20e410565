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
fn without_luajit_on_path_lua_runs_in_lupas_luajit_and_agrees() {
    // No `luajit` on PATH (a fresh machine): the runner uses the LuaJIT 2.1 that PyPI's lupa wheels
    // bundle, in the project's venv (installed on first use), and Lua still agrees with the reference.
    // PATH holds only what the runner itself needs here: sh (its process guard) and python3 (the venv)
    let bin = tempfile::tempdir().unwrap();
    for tool in ["sh", "python3"] {
        let real = ["/usr/bin", "/bin", "/usr/local/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no {tool} on this machine"));
        std::os::unix::fs::symlink(real, bin.path().join(tool)).unwrap();
    }
    let o = common::bin()
        .env("PATH", bin.path())
        .args([
            "fuzz", "--cases", "300", "--seed", "3", "--only", "lua", "--json",
        ])
        .output()
        .expect("bench-runner runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["implementations"], serde_json::json!(["lua"]));
    assert_eq!(v["divergences"], 0, "{v}");
}
