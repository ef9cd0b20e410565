//! `bench-runner ab` end to end, through the real binary, real git worktrees, real plugin builds and
//! a real Envoy: identical builds are said so and not measured (exit 0); a revision whose Rust plugin
//! spins 20000 rounds more per request regresses against the working tree's (exit 1) and improves the
//! other way round (exit 0); bad revisions, flags and implementations exit 2 naming them; and neither
//! a worktree nor a build's child, an Envoy or a processor outlives the runner (SIGINT, SIGKILL).
//! Behaviour only: verdicts and exit statuses, never a figure.
//!
//! The revisions the tests need are commits made here in a temporary git worktree of the project
//! (detached: no branch or tag is created) and removed afterwards.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn git(args: &[&str]) -> String {
    let o = Command::new("git")
        .arg("-C")
        .arg(root())
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// A temporary worktree of HEAD, removed on drop.
struct TempTree(PathBuf);

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = Command::new("git")
            .arg("-C")
            .arg(root())
            .args(["worktree", "remove", "--force"])
            .arg(&self.0)
            .output();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A commit on top of HEAD with `edit` applied to the file `rel` (made in a temporary worktree,
/// detached, so that no ref of the project moves); its id.
fn commit_with(rel: &str, edit: impl Fn(String) -> String, message: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let tree = TempTree(dir.path().join("tree"));
    git(&[
        "worktree",
        "add",
        "--detach",
        "--quiet",
        tree.0.to_str().unwrap(),
        "HEAD",
    ]);
    let file = tree.0.join(rel);
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = edit(text.clone());
    assert_ne!(changed, text, "the edit of {rel} changed nothing");
    std::fs::write(&file, changed).unwrap();
    let t = tree.0.to_str().unwrap();
    git(&[
        "-C",
        t,
        "-c",
        "user.name=ab test",
        "-c",
        "user.email=ab@test",
        "commit",
        "--quiet",
        "--no-verify",
        "-am",
        message,
    ]);
    git(&["-C", t, "rev-parse", "HEAD"])
}

/// HEAD with the Rust plugin's `spin` default raised from 0 to 20000 rounds (tens of µs per
/// request).
fn spin_commit() -> String {
    commit_with(
        "plugins/rust/src/config.rs",
        |t| t.replace(r#"int(top, "spin", 0)?"#, r#"int(top, "spin", 20000)?"#),
        "ab test: the Rust plugin spins 20000 rounds by default",
    )
}

fn validate(schema_file: &str, json: &Value, what: &str) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(schema_file)).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the committed schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} against {schema_file}: {errors:?}"
    );
}

fn ab_json(out: &Path) -> Value {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ab.json")).unwrap()).unwrap();
    validate("results/ab.schema.json", &v, "ab.json");
    if !v["results"].is_null() {
        validate("results/schema.json", &v["results"], "ab.json's results");
    }
    v
}

fn verdicts(v: &Value) -> Vec<(String, String)> {
    v["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["variant"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn metric_verdict(v: &Value, variant: &str, metric: &str) -> String {
    v["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["variant"] == variant)
        .and_then(|c| {
            c["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["metric"] == metric)
        })
        .map(|m| m["verdict"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {metric} of {variant}: {v}"))
}

/// The worktrees `ab` made for runner `pid` (its folders under the cache).
fn worktrees_of(pid: u32) -> Vec<PathBuf> {
    let dir = root().join(".cache/ab/worktrees");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(&format!("-{pid}")))
        })
        .collect()
}

/// (pid, start time) of every live `sleep 120` (the slow build's child).
fn sleepers() -> Vec<(u32, u64)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            (cmd == b"sleep\x00120\x00")
                .then(|| Some((pid, bench_runner::sys::start_ticks(pid)?)))
                .flatten()
        })
        .collect()
}

fn git_knows(dir: &Path) -> bool {
    git(&["worktree", "list", "--porcelain"]).contains(&dir.display().to_string())
}

fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The tests of this file one at a time: each checks that git lists no worktree of `ab` after its
/// runner ends, which another test's runner, alive at the same moment, would break.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn identical_builds_are_said_so_and_not_measured() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("same");
    let o = run(&[
        "ab",
        "--base",
        "HEAD",
        "--new",
        "HEAD",
        "--only",
        "rust,lua,cpp",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = ab_json(&out);
    let got = verdicts(&v);
    assert_eq!(
        got.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
        ["rust-v8-mock", "lua-mock", "cpp-v8-mock"],
        "{got:?}"
    );
    assert!(got.iter().all(|x| x.1 == "identical build"), "{got:?}");
    assert!(v["results"].is_null(), "nothing was measured");
    for i in v["implementations"].as_array().unwrap() {
        assert_eq!(i["status"], "identical build", "{i}");
        assert_eq!(i["base"]["sha256"], i["new"]["sha256"], "{i}");
    }
    assert_eq!(v["base"]["revision"]["commit"], git(&["rev-parse", "HEAD"]));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| rust-v8-mock | identical build |"), "{md}");
    assert!(text(&o).contains("identical build"), "{}", text(&o));
    // the worktrees are gone, and git has forgotten them
    let wts = git(&["worktree", "list", "--porcelain"]);
    assert!(!wts.contains(".cache/ab/worktrees"), "{wts}");
}

#[test]
fn a_slower_revision_regresses_and_a_faster_one_improves() {
    let _one = one_at_a_time();
    let counted = valgrind().is_some();
    let spin = spin_commit();
    let dir = tempfile::tempdir().unwrap();

    // new = the spinning revision, base = HEAD: regressed, exit 1
    let out = dir.path().join("slower");
    let o = run(&[
        "ab",
        "--base",
        "HEAD",
        "--new",
        &spin,
        "--only",
        "rust",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = ab_json(&out);
    assert_eq!(
        verdicts(&v),
        [("rust-v8-mock".to_string(), "regressed".to_string())]
    );
    assert_eq!(
        metric_verdict(&v, "rust-v8-mock", "cpu_us_per_req"),
        "regressed"
    );
    if counted {
        assert_eq!(
            v["instructions"]["status"], "counted",
            "{}",
            v["instructions"]
        );
        assert_eq!(
            metric_verdict(&v, "rust-v8-mock", "instructions_per_req"),
            "regressed"
        );
    }
    assert_eq!(v["new"]["revision"]["commit"], spin.as_str());
    assert_eq!(v["profile"]["cpu_thread"], "worker");
    let ids: Vec<&str> = v["results"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rust-v8-mock@base", "rust-v8-mock@new"]);
    // every window of the new build was paired with the base build
    for r in v["results"]["rounds"].as_array().unwrap() {
        if r["variant"] == "rust-v8-mock@new" {
            assert!(r["paired_baseline"].is_object(), "{r}");
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| rust-v8-mock | regressed |"), "{md}");
    // `report` re-derives the same verdicts from the saved rounds
    let before = std::fs::read_to_string(out.join("report.md")).unwrap();
    let o = run(&["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        before
    );
    assert!(processes_mentioning(out.to_str().unwrap()).is_empty());

    // base = the spinning revision, new = the working tree: improved, exit 0
    let out = dir.path().join("faster");
    let o = run(&[
        "ab",
        "--base",
        &spin,
        "--only",
        "rust",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = ab_json(&out);
    assert_eq!(
        verdicts(&v),
        [("rust-v8-mock".to_string(), "improved".to_string())]
    );
    assert_eq!(
        metric_verdict(&v, "rust-v8-mock", "cpu_us_per_req"),
        "improved"
    );
    if counted {
        assert_eq!(
            metric_verdict(&v, "rust-v8-mock", "instructions_per_req"),
            "improved"
        );
    }
    assert!(v["new"]["revision"].is_null(), "the working tree");
    let wts = git(&["worktree", "list", "--porcelain"]);
    assert!(!wts.contains(".cache/ab/worktrees"), "{wts}");
}

#[test]
fn bad_revisions_flags_and_implementations_exit_2_naming_them() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let two_lines = |o: &std::process::Output| {
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(2), "{}", text(o));
        assert!(err.lines().count() <= 2, "{err}");
        err
    };
    let o = run(&[
        "ab",
        "--base",
        "no-such-rev-4242",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(two_lines(&o).contains("--base no-such-rev-4242: no such revision"));
    let o = run(&[
        "ab",
        "--base",
        "HEAD",
        "--new",
        "no-such-rev-4343",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(two_lines(&o).contains("--new no-such-rev-4343"));
    let o = run(&["ab", "--out", out.to_str().unwrap()]);
    assert!(two_lines(&o).contains("give --base REV"));
    let o = run(&[
        "ab",
        "--base",
        "HEAD",
        "--base-envoy",
        "1.39.3",
        "--new-envoy",
        "1.40.0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(two_lines(&o).contains("give one of them"));
    let o = run(&[
        "ab",
        "--base-envoy",
        "/no/such/envoy",
        "--new-envoy",
        "1.40.0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(two_lines(&o).contains("--base-envoy /no/such/envoy: no such file"));
    let o = run(&[
        "ab",
        "--base",
        "HEAD",
        "--only",
        "nosuch",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(two_lines(&o).contains("--only: unknown implementation `nosuch`"));
    assert!(!out.exists(), "nothing written for bad input");

    // an implementation the base revision does not have: the first commit has no dynamic module
    let first = git(&["rev-list", "--max-parents=0", "HEAD"]);
    let first = first.lines().last().unwrap();
    assert!(git(&["ls-tree", first, "plugins/dynmod-rust"]).is_empty());
    let o = run(&[
        "ab",
        "--base",
        first,
        "--only",
        "dynmod-rust",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = two_lines(&o);
    assert!(
        err.contains("--only dynmod-rust") && err.contains("has no implementation `dynmod-rust`"),
        "{err}"
    );

    // a worktree that cannot be made: the cache is a file
    let file = dir.path().join("cache-is-a-file");
    std::fs::write(&file, "x").unwrap();
    let envoy = envoy();
    let o = bin()
        .args(["ab", "--base", "HEAD", "--only", "lua", "--envoy"])
        .arg(&envoy.path)
        .arg("--out")
        .arg(&out)
        .env("BENCH_CACHE", &file)
        .output()
        .unwrap();
    let err = two_lines(&o);
    assert!(err.contains("cannot make a git worktree of HEAD"), "{err}");

    // a base whose plugin does not build: named, with its build log
    let broken = commit_with(
        "plugins/rust/src/lib.rs",
        |t| format!("{t}\nfn broken( {{\n"),
        "ab test: the Rust plugin does not compile",
    );
    let o = run(&[
        "ab",
        "--base",
        &broken,
        "--only",
        "rust",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.contains(&format!("--base {broken}"))
            && line.contains("plugin rust does not build there"),
        "{err}"
    );
    let log = line
        .split("see ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .unwrap_or_else(|| panic!("no build log named: {err}"));
    assert!(Path::new(log).is_file(), "{log}");
    assert!(std::fs::read_to_string(log).unwrap().contains("error"));
    assert!(
        !out.join("ab.json").exists(),
        "nothing written for a base that does not build"
    );
    let wts = git(&["worktree", "list", "--porcelain"]);
    assert!(!wts.contains(".cache/ab/worktrees"), "{wts}");
}

/// A base revision whose C++ build script sleeps first: the runner is caught while its worktree
/// exists and the build's child runs.
fn slow_build_commit() -> String {
    commit_with(
        "plugins/cpp/build.sh",
        |t| t.replacen("set -eu\n", "set -eu\nsleep 120\n", 1),
        "ab test: the C++ build sleeps first",
    )
}

/// Runs `ab ARGS --out DIR/STAGE`, waits up to `secs` for `ready` (the runner still running), sends
/// it `signal` and returns (its exit status, the run's folder, what it said, what `ready` noted).
fn signal_when<T>(
    args: &[&str],
    dir: &Path,
    stage: &str,
    secs: u64,
    signal: i32,
    mut ready: impl FnMut(u32, &Path) -> Option<T>,
) -> (std::process::ExitStatus, PathBuf, String, T) {
    let out = dir.join(stage);
    let log = dir.join(format!("{stage}.log"));
    let mut r = Runner(
        bin()
            .arg("ab")
            .args(args)
            .arg("--out")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let said = || std::fs::read_to_string(&log).unwrap_or_default();
    let pid = r.0.id();
    let mut noted = None;
    wait_until(stage, secs, || {
        assert!(r.0.try_wait().unwrap().is_none(), "ended early: {}", said());
        noted = ready(pid, &out);
        noted.is_some()
    });
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(pid as i32, signal) };
    let status = r.0.wait().unwrap();
    if signal == libc::SIGINT {
        assert_eq!(status.code(), Some(130), "{}", said());
    }
    (status, out, said(), noted.unwrap())
}

fn alive(ps: &[(u32, u64)]) -> Vec<(u32, u64)> {
    ps.iter()
        .copied()
        .filter(|(p, t)| bench_runner::sys::process_is(*p, *t))
        .collect()
}

#[test]
fn no_worktree_build_or_envoy_outlives_the_runner() {
    let _one = one_at_a_time();
    let slow = slow_build_commit();
    let spin = spin_commit();
    let measured = ["--base", "HEAD", "--new", &spin, "--only", "rust"];
    for signal in [libc::SIGKILL, libc::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        // during the base build: the worktree and the build's own child
        let args = ["--base", &slow, "--only", "cpp"];
        let (_, _, _, (wts, sleeping)) =
            signal_when(&args, dir.path(), "build", 120, signal, |pid, _| {
                let (wts, sleeping) = (worktrees_of(pid), sleepers());
                // the worktree exists and git lists it, and the build's child runs
                (!wts.is_empty() && git_knows(&wts[0]) && !sleeping.is_empty())
                    .then_some((wts, sleeping))
            });
        wait_until("the worktree's removal", 30, || {
            wts.iter().all(|w| !w.exists()) && !git_knows(&wts[0])
        });
        wait_until_none("the build's child", || alive(&sleeping));

        // while measuring: every Envoy
        let args = [&measured[..], &["--processes", "12"]].concat();
        let (_, out, _, children) =
            signal_when(&args, dir.path(), "measure", 300, signal, |pid, out| {
                let children = children_of(pid);
                (out.join("run/results.json").exists()
                    && children.iter().any(|(p, _)| exe_name(*p).contains("envoy")))
                .then_some(children)
            });
        wait_until_none("an Envoy of the runner", || alive(&children));
        if signal == libc::SIGINT {
            let v = ab_json(&out);
            assert_eq!(v["status"], "interrupted");
            assert!(!v["results"]["rounds"].as_array().unwrap().is_empty());
        } else {
            // what a killed runner leaves: the engine's rounds so far, still valid
            let r: Value = serde_json::from_str(
                &std::fs::read_to_string(out.join("run/results.json")).unwrap(),
            )
            .unwrap();
            validate("results/schema.json", &r, "the killed run's results.json");
        }

        // while counting instructions: valgrind and the Envoy under it
        if valgrind().is_none() {
            continue;
        }
        let args = [&measured[..], &["--processes", "2"]].concat();
        let (_, out, _, ()) = signal_when(&args, dir.path(), "count", 300, signal, |_, out| {
            let needle = format!("--callgrind-out-file={}", out.display());
            (!processes_mentioning(&needle).is_empty()).then_some(())
        });
        if signal == libc::SIGINT {
            assert_eq!(ab_json(&out)["status"], "interrupted");
        }
        let everything = out.display().to_string();
        wait_until_none("a process of the run (valgrind, Envoy)", || {
            processes_mentioning(&everything)
        });
    }
}
