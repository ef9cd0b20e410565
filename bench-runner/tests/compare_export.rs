//! `compare`, `export` and named baselines on fixture results: no Envoy, no timings. The fixture is a
//! real quick run (baseline, baseline-aa, lua-mock, rust-v8-mock; 6 rounds over 3 Envoy processes);
//! tests derive variants of it by editing its JSON (shifting one variant's pooled latency or CPU
//! slices, breaking the schema, renaming variants).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};

const FIXTURE: &str = include_str!("fixtures/results-quick.json");
const RUST: &str = "rust-v8-mock";

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

/// Applies `f` to every round record of `variant`.
fn edit_rounds(v: &mut Value, variant: &str, mut f: impl FnMut(&mut Value)) {
    for r in v["rounds"].as_array_mut().unwrap() {
        if r["variant"] == variant {
            f(r);
        }
    }
}

/// Applies `f` to every pooled (per-process) latency record of `variant`.
fn edit_pooled(v: &mut Value, variant: &str, mut f: impl FnMut(&mut Value)) {
    for r in v["pooled"].as_array_mut().unwrap() {
        if r["variant"] == variant {
            f(r);
        }
    }
}

fn add(x: &mut Value, d: f64) {
    *x = Value::from(x.as_f64().unwrap() + d);
}

fn in_process(args: &[&str]) -> ExitCode {
    bench_runner::main_with_args(std::iter::once("bench-runner").chain(args.iter().copied()))
}

fn bin(root: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bench-runner"));
    if let Some(r) = root {
        c.env("BENCH_ROOT", r);
    }
    c.args(args).output().expect("bench-runner runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON on stdout ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

fn verdicts(c: &Value, variant: &str) -> Vec<(String, String)> {
    let v = c["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == variant)
        .unwrap();
    v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["metric"].as_str().unwrap().to_string(),
                m["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn identical_runs_are_unchanged_and_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", &fixture());
    assert_eq!(in_process(&["compare", s(&a), s(&a)]), ExitCode::from(0));
    let o = bin(None, &["compare", "--format", "json", s(&a), s(&a)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let c = json_of(&o);
    assert_eq!(c["regressions"], 0);
    assert_eq!(c["exit_code"], 0);
    for v in c["variants"].as_array().unwrap() {
        assert_eq!(v["verdict"], "unchanged", "{v}");
        for m in v["metrics"].as_array().unwrap() {
            assert_eq!(m["change"]["estimate"], 0.0, "{m}");
            assert_eq!(m["significant"], false, "{m}");
        }
    }
    // the baseline comes last and is context only
    let ids: Vec<&str> = c["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["baseline-aa", "lua-mock", RUST, "baseline"]);
    assert_eq!(
        c["variants"][0]["gated"], true,
        "the A/A listener is gated like a plugin"
    );
    assert_eq!(c["variants"][3]["gated"], false);
}

#[test]
fn a_shifted_variant_regresses_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &fixture());
    let mut slow = fixture();
    // +1 ms on every process's p50: far outside the fixture's process-to-process spread
    edit_pooled(&mut slow, RUST, |r| {
        add(&mut r["latency"]["latency_us"]["p50"], 1000.0)
    });
    let new = write(dir.path(), "new.json", &slow);

    assert_eq!(
        in_process(&["compare", s(&base), s(&new)]),
        ExitCode::from(1)
    );
    let o = bin(None, &["compare", "--format", "json", s(&base), s(&new)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let c = json_of(&o);
    assert_eq!(c["regressions"], 1);
    assert_eq!(
        verdicts(&c, RUST)[0],
        ("p50".to_string(), "regressed".to_string())
    );
    assert!(verdicts(&c, "lua-mock")
        .iter()
        .all(|(_, v)| v == "unchanged"));
    let p50 = &c["variants"][2]["metrics"][0];
    assert!(
        (p50["change"]["estimate"].as_f64().unwrap() - 1000.0).abs() < 1e-6,
        "{p50}"
    );
    assert!(p50["change"]["ci95_low"].as_f64().unwrap() > 0.0, "{p50}");

    // the text table says so
    let o = bin(None, &["compare", s(&base), s(&new)]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("REGRESSION: 1 figure(s) regressed (rust-v8-mock overhead p50 µs +1000.0"),
        "{out}"
    );

    // the other way round it is an improvement, and not a failure
    let o = bin(None, &["compare", "--format", "json", s(&new), s(&base)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let c = json_of(&o);
    assert_eq!(verdicts(&c, RUST)[0].1, "improved");
    assert_eq!(c["improvements"], 1);
}

#[test]
fn a_25_us_latency_regression_is_flagged() {
    // The issue that started the interleaved method: +25 µs on one variant's latency (17% of its
    // p50) passed the previous gate as `unchanged`. Here: +25 µs on rust-v8-mock's pooled p50 in every
    // process of a real quick run, against the run itself.
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &fixture());
    let mut slow = fixture();
    edit_pooled(&mut slow, RUST, |r| {
        add(&mut r["latency"]["latency_us"]["p50"], 25.0)
    });
    let new = write(dir.path(), "new.json", &slow);
    let o = bin(None, &["compare", "--format", "json", s(&base), s(&new)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let c = json_of(&o);
    assert_eq!(
        verdicts(&c, RUST)[0],
        ("p50".to_string(), "regressed".to_string())
    );
    assert!(verdicts(&c, "lua-mock")
        .iter()
        .all(|(_, v)| v == "unchanged"));
}

#[test]
fn family_wise_flags_a_clear_shift_and_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &fixture());
    let mut slow = fixture();
    edit_pooled(&mut slow, RUST, |r| {
        add(&mut r["latency"]["latency_us"]["p50"], 1000.0)
    });
    let new = write(dir.path(), "new.json", &slow);
    let args = ["compare", "--family-wise", "--format", "json"];
    let o = bin(None, &[&args[..], &[s(&base), s(&new)]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let c = json_of(&o);
    assert_eq!(c["family_wise"], true);
    assert_eq!(
        verdicts(&c, RUST)[0],
        ("p50".to_string(), "regressed".to_string())
    );
    let p50 = &c["variants"][2]["metrics"][0];
    assert!(p50["p_worse"].as_f64().unwrap() < 0.001, "{p50}");
    assert!(c["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().starts_with("family-wise: ")));
    // identical runs: nothing, exit 0
    let o = bin(None, &[&args[..], &[s(&base), s(&base)]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Processes with almost no spread, so that a moderate shift is significant and only the noise
/// threshold decides.
fn tight(shift_us: f64) -> Value {
    let mut v = fixture();
    for r in v["pooled"].as_array_mut().unwrap() {
        let process = r["process"].as_f64().unwrap();
        let level = match r["variant"].as_str().unwrap() {
            "baseline" | "baseline-aa" => 80.0,
            RUST => 90.0 + shift_us,
            _ => 85.0,
        };
        r["latency"]["latency_us"]["p50"] = Value::from(level + 0.1 * process);
        if let Some(b) = r.get_mut("paired_baseline").filter(|b| !b.is_null()) {
            b["latency_us"]["p50"] = Value::from(80.0 + 0.1 * process);
        }
    }
    v
}

#[test]
fn the_noise_threshold_is_the_second_gate() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &tight(0.0));
    let new = write(dir.path(), "new.json", &tight(8.0));
    // +8 µs, significant: above the default 2 µs, below --gross (20 µs) and an explicit 10 µs
    assert_eq!(
        in_process(&["compare", s(&base), s(&new)]),
        ExitCode::from(1)
    );
    assert_eq!(
        in_process(&["compare", "--gross", s(&base), s(&new)]),
        ExitCode::from(0)
    );
    assert_eq!(
        in_process(&["compare", "--threshold-us", "p50=10", s(&base), s(&new)]),
        ExitCode::from(0)
    );
    assert_eq!(
        in_process(&["compare", "--threshold-us", "10", s(&base), s(&new)]),
        ExitCode::from(0)
    );
    // relative: 5% of BASE's p50 (~90 µs) is 4.5 µs < 8 µs; 10% is 9 µs > 8 µs
    assert_eq!(
        in_process(&["compare", "--threshold-pct", "p50=5", s(&base), s(&new)]),
        ExitCode::from(1)
    );
    assert_eq!(
        in_process(&["compare", "--threshold-pct", "p50=10", s(&base), s(&new)]),
        ExitCode::from(0)
    );
    let o = bin(
        None,
        &["compare", "--gross", "--format", "json", s(&base), s(&new)],
    );
    let c = json_of(&o);
    assert_eq!(c["mode"], "gross");
    let p50 = &c["variants"][2]["metrics"][0];
    assert_eq!(p50["significant"], true, "{p50}");
    assert_eq!(p50["verdict"], "unchanged", "{p50}");
    assert_eq!(p50["threshold"], 20.0, "{p50}");
}

#[test]
fn markdown_is_a_table_for_a_pr_comment() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &tight(0.0));
    let new = write(dir.path(), "new.json", &tight(8.0));
    let o = bin(
        None,
        &["compare", "--format", "markdown", s(&base), s(&new)],
    );
    assert_eq!(o.status.code(), Some(1));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(
        md.starts_with("### Plugin benchmark comparison: 1 regression(s)"),
        "{md}"
    );
    assert!(
        md.contains("| variant | figure | BASE | NEW | change [95% CI] | noise | verdict |"),
        "{md}"
    );
    assert!(
        md.contains("| rust-v8-mock | overhead p50 µs | +10.0 | +18.0 | +8.0 ["),
        "{md}"
    );
    assert!(md.contains("| **regressed** |"), "{md}");
    assert!(
        md.lines()
            .filter(|l| l.starts_with("| "))
            .all(|l| l.matches(" | ").count() == 6),
        "{md}"
    );
}

#[test]
fn bad_input_exits_2_with_a_message_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.json", &fixture());

    let missing = dir.path().join("missing.json");
    let o = bin(None, &["compare", s(&good), s(&missing)]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("missing.json") && e.lines().count() == 1, "{e}");
    assert_eq!(
        in_process(&["compare", s(&missing), s(&good)]),
        ExitCode::from(2)
    );

    let mut v = fixture();
    v["schema_version"] = Value::from(999);
    let future = write(dir.path(), "future.json", &v);
    let o = bin(None, &["compare", s(&good), s(&future)]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("future.json") && e.contains("schema_version"),
        "{e}"
    );

    // a run of the previous schema (each variant in its own window, one Envoy process) is refused
    let mut v = fixture();
    v["schema_version"] = Value::from(1);
    let old = write(dir.path(), "old.json", &v);
    let o = bin(None, &["compare", s(&old), s(&good)]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("old.json") && e.contains("older") && e.contains("re-run"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");

    let mut v = fixture();
    v.as_object_mut().unwrap().remove("rounds");
    let broken = write(dir.path(), "broken.json", &v);
    let o = bin(None, &["compare", s(&broken), s(&good)]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("broken.json") && e.contains("rounds"), "{e}");

    let notjson = dir.path().join("notjson.json");
    std::fs::write(&notjson, "{ nope").unwrap();
    let o = bin(None, &["compare", s(&good), s(&notjson)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("notjson.json"), "{}", stderr(&o));

    let mut v = fixture();
    for r in v["rounds"].as_array_mut().unwrap() {
        if r["variant"] != "baseline" {
            let id = format!("other-{}", r["variant"].as_str().unwrap());
            r["variant"] = Value::from(id);
        }
    }
    for x in v["variants"].as_array_mut().unwrap() {
        if x["id"] != "baseline" {
            let id = format!("other-{}", x["id"].as_str().unwrap());
            x["id"] = Value::from(id);
        }
    }
    let other = write(dir.path(), "other.json", &v);
    let o = bin(None, &["compare", s(&good), s(&other)]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("no variant in common") && e.contains("other.json"),
        "{e}"
    );

    for args in [
        vec!["compare", s(&good)],
        vec!["compare", "--threshold-us", "rps=1", s(&good), s(&good)],
        vec!["compare", "--threshold-pct", "p50=x", s(&good), s(&good)],
        vec!["compare", "--baseline", "../up", s(&good)],
    ] {
        let o = bin(None, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o).lines().count(), 1, "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn run_folders_and_named_baselines() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("results/some-run");
    std::fs::create_dir_all(&run).unwrap();
    write(&run, "results.json", &fixture());
    std::fs::write(run.join("report.md"), "# report").unwrap();
    let project = bench_runner::paths::Project {
        root: root.path().to_path_buf(),
    };
    let saved = bench_runner::baseline::save(&project, "ci", &run).unwrap();
    assert_eq!(saved, root.path().join("results/baselines/ci"));
    assert!(saved.join("report.md").is_file());

    let o = bin(Some(root.path()), &["compare", "--baseline", "ci", s(&run)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("results/baselines/ci/results.json"));

    let mut slow = fixture();
    edit_rounds(&mut slow, "lua-mock", |r| {
        for x in r["cpu_slices_us_per_req"].as_array_mut().unwrap() {
            add(x, 500.0);
        }
    });
    let new = write(root.path(), "slow.json", &slow);
    let o = bin(
        Some(root.path()),
        &["compare", "--baseline", "ci", s(&new), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        verdicts(&json_of(&o), "lua-mock")[2],
        ("cpu".to_string(), "regressed".to_string())
    );

    let o = bin(
        Some(root.path()),
        &["compare", "--baseline", "nope", s(&run)],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("nope") && e.contains("saved: ci") && e.contains("--save-baseline"),
        "{e}"
    );
}

/// https://bencher.dev/bmf.json (the BMF JSON schema, as published by Bencher).
const BMF_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema",
  "type": "object",
  "patternProperties": {
    ".+": {
      "type": "object",
      "patternProperties": {
        ".+": {
          "type": "object",
          "properties": {
            "value": {"type": "number"},
            "lower_value": {"type": "number"},
            "upper_value": {"type": "number"}
          },
          "required": ["value"]
        }
      }
    }
  }
}"#;

/// github-action-benchmark's custom tools read an array of `BenchmarkResult`
/// (`src/extract.ts`: name, value, unit required; range, extra optional strings).
const GAB_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema",
  "type": "array",
  "minItems": 1,
  "items": {
    "type": "object",
    "properties": {
      "name": {"type": "string", "minLength": 1},
      "unit": {"type": "string", "minLength": 1},
      "value": {"type": "number"},
      "range": {"type": "string"},
      "extra": {"type": "string"}
    },
    "required": ["name", "unit", "value"],
    "additionalProperties": false
  }
}"#;

fn assert_valid(schema: &str, doc: &Value) {
    let schema: Value = serde_json::from_str(schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{doc:#}");
}

#[test]
fn bmf_export_has_the_bencher_shape() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", &fixture());
    let o = bin(None, &["export", "--format", "bmf", s(&a)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json_of(&o);
    assert_valid(BMF_SCHEMA, &doc);
    let obj = doc.as_object().unwrap();
    assert_eq!(
        obj.keys().collect::<Vec<_>>(),
        ["baseline", "baseline-aa", "lua-mock", RUST]
    );
    let rust = &doc[RUST];
    for m in [
        "latency",
        "throughput",
        "latency-p99-us",
        "cpu-us-per-req",
        "overhead-p50-us",
        "overhead-p99-us",
        "overhead-cpu-us-per-req",
    ] {
        let x = &rust[m];
        let (v, lo, hi) = (
            x["value"].as_f64().unwrap(),
            x["lower_value"].as_f64().unwrap(),
            x["upper_value"].as_f64().unwrap(),
        );
        assert!(lo <= v + 1e-9 && v <= hi + 1e-9, "{m}: {x}");
        assert!(m.len() <= 64);
    }
    assert!(doc["baseline"].get("overhead-p50-us").is_none());
    // `latency` is Bencher's built-in measure, in nanoseconds
    let f = fixture();
    let summary = f["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == RUST)
        .unwrap();
    let p50_ns = summary["latency_us"]["p50"].as_f64().unwrap() * 1000.0;
    assert!((rust["latency"]["value"].as_f64().unwrap() - p50_ns).abs() < 1e-6);
    assert_eq!(
        rust["overhead-p50-us"]["value"],
        summary["overhead"]["p50"]["estimate"]
    );
}

#[test]
fn github_action_benchmark_export_has_the_custom_tool_shape() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", &fixture());
    let out = dir.path().join("out/gab.json");
    let o = bin(
        None,
        &[
            "export",
            "--format",
            "github-action-benchmark",
            s(&a),
            "--out",
            s(&out),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_valid(GAB_SCHEMA, &doc);
    let names: Vec<&str> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"rust-v8-mock / overhead p50"), "{names:?}");
    assert!(names.contains(&"baseline / latency p50"), "{names:?}");
    assert!(!names.contains(&"baseline / overhead p50"), "{names:?}");
    assert!(names.contains(&"baseline-aa / overhead p50"), "{names:?}");
    // three plugin-like variants (the A/A listener among them) with 3 figures each, 2 x 3 absolute
    assert_eq!(names.len(), 3 * 3 + 2 * 3 + 6);
    assert!(doc[0]["range"].as_str().unwrap().starts_with("± "));

    let o = bin(
        None,
        &[
            "export",
            "--format",
            "github-action-benchmark-bigger",
            s(&a),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json_of(&o);
    assert_valid(GAB_SCHEMA, &doc);
    assert_eq!(
        doc.as_array().unwrap().len(),
        4,
        "one per variant, the A/A listener too"
    );
    assert_eq!(doc[0]["unit"], "req/s");

    let o = bin(
        None,
        &[
            "export",
            "--format",
            "bmf",
            s(&dir.path().join("nope.json")),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.json"));
}

#[test]
fn compare_draws_both_runs_into_the_charts_folder() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &fixture());
    let mut slow = fixture();
    edit_pooled(&mut slow, RUST, |r| {
        add(&mut r["latency"]["latency_us"]["p50"], 1000.0)
    });
    let new = write(dir.path(), "new.json", &slow);
    let charts = dir.path().join("charts");
    let o = bin(
        None,
        &[
            "compare",
            "--format",
            "markdown",
            "--charts",
            s(&charts),
            s(&base),
            s(&new),
        ],
    );
    // drawing changes nothing about the verdict
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for stem in ["compare-latency-mock", "compare-changes"] {
        for ext in ["svg", "png"] {
            let f = charts.join(format!("{stem}.{ext}"));
            let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "{} is missing or empty", f.display());
        }
        assert!(out.contains(&format!("[{stem}](")), "{out}");
    }
    let svg = std::fs::read_to_string(charts.join("compare-latency-mock.svg")).unwrap();
    assert!(svg.contains("rust-v8-mock · BASE") && svg.contains("rust-v8-mock · NEW"));
    let svg = std::fs::read_to_string(charts.join("compare-changes.svg")).unwrap();
    assert!(
        svg.contains("+1000.0") && svg.contains("regressed"),
        "the change bar names the shift"
    );

    // a file where the folder should be: exit 2 naming the flag
    let file = write(dir.path(), "taken", &fixture());
    let o = bin(None, &["compare", "--charts", s(&file), s(&base), s(&new)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--charts"), "{}", stderr(&o));
}
