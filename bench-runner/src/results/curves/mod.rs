//! `curves.json` of a `curves` run: per implementation, the overhead at each point of the work
//! (request headers added/read/removed, request body bytes buffered), every point measured by the run
//! engine (its saved rounds in `groups`), and a line fitted per implementation, axis and figure.
//! Documented field by field in `results/curves.schema.json`.

mod derive;
pub mod fit;
pub use derive::{body_id, derive, header_id};

use crate::results::{EnvoyInfo, Host, Profile, Results, RunnerBuild, Skipped};
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};

pub const CURVES_SCHEMA_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurvesRun {
    pub schema_version: u32,
    pub suite_version: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// running, complete, interrupted or failed.
    pub status: String,
    pub host: Host,
    pub envoy: EnvoyInfo,
    pub runner: RunnerBuild,
    /// The engine's settings every group was measured with (processes, windows, CPU slices).
    pub profile: Profile,
    /// The Wasm runtime the Wasm implementations ran on.
    pub wasm_runtime: String,
    pub plan: CurvesPlan,
    pub plugins: Vec<PluginHash>,
    /// The measured groups: one engine run per request body size, with its own baseline receiving
    /// that body; its `results` hold every raw round the points come from.
    pub groups: Vec<Group>,
    /// Derived from `groups` (recomputed by `report`): one per implementation and point.
    pub points: Vec<Point>,
    /// Derived from `points`' per-process figures: one per implementation, axis and figure.
    pub fits: Vec<Fit>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvesPlan {
    pub implementations: Vec<String>,
    /// `header_count` of the headers-mode points.
    pub headers: Vec<usize>,
    /// Request body sizes of the body-mode points, bytes.
    pub body_bytes: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginHash {
    pub name: String,
    pub language: String,
    pub kind: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    /// The body every listener of this group (the baseline's too) was sent, bytes.
    pub body_bytes: usize,
    pub results: Results,
}

/// The three overheads of a point, µs, each the mean over Envoy processes with Student's t.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PointFigures {
    pub cpu_us_per_req: Estimate,
    pub fixed_cpu_us_per_req: Estimate,
    pub p50_us: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub implementation: String,
    /// `headers` or `body`.
    pub axis: String,
    /// Headers: the header count; body: KiB (bytes / 1024).
    pub x: f64,
    pub header_count: Option<usize>,
    pub body_bytes: usize,
    /// The variant id inside its group's results.
    pub variant: String,
    pub group: usize,
    pub overhead: PointFigures,
    /// Envoy processes the figures are over.
    pub units: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Residual {
    pub x: f64,
    /// Point estimate minus the line at x, µs (null where either is missing).
    #[serde(with = "crate::stats::nan_as_null")]
    pub residual_us: f64,
    /// The point's 95% half-width, µs (null without an interval).
    #[serde(with = "crate::stats::nan_as_null")]
    pub half_width_us: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub implementation: String,
    pub axis: String,
    /// `cpu_us_per_req`, `fixed_cpu_us_per_req` or `p50_us`.
    pub figure: String,
    /// µs per header (headers axis) or per KiB (body axis).
    pub slope: Estimate,
    /// The fixed cost per request at x = 0, µs.
    pub intercept: Estimate,
    /// `us_per_header` or `us_per_kib`.
    pub slope_unit: String,
    /// Whether a line fits the points within their intervals.
    pub linear: bool,
    /// Why not (or why it could not be checked); null when it fits.
    pub reason: Option<String>,
    /// Sum over points of (residual / standard error)² divided by points - 2 (null below 3 points).
    #[serde(with = "crate::stats::nan_as_null")]
    pub chi2_per_dof: f64,
    pub residuals: Vec<Residual>,
    pub units: usize,
}

impl CurvesRun {
    pub fn write(&self, path: &std::path::Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        crate::sys::write_atomic(path, text.as_bytes())?;
        Ok(())
    }

    pub fn load(path: &std::path::Path) -> anyhow::Result<CurvesRun> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::error::usage(format!("cannot read {} ({e})", path.display())))?;
        serde_json::from_str(&text).map_err(|e| {
            crate::error::usage(format!(
                "{} is not a curves.json of this version ({e}); re-run `bench-runner curves`",
                path.display()
            ))
        })
    }
}
