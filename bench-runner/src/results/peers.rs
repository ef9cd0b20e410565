//! peers.json: our load generator next to wrk and oha, per tool, connection count and round.

use crate::error::usage;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One run of one tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    pub round: usize,
    pub requests: u64,
    pub errors: u64,
    pub rps: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    /// p50 after wrk's coordinated-omission correction (wrk 4 adds, for every response slower than
    /// twice the mean per-connection interval, synthetic samples one interval apart below it, before
    /// it reports percentiles). wrk's own p50 is already this; ours is computed the same way from our
    /// raw histogram, so the two compare like with like. Null (NaN) for tools other than ours.
    #[serde(with = "crate::stats::nan_as_null")]
    pub p50_wrk_style_us: f64,
    /// The tool's own CPU time (user + system) per request.
    pub cpu_us_per_req: f64,
}

/// Medians over rounds for one tool at one connection count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub tool: String,
    pub connections: usize,
    pub p50_us: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub p50_wrk_style_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub rps: f64,
    pub cpu_us_per_req: f64,
    /// Ratios to wrk at the same connection count, paired by round, median over rounds (None without
    /// wrk).
    pub cpu_vs_wrk: Option<f64>,
    pub rps_vs_wrk: Option<f64>,
    /// p50 (wrk-style, see [`Sample::p50_wrk_style_us`]) minus wrk's p50 of the same round, µs, median
    /// over rounds.
    pub p50_minus_wrk_us: Option<f64>,
    pub errors: u64,
    pub samples: Vec<Sample>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeersReport {
    pub date: String,
    pub host: crate::results::Host,
    pub envoy: String,
    pub command: String,
    pub rounds: usize,
    pub duration_s: f64,
    pub pinned: bool,
    pub tools: Vec<ToolInfo>,
    pub not_found: Vec<String>,
    pub rows: Vec<Row>,
}

/// Reads a folder written by `bench::peers::save` (or a peers.json file).
pub fn load(path: &Path) -> anyhow::Result<PeersReport> {
    let file = if path.is_dir() {
        path.join("peers.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|e| {
        usage(format!(
            "cannot read {} ({e}); write one with `bench-runner peers --out DIR`",
            file.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| usage(format!("{} is not a peers.json ({e})", file.display())))
}
