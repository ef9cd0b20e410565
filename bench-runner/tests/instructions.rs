//! Instruction counting through Envoy under callgrind (issue 29), with real Envoy processes, real
//! plugins and valgrind: counts for every variant, `spin` adding instructions that grow with K, the
//! schema, `compare` on counts, valgrind missing, and no process left after SIGINT or SIGKILL of the
//! runner while it counts. valgrind is a requirement: missing, these tests fail with the fix unless
//! `BENCH_TEST_SKIP` names `valgrind`.

mod common;
use bench_runner::bench::instructions::{self, Counting, Group, Protocol};
use bench_runner::bench::variants::Variant;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn read(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_variant_is_counted_validates_and_compare_gates_on_a_one_percent_rise() {
    if valgrind().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("counts");
    let o = bin()
        .args([
            "instructions",
            "--processes",
            "1",
            "--windows",
            "1",
            "--requests",
            "50",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let r = read(&out.join("results.json"));

    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("results/schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&r)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "results.json violates results/schema.json:\n{}",
        errors.join("\n")
    );
    assert_eq!(r["schema_version"], 3);

    // every implementation that was built, both workloads, and the two no-plugin listeners
    let s = &r["instructions"];
    assert_eq!(s["status"], "complete");
    let ids: Vec<&str> = s["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    let skipped = r["skipped"].to_string();
    for p in bench_runner::plugins::discover_all(&project()).unwrap() {
        for w in ["mock", "headers"] {
            let counted = ids.iter().any(|id| {
                id.starts_with(&format!("{}-", p.name)) && id.ends_with(&format!("-{w}"))
            });
            assert!(
                counted || (opted_out(&p.name) && skipped.contains(&p.name)),
                "{} {w} was not counted: {ids:?}",
                p.name
            );
        }
    }
    for v in s["variants"].as_array().unwrap() {
        let per = v["per_request"]["estimate"].as_f64().unwrap();
        assert!(per > 10_000.0, "{v}");
        let id = v["id"].as_str().unwrap();
        if id != "baseline" && id != "baseline-aa" {
            let added = v["added"]["estimate"].as_f64().unwrap();
            assert!(added > 500.0, "{id} adds {added} instructions per request");
        }
    }
    // The header work seen through Envoy, where no reply shows it (the dynamic module and the Lua
    // filter add and remove within Envoy): every implementation's `headers` request costs at least
    // 1000 instructions per added header more than its `mock` one (measured: 5k-20k).
    let added = |id: &str| {
        s["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .and_then(|v| v["added"]["estimate"].as_f64())
    };
    for id in &ids {
        let Some(stem) = id.strip_suffix("-headers") else {
            continue;
        };
        let (headers, mock) = (added(id).unwrap(), added(&format!("{stem}-mock")).unwrap());
        assert!(
            headers - mock > 20.0 * 1000.0,
            "{stem}: headers adds {headers:.0} instructions per request, mock {mock:.0}: the 20 headers' work is missing"
        );
    }
    // the external processor is counted in its own process, beside Envoy
    for v in s["variants"].as_array().unwrap() {
        if v["id"].as_str().unwrap().starts_with("extproc-") {
            assert!(v["processor_per_request"].as_f64().unwrap() > 1000.0, "{v}");
        }
    }
    assert!(std::fs::read_to_string(out.join("report.md"))
        .unwrap()
        .contains("## Instructions per request"));

    // compare: an identical copy passes, a copy with one variant's counts raised by 1% fails
    let same = compare_with(&out, dir.path(), "same", |_| {});
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    let raised = compare_with(&out, dir.path(), "raised", |r| {
        for p in r["instructions"]["processes"].as_array_mut().unwrap() {
            for w in p["windows"].as_array_mut().unwrap() {
                if w["variant"] == "rust-v8-mock" {
                    let x = w["worker"].as_f64().unwrap() * 1.01;
                    w["worker"] = serde_json::json!(x.round() as u64);
                }
            }
        }
    });
    assert_eq!(raised.status.code(), Some(1), "{}", text(&raised));
    let t = text(&raised);
    let line = t
        .lines()
        .find(|l| l.contains("regressed"))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(t.contains("rust-v8-mock"), "{t}");
    assert!(line.contains("instructions"), "{line}");
}

/// `compare BASE COPY` where COPY is BASE's results.json changed by `edit` (summaries recomputed by
/// the reader from the raw windows).
fn compare_with(
    base: &Path,
    tmp: &Path,
    name: &str,
    edit: impl Fn(&mut serde_json::Value),
) -> std::process::Output {
    let mut r = read(&base.join("results.json"));
    edit(&mut r);
    // the summaries are recomputed from the windows, as `report` and `compare` read them
    let mut typed: bench_runner::results::Results = serde_json::from_value(r).unwrap();
    if let Some(s) = typed.instructions.as_mut() {
        s.variants = bench_runner::results::instructions::summarize(&s.processes);
    }
    let copy = tmp.join(format!("{name}.json"));
    typed.write(&copy).unwrap();
    bin()
        .arg("compare")
        .arg(base.join("results.json"))
        .arg(&copy)
        .output()
        .unwrap()
}

#[test]
fn spin_adds_instructions_that_grow_with_k() {
    let Some(tool) = valgrind() else { return };
    let Some(rust) = built("rust") else { return };
    let dir = tempfile::tempdir().unwrap();
    let envoy = envoy();
    let project = project();
    // four listeners of one module in one Envoy (the library entry point): spin 0, 1000, 4000 and
    // 16000 rounds. Spinning costs a fixed part (the call, the check) plus a part per round, so the
    // added instructions grow with K and the steps 1000 -> 4000 -> 16000 grow fourfold.
    const KS: [u32; 4] = [0, 1000, 4000, 16000];
    let variants: Vec<Variant> = KS
        .iter()
        .map(|k| {
            let mut v = Variant::wasm(&rust, "v8", "mock").unwrap();
            v.info.id = format!("rust-v8-mock-spin{k}");
            v.config["spin"] = serde_json::json!(k);
            v
        })
        .collect();
    let c = Counting {
        project: &project,
        envoy: &envoy,
        groups: vec![Group {
            name: "rust".into(),
            variants,
        }],
        protocol: Protocol {
            requests: 50,
            windows: 1,
            // V8 tiers a hot function up from its baseline compiler to TurboFan: a warm-up too short
            // for that would count one listener's loop in each tier.
            warmup: 200,
            processes: 1,
            jobs: 1,
        },
        out: dir.path(),
        seed: 1,
        tool,
    };
    let (s, outcome) = instructions::count(&c, |_| {});
    outcome.unwrap();
    let added: Vec<f64> = KS
        .iter()
        .map(|k| {
            s.variant(&format!("rust-v8-mock-spin{k}"))
                .and_then(|v| v.added)
                .unwrap()
                .estimate
        })
        .collect();
    assert!(added[0] > 1000.0, "{added:?}");
    assert!(
        added.windows(2).all(|w| w[1] > w[0] + 100.0),
        "the added instructions do not grow with spin {KS:?}: {added:?}"
    );
    let ratio = (added[3] - added[2]) / (added[2] - added[1]);
    assert!(
        (3.0..5.0).contains(&ratio),
        "12000 more rounds should cost four times 3000 more: {added:?} (ratio {ratio:.2})"
    );
}

#[test]
fn without_valgrind_the_command_says_so_and_names_the_fix() {
    // a PATH with neither valgrind nor apt-get (Envoy comes from the project's cache)
    let empty = tempfile::tempdir().unwrap();
    let out = empty.path().join("out");
    let o = bin()
        .env("PATH", empty.path())
        .args(["instructions", "--only", "lua", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("valgrind"), "{t}");
    assert!(t.contains("apt-get install -y valgrind"), "{t}");
    assert!(t.lines().count() <= 3, "{t}");
    assert!(!out.join("results.json").exists());
}

/// Kills the runner if the test fails before it does.
struct Runner(std::process::Child);

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `instructions` on Lua and waits until valgrind runs Envoy; returns the runner, the
/// valgrind pids and the log file.
fn counting_runner(out: &Path, log: &Path) -> (Runner, Vec<u32>) {
    let runner = Runner(
        bin()
            .args([
                "instructions",
                "--only",
                "lua",
                "--processes",
                "2",
                "--requests",
                "5000",
            ])
            .arg("--out")
            .arg(out)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    );
    let needle = out.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let under = processes_mentioning(&format!("--callgrind-out-file={needle}"));
        if !under.is_empty() && std::fs::read_to_string(log).unwrap().contains("counting") {
            // counting: the windows have started once instrumentation is on
            std::thread::sleep(Duration::from_secs(20));
            return (runner, under);
        }
        assert!(
            Instant::now() < deadline,
            "valgrind never ran:\n{}",
            std::fs::read_to_string(log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn assert_nothing_left(out: &Path, within: Duration) {
    let needle = out.display().to_string();
    let deadline = Instant::now() + within;
    loop {
        let left = processes_mentioning(&needle);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes of the run outlived the runner: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn no_valgrind_or_envoy_outlives_a_sigint_or_sigkill_while_counting() {
    if valgrind().is_none() {
        return;
    }
    for signal in [libc::SIGINT, libc::SIGKILL] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let log = dir.path().join("runner.log");
        let (mut runner, under) = counting_runner(&out, &log);
        assert!(!under.is_empty());
        // SAFETY: signalling the child this test started.
        unsafe { libc::kill(runner.0.id() as i32, signal) };
        let status = runner.0.wait().unwrap();
        if signal == libc::SIGINT {
            assert_eq!(
                status.code(),
                Some(130),
                "{}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        assert_nothing_left(&out, Duration::from_secs(20));
    }
}
