//! The front door (issue 32): the answer `report` and `run` print (text, Markdown or JSON; colours
//! on a terminal only, never with NO_COLOR), the report's first screen, the grouped `--help`, and
//! the start-of-run check that warns about other work on the CPUs instead of a load average.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/results-quick.json"
);

/// The quick fixture's results.json in a folder of its own (report writes beside it).
fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    std::fs::copy(FIXTURE, &json).unwrap();
    (dir, json)
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn report_prints_the_answer_in_each_format_and_opens_its_files_with_it() {
    let (dir, json) = fixture_copy();
    let o = run(&["report", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = stdout(&o);
    assert!(
        t.starts_with("mock · added per request versus no plugin"),
        "{t}"
    );
    assert!(t.contains("  → "), "{t}");
    for line in t.lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("report.md"),
        "{}",
        text(&o)
    );

    let o = run(&["report", json.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let a: Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON only");
    let w = &a["workloads"][0];
    assert_eq!(w["workload"], "mock");
    assert_eq!(w["sorted_by"], "cpu_us_per_req");
    let rows = w["rows"].as_array().unwrap();
    let cpu: Vec<f64> = rows
        .iter()
        .map(|r| r["added_cpu_us_per_req"]["estimate"].as_f64().unwrap())
        .collect();
    assert!(
        cpu.windows(2).all(|p| p[0] <= p[1]),
        "cheapest first: {cpu:?}"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for r in rows {
        let id = r["variant"].as_str().unwrap();
        let v = saved["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .unwrap_or_else(|| panic!("{id} is no variant of the run"));
        assert_eq!(r["added_p50_us"], v["overhead"]["p50"], "{id}");
    }
    assert!(w["summary"].as_str().unwrap().len() > 10);

    let o = run(&["report", json.to_str().unwrap(), "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let md = stdout(&o);
    assert!(md.contains("**`mock`**: "), "{md}");
    assert!(
        md.contains("| implementation | added p50 µs | CPU µs/req | CPU |"),
        "{md}"
    );

    // report.md: the answer and the overhead chart before the detailed tables
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let at = |needle: &str| {
        report
            .find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in report.md:\n{report}"))
    };
    assert!(at("## What each implementation adds") < at("![Added latency"));
    assert!(at("![Added latency") < at("## Every figure per variant"));
    assert!(at("## Every figure per variant") < at("| variant | p50 µs |"));
    // report.html likewise, the chart drawn once
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in report.html"))
    };
    assert!(at("id=\"answer\"") < at("<figure id=\"chart-overhead\""));
    assert!(at("<figure id=\"chart-overhead\"") < at("id=\"overhead-table\""));
    assert_eq!(html.matches("<figure id=\"chart-overhead\"").count(), 1);
}

/// Runs `report FILE` on a pseudo-terminal (util-linux `script`), with `env` set.
fn report_on_a_terminal(json: &Path, env: &[(&str, &str)]) -> String {
    let mut c = Command::new("script");
    c.args(["-qec"])
        .arg(format!(
            "{} report {}",
            env!("CARGO_BIN_EXE_bench-runner"),
            json.display()
        ))
        .arg("/dev/null")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("`script` (util-linux) runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    stdout(&o)
}

#[test]
fn colours_only_where_stdout_takes_them_and_never_with_no_color() {
    let (_dir, json) = fixture_copy();
    let on_tty = report_on_a_terminal(&json, &[]);
    assert!(
        on_tty.contains("\x1b["),
        "a terminal gets colours:\n{on_tty}"
    );
    let no_color = report_on_a_terminal(&json, &[("NO_COLOR", "1")]);
    assert!(no_color.contains("mock · added per request"), "{no_color}");
    assert!(!no_color.contains('\x1b'), "NO_COLOR=1:\n{no_color}");

    let piped = bin()
        .args(["report", json.to_str().unwrap()])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    assert!(!stdout(&piped).contains('\x1b'), "{}", stdout(&piped));
    let forced = bin()
        .args(["report", json.to_str().unwrap()])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(stdout(&forced).contains("\x1b["));
    let both = bin()
        .args(["report", json.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!stdout(&both).contains('\x1b'), "{}", stdout(&both));
}

#[test]
fn format_on_a_folder_without_an_answer_is_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("results/20261126T051928Z-failure/failure.json"),
        dir.path().join("failure.json"),
    )
    .unwrap();
    let o = run(&["report", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--format") && err.contains("failure run"),
        "{err}"
    );
    assert!(err.lines().count() <= 2, "{err}");
    assert!(!dir.path().join("report.md").exists());
}

#[test]
fn help_groups_the_commands_for_a_newcomer() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let h = stdout(&o);
    let at = |needle: &str| {
        h.find(needle)
            .unwrap_or_else(|| panic!("no `{needle}`:\n{h}"))
    };
    assert!(at("Measure:\n") < at("Compare and track:\n"));
    assert!(at("Compare and track:\n") < at("Ship:\n"));
    assert!(at("Ship:\n") < at("Inspect:\n"));
    assert!(at("Inspect:\n") < at("Options:\n"));
    assert!(
        h.contains("ext_proc") && h.contains("dynamic module"),
        "{h}"
    );
    let run_line = h
        .lines()
        .find(|l| l.trim_start().starts_with("run "))
        .unwrap();
    assert!(run_line.contains("several Envoy processes"), "{run_line}");
    assert!(h.lines().all(|l| l.chars().count() <= 100), "{h}");
    // `help` says the same
    assert_eq!(stdout(&run(&["help"])), h);
}

/// A busy loop in a process of its own (not the runner's child), killed when dropped.
struct Hog(Child);

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn quick_run(out: &Path) -> (std::process::Output, Value) {
    let o = run(&[
        "run",
        "--profile",
        "quick",
        "--only",
        "lua",
        "--rounds",
        "2",
        "--processes",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    (o, r)
}

const OTHER_WARNING: &str = "WARNING: other processes used";

#[test]
fn a_cpu_hog_beside_a_run_is_warned_about_and_a_past_build_is_not() {
    let dir = tempfile::tempdir().unwrap();
    // at a higher priority where the test may set one (root), so that on a machine busy with other
    // work it is still among the busiest processes the warning names; elsewhere nice runs it as is
    let hog = Hog(Command::new("nice")
        .args(["-n", "-10", "sh", "-c", "while :; do :; done"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap());
    let pid = hog.0.id();
    let (o, r) = quick_run(&dir.path().join("with-hog"));
    drop(hog);
    let err = String::from_utf8_lossy(&o.stderr);
    let other = &r["health"]["other_cpu_at_start"];
    assert!(other["other_cpus"].as_f64().unwrap() >= 0.25, "{other}");
    assert!(
        other["top"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == pid && p["command"] == "sh"),
        "the hog (sh, pid {pid}) is named: {other}"
    );
    assert!(err.contains(OTHER_WARNING), "{err}");
    assert!(err.contains(&format!("sh (pid {pid})")), "{err}");
    assert!(!err.contains("load average"), "{err}");
    // the answer is on stdout, the warning on stderr
    assert!(
        stdout(&o).contains("mock · added per request"),
        "{}",
        stdout(&o)
    );

    // right after: the hog's CPU is still in the load average, nothing competes any more
    let (o, r) = quick_run(&dir.path().join("after"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("load average"), "{err}");
    let other = &r["health"]["other_cpu_at_start"];
    let used = other["other_cpus"].as_f64().unwrap();
    assert!(
        !other["top"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == pid),
        "{other}"
    );
    if used < 0.25 {
        assert!(!err.contains(OTHER_WARNING), "{err}");
    } else {
        // a shared machine: someone else's work started meanwhile; the warning says who
        eprintln!("NOTE: other work on the machine during the second run: {other}");
        assert!(err.contains(OTHER_WARNING), "{err}");
    }
}
