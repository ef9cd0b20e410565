//! `compare BASE NEW`: did a run get slower than another? For every variant in both runs and for four
//! figures (overhead p50, overhead p99, overhead CPU per request at saturation, saturation throughput),
//! the change from BASE to NEW with a 95% interval, and a verdict. Layers: per-process figures
//! ([`results::units`], the same estimator `run` and `report` use) -> two-sample statistics
//! ([`crate::stats::welch_interval`], [`stats::verdict`]) -> rendering ([`render`]).
//!
//! What is compared: each run gives one figure per Envoy process (its independent unit) and variant:
//! - plugin variants: the overhead versus the baseline measured with it (latency: interleaved in the
//!   same windows; CPU: the median of slice differences within the same passes; throughput: % of the
//!   baseline's), so that a machine that is uniformly faster or slower on one day does not look like a
//!   plugin change. When the two runs' baseline CPU differs by more than their noise (its Welch
//!   interval excludes 0), the CPU overhead is compared relative to each run's baseline CPU instead
//!   (the threshold converted with BASE's baseline CPU), and a note says so;
//! - the baseline itself: its absolute figures. That row describes the machine and Envoy, not a plugin;
//!   it is shown for context and never fails the comparison.
//!
//! The interval of a change is Welch's t over the two runs' process figures (unequal variances); with
//! fewer than 2 processes on a side there is none (infinite bounds, never significant).
//! A regression needs two gates (see [`stats::verdict`]): the 95% interval of the change excludes 0, and
//! the change is larger than the metric's noise threshold. Exit status: 0 no regression, 1 at least one
//! regression, 2 bad input (missing file, schema mismatch, no common variant).

pub mod charts;
pub mod render;
pub mod reproduce;
pub mod stats;

use crate::error::usage;
use crate::paths::Project;
use crate::results::{self, Results, BASELINE};
use crate::stats::Estimate;
use serde::Serialize;
use stats::{Direction, Verdict};
use std::path::{Path, PathBuf};
mod compute;
pub use compute::compare;

/// What `compare` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// BASE then NEW: results.json files or run folders. With --baseline give only NEW (default: results/latest).
    pub runs: Vec<PathBuf>,
    /// Use results/baselines/NAME/results.json as BASE (saved by `run --save-baseline NAME`).
    pub baseline: Option<String>,
    /// Output: a text table, a Markdown table (for a PR comment) or JSON.
    pub format: OutputFormat,
    /// Noise threshold in µs: `X` sets p50, p99 and cpu; `METRIC=X` sets one (p50, p99, cpu). Comma-separated or repeated.
    pub threshold_us: Vec<String>,
    /// Relative noise threshold in %: `X` sets throughput (rps); `METRIC=X` sets one, making p50/p99/cpu relative to BASE's absolute value.
    pub threshold_pct: Vec<String>,
    /// CI gate that fails only on gross regressions: wide thresholds (p50 20 µs, p99 200 µs, cpu 10 µs, rps 25%); explicit --threshold-* flags still apply on top.
    pub gross: bool,
    /// Kept for scripts that pass it: intervals are t intervals over processes now, nothing is resampled.
    pub seed: u64,
    /// Also draw the comparison into this folder (SVG and PNG).
    pub charts: Option<PathBuf>,
    /// Holm's family-wise first gate over every gated figure.
    pub family_wise: bool,
}

/// One output format for every command that prints results (`run`, `report`, `compare`).
pub use crate::report::answer::OutputFormat;

/// The compared figures: four timed ones, and the instructions per request counted under callgrind
/// (compared exactly, against a relative threshold, not with an interval over noise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P99,
    Cpu,
    Rps,
    Instructions,
}

impl Metric {
    /// The timed figures (per-process figures from the rounds, Welch intervals).
    pub const ALL: [Metric; 4] = [Metric::P50, Metric::P99, Metric::Cpu, Metric::Rps];

    /// The name used in `--threshold-us`/`--threshold-pct`.
    pub fn key(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::Cpu => "cpu",
            Metric::Rps => "rps",
            Metric::Instructions => "instructions",
        }
    }

    fn parse_key(s: &str) -> Option<Metric> {
        match s.trim().to_ascii_lowercase().as_str() {
            "p50" => Some(Metric::P50),
            "p99" => Some(Metric::P99),
            "cpu" | "cpu_us_per_req" => Some(Metric::Cpu),
            "rps" | "throughput" => Some(Metric::Rps),
            "instructions" | "instr" => Some(Metric::Instructions),
            _ => None,
        }
    }

    pub fn direction(self) -> Direction {
        match self {
            Metric::Rps => Direction::HigherIsBetter,
            _ => Direction::LowerIsBetter,
        }
    }

    /// What the per-process figure is: overhead versus the baseline measured with it, or (for the baseline
    /// row, `reference`) the absolute figure. Units are in the names.
    pub fn quantity(self, reference: bool) -> &'static str {
        match (self, reference) {
            (Metric::P50, false) => "overhead_p50_us",
            (Metric::P99, false) => "overhead_p99_us",
            (Metric::Cpu, false) => "overhead_cpu_us_per_req",
            (Metric::Rps, false) => "rps_pct_of_baseline",
            (Metric::P50, true) => "latency_p50_us",
            (Metric::P99, true) => "latency_p99_us",
            (Metric::Cpu, true) => "cpu_us_per_req",
            (Metric::Rps, true) => "rps",
            (Metric::Instructions, false) => "added_instructions_per_request",
            (Metric::Instructions, true) => "instructions_per_request",
        }
    }

    /// Human label of [`Metric::quantity`].
    pub fn label(self, reference: bool) -> &'static str {
        match (self, reference) {
            (Metric::P50, false) => "overhead p50 µs",
            (Metric::P99, false) => "overhead p99 µs",
            (Metric::Cpu, false) => "overhead CPU µs/req",
            (Metric::Rps, false) => "throughput % of baseline",
            (Metric::P50, true) => "p50 µs",
            (Metric::P99, true) => "p99 µs",
            (Metric::Cpu, true) => "CPU µs/req",
            (Metric::Rps, true) => "throughput req/s",
            (Metric::Instructions, false) => "added instructions/req",
            (Metric::Instructions, true) => "instructions/req",
        }
    }

    /// The figure per Envoy process of `id` (see [`results::units`]): for a plugin variant its overhead
    /// versus the baseline (`relative`: CPU as % of the baseline's CPU), for the baseline its
    /// absolute figure.
    pub fn per_unit(self, u: &results::Units, reference: bool, relative: bool) -> Vec<f64> {
        match (self, reference) {
            (Metric::P50, false) => u.p50.clone(),
            (Metric::P99, false) => u.p99.clone(),
            (Metric::Cpu, false) if relative => u.cpu_pct.clone(),
            (Metric::Cpu, false) => u.cpu.clone(),
            (Metric::Rps, false) => u.rps_pct.clone(),
            (Metric::P50, true) => u.abs_p50.clone(),
            (Metric::P99, true) => u.abs_p99.clone(),
            (Metric::Cpu, true) => u.abs_cpu.clone(),
            (Metric::Rps, true) => u.abs_rps.clone(),
            (Metric::Instructions, _) => vec![],
        }
    }

    /// The variant's own absolute figure per process (what a relative threshold is a share of).
    fn absolute(self, u: &results::Units) -> Vec<f64> {
        match self {
            Metric::P50 => u.abs_p50.clone(),
            Metric::P99 => u.abs_p99.clone(),
            Metric::Cpu => u.abs_cpu.clone(),
            Metric::Rps => u.abs_rps.clone(),
            Metric::Instructions => vec![],
        }
    }
}

/// The per-process figures of `id` in one run.
pub fn units_of(r: &Results, id: &str) -> results::Units {
    results::units(&r.rounds, &r.pooled, id)
}

/// A noise threshold: absolute (µs) or relative (% of BASE's absolute figure; for throughput, of the
/// throughput itself).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Threshold {
    Us(f64),
    Pct(f64),
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threshold::Us(x) => write!(f, "{x} µs"),
            Threshold::Pct(x) => write!(f, "{x}%"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    pub p50: Threshold,
    pub p99: Threshold,
    pub cpu: Threshold,
    pub rps: Threshold,
    /// Always relative: the change of the added instructions per request as % of BASE's
    /// instructions per request of that listener (the whole request through Envoy's worker).
    pub instructions: Threshold,
}

/// Default noise thresholds, chosen from first observations on a 2-core shared machine (p50 and CPU
/// overheads must resolve a few µs: a plugin adds 3-10 µs; p99 moves by tens of µs between identical
/// runs, saturation throughput by several %) and then checked, unchanged, by
/// `bench-runner/scripts/detector.sh`: false alarms over 20 pairs of identical quick runs, detection of
/// a `spin`-injected +2 and +5 µs (the detector table of docs/regressions.md,
/// `results/measurements/detector-20261126/`).
pub const DEFAULT_THRESHOLDS: Thresholds = Thresholds {
    p50: Threshold::Us(2.0),
    p99: Threshold::Us(25.0),
    cpu: Threshold::Us(2.0),
    rps: Threshold::Pct(5.0),
    instructions: Threshold::Pct(INSTRUCTIONS_PCT),
};

/// The default threshold of the instruction counts, % of the listener's instructions per request:
/// above the largest spread between two Envoy processes counting the same listener measured so far,
/// 0.3% of the request on a machine with a load average of 10-25 (within one process on a quieter
/// machine, windows agreed to 0.07%; `results/measurements/instructions-20261206`), and far below
/// what a +2 µs change adds (several % of a mock request).
pub const INSTRUCTIONS_PCT: f64 = 0.5;

/// `--gross`: for CI on shared runners, fail only when a change is far outside any noise seen between
/// identical runs (a plugin that doubles its cost, an accidental debug build): several times the
/// widest change between identical quick runs in the detector measurement. Equivalent flags:
/// `--threshold-us p50=20,p99=200,cpu=10 --threshold-pct rps=25`.
pub const GROSS_THRESHOLDS: Thresholds = Thresholds {
    p50: Threshold::Us(20.0),
    p99: Threshold::Us(200.0),
    cpu: Threshold::Us(10.0),
    rps: Threshold::Pct(25.0),
    instructions: Threshold::Pct(INSTRUCTIONS_PCT),
};

impl Thresholds {
    pub fn get(&self, m: Metric) -> Threshold {
        match m {
            Metric::P50 => self.p50,
            Metric::P99 => self.p99,
            Metric::Cpu => self.cpu,
            Metric::Rps => self.rps,
            Metric::Instructions => self.instructions,
        }
    }

    fn set(&mut self, m: Metric, t: Threshold) {
        match m {
            Metric::P50 => self.p50 = t,
            Metric::P99 => self.p99 = t,
            Metric::Cpu => self.cpu = t,
            Metric::Rps => self.rps = t,
            Metric::Instructions => self.instructions = t,
        }
    }

    /// Builds thresholds from the flags: start from the defaults (or `--gross`), then apply
    /// `--threshold-us` (bare value: p50, p99, cpu) and `--threshold-pct` (bare value: rps).
    pub fn from_flags(us: &[String], pct: &[String], gross: bool) -> anyhow::Result<Thresholds> {
        let mut t = if gross {
            GROSS_THRESHOLDS
        } else {
            DEFAULT_THRESHOLDS
        };
        let mut named_us: Vec<Metric> = Vec::new();
        for item in us {
            let (metrics, x) = parse_item(
                "--threshold-us",
                item,
                &[Metric::P50, Metric::P99, Metric::Cpu],
            )?;
            for m in metrics {
                if m == Metric::Rps || m == Metric::Instructions {
                    return Err(usage(format!(
                        "--threshold-us `{item}`: {} compared in %; use --threshold-pct {}=X",
                        if m == Metric::Rps {
                            "throughput is"
                        } else {
                            "instructions are"
                        },
                        m.key()
                    )));
                }
                named_us.push(m);
                t.set(m, Threshold::Us(x));
            }
        }
        for item in pct {
            let (metrics, x) = parse_item("--threshold-pct", item, &[Metric::Rps])?;
            for m in metrics {
                if named_us.contains(&m) {
                    return Err(usage(format!(
                        "metric `{}` has both --threshold-us and --threshold-pct; give one of them",
                        m.key()
                    )));
                }
                t.set(m, Threshold::Pct(x));
            }
        }
        Ok(t)
    }
}

/// `X` (applies to `bare`) or `METRIC=X`; X finite and >= 0.
fn parse_item(flag: &str, item: &str, bare: &[Metric]) -> anyhow::Result<(Vec<Metric>, f64)> {
    let (metrics, value) = match item.split_once('=') {
        Some((k, v)) => {
            let m = Metric::parse_key(k).ok_or_else(|| {
                usage(format!(
                    "{flag} `{item}`: unknown metric `{}`; use p50, p99, cpu, rps or instructions",
                    k.trim()
                ))
            })?;
            (vec![m], v)
        }
        None => (bare.to_vec(), item),
    };
    match value.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok((metrics, x)),
        _ => Err(usage(format!(
            "{flag} `{item}`: `{}` is not a number >= 0",
            value.trim()
        ))),
    }
}

/// Settings of one comparison.
#[derive(Debug, Clone)]
pub struct Options {
    pub thresholds: Thresholds,
    /// "default", "gross", "custom" (threshold flags given) or "gross+custom".
    pub mode: String,
    pub seed: u64,
    /// Holm over all gated figures instead of each figure's own interval (see [`compute::family_wise`]).
    pub family_wise: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            thresholds: DEFAULT_THRESHOLDS,
            mode: "default".into(),
            seed: 1,
            family_wise: false,
        }
    }
}

/// Which run a side of the comparison is.
#[derive(Debug, Clone, Serialize)]
pub struct RunRef {
    pub path: String,
    pub started_at: String,
    pub status: String,
    pub profile: String,
    pub rounds: usize,
    pub envoy_version: String,
    pub cpu_model: String,
}

impl RunRef {
    fn of(r: &Results, path: &str) -> RunRef {
        let mut rounds: Vec<usize> = r.rounds.iter().map(|x| x.round).collect();
        rounds.sort_unstable();
        rounds.dedup();
        RunRef {
            path: path.to_string(),
            started_at: r.started_at.clone(),
            status: r.status.clone(),
            profile: r.profile.name.clone(),
            rounds: rounds.len(),
            envoy_version: r.envoy.version.clone(),
            cpu_model: r.host.cpu_model.clone(),
        }
    }
}

/// One figure of one variant, BASE versus NEW.
#[derive(Debug, Clone, Serialize)]
pub struct MetricChange {
    pub metric: Metric,
    /// What the per-round figures are (unit in the name).
    pub quantity: &'static str,
    /// Medians over rounds of each run's per-round figures.
    pub base: f64,
    pub new: f64,
    /// NEW - BASE in µs, or the relative change in % for throughput, with its 95% interval (null bounds:
    /// fewer than 2 rounds on a side, no interval).
    pub change: Estimate,
    /// "us" or "pct": the unit of `change` and `threshold`.
    pub change_unit: &'static str,
    /// The noise threshold in `change_unit`, as applied.
    pub threshold: f64,
    /// The threshold as set (a relative one is converted with BASE's absolute figure).
    pub threshold_setting: Threshold,
    pub rounds_base: usize,
    pub rounds_new: usize,
    /// The interval excludes 0.
    pub significant: bool,
    /// One-sided p-value (Welch's t) of the change being in the worse direction (an increase for
    /// latency and CPU, a decrease for throughput); null with fewer than 2 processes on a side.
    #[serde(with = "crate::stats::nan_as_null")]
    pub p_worse: f64,
    /// The same for the better direction.
    #[serde(with = "crate::stats::nan_as_null")]
    pub p_better: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantComparison {
    pub id: String,
    /// False for the baseline: its row is context and never fails the comparison.
    pub gated: bool,
    /// Regressed if any figure regressed, else improved if any improved.
    pub verdict: Verdict,
    /// The Wasm module differs between the runs (sha256); null when there is no module.
    pub module_changed: Option<bool>,
    pub metrics: Vec<MetricChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base: RunRef,
    pub new: RunRef,
    pub mode: String,
    pub thresholds: Thresholds,
    /// The first gate is Holm's family-wise test over every gated figure (`--family-wise`) instead of
    /// each figure's own 95% interval.
    pub family_wise: bool,
    pub seed: u64,
    pub variants: Vec<VariantComparison>,
    pub only_in_base: Vec<String>,
    pub only_in_new: Vec<String>,
    pub notes: Vec<String>,
    /// Gated figures that regressed / improved.
    pub regressions: usize,
    pub improvements: usize,
    /// 0: no regression, 1: at least one regression.
    pub exit_code: u8,
}

/// BASE and NEW paths from the arguments.
fn resolve(project: &Project, a: &CompareOptions) -> anyhow::Result<(PathBuf, PathBuf)> {
    match (&a.baseline, a.runs.as_slice()) {
        (Some(name), [new]) => Ok((crate::baseline::results_path(project, name)?, new.clone())),
        (Some(name), []) => {
            let latest = project.results_dir().join("latest");
            if !latest.exists() {
                return Err(usage(format!(
                    "compare --baseline {name}: give NEW (a results.json or run folder); {} does not exist",
                    latest.display()
                )));
            }
            Ok((crate::baseline::results_path(project, name)?, latest))
        }
        (Some(_), _) => Err(usage("compare --baseline NAME takes one more argument, NEW (a results.json or run folder)")),
        (None, [base, new]) => Ok((base.clone(), new.clone())),
        (None, _) => Err(usage(
            "compare takes BASE and NEW (results.json files or run folders), or --baseline NAME [NEW]",
        )),
    }
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// `bench-runner compare`: prints the table; Ok(1) when a regression was found.
pub fn command(project: &Project, a: &CompareOptions) -> anyhow::Result<u8> {
    let thresholds = Thresholds::from_flags(&a.threshold_us, &a.threshold_pct, a.gross)?;
    let custom = !a.threshold_us.is_empty() || !a.threshold_pct.is_empty();
    let mode = match (a.gross, custom) {
        (false, false) => "default",
        (true, false) => "gross",
        (false, true) => "custom",
        (true, true) => "gross+custom",
    };
    let (base_path, new_path) = resolve(project, a)?;
    let base = Results::read(&base_path)?;
    let new = Results::read(&new_path)?;
    let opts = Options {
        thresholds,
        mode: mode.into(),
        seed: a.seed,
        family_wise: a.family_wise,
    };
    let c = compare(&base, &new, &shown(&base_path), &shown(&new_path), &opts)?;
    let drawn = match &a.charts {
        Some(dir) => charts::write(dir, &base, &new, &c)?,
        None => vec![],
    };
    match a.format {
        OutputFormat::Text => print!("{}", render::text(&c)),
        OutputFormat::Markdown => print!("{}", render::markdown(&c)),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&c)?),
    }
    if !drawn.is_empty() {
        match a.format {
            OutputFormat::Markdown => print!("{}", charts::markdown_links(&drawn)),
            // JSON stays one document on stdout; the files are named on stderr
            _ => eprintln!(
                "charts: {}",
                drawn
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(c.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn threshold_flags() {
        let t = Thresholds::from_flags(&[], &[], false).unwrap();
        assert_eq!(t, DEFAULT_THRESHOLDS);
        let t = Thresholds::from_flags(&[], &[], true).unwrap();
        assert_eq!(t, GROSS_THRESHOLDS);
        let t = Thresholds::from_flags(&items(&["4"]), &items(&["7"]), false).unwrap();
        assert_eq!(
            (t.p50, t.p99, t.cpu, t.rps),
            (
                Threshold::Us(4.0),
                Threshold::Us(4.0),
                Threshold::Us(4.0),
                Threshold::Pct(7.0)
            )
        );
        let t = Thresholds::from_flags(&items(&["p99=50"]), &items(&["p50=3"]), true).unwrap();
        assert_eq!(
            (t.p50, t.p99, t.cpu),
            (
                Threshold::Pct(3.0),
                Threshold::Us(50.0),
                GROSS_THRESHOLDS.cpu
            )
        );
        for (us, pct) in [
            (vec!["rps=3"], vec![]),
            (vec!["p50=1"], vec!["p50=2"]),
            (vec!["x=1"], vec![]),
            (vec!["-1"], vec![]),
            (vec![], vec!["abc"]),
        ] {
            let e = Thresholds::from_flags(&items(&us), &items(&pct), false).unwrap_err();
            assert_eq!(crate::error::exit_code_of(&e), 2, "{e}");
            assert!(e.to_string().contains("--threshold"), "{e}");
        }
    }
}
