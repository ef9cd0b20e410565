//! Helpers shared by the end-to-end tests (real Envoy, real plugins, real sockets on 127.0.0.1).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bench-runner"));
    c.env("BENCH_ROOT", root());
    c
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("bench-runner runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// PIDs of live processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // zombies (state Z) are already dead
        if stat.split(") ").nth(1).is_some_and(|s| s.starts_with('Z')) {
            continue;
        }
        if String::from_utf8_lossy(&cmd).contains(needle) {
            out.push(pid);
        }
    }
    out
}

pub fn project() -> bench_runner::paths::Project {
    bench_runner::paths::Project { root: root() }
}

pub fn envoy() -> bench_runner::envoy::EnvoyBin {
    bench_runner::envoy::locate::locate(None, &project(), true)
        .expect("Envoy is available or installable")
}

/// The built module of one plugin (built if needed).
pub fn built(name: &str) -> bench_runner::plugins::Built {
    let (b, missing) =
        bench_runner::plugins::build_all(&project(), Some(&[name.to_string()]), false).unwrap();
    assert!(
        missing.is_empty(),
        "plugin {name} could not be built: {:?}",
        missing.iter().map(|m| &m.reason).collect::<Vec<_>>()
    );
    b.into_iter()
        .next()
        .unwrap_or_else(|| panic!("no plugin named {name}"))
}
