//! results.json: the saved, self-describing record of a run (SPEC section 4; schema in
//! results/schema.json). Summaries are always recomputed from the raw rounds.

pub mod ab;
pub mod breakdown;
pub mod calls;
mod cpu_use;
pub mod curves;
pub mod failure;
pub mod footprint;
pub mod instructions;
pub mod lifecycle;
pub mod micro;
pub mod own;
pub mod peers;
pub mod profile;
mod runner;
#[cfg(test)]
use runner::current_hostname;
pub use runner::{RunnerBuild, RunnerProcess};
mod summary;
pub use cpu_use::*;
pub use summary::*;

use crate::load::{LatencyUs, LoadSummary};
use crate::stats::{self, Estimate};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// 2: interleaved latency windows paired with the baseline, several Envoy processes as the units of
/// every interval, both CPU regimes, the A/A listener and the run's health. 3: adds `own` (plugins of
/// your own: their files and hashes, the requests stated, the answer expected, the probe, what
/// reached the runner's upstream); a version 2 file reads as one without. Version 1 runs are refused
/// with a message saying so (their rounds measured each variant in its own window).
/// 3 also adds the `instructions` section (instruction counts through Envoy under callgrind).
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest schema version this runner reads.
pub const OLDEST_READABLE: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub schema_version: u32,
    pub suite_version: String,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// "running" (written after each round), "complete", "interrupted" or "failed"; a reader calls a
    /// "running" run whose runner is gone "killed" ([`Results::mark_killed`]).
    pub status: String,
    pub host: Host,
    pub envoy: EnvoyInfo,
    pub runner: RunnerBuild,
    pub profile: Profile,
    pub variants: Vec<VariantSummary>,
    pub rounds: Vec<RoundRecord>,
    /// Per Envoy process and variant: every latency window pooled (tail percentiles come from here).
    #[serde(default)]
    pub pooled: Vec<PooledLatency>,
    /// What regime each CPU figure of the summaries comes from (field name -> regime).
    #[serde(default)]
    pub cpu_regimes: std::collections::BTreeMap<String, String>,
    /// How far the run can be trusted: windows that fell behind, the A/A check, load and CPU steal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    pub skipped: Vec<Skipped>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// What clients see when a plugin crashes or runs away (`failure` scenarios; `run --profile full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<failure::FailureSection>,
    /// In-process micro-benchmarks on the plugin-host engines (`micro`, and `run` after Envoy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub micro: Option<micro::MicroSection>,
    /// Envoy's memory with each implementation loaded, per concurrency, against the no-plugin Envoy
    /// (the footprint phase; absent in runs made before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<footprint::MemorySection>,
    /// Start-up per implementation: Envoy's start to `/ready` and to the first plugin reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_start: Option<footprint::ColdStartSection>,
    /// Instructions per request through Envoy under callgrind (schema 3; absent before, and where
    /// the phase did not run: `skipped` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<instructions::InstructionsSection>,
    /// Plugins of your own (`run --plugin ...`): files, hashes, requests, expected answer, probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own: Option<own::OwnSection>,
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
    /// Envoy processes the rounds are spread over, one after the other: the independent units of
    /// every interval.
    pub processes: usize,
    /// Rounds in total (over all processes).
    pub rounds: usize,
    pub workloads: Vec<String>,
    /// Latency at a fixed moderate rate (open loop, coordinated-omission corrected), interleaved:
    /// `rate` is the whole schedule's, shared by the variant and the baseline of a window, each over
    /// `connections` connections of its own.
    pub latency: Phase,
    /// Envoy CPU per request in both regimes, measured in short slices that alternate between the
    /// variants.
    pub cpu: CpuPhase,
    pub timeout_s: f64,
    pub seed: u64,
    pub pin: bool,
    pub only: Option<Vec<String>>,
    pub protocol: String,
    /// `spin` added to every plugin's configuration (0: none).
    #[serde(default)]
    pub spin: u32,
    /// Which of Envoy's threads the CPU phase reads: absent, every thread (`run`); [`CPU_THREAD_WORKER`],
    /// the worker thread alone (`ab`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_thread: Option<String>,
}

/// [`Profile::cpu_thread`] of a CPU phase that reads Envoy's worker thread alone.
pub const CPU_THREAD_WORKER: &str = "worker";

/// The CPU phase of every round: `slices` times, every variant in turn (a fresh order each time) gets
/// a saturation burst (closed loop: `requests` requests over `connections` connections, after a
/// `warmup_ms` warm-up) and a fixed-rate burst (open loop at the latency phase's rate and
/// connections: `fixed_requests` requests after the same warm-up); Envoy's CPU time over each burst
/// is divided by its requests. Alternating short slices puts every variant under the same machine
/// conditions within tens of milliseconds; a round's figure per regime is the median of its slices.
/// The two regimes differ: at saturation Envoy batches several requests per wake-up, at a fixed
/// moderate rate every request pays its own wake-ups, so the same plugin costs more there.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CpuPhase {
    pub slices: usize,
    pub requests: u64,
    pub connections: usize,
    pub warmup_ms: u64,
    pub fixed_requests: u64,
}

/// The two regimes a CPU figure comes from, as named in results, reports and README.
pub const REGIME_SATURATION: &str = "saturation: closed loop over the CPU phase's connections";
pub const REGIME_FIXED: &str = "fixed rate: open loop at the latency phase's rate";

/// `Results::cpu_regimes` of a run of this schema.
pub fn cpu_regimes() -> std::collections::BTreeMap<String, String> {
    [
        ("cpu_us_per_req", REGIME_SATURATION),
        ("fixed_cpu_us_per_req", REGIME_FIXED),
        ("cpu_pct", REGIME_SATURATION),
        ("fixed_cpu_pct", REGIME_FIXED),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A variant's cost against the baseline, every figure the mean over Envoy processes of that process's
/// value with a Student's t 95% interval over processes ([`stats::unit_interval`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Overhead {
    /// Added latency at the fixed rate, µs: per process, the variant's pooled percentile minus the
    /// pooled percentile of the baseline interleaved with it in the same windows.
    pub p50: Estimate,
    pub p90: Estimate,
    pub p99: Estimate,
    /// Envoy CPU µs per request, saturation regime: per process, the median over CPU slices of the
    /// variant's slice minus the baseline's slice of the same pass.
    pub cpu_us_per_req: Estimate,
    /// The same in the fixed-rate regime.
    pub fixed_cpu_us_per_req: Estimate,
    /// The saturation CPU overhead relative to the same process's baseline CPU per request, %.
    pub cpu_pct: Estimate,
    /// The fixed-rate CPU overhead relative to the baseline's fixed-rate CPU, %.
    pub fixed_cpu_pct: Estimate,
    /// Cross-talk: the interleaved baseline's p50 beside this variant minus its p50 beside the A/A
    /// listener, µs (how much the variant's work slows what shares the worker with it).
    pub crosstalk_p50: Estimate,
    /// Envoy processes the intervals are over; below 2 every interval is n/a and `note` says why.
    pub units: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The run's health: what says whether its figures can be trusted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// Latency windows (arms) measured, and those whose schedule fell behind (the target or the
    /// machine could not keep the rate; their latency includes queueing).
    pub windows: usize,
    pub windows_fell_behind: usize,
    /// Windows measured again because the machine stalled during them ([`stalled`]); each is kept in
    /// its round record's `stalled_windows`.
    /// None in runs made before stalled windows were measured again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_measured_again: Option<usize>,
    /// The A/A check: the second no-plugin listener's p50 overhead (should be ~0, interval holding 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aa_p50: Option<Estimate>,
    /// 1-minute load average at the start and the end, and the CPUs online (recorded, no longer
    /// judged: right after a build it still holds the build; see `other_cpu_at_start`).
    #[serde(with = "crate::stats::nan_as_null")]
    pub loadavg_start: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub loadavg_end: f64,
    pub cpus: usize,
    /// CPU steal over the run, % of all CPU time (/proc/stat); null where not readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_pct: Option<f64>,
    /// What else used the CPUs just before the Envoy processes started (absent in runs before it
    /// was measured, and where /proc cannot be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_cpu_at_start: Option<OtherCpu>,
    /// The machine's stalls: a spin loop on every CPU for a moment before the Envoy processes start
    /// and after the last one stopped (empty in runs before it was measured).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stalls: Vec<CpuStalls>,
    /// Why the run should not be trusted (empty: nothing found).
    pub warnings: Vec<String>,
    /// Where the run's wall time went, phase by phase in the order they ran (empty in runs before
    /// it was recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseTime>,
}

/// Seconds as a person reads them: `42 s`, `3 min 07 s`.
pub fn human_s(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// One phase of a run and its wall time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PhaseTime {
    /// `prepare` (Envoy located, plugins built), `start` (every Envoy process started: the Wasm
    /// modules compiled), `rounds`, `failure`, `lifecycle`, `footprint`, `micro`.
    pub phase: String,
    pub seconds: f64,
}

/// One CPU's stalls as a spin loop saw them (see `sys::spin_gaps`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CpuStalls {
    /// `start` (before the Envoy processes) or `end` (after them).
    pub when: String,
    pub cpu: usize,
    pub seconds: f64,
    /// Gaps between two clock reads longer than 50 µs and longer than 1 ms, the longest, and the
    /// share of the time lost in gaps over 50 µs.
    pub gaps_over_50us: u64,
    pub gaps_over_1ms: u64,
    pub max_gap_us: f64,
    pub lost_pct: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantSummary {
    pub id: String,
    pub language: String,
    pub runtime: Option<String>,
    pub workload: String,
    /// SHA-256 and size of the module Envoy loads: the .wasm, or a dynamic module's shared object
    /// (none for the baseline, the Lua filter and an external processor).
    pub wasm_sha256: Option<String>,
    pub wasm_bytes: Option<u64>,
    /// See [`VariantInfo::note`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Requests measured over all rounds and phases.
    pub requests: u64,
    pub errors: u64,
    /// Median over rounds of the throughput of the saturation CPU slices, requests/s.
    #[serde(with = "crate::stats::nan_as_null")]
    pub rps: f64,
    /// Means over processes of the pooled latency percentiles at the fixed rate.
    pub latency_us: LatencyUs,
    /// Median over rounds of Envoy's CPU time per request, saturation regime.
    #[serde(with = "crate::stats::nan_as_null")]
    pub cpu_us_per_req: f64,
    /// The same, fixed-rate regime.
    #[serde(with = "crate::stats::nan_as_null")]
    pub fixed_cpu_us_per_req: f64,
    /// An ext_proc variant only: median over rounds of its external processor's CPU µs per request
    /// (saturation, then fixed rate), and Envoy's plus the processor's (`total_*`). `overhead`'s CPU
    /// figures are Envoy's alone: the baseline has no processor, so the processor's figure adds to
    /// them as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_cpu_us_per_req: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_fixed_cpu_us_per_req: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cpu_us_per_req: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_fixed_cpu_us_per_req: Option<f64>,
    /// Versus the baseline; null for the baseline itself.
    pub overhead: Option<Overhead>,
    pub rounds: usize,
    pub processes: usize,
    /// This variant's latency windows whose schedule fell behind.
    pub windows_fell_behind: usize,
}

/// One variant in one round: its interleaved latency window and its CPU slices.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundRecord {
    /// The Envoy process (0-based) the round ran in.
    pub process: usize,
    /// The round, 0-based over the whole run.
    pub round: usize,
    /// Position of this variant within the round's shuffled order.
    pub order: usize,
    pub variant: String,
    /// The variant's side of its latency window (the baseline's record: its side of the A/A window).
    pub latency: LoadSummary,
    /// The baseline's side of the same window, interleaved with it; null for the baseline itself.
    #[serde(default)]
    pub paired_baseline: Option<LoadSummary>,
    /// The round's saturation CPU slices of this variant, pooled (throughput and latency at
    /// saturation).
    pub saturation: LoadSummary,
    /// Envoy's CPU time per request (all Envoy threads), saturation regime: the median of this
    /// round's slices (see [`CpuPhase`]).
    #[serde(with = "crate::stats::nan_as_null")]
    pub cpu_us_per_req: f64,
    /// Every saturation slice of this round for this variant, µs per request, one per pass in order.
    #[serde(default)]
    pub cpu_slices_us_per_req: Vec<f64>,
    /// The same in the fixed-rate regime.
    #[serde(with = "crate::stats::nan_as_null")]
    pub fixed_cpu_us_per_req: f64,
    #[serde(default)]
    pub fixed_cpu_slices_us_per_req: Vec<f64>,
    /// An ext_proc variant's external processor: its CPU time per request in the same saturation
    /// slices (median of this round's), beside Envoy's; absent for every other variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_cpu_us_per_req: Option<f64>,
    /// The same in the fixed-rate regime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_fixed_cpu_us_per_req: Option<f64>,
    /// Latency windows of this variant in this round that were measured again because the machine
    /// stalled during them (see [`stalled`]): kept here, left out of every estimate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stalled_windows: Vec<StalledWindow>,
}

/// A latency window measured again: both sides as they were.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StalledWindow {
    pub latency: LoadSummary,
    pub paired_baseline: LoadSummary,
}

/// Sends of a window's no-plugin side more than 1 ms late, above which the window is measured again.
pub const STALLED_LATE_SHARE: f64 = 0.05;

/// Whether a window's baseline side says the machine stalled: more than [`STALLED_LATE_SHARE`] of its
/// sends went out over 1 ms late. At the latency phase's rate Envoy is far from busy, and the
/// no-plugin side's responses take a fraction of a millisecond, so sends that late mean the load
/// generator's or Envoy's CPU was taken away for milliseconds, not that the plugin was slow.
pub fn stalled(baseline_side: &LoadSummary) -> bool {
    baseline_side
        .schedule
        .as_ref()
        .is_some_and(|s| s.sends > 0 && s.late_sends as f64 > STALLED_LATE_SHARE * s.sends as f64)
}

/// A window during which the machine stalled is measured again at most this many times; after the
/// last retry it is kept as it is.
pub const STALL_RETRIES: u64 = 2;

/// The latency windows kept (in the estimates) although their baseline side says the machine stalled
/// during them: still stalled after [`STALL_RETRIES`] retries.
pub fn stalled_kept(rounds: &[RoundRecord]) -> usize {
    rounds
        .iter()
        .filter_map(|r| r.paired_baseline.as_ref())
        .filter(|b| stalled(b))
        .count()
}

/// Every latency window of one variant in one Envoy process, pooled into one histogram per side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PooledLatency {
    pub process: usize,
    pub variant: String,
    pub windows: usize,
    pub latency: LoadSummary,
    /// The baseline's side of the same windows; null for the baseline itself.
    #[serde(default)]
    pub paired_baseline: Option<LoadSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Skipped {
    pub variant: String,
    pub reason: String,
}

impl Skipped {
    /// A plugin that could not be built here: every variant of it (`NAME-*`), with the reason.
    pub fn unavailable(u: &crate::plugins::Unavailable) -> Skipped {
        Skipped {
            variant: format!("{}-*", u.name),
            reason: u.reason.clone(),
        }
    }
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
    /// What a reader must know beside this variant's figures wherever it is ranked (the manifest's
    /// `note` and `workload_notes`: the C++ plugin has no SDK; ext_proc's `headers` is one header
    /// mutation).
    pub note: Option<String>,
}

pub const BASELINE: &str = "baseline";

/// The `runtime` of every `ext-proc` variant: a native process Envoy talks to over gRPC.
pub const EXT_PROC_RUNTIME: &str = "ext_proc";

/// The `runtime` of every `dynamic-module` variant: native code Envoy loads in-process.
pub const DYNAMIC_MODULE_RUNTIME: &str = "dynamic_module";

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

impl Results {
    /// A `running` run whose runner is gone was killed mid-run (SIGKILL, a crash, a reboot): it is
    /// called `killed`, with a note, instead of claiming to run for ever. Its finished rounds stay
    /// usable as an interrupted run's are. Returns why, when it was killed.
    pub fn mark_killed(&mut self) -> Option<String> {
        if self.status != "running" {
            return None;
        }
        let why = self.runner.process.as_ref()?.gone(&self.host.hostname)?;
        let rounds = self
            .rounds
            .iter()
            .map(|r| r.round)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        self.status = "killed".into();
        self.notes.push(format!(
            "killed mid-run: {why}; its {rounds} finished round(s) are kept; re-run for a complete result"
        ));
        Some(why)
    }

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
        let readable = (OLDEST_READABLE as u64)..=(SCHEMA_VERSION as u64);
        if !version.is_some_and(|v| readable.contains(&v)) {
            let why = match version {
                Some(v) if v < OLDEST_READABLE as u64 => format!(
                    "schema_version {v} is older than this runner's {SCHEMA_VERSION} (version {v} measured each variant in its own window and one Envoy process; its figures are not comparable)"
                ),
                Some(v) => format!("schema_version {v} is newer than this runner's {SCHEMA_VERSION}"),
                None => "no schema_version".into(),
            };
            return Err(crate::error::usage(format!(
                "{}: {why}; re-run it with this runner (or use the runner that wrote it)",
                path.display()
            )));
        }
        let mut r: Results = serde_json::from_value(v).map_err(|e| {
            crate::error::usage(format!(
                "{} does not match the results schema: {e}",
                path.display()
            ))
        })?;
        if let Some(why) = r.mark_killed() {
            eprintln!(
                "{} was killed mid-run ({why}): status `killed`, its finished rounds are used",
                path.display()
            );
        }
        Ok(r)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalled_kept_counts_windows_whose_baseline_side_stalled() {
        let r: Results =
            serde_json::from_str(include_str!("../../tests/fixtures/results-quick.json")).unwrap();
        let late = |b: &LoadSummary| {
            b.schedule
                .as_ref()
                .is_some_and(|s| s.late_sends * 20 > s.sends)
        };
        let expected = r
            .rounds
            .iter()
            .filter(|x| x.paired_baseline.as_ref().is_some_and(late))
            .count();
        assert!(
            expected > 0,
            "the fixture (a busy machine) has stalled windows"
        );
        assert_eq!(stalled_kept(&r.rounds), expected);
        let mut quiet = r.rounds.clone();
        for x in &mut quiet {
            if let Some(s) = x.paired_baseline.as_mut().and_then(|b| b.schedule.as_mut()) {
                s.late_sends = 0;
            }
        }
        assert_eq!(stalled_kept(&quiet), 0);
    }

    fn info(id: &str, runtime: Option<&str>, workload: &str) -> VariantInfo {
        VariantInfo {
            id: id.into(),
            language: "x".into(),
            runtime: runtime.map(Into::into),
            workload: workload.into(),
            wasm_sha256: None,
            wasm_bytes: None,
            note: None,
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

    #[test]
    fn a_running_run_whose_runner_is_gone_is_called_killed() {
        let saved: Results =
            serde_json::from_str(include_str!("../../tests/fixtures/results-quick.json")).unwrap();
        let me = RunnerProcess::current().expect("/proc tells this process's start time");
        let running = |process: RunnerProcess, hostname: String| {
            let mut r = saved.clone();
            r.status = "running".into();
            r.host.hostname = hostname;
            r.runner.process = Some(process);
            r
        };
        let here = current_hostname();
        // This process is alive: still running.
        let mut r = running(me.clone(), here.clone());
        assert_eq!((r.mark_killed(), r.status.as_str()), (None, "running"));
        // Same pid, another start time: the pid was reused, the runner is gone.
        let reused = RunnerProcess {
            start_ticks: me.start_ticks + 1,
            ..me.clone()
        };
        let mut r = running(reused.clone(), here.clone());
        let why = r.mark_killed().unwrap();
        assert_eq!(why, format!("runner pid {} is gone", me.pid));
        assert_eq!(r.status, "killed");
        assert!(
            r.notes.last().unwrap().starts_with("killed mid-run"),
            "{:?}",
            r.notes
        );
        // Another boot: gone.
        let rebooted = RunnerProcess {
            boot_id: "another-boot".into(),
            ..me.clone()
        };
        assert!(running(rebooted, here.clone())
            .mark_killed()
            .unwrap()
            .contains("rebooted"));
        // Another machine cannot tell; a finished run is never touched.
        let mut r = running(reused.clone(), format!("{here}-elsewhere"));
        assert_eq!((r.mark_killed(), r.status.as_str()), (None, "running"));
        let mut r = running(reused, here);
        r.status = "interrupted".into();
        assert_eq!((r.mark_killed(), r.status.as_str()), (None, "interrupted"));
    }
}
