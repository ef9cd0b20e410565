//! The README's two commands on a fresh clone (`generated:fresh`), from a folder written by
//! `bench-runner/scripts/fresh-clone.sh`.

use crate::error::usage;
use crate::paths::Project;
use std::fmt::Write;
use std::path::Path;

/// The README's two commands on a fresh clone: a folder written by `bench-runner/scripts/fresh-clone.sh`
/// (its fresh.json).
pub fn fresh_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("fresh.json");
    let bad = |why: String| {
        usage(format!(
            "--fresh: {} {why}; write it with bench-runner/scripts/fresh-clone.sh",
            path.display()
        ))
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot be read ({e})")))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("is not JSON ({e})")))?;
    let num = |p: &str| v.pointer(p).and_then(serde_json::Value::as_f64);
    let secs = |p: &str| num(p).map_or("n/a".to_string(), |s| format!("{s:.0} s"));
    let list = |p: &str| {
        v.pointer(p)
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len)
    };
    let (Some(run_wall), Some(test_wall)) = (num("/run/wall_s"), num("/test/wall_s")) else {
        return Err(bad("has no run.wall_s / test.wall_s".into()));
    };
    let minus = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.0} s", a - b),
        _ => "n/a".into(),
    };
    let rel = project.rel(dir);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Measured on commit `{}` at {}: {} ({} cores), a fresh clone (no `target/`, no `.cache/`: a cold Rust build, no Envoy, no plugin built){}; the caches in `$HOME` (cargo registry, Go module and build caches, npm, pip) were this machine's, so downloads and the Go compile were mostly cached. Raw data: [`{rel}/fresh.json`]({rel}/fresh.json) and both commands' output.\n",
        v.pointer("/commit").and_then(|c| c.as_str()).map_or("?".into(), |c| c.chars().take(12).collect::<String>()),
        v.pointer("/date").and_then(|c| c.as_str()).unwrap_or("?"),
        v.pointer("/host/cpu").and_then(|c| c.as_str()).unwrap_or("?"),
        v.pointer("/host/cores").and_then(serde_json::Value::as_u64).unwrap_or(0),
        if v.pointer("/wasm_target_removed_first").and_then(serde_json::Value::as_bool) == Some(true) {
            " with the wasm32-wasip1 target removed first"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "| command | exit | wall | compiling | after compiling | crates compiled |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---|");
    let _ = writeln!(
        s,
        "| `cargo run -p bench-runner` | {} | {:.0} s | {} | {} (measuring: announced ~{}, took {}) | {} |",
        num("/run/exit_code").unwrap_or(-1.0),
        run_wall,
        secs("/run/compile_s"),
        minus(Some(run_wall), num("/run/compile_s")),
        secs("/run/measuring_announced_s"),
        secs("/run/measuring_took_s"),
        num("/run/crates_compiled").unwrap_or(0.0)
    );
    let _ = writeln!(
        s,
        "| `cargo test --workspace` (right after) | {} | {:.0} s | {} | {} ({} passed, {} failed) | {}: the workspace's {}, {} test-only dependencies, {} of the run's crates again |",
        num("/test/exit_code").unwrap_or(-1.0),
        test_wall,
        secs("/test/compile_s"),
        minus(Some(test_wall), num("/test/compile_s")),
        num("/test/passed").unwrap_or(0.0),
        num("/test/failed").unwrap_or(0.0),
        num("/test/crates_compiled").unwrap_or(0.0),
        list("/test/workspace_crates_compiled"),
        list("/test/test_only_crates_compiled"),
        list("/test/recompiled_from_the_run")
    );
    let installed: Vec<&str> = v
        .pointer("/run/installed")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if !installed.is_empty() {
        let _ = writeln!(s, "\nWhat the first command installed, in its own words:\n");
        for l in installed {
            let _ = writeln!(s, "- `{}`", l.trim());
        }
    }
    let skipped: Vec<&str> = v
        .pointer("/run/skipped_lines")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "\nPlugins the run could not build (and skipped): {}.",
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join("; ")
        }
    );
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fresh_clone_region_shows_both_commands_and_what_was_installed() {
        let dir = tempfile_dir();
        std::fs::write(
            dir.join("fresh.json"),
            r#"{"commit": "0123456789abcdef", "date": "2026-12-01T00:00:00Z",
                "host": {"cpu": "CPU", "cores": 2}, "wasm_target_removed_first": true,
                "run": {"exit_code": 0, "wall_s": 900.4, "compile_s": 400.0, "crates_compiled": 240,
                        "measuring_announced_s": 420, "measuring_took_s": 450.5,
                        "installed": ["plugin rust: Rust target wasm32-wasip1 missing, installing it: rustup target add wasm32-wasip1"],
                        "skipped_lines": []},
                "test": {"exit_code": 0, "wall_s": 200.0, "compile_s": 120.0, "crates_compiled": 95,
                         "workspace_crates_compiled": ["bench-runner", "plugin-host"],
                         "test_only_crates_compiled": ["a", "b"], "recompiled_from_the_run": [],
                         "passed": 150, "failed": 0}}"#,
        )
        .unwrap();
        let project = Project { root: dir.clone() };
        let s = fresh_region(&project, &dir).unwrap();
        assert!(s.contains("| `cargo run -p bench-runner` | 0 | 900 s | 400 s | 500 s (measuring: announced ~420 s, took 450 s)"), "{s}");
        assert!(
            s.contains(
                "95: the workspace's 2, 2 test-only dependencies, 0 of the run's crates again"
            ),
            "{s}"
        );
        assert!(s.contains("rustup target add wasm32-wasip1"), "{s}");
        assert!(s.contains("(and skipped): none"), "{s}");
        std::fs::write(dir.join("fresh.json"), "{}").unwrap();
        let e = fresh_region(&project, &dir).unwrap_err().to_string();
        assert!(e.contains("fresh.json has no run.wall_s"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("readme-fresh-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
