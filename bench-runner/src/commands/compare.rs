//! `bench-runner compare`: its flags, and the glue to `compare`.

use crate::compare::{self, CompareOptions, OutputFormat};
use crate::paths::Project;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// BASE then NEW: results.json files or run folders. With --baseline give only NEW (default: results/latest).
    #[arg(value_name = "RESULTS")]
    pub runs: Vec<PathBuf>,
    /// Use results/baselines/NAME/results.json as BASE (saved by `run --save-baseline NAME`).
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Output: a text table, a Markdown table (for a PR comment) or JSON.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Noise threshold in µs: `X` sets p50, p99 and cpu; `METRIC=X` sets one (p50, p99, cpu). Comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "[METRIC=]US")]
    pub threshold_us: Vec<String>,
    /// Relative noise threshold in %: `X` sets throughput (rps); `METRIC=X` sets one, making p50/p99/cpu relative to BASE's absolute value.
    #[arg(long, value_delimiter = ',', value_name = "[METRIC=]PCT")]
    pub threshold_pct: Vec<String>,
    /// CI gate that fails only on gross regressions: wide thresholds (p50 20 µs, p99 200 µs, cpu 10 µs, rps 25%); explicit --threshold-* flags still apply on top.
    #[arg(long)]
    pub gross: bool,
    /// Kept for scripts that pass it: intervals are t intervals over processes now, nothing is resampled.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also draw the comparison into DIR: per workload the two runs' latency curves overlaid (BASE dashed, NEW solid) and every compared figure's change with its interval over the noise threshold (SVG and PNG).
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
    /// Control the chance of any false alarm over the whole comparison: the first gate becomes Holm's
    /// step-down test at 5% family-wise over every gated figure (variants x metrics), instead of each
    /// figure's own 95% interval (which, over ~50 figures, flags some figure of most identical pairs).
    #[arg(long)]
    pub family_wise: bool,
}

impl CompareArgs {
    /// The engine's options from the flags.
    pub fn options(&self) -> CompareOptions {
        CompareOptions {
            runs: self.runs.clone(),
            baseline: self.baseline.clone(),
            format: self.format,
            threshold_us: self.threshold_us.clone(),
            threshold_pct: self.threshold_pct.clone(),
            gross: self.gross,
            seed: self.seed,
            charts: self.charts.clone(),
            family_wise: self.family_wise,
        }
    }
}

/// `bench-runner compare`.
pub fn command(project: &Project, a: &CompareArgs) -> anyhow::Result<u8> {
    compare::command(project, &a.options())
}
