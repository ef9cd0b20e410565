//! `lifecycle.json` of a `lifecycle` run: per implementation, how its module loads over HTTP (remote
//! code) and what clients see while its configuration, its module or its whole listener is swapped
//! under load (ECDS and LDS from watched files). Documented field by field in
//! `results/lifecycle.schema.json`.

use crate::results::failure::Ready;
use crate::results::{Host, RunnerBuild, Skipped};
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LifecycleRun {
    pub suite_version: String,
    pub host: Host,
    pub runner: RunnerBuild,
    pub lifecycle: LifecycleSection,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LifecycleSection {
    pub started_at: String,
    pub finished_at: Option<String>,
    /// running, complete, interrupted or failed.
    pub status: String,
    pub envoy_version: String,
    pub envoy_path: String,
    pub runtime: String,
    pub settings: LifecycleSettings,
    pub implementations: Vec<ImplLifecycle>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
    /// Plugins of your own (`lifecycle --plugin ...`): each by file name and sha256, the stated
    /// requests and answer, the probe, and what reached the upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own: Option<crate::results::own::OwnSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LifecycleSettings {
    /// Swaps per swap run.
    pub swaps: usize,
    /// Open-loop requests per second during a swap run (one fresh connection each).
    pub rate_per_s: f64,
    /// Time between two swaps.
    pub swap_interval_ms: f64,
    /// Requests sent this long after a swap are "inside the swap window" for the latency figures.
    pub swap_window_ms: f64,
    /// Client timeout per request (no answer by then: a timeout).
    pub timeout_ms: f64,
    /// Keep-alive clients beside the open loop (a request each every `keepalive_period_ms`); their
    /// connections closed by Envoy are the drained connections.
    pub keepalive_clients: usize,
    pub keepalive_period_ms: f64,
    /// Envoy's `--drain-time-s` and `--drain-strategy` in every swap run.
    pub drain_time_s: f64,
    pub drain_strategy: String,
    /// Fresh Envoys per implementation for the remote-load time.
    pub remote_repetitions: usize,
    /// How long each remote failure case is watched.
    pub remote_observe_ms: f64,
    /// When the module server comes up in the "server-late" case, after Envoy's start.
    pub remote_late_ms: f64,
    pub remote_num_retries: u32,
}

/// One implementation's lifecycle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImplLifecycle {
    pub implementation: String,
    pub language: String,
    /// wasm or lua.
    pub kind: String,
    /// Remote module load (Wasm only).
    pub remote: Option<RemoteLoad>,
    /// ecds-config, ecds-module (Wasm only), lds.
    pub swaps: Vec<SwapRun>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteLoad {
    /// Module size and sha256 as served.
    pub module_bytes: u64,
    pub sha256: String,
    /// Per repetition: Envoy's spawn to the first plugin reply on the listener (null: none in time).
    pub load_ms: Vec<Option<f64>>,
    pub load_ms_median: Option<f64>,
    pub load_ms_min: Option<f64>,
    pub load_ms_max: Option<f64>,
    /// ok (first repetition), wrong-sha256, server-late, truncated.
    pub cases: Vec<RemoteCase>,
}

/// One request of a remote case's probe sequence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeReply {
    pub at_ms: f64,
    pub status: Option<u16>,
    /// The body (at most 200 bytes, lossy UTF-8).
    pub body: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteCase {
    pub id: String,
    pub description: String,
    /// Spawn to the first plugin reply; null when no request got one while watched.
    pub first_plugin_reply_ms: Option<f64>,
    /// Spawn to `/ready` answering 200 first; null: never while watched.
    pub ready_after_ms: Option<f64>,
    /// `/ready` at the end of the watch.
    pub ready: Ready,
    pub envoy_alive: bool,
    /// Status (or `connection error` / `timeout`) -> requests.
    pub outcomes: BTreeMap<String, u64>,
    /// The first probes and the last ones (at most 10).
    pub probes: Vec<ProbeReply>,
    /// Envoy's log lines about the fetch and the module (at most 8).
    pub log_lines: Vec<String>,
    /// Wasm and remote-fetch stats at the end.
    pub stats: BTreeMap<String, u64>,
    pub config: String,
    pub log: String,
}

/// Failed requests by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FailCounts {
    pub non_200: u64,
    /// 200 with neither the old nor the new version's body.
    pub wrong_body: u64,
    pub connection_error: u64,
    pub timeout: u64,
    pub total: u64,
}

/// Latency of a set of requests (ms); null without any.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    pub requests: usize,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// The keep-alive clients of a swap run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeepAlive {
    pub requests: u64,
    pub failed: u64,
    /// Connections Envoy closed (`connection: close` on a response, or closed/reset before one).
    pub connections_closed: u64,
    pub connections_opened: u64,
}

/// One swap.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SwapRecord {
    pub k: usize,
    /// When the new file was renamed into place, from the load's start.
    pub at_ms: f64,
    /// The body every response should carry once the swap is done.
    pub expected_body: String,
    /// Open-loop requests sent from this swap to the next.
    pub requests: usize,
    /// Of those: answered with the new version's body, and with the old one's.
    pub new_body: usize,
    pub old_body: usize,
    pub failed: FailCounts,
    /// From the swap to the send time of the first request after which every response carried the
    /// new body (judged on requests sent in the first 90% of the interval: one sent just before the
    /// next swap may be answered by the next version); null: not switched by then.
    pub switch_ms: Option<f64>,
    pub max_latency_inside_ms: Option<f64>,
    /// Envoy's VmRSS after the swap (just before the next).
    pub rss_kib: Option<u64>,
    /// Counters that moved during the swap (wasm, ECDS, LDS, drains).
    pub stats_delta: BTreeMap<String, u64>,
}

/// N swaps of one kind under load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SwapRun {
    /// ecds-config, ecds-module or lds.
    pub mode: String,
    pub description: String,
    pub swaps_done: usize,
    pub requests: usize,
    pub failed: FailCounts,
    pub failed_per_swap_mean: f64,
    pub swaps_with_failures: usize,
    pub switch_ms_median: Option<f64>,
    pub switch_ms_max: Option<f64>,
    /// Swaps whose new body was not the only one served by the next swap.
    pub swaps_not_switched: usize,
    pub latency_inside: Latency,
    pub latency_outside: Latency,
    pub keepalive: KeepAlive,
    pub rss_before_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    /// Least-squares slope of VmRSS over the swaps, KiB per swap, with a Student-t 95% interval.
    pub rss_slope_kib_per_swap: Estimate,
    pub stats_before: BTreeMap<String, u64>,
    pub stats_after: BTreeMap<String, u64>,
    pub envoy_alive_after: bool,
    pub per_swap: Vec<SwapRecord>,
    pub config: String,
    pub log: String,
}
