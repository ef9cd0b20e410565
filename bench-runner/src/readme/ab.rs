//! The README regions of `ab`: its benchmarks (a folder from `bench-runner/scripts/ab-benchmarks.sh`:
//! every run's ab.json, counted here) and the Envoy upgrade (an `ab --base-envoy/--new-envoy` folder:
//! its verdict table, re-derived from its ab.json).

use crate::error::usage;
use crate::paths::Project;
use crate::results::ab::{AbRun, Comparison, REGRESSED};
use crate::results::human_s;
use std::fmt::Write;
use std::path::Path;

/// Every complete ab.json under `dir/<kind>/*/`, re-derived, in folder order (a run still in
/// progress, `NN.tmp/`, is not counted).
fn runs(dir: &Path, kind: &str) -> anyhow::Result<Vec<AbRun>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir.join(kind))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("ab.json"))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let mut r = AbRun::load(p)?;
            crate::results::ab::derive(&mut r);
            Ok(r)
        })
        .filter(|r: &anyhow::Result<AbRun>| r.as_ref().map_or(true, |r| r.status == "complete"))
        .collect()
}

/// The time figures the gate reads (p50 and CPU at saturation, an ext_proc processor's CPU).
const TIME_METRICS: [&str; 3] = ["p50_us", "cpu_us_per_req", "processor_cpu_us_per_req"];

/// Runs in which some comparison's time figure (p50 or CPU) was significantly worse (one-sided
/// p < 0.05), whether or not its change passed the noise threshold.
fn count_significant_time(runs: &[AbRun]) -> usize {
    runs.iter()
        .filter(|r| {
            r.comparisons.iter().any(|c| {
                c.metrics
                    .iter()
                    .any(|m| TIME_METRICS.contains(&m.metric.as_str()) && m.p_worse < 0.05)
            })
        })
        .count()
}

/// Runs in which some comparison's figure among `keys` regressed.
fn count_any(runs: &[AbRun], keys: &[&str]) -> usize {
    runs.iter()
        .filter(|r| {
            r.comparisons
                .iter()
                .any(|c| keys.iter().any(|key| metric_regressed(c, key)))
        })
        .count()
}

fn metric_regressed(c: &Comparison, key: &str) -> bool {
    c.metrics
        .iter()
        .any(|m| m.metric == key && m.verdict == REGRESSED)
}

fn instructions_cell(runs: &[AbRun]) -> String {
    let counted = runs
        .iter()
        .filter(|r| r.instructions.status == "counted")
        .count();
    if counted == 0 {
        "not counted".into()
    } else {
        format!(
            "{} of {counted} counted",
            count_any(runs, &["instructions_per_req"])
        )
    }
}

fn wall(runs: &[AbRun]) -> String {
    let mut w: Vec<f64> = runs.iter().map(AbRun::wall_s).collect();
    if w.is_empty() {
        return "-".into();
    }
    w.sort_by(f64::total_cmp);
    format!(
        "{} [{}, {}]",
        human_s(crate::stats::median(&w)),
        human_s(w[0]),
        human_s(w[w.len() - 1])
    )
}

/// The benchmarks' table, from every saved run of `dir`.
pub fn benchmarks_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let kinds = [
        (
            "identical",
            "identical builds of every implementation, measured anyway (`--base HEAD --measure-identical`, quick)",
            "false alarms",
        ),
        (
            "spin2",
            "the Rust plugin spinning 1000 rounds per request (about +2 µs) against its unchanged base (`--only rust`, quick)",
            "detected",
        ),
        (
            "one",
            "one implementation changed (the Rust plugin, quick)",
            "flagged",
        ),
    ];
    let mut rows = String::new();
    let mut first: Option<AbRun> = None;
    let mut total = 0;
    for (kind, what, flagged) in kinds {
        let rs = runs(dir, kind)?;
        if rs.is_empty() {
            continue;
        }
        total += rs.len();
        let regressed = rs.iter().filter(|r| r.regressed()).count();
        let _ = writeln!(
            rows,
            "| {what} | {} | {regressed} of {} ({flagged}) | {} | {} | {} | {} | {} | {} |",
            rs.len(),
            rs.len(),
            count_any(&rs, &["p50_us"]),
            count_any(&rs, &TIME_METRICS[1..]),
            count_any(&rs, &TIME_METRICS),
            count_significant_time(&rs),
            instructions_cell(&rs),
            wall(&rs)
        );
        first.get_or_insert_with(|| rs[0].clone());
    }
    let Some(f) = first else {
        return Err(usage(format!(
            "--ab-benchmarks: {} holds no ab runs (identical/NN/ab.json, spin2/NN/ab.json); make them with bench-runner/scripts/ab-benchmarks.sh",
            dir.display()
        )));
    };
    let rel = project.rel(dir);
    Ok(format!(
        "Measured with `bench-runner/scripts/ab-benchmarks.sh {rel}` ({total} runs; the first started {}, on {} with {} cores). A run is flagged when its exit status would be 1 (some gated figure regressed: significantly worse **and** by more than its noise threshold, 2 µs for p50 and CPU, 0.5% for instructions); the metric columns count the runs in which that figure regressed; \"by time\" counts the runs flagged by p50 or CPU, \"time significant\" those in which p50 or CPU was significantly worse (one-sided p < 0.05 per figure) whatever the size of the change. Every run: `{rel}/<benchmark>/NN/ab.json` and its report.md.\n\n| benchmark | runs | flagged | by added p50 | by CPU | by time (p50 or CPU) | time significant | by instructions | wall time per run, median [min, max] |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n{rows}",
        f.started_at, f.host.cpu_model, f.host.cores
    ))
}

/// The verdict table of an Envoy comparison (`ab --base-envoy A --new-envoy B`).
pub fn envoy_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let mut run =
        AbRun::load(&dir.join("ab.json")).map_err(|e| usage(format!("--ab-envoy: {e:#}")))?;
    crate::results::ab::derive(&mut run);
    if run.mode != crate::results::ab::MODE_ENVOY {
        return Err(usage(format!(
            "--ab-envoy: {} is an ab run of two plugin builds; give the folder of `ab --base-envoy A --new-envoy B`",
            dir.display()
        )));
    }
    let rel = project.rel(dir);
    let md = crate::report::ab::markdown(&run, &[]);
    let table: String = md
        .split("\n## Verdicts\n")
        .nth(1)
        .and_then(|t| t.split("\n## ").next())
        .unwrap_or("")
        .trim()
        .to_string();
    Ok(format!(
        "`ab --base-envoy {} --new-envoy {}` (profile `{}`, {} Envoy processes alternating, started {}, status {}, on {} with {} cores): each variant's cost against the no-plugin listener of its own process, new Envoy minus old (the baseline row: Envoy's own figures). Report: [`{rel}/report.md`]({rel}/report.md); raw data: [`{rel}/ab.json`]({rel}/ab.json).\n\n{table}",
        run.base.envoy.version,
        run.new.envoy.version,
        run.profile.name,
        run.profile.processes,
        run.started_at,
        run.status,
        run.host.cpu_model,
        run.host.cores
    ))
}
