//! SIGKILL of the runner mid-run (nothing of it runs afterwards): no child outlives it, checked by
//! pid and start time; its results.json stays valid JSON, records the runner, and every reader calls
//! the run `killed` instead of `running` for ever.

mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn a_sigkilled_run_leaves_no_child_and_is_called_killed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("killed-run");
    let log = std::fs::File::create(dir.path().join("runner.log")).unwrap();
    let mut runner = Runner(
        bin()
            .args([
                "run",
                "--profile",
                "quick",
                "--only",
                "lua",
                "--rounds",
                "40",
            ])
            .arg("--out")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let pid = runner.0.id();
    let runner_log = || std::fs::read_to_string(dir.path().join("runner.log")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(180);
    while !out.join("results.json").exists() {
        assert!(
            Instant::now() < deadline,
            "no round within 180 s:\n{}",
            runner_log()
        );
        assert!(
            runner.0.try_wait().unwrap().is_none(),
            "the run ended early:\n{}",
            runner_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let children = children_of(pid);
    let envoys = children
        .iter()
        .filter(|(p, _)| exe_name(*p).contains("envoy"))
        .count();
    assert!(
        envoys >= 1,
        "no Envoy among the runner's children {children:?}"
    );

    // SAFETY: killing the child this test started.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    runner.0.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left: Vec<_> = children
            .iter()
            .filter(|(p, t)| bench_runner::sys::process_is(*p, *t))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "children outlived the SIGKILLed runner by 15 s: {left:?} ({})",
            left.iter()
                .map(|(p, _)| exe_name(*p))
                .collect::<Vec<_>>()
                .join(", ")
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let json = std::fs::read_to_string(out.join("results.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).expect("results.json is valid JSON");
    assert_eq!(
        v["status"], "running",
        "what the killed runner left on disk"
    );
    assert_eq!(v["runner"]["process"]["pid"], pid);
    assert!(!v["rounds"].as_array().unwrap().is_empty());

    let o = run(&["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("killed mid-run (runner pid {pid} is gone)")),
        "{}",
        text(&o)
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("status **killed**"), "{md}");

    let o = run(&["compare", out.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    assert!(text(&o).contains("run status is `killed`"), "{}", text(&o));

    let readme = dir.path().join("README.md");
    std::fs::write(
        &readme,
        "<!-- generated:implementations:begin -->\n<!-- generated:implementations:end -->\n\
         <!-- generated:results:begin -->\n<!-- generated:results:end -->\n",
    )
    .unwrap();
    let o = run(&[
        "readme",
        "--run",
        out.to_str().unwrap(),
        "--readme",
        readme.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let md = std::fs::read_to_string(&readme).unwrap();
    assert!(md.contains("status killed"), "{md}");

    let o = run(&["export", "--format", "bmf", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("was killed mid-run"), "{}", text(&o));
}

/// A project whose one plugin's build starts a process of its own and never ends (as a compiler
/// started by `cargo` or `go` would, only slower): returns the project root.
fn project_with_an_endless_build(dir: &std::path::Path) -> std::path::PathBuf {
    let plugin = dir.join("project/plugins/endless");
    std::fs::create_dir_all(&plugin).unwrap();
    std::fs::write(
        plugin.join("plugin.toml"),
        "language = \"sh\"\ndescription = \"a build that never ends\"\noutput = \"out.wasm\"\n\
         sources = [\"build.sh\"]\nbuild = [\"sh\", \"build.sh\"]\n",
    )
    .unwrap();
    std::fs::write(
        plugin.join("build.sh"),
        "sleep 300 &\necho $! > grandchild.pid\nwait\n",
    )
    .unwrap();
    dir.join("project")
}

/// Waits for the build's grandchild (`sleep`) and returns (pid, start time).
fn grandchild(root: &std::path::Path, runner: &mut Runner) -> (u32, u64) {
    let file = root.join("plugins/endless/grandchild.pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(pid) = std::fs::read_to_string(&file)
            .ok()
            .filter(|s| s.ends_with('\n'))
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            return (pid, bench_runner::sys::start_ticks(pid).unwrap());
        }
        assert!(Instant::now() < deadline, "the build never started");
        assert!(runner.0.try_wait().unwrap().is_none(), "the runner ended");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_gone(pid: u32, start: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while bench_runner::sys::process_is(pid, start) {
        assert!(
            Instant::now() < deadline,
            "{what}: {pid} is still running after 15 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_build_tree_dies_with_a_sigkilled_runner_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let root = project_with_an_endless_build(dir.path());
    let start = |signal: i32| {
        let mut r = Runner(
            bin()
                .arg("build")
                .env("BENCH_ROOT", &root)
                .env("BENCH_CACHE", dir.path().join("cache"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let (pid, t) = grandchild(&root, &mut r);
        // SAFETY: signalling the child this test started.
        unsafe { libc::kill(r.0.id() as i32, signal) };
        let status = r.0.wait().unwrap();
        let _ = std::fs::remove_file(root.join("plugins/endless/grandchild.pid"));
        (status, pid, t)
    };
    // SIGKILL: nothing of the runner runs; the guard's parent-death signal kills the build's group.
    let (status, pid, t) = start(libc::SIGKILL);
    assert_eq!(status.code(), None, "killed by a signal");
    wait_gone(pid, t, "after SIGKILL of the runner, the build's own child");
    // Ctrl-C: the runner stops the build's group itself and exits 130.
    let (status, pid, t) = start(libc::SIGINT);
    assert_eq!(status.code(), Some(130));
    wait_gone(pid, t, "after Ctrl-C, the build's own child");
}
