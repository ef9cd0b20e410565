//! `report` from saved data only: a real quick run (baseline, baseline-aa and rust-v8-mock, 2 rounds
//! over 2 Envoy processes, `run --profile quick --only rust --rounds 2`) renders report.md, a self-contained report.html and every chart as SVG and PNG.
//! No Envoy, no timings.

use bench_runner::report::curves;
use bench_runner::results::Results;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const FIXTURE: &str = include_str!("fixtures/report-quick.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn write_run(dir: &Path, v: &Value) -> PathBuf {
    let p = dir.join("results.json");
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

fn report(path: &Path) -> ExitCode {
    bench_runner::main_with_args(["bench-runner", "report", path.to_str().unwrap()])
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    let p = dir.join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{} missing: {e}", p.display()));
    assert!(!bytes.is_empty(), "{} is empty", p.display());
    bytes
}

const CHARTS: [&str; 4] = [
    "chart-latency-mock",
    "chart-overhead",
    "chart-cpu",
    "chart-throughput",
];

/// The fixture's in-process section has one chart per engine (wasmi, Cranelift, Winch).
const MICRO_CHARTS: usize = 3;

#[test]
fn report_renders_every_file_from_a_saved_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_run(dir.path(), &fixture());
    assert_eq!(report(&path), ExitCode::SUCCESS);
    for stem in CHARTS {
        let svg = String::from_utf8(read(dir.path(), &format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{stem}.svg is an SVG document"
        );
        assert!(svg.contains("<text"), "{stem}.svg has text");
        let png = read(dir.path(), &format!("{stem}.png"));
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png is a PNG");
        assert!(png.len() > 5000, "{stem}.png has content");
    }
    let md = String::from_utf8(read(dir.path(), "report.md")).unwrap();
    assert!(md.contains("article's claim"));
    assert!(md.contains("| rust-v8-mock |"));
    assert!(md.contains("[chart-overhead.svg](chart-overhead.svg)"));
    assert!(md.contains("[chart-latency-mock.png](chart-latency-mock.png)"));
    // Rust's figure in the article is 0.21 ms, beside our rust row.
    let rust_row = md
        .lines()
        .find(|l| l.starts_with("| rust-v8-mock |"))
        .unwrap();
    assert!(rust_row.contains("| 210 |"), "{rust_row}");
}

#[test]
fn html_is_self_contained_and_holds_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_run(dir.path(), &fixture());
    assert_eq!(report(&path), ExitCode::SUCCESS);
    let html = String::from_utf8(read(dir.path(), "report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<table class=\"overhead\" id=\"overhead-table\">"));
    assert!(html.contains("<table class=\"article\" id=\"article-table\">"));
    for id in ["baseline", "baseline-aa", "rust-v8-mock"] {
        assert!(html.contains(&format!("<code>{id}</code>")), "{id} row");
    }
    // The overhead with its interval, as results.json has it (+16.8 [+5.4, +28.2]).
    assert!(
        html.contains("+16.8 <span class=\"ci\">[+5.4, +28.2]</span>"),
        "p50 overhead cell"
    );
    // Both CPU regimes, named, and the run's health with the A/A check.
    assert!(html.contains("CPU µs/req, fixed rate") && html.contains("CPU µs/req, saturation"));
    assert!(html.contains("id=\"health\"") && html.contains("A/A check"));
    // The article's claim for Rust, labelled as theirs.
    assert!(html.contains(">210</td>"));
    assert!(html.contains("article's claim"));
    // Charts inline, one per chart file, and nothing loaded from elsewhere.
    // (plus the in-process section's chart per engine)
    assert_eq!(html.matches("<svg").count(), CHARTS.len() + MICRO_CHARTS);
    for bad in ["<link", "<script", "src=\"http", "url(http", "@import"] {
        assert!(!html.contains(bad), "external asset: {bad}");
    }
    // Skipped variants and the run's conditions.
    assert!(html.contains("rust-wamr-mock"));
    assert!(html.contains("1.40.0"));
    assert!(html.contains("Envoy on CPU 0, load generator on CPU 1"));
    assert!(
        html.contains("1fed4f01c0ce093aa00d46cf641c49c57bf0dec06df97a0868e8dd12b3ad043a"),
        "full module hash"
    );
}

#[test]
fn extra_fields_and_a_second_workload_render_too() {
    let mut v = fixture();
    // Fields a later runner may add are ignored by the report.
    v["some_future_section"] = serde_json::json!({"anything": [1, 2, 3]});
    let rust = v["variants"]
        .as_array()
        .unwrap()
        .iter()
        .position(|x| x["id"] == "rust-v8-mock")
        .unwrap();
    v["variants"][rust]["some_future_figure"] = Value::from(1.5);
    // A `headers` variant made from rust-v8-mock's rounds (a second latency chart, a group line).
    let mut headers = v["variants"][rust].clone();
    headers["id"] = Value::from("rust-v8-headers");
    headers["workload"] = Value::from("headers");
    v["variants"].as_array_mut().unwrap().push(headers);
    let extra: Vec<Value> = v["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["variant"] == "rust-v8-mock")
        .map(|r| {
            let mut r = r.clone();
            r["variant"] = Value::from("rust-v8-headers");
            r
        })
        .collect();
    v["rounds"].as_array_mut().unwrap().extend(extra);
    v["profile"]["workloads"] = serde_json::json!(["mock", "headers"]);
    let dir = tempfile::tempdir().unwrap();
    let path = write_run(dir.path(), &v);
    assert_eq!(report(&path), ExitCode::SUCCESS);
    read(dir.path(), "chart-latency-headers.svg");
    read(dir.path(), "chart-latency-headers.png");
    let html = String::from_utf8(read(dir.path(), "report.html")).unwrap();
    assert!(html.contains("ours, <code>headers</code>"));
    assert_eq!(
        html.matches("<svg").count(),
        CHARTS.len() + MICRO_CHARTS + 1
    );
}

#[test]
fn a_run_without_overheads_still_renders() {
    // Only the baseline (e.g. every plugin skipped): no overhead chart, but everything else.
    let mut v = fixture();
    v["variants"]
        .as_array_mut()
        .unwrap()
        .retain(|x| x["id"] == "baseline");
    v["rounds"]
        .as_array_mut()
        .unwrap()
        .retain(|x| x["variant"] == "baseline");
    let dir = tempfile::tempdir().unwrap();
    let path = write_run(dir.path(), &v);
    assert_eq!(report(&path), ExitCode::SUCCESS);
    read(dir.path(), "report.html");
    read(dir.path(), "chart-latency-baseline.png");
    read(dir.path(), "chart-cpu.svg");
    assert!(!dir.path().join("chart-overhead.svg").exists());
}

#[test]
fn saved_percentile_curves_are_per_quantile_medians_over_rounds() {
    let r: Results = serde_json::from_str(FIXTURE).unwrap();
    for id in ["baseline", "baseline-aa", "rust-v8-mock"] {
        let curve = curves::variant_curve(&r.rounds, id);
        let rounds: Vec<_> = r.rounds.iter().filter(|x| x.variant == id).collect();
        assert_eq!(rounds.len(), 2);
        assert_eq!(curve.len(), rounds[0].latency.curve_us.len());
        for (i, &(q, us)) in curve.iter().enumerate() {
            let a = rounds[0].latency.curve_us[i];
            let b = rounds[1].latency.curve_us[i];
            assert_eq!(q, a.0);
            // Two rounds: the median is their midpoint (raised only if that broke monotonicity).
            assert!(us >= (a.1 + b.1) / 2.0 - 1e-9, "{id} q={q}");
        }
        assert!(
            curve
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "{id} monotone"
        );
        let hdr = curves::to_hdr_points(&curve);
        assert!(
            hdr.windows(2).all(|w| w[0].0 < w[1].0),
            "HDR axis keeps the order"
        );
        assert_eq!(
            hdr.len(),
            curve.len() - 1,
            "the maximum (q = 1) is not on the HDR axis"
        );
    }
}

/// A lifecycle folder re-renders from its lifecycle.json alone: the committed measurement's
/// report.md comes back byte for byte, with both charts; a damaged file is refused with exit 2.
#[test]
fn a_lifecycle_folder_is_re_rendered_from_its_json() {
    let saved =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/measurements/lifecycle-20261201");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        saved.join("lifecycle.json"),
        dir.path().join("lifecycle.json"),
    )
    .unwrap();
    assert_eq!(report(dir.path()), ExitCode::from(0));
    assert_eq!(read(dir.path(), "report.md"), read(&saved, "report.md"));
    for chart in ["chart-lifecycle", "chart-lifecycle-rss"] {
        read(dir.path(), &format!("{chart}.svg"));
        read(dir.path(), &format!("{chart}.png"));
    }
    std::fs::write(dir.path().join("lifecycle.json"), "{\"lifecycle\": 1}").unwrap();
    assert_eq!(
        report(&dir.path().join("lifecycle.json")),
        ExitCode::from(2)
    );
}
