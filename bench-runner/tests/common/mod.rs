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

/// Implementations the tests may leave out because a toolchain outside the project is missing here:
/// `BENCH_TEST_SKIP=go,go-higress,assemblyscript cargo test --workspace` (comma-separated folder names
/// under `plugins/`). Without it, a plugin that cannot be built fails the test with the reason and the
/// fix; nothing is skipped silently.
pub const SKIP_VAR: &str = "BENCH_TEST_SKIP";

pub fn opted_out(name: &str) -> bool {
    std::env::var(SKIP_VAR)
        .unwrap_or_default()
        .split(',')
        .any(|n| n.trim() == name)
}

/// Every implementation (or those in `only`), built through the runner's cached build (what `run`
/// and `build` do: sources unchanged means no rebuild; a missing Rust target is installed). One that
/// cannot be built panics with the runner's reason and fix, unless it is named in `BENCH_TEST_SKIP`:
/// then it is left out and the test says so on stderr. Wasm modules only: external processors
/// (kind `ext-proc`, built by the same call) are tested in tests/extproc.rs.
pub fn built_all(only: Option<&[&str]>) -> Vec<bench_runner::plugins::Built> {
    let only: Option<Vec<String>> = only.map(|o| o.iter().map(|s| s.to_string()).collect());
    let (built, missing) =
        bench_runner::plugins::build_all(&project(), only.as_deref(), false).unwrap();
    let mut fatal = Vec::new();
    for m in &missing {
        if opted_out(&m.name) {
            eprintln!(
                "LEFT OUT plugin {} ({SKIP_VAR} names it): {}",
                m.name, m.reason
            );
        } else {
            fatal.push(format!("{}: {}", m.name, m.reason));
        }
    }
    assert!(
        fatal.is_empty(),
        "plugin(s) could not be built; install what is missing, or name them in {SKIP_VAR}=a,b to \
         leave them out of the tests:\n{}",
        fatal.join("\n")
    );
    built.into_iter().filter(|b| b.is_wasm()).collect()
}

/// The built module of one plugin (built if needed); None only when `BENCH_TEST_SKIP` names it and
/// it cannot be built.
pub fn built(name: &str) -> Option<bench_runner::plugins::Built> {
    let b = built_all(Some(&[name])).into_iter().next();
    assert!(
        b.is_some() || opted_out(name),
        "no plugin named {name} under plugins/"
    );
    b
}

/// The Lua filter implementation (`plugins/lua`, kind `envoy-lua`) as the runner prepares it: nothing
/// is built, its script template is read and hashed.
pub fn lua() -> bench_runner::plugins::Built {
    let (mut ready, missing) =
        bench_runner::plugins::prepare_all(&project(), Some(&["lua".to_string()]), false).unwrap();
    assert!(
        missing.is_empty(),
        "{:?}",
        missing.first().map(|m| &m.reason)
    );
    assert_eq!(
        ready.len(),
        1,
        "plugins/lua/plugin.toml is an envoy-lua implementation"
    );
    ready.remove(0)
}

/// (pid, start time) of every live child of `parent`, from /proc/*/stat (state, ppid and start time
/// are fields 3, 4 and 22; the name, field 2, may hold spaces, so fields count after its last `)`).
pub fn children_of(parent: u32) -> Vec<(u32, u64)> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 19 && f[0] != "Z" && f[1].parse() == Ok(parent) {
            out.push((pid, f[19].parse().unwrap()));
        }
    }
    out
}

/// Installs a Debian package when its program is missing (the test's own requirement, as the runner
/// adds the Rust wasm target itself); without root it fails with the command to run.
pub fn ensure_tool(program: &str, package: &str) {
    let found = |p: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if found(program) {
        return;
    }
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root,
        "{program} is missing: apt-get install -y {package} (as root), then run the test again"
    );
    eprintln!("installing {package} for this test (apt-get install -y {package})");
    let install = || {
        Command::new("apt-get")
            .args([
                "-o",
                "DPkg::Lock::Timeout=300",
                "install",
                "-y",
                "-qq",
                package,
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        let _ = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=300", "update", "-qq"])
            .status();
        assert!(
            install(),
            "apt-get install -y {package} failed; install it by hand"
        );
    }
    assert!(
        found(program),
        "{package} installed but {program} is not on PATH"
    );
}

/// What `json` breaks of the committed schema `schema_file` (under the project root, e.g.
/// `results/schema.json`): one line per violation, with where it is.
pub fn schema_errors(schema_file: &str, json: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(schema_file)).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the committed schema compiles");
    validator
        .iter_errors(json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

/// A runner started by a test, killed if the test fails before it ends.
pub struct Runner(pub std::process::Child);

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn exe_name(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// Waits up to 15 s until `left()` (what is still running) is empty; fails naming it otherwise.
pub fn wait_until_none<T: std::fmt::Debug>(what: &str, mut left: impl FnMut() -> Vec<T>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let l = left();
        if l.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} after 15 s: {l:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// valgrind's version, or None when `BENCH_TEST_SKIP` names it (else the test fails with the fix).
pub fn valgrind() -> Option<String> {
    match bench_runner::envoy::callgrind::ensure() {
        Ok(v) => Some(v),
        Err(fix) if opted_out("valgrind") => {
            eprintln!("LEFT OUT valgrind ({SKIP_VAR} names it): {fix}");
            None
        }
        Err(fix) => panic!("valgrind is missing: {fix}; or name it in {SKIP_VAR}=valgrind"),
    }
}
