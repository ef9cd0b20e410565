//! The `micro` section of results.json: in-process measurements per implementation, engine,
//! benchmark and workload, and the settings they were taken with.

use crate::results::profile::ProfileName;
use crate::results::{self, EnvoyInfo, Results, RunnerBuild, Skipped};
use crate::stats::Estimate;
use plugin_host::{workload, EngineKind};
use serde::{Deserialize, Serialize};

pub const BENCHMARKS: [&str; 3] = ["request", "configure", "instantiate"];

/// What to measure; built from flags before any work starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MicroSettings {
    pub engines: Vec<String>,
    pub benchmarks: Vec<String>,
    /// Workloads of the `request` benchmark.
    pub workloads: Vec<String>,
    pub batches: usize,
    pub batch_target_ms: f64,
    pub warmup_ms: f64,
    pub seed: u64,
    /// The request every `request` figure sends.
    pub request: String,
    /// Bytes of the `configure` configurations.
    pub config_bytes: Vec<(String, usize)>,
}

impl MicroSettings {
    pub fn for_profile(p: ProfileName) -> MicroSettings {
        let (batches, batch_ms, warmup_ms) = match p {
            ProfileName::Quick => (5, 5.0, 20.0),
            ProfileName::Default => (15, 20.0, 100.0),
            ProfileName::Full => (30, 50.0, 300.0),
        };
        MicroSettings {
            engines: EngineKind::ALL.iter().map(|k| k.id().to_string()).collect(),
            benchmarks: BENCHMARKS.iter().map(|s| s.to_string()).collect(),
            workloads: workload::WORKLOADS.iter().map(|s| s.to_string()).collect(),
            batches,
            batch_target_ms: batch_ms,
            warmup_ms,
            seed: 1,
            request: "GET / Host: localhost, route default/other (7 request headers)".into(),
            config_bytes: vec![
                ("small".into(), workload::small_config().len()),
                ("8k".into(), workload::large_config().len()),
            ],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MicroEngine {
    pub id: String,
    pub description: String,
}

/// Whether an engine compiled a module, and how long that took (one compilation, not a benchmark).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MicroModule {
    pub implementation: String,
    pub engine: String,
    pub wasm_sha256: String,
    pub wasm_bytes: u64,
    pub compile_ms: Option<f64>,
    /// Why this engine cannot run this module (compile, instantiate or start error).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MicroEntry {
    pub implementation: String,
    pub language: String,
    pub engine: String,
    /// request | configure | instantiate
    pub benchmark: String,
    /// request: mock | headers; configure: small | 8k; instantiate: "-".
    pub workload: String,
    pub ops_per_batch: u64,
    /// Mean µs per operation of each timed batch (the raw data of `us_per_op`).
    pub batch_us_per_op: Vec<f64>,
    /// Median over batches with its bootstrap 95% interval, µs per operation.
    pub us_per_op: Estimate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MicroSection {
    /// What ran the plugins: the in-process host and its engines' versions.
    pub host: String,
    pub settings: MicroSettings,
    pub engines: Vec<MicroEngine>,
    pub modules: Vec<MicroModule>,
    pub entries: Vec<MicroEntry>,
    /// Implementation x engine x benchmark combinations that could not be measured, with why.
    pub skipped: Vec<Skipped>,
    /// Instructions per request counted under callgrind, and where they go (`micro --instructions`,
    /// and `run` where valgrind is installed); absent in runs made before schema 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<crate::results::breakdown::InstructionSection>,
}

impl MicroSection {
    pub fn find(
        &self,
        implementation: &str,
        engine: &str,
        benchmark: &str,
        workload: &str,
    ) -> Option<&MicroEntry> {
        self.entries.iter().find(|e| {
            e.implementation == implementation
                && e.engine == engine
                && e.benchmark == benchmark
                && e.workload == workload
        })
    }
}

/// A results.json holding only a micro section (no Envoy measured): `envoy` says why.
pub fn standalone_results(
    started_at: String,
    profile: results::Profile,
    section: MicroSection,
    skipped: Vec<Skipped>,
    envoy_note: &str,
    notes: Vec<String>,
) -> anyhow::Result<Results> {
    let envoy = EnvoyInfo {
        version: "none".into(),
        version_line: String::new(),
        path: String::new(),
        found_via: envoy_note.into(),
        runtimes: vec![],
        concurrency: 1,
    };
    let v = serde_json::json!({
        "schema_version": results::SCHEMA_VERSION,
        "suite_version": env!("CARGO_PKG_VERSION"),
        "started_at": started_at,
        "finished_at": crate::sys::now_rfc3339(),
        "status": "complete",
        "host": results::host_info(None, None),
        "envoy": envoy,
        "runner": RunnerBuild::current(),
        "profile": profile,
        "variants": [],
        "rounds": [],
        "skipped": skipped,
        "notes": notes,
    });
    let mut r: Results = serde_json::from_value(v)?;
    r.micro = Some(section);
    Ok(r)
}
