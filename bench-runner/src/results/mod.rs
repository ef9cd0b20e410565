//! results.json: the saved, self-describing record of a run (SPEC section 4; schema in
//! results/schema.json). Summaries are always recomputed from the raw rounds.

pub mod failure;
pub mod micro;
pub mod peers;
pub mod profile;

use crate::load::{LatencyUs, LoadSummary};
use crate::stats::{self, Estimate};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub schema_version: u32,
    pub suite_version: String,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// "running" (written after each round), "complete" or "interrupted".
    pub status: String,
    pub host: Host,
    pub envoy: EnvoyInfo,
    pub runner: RunnerBuild,
    pub profile: Profile,
    pub variants: Vec<VariantSummary>,
    pub rounds: Vec<RoundRecord>,
    pub skipped: Vec<Skipped>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// What clients see when a plugin crashes or runs away (`failure` scenarios; `run --profile full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<failure::FailureSection>,
    /// In-process micro-benchmarks on the plugin-host engines (`micro`, and `run` after Envoy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub micro: Option<micro::MicroSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Host {
    pub cpu_model: String,
    pub cores: usize,
    pub kernel: String,
    pub hostname: String,
    /// CPUs Envoy and the load generator were pinned to; null when not pinned.
    pub envoy_cpu: Option<usize>,
    pub load_cpu: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvoyInfo {
    pub version: String,
    pub version_line: String,
    pub path: String,
    pub found_via: String,
    /// Wasm runtimes compiled into this binary, from its start-up log.
    pub runtimes: Vec<String>,
    pub concurrency: u32,
}

/// How the runner itself was compiled (an unoptimised load generator would measure itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunnerBuild {
    pub cargo_profile: String,
    pub opt_level: String,
    pub debug_assertions: bool,
}

impl RunnerBuild {
    pub fn current() -> RunnerBuild {
        RunnerBuild {
            cargo_profile: env!("BENCH_BUILD_PROFILE").to_string(),
            opt_level: env!("BENCH_BUILD_OPT_LEVEL").to_string(),
            debug_assertions: cfg!(debug_assertions),
        }
    }
}

/// One load shape.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Phase {
    pub connections: usize,
    /// Open-loop rate in requests/s; null for closed loop.
    pub rate: Option<f64>,
    pub warmup_s: f64,
    pub window_s: f64,
}

/// Every setting that shaped the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    pub name: String,
    pub rounds: usize,
    pub workloads: Vec<String>,
    /// Latency at a fixed moderate rate (open loop, coordinated-omission corrected).
    pub latency: Phase,
    /// Saturation (closed loop): throughput.
    pub saturation: Phase,
    /// Envoy CPU per request, measured in short closed-loop slices that alternate between the variants
    /// (absent in runs from before it existed: their CPU figure is the saturation window's).
    #[serde(default)]
    pub cpu: Option<CpuPhase>,
    pub timeout_s: f64,
    pub seed: u64,
    pub pin: bool,
    pub only: Option<Vec<String>>,
    pub protocol: String,
    /// `spin` added to every plugin's configuration (0: none).
    #[serde(default)]
    pub spin: u32,
}

/// The CPU phase of every round: `slices` times, every variant in turn (a fresh order each time) gets
/// a closed-loop burst of `requests` requests over `connections` connections, after a `warmup_ms`
/// warm-up, and Envoy's CPU time over the burst is divided by its requests. Alternating short slices
/// puts every variant under the same machine conditions (a noisy neighbour, CPU steal) within tens of
/// milliseconds; a round's figure is the median of its slices.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CpuPhase {
    pub slices: usize,
    pub requests: u64,
    pub connections: usize,
    pub warmup_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Overhead {
    pub p50: Estimate,
    pub p99: Estimate,
    pub cpu_us_per_req: Estimate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantSummary {
    pub id: String,
    pub language: String,
    pub runtime: Option<String>,
    pub workload: String,
    pub wasm_sha256: Option<String>,
    pub wasm_bytes: Option<u64>,
    /// Requests measured over all rounds and both phases.
    pub requests: u64,
    pub errors: u64,
    /// Median over rounds of the saturation throughput, requests/s.
    #[serde(with = "crate::stats::nan_as_null")]
    pub rps: f64,
    /// Medians over rounds of the latency phase's percentiles.
    pub latency_us: LatencyUs,
    /// Median over rounds of Envoy's CPU time per request (the CPU phase).
    #[serde(with = "crate::stats::nan_as_null")]
    pub cpu_us_per_req: f64,
    /// Versus the baseline of the same rounds; null for the baseline itself.
    pub overhead: Option<Overhead>,
    pub rounds: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundRecord {
    pub round: usize,
    /// Position of this variant within the round's shuffled order.
    pub order: usize,
    pub variant: String,
    pub latency: LoadSummary,
    pub saturation: LoadSummary,
    /// Envoy's CPU time per request (all Envoy threads): the median of this round's CPU slices (see
    /// [`CpuPhase`]), or in runs without a CPU phase the saturation window's.
    #[serde(with = "crate::stats::nan_as_null")]
    pub cpu_us_per_req: f64,
    /// Every CPU slice of this round for this variant, µs per request, in the order measured.
    #[serde(default)]
    pub cpu_slices_us_per_req: Vec<f64>,
    /// Envoy's CPU time per request over the saturation window (null in older runs, where it is
    /// `cpu_us_per_req`).
    #[serde(default = "nan", with = "crate::stats::nan_as_null")]
    pub saturation_cpu_us_per_req: f64,
    /// The same over the latency window.
    #[serde(with = "crate::stats::nan_as_null")]
    pub latency_cpu_us_per_req: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Skipped {
    pub variant: String,
    pub reason: String,
}

/// Static facts of a variant (everything but measurements).
#[derive(Debug, Clone)]
pub struct VariantInfo {
    pub id: String,
    pub language: String,
    pub runtime: Option<String>,
    pub workload: String,
    pub wasm_sha256: Option<String>,
    pub wasm_bytes: Option<u64>,
}

pub const BASELINE: &str = "baseline";

/// The implementation a variant id belongs to: the folder name under `plugins/` (`rust`, `go`,
/// `go-higress`, `assemblyscript`, `cpp`, `lua`), or `baseline`. Ids are `<impl>-<runtime>-<workload>`
/// for Wasm, `lua-<workload>` for Lua (whose runtime, `luajit`, is not in the id) and `baseline`, so
/// this strips `-<workload>`, then `-<runtime>` when the runtime is known and present.
pub fn implementation_of<'a>(id: &'a str, runtime: Option<&str>, workload: &str) -> &'a str {
    let id = id
        .strip_suffix(workload)
        .and_then(|x| x.strip_suffix('-'))
        .unwrap_or(id);
    match runtime {
        Some(rt) => id
            .strip_suffix(rt)
            .and_then(|x| x.strip_suffix('-'))
            .unwrap_or(id),
        None => id,
    }
}

impl VariantInfo {
    /// See [`implementation_of`].
    pub fn implementation(&self) -> &str {
        implementation_of(&self.id, self.runtime.as_deref(), &self.workload)
    }
}

impl VariantSummary {
    /// See [`implementation_of`].
    pub fn implementation(&self) -> &str {
        implementation_of(&self.id, self.runtime.as_deref(), &self.workload)
    }
}

fn per_round(
    rounds: &[RoundRecord],
    id: &str,
    f: impl Fn(&RoundRecord) -> f64,
) -> Vec<(usize, f64)> {
    rounds
        .iter()
        .filter(|r| r.variant == id)
        .map(|r| (r.round, f(r)))
        .collect()
}

/// Values of `f` for `id` and the baseline, paired by round (rounds missing either side are dropped).
pub fn paired(
    rounds: &[RoundRecord],
    id: &str,
    f: impl Fn(&RoundRecord) -> f64 + Copy,
) -> (Vec<f64>, Vec<f64>) {
    let base = per_round(rounds, BASELINE, f);
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (round, v) in per_round(rounds, id, f) {
        if let Some((_, bv)) = base.iter().find(|(r, _)| *r == round) {
            a.push(v);
            b.push(*bv);
        }
    }
    (a, b)
}

/// Recomputes every variant summary from the raw rounds.
pub fn summarize(infos: &[VariantInfo], rounds: &[RoundRecord], seed: u64) -> Vec<VariantSummary> {
    infos
        .iter()
        .enumerate()
        .filter_map(|(i, info)| {
            let mine: Vec<&RoundRecord> = rounds.iter().filter(|r| r.variant == info.id).collect();
            if mine.is_empty() {
                return None;
            }
            let med = |f: &dyn Fn(&RoundRecord) -> f64| {
                stats::median(&mine.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            let overhead = (info.id != BASELINE).then(|| {
                let s = seed.wrapping_add(i as u64 * 7919);
                let (a, b) = paired(rounds, &info.id, |r| r.latency.latency_us.p50);
                let p50 = stats::paired_median_difference(&a, &b, s);
                let (a, b) = paired(rounds, &info.id, |r| r.latency.latency_us.p99);
                let p99 = stats::paired_median_difference(&a, &b, s + 1);
                let (a, b) = paired(rounds, &info.id, |r| r.cpu_us_per_req);
                let cpu = stats::paired_median_difference(&a, &b, s + 2);
                Overhead {
                    p50,
                    p99,
                    cpu_us_per_req: cpu,
                }
            });
            Some(VariantSummary {
                id: info.id.clone(),
                language: info.language.clone(),
                runtime: info.runtime.clone(),
                workload: info.workload.clone(),
                wasm_sha256: info.wasm_sha256.clone(),
                wasm_bytes: info.wasm_bytes,
                requests: mine
                    .iter()
                    .map(|r| r.latency.requests + r.saturation.requests)
                    .sum(),
                errors: mine
                    .iter()
                    .map(|r| r.latency.errors + r.saturation.errors)
                    .sum(),
                rps: med(&|r| r.saturation.rps),
                latency_us: LatencyUs {
                    p50: med(&|r| r.latency.latency_us.p50),
                    p90: med(&|r| r.latency.latency_us.p90),
                    p99: med(&|r| r.latency.latency_us.p99),
                    p999: med(&|r| r.latency.latency_us.p999),
                    max: med(&|r| r.latency.latency_us.max),
                    mean: med(&|r| r.latency.latency_us.mean),
                },
                cpu_us_per_req: med(&|r| r.cpu_us_per_req),
                overhead,
                rounds: mine.len(),
            })
        })
        .collect()
}

impl Results {
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        crate::sys::write_atomic(path, text.as_bytes())?;
        Ok(())
    }

    pub fn read(path: &Path) -> anyhow::Result<Results> {
        let path = if path.is_dir() {
            path.join("results.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            crate::error::usage(format!(
                "cannot read {} ({e}); give a results.json or a run folder",
                path.display()
            ))
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| crate::error::usage(format!("{} is not JSON: {e}", path.display())))?;
        let version = v.get("schema_version").and_then(|x| x.as_u64());
        if version != Some(SCHEMA_VERSION as u64) {
            return Err(crate::error::usage(format!(
                "{}: schema_version {:?}, this runner reads version {SCHEMA_VERSION}; re-run or use a matching runner",
                path.display(),
                version
            )));
        }
        serde_json::from_value(v).map_err(|e| {
            crate::error::usage(format!(
                "{} does not match the results schema: {e}",
                path.display()
            ))
        })
    }
}

pub fn host_info(envoy_cpu: Option<usize>, load_cpu: Option<usize>) -> Host {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|x| x.1.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    Host {
        cpu_model,
        cores: crate::sys::online_cpus(),
        kernel: read("/proc/sys/kernel/osrelease"),
        hostname: read("/proc/sys/kernel/hostname"),
        envoy_cpu,
        load_cpu,
    }
}

fn nan() -> f64 {
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, runtime: Option<&str>, workload: &str) -> VariantInfo {
        VariantInfo {
            id: id.into(),
            language: "x".into(),
            runtime: runtime.map(Into::into),
            workload: workload.into(),
            wasm_sha256: None,
            wasm_bytes: None,
        }
    }

    #[test]
    fn implementation_strips_runtime_and_workload() {
        let cases = [
            ("baseline", None, "none", "baseline"),
            ("lua-mock", Some("luajit"), "mock", "lua"),
            ("lua-headers", None, "headers", "lua"),
            ("rust-v8-mock", Some("v8"), "mock", "rust"),
            ("go-wamr-headers", Some("wamr"), "headers", "go"),
            ("go-higress-v8-mock", Some("v8"), "mock", "go-higress"),
            (
                "go-higress-wasmtime-headers",
                Some("wasmtime"),
                "headers",
                "go-higress",
            ),
            (
                "assemblyscript-wamr-mock",
                Some("wamr"),
                "mock",
                "assemblyscript",
            ),
            ("cpp-v8-headers", Some("v8"), "headers", "cpp"),
            // A runtime name that is also the end of the implementation's name is stripped once.
            ("my-v8-v8-mock", Some("v8"), "mock", "my-v8"),
        ];
        for (id, rt, wl, want) in cases {
            assert_eq!(info(id, rt, wl).implementation(), want, "{id}");
        }
    }
}
