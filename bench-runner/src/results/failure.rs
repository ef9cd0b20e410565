//! The `failure` section of results.json (or failure.json of a `failure` run): the scenarios, their
//! request records and the evidence (admin probes, Envoy's stop) behind each verdict.

use crate::results::Skipped;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Envoy's Wasm failure policies, plus "none" for Lua (which has no such setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// No failure_policy, no fail_open: Envoy's default.
    Unset,
    Closed,
    Open,
    /// FAIL_RELOAD with the default backoff (1 s base).
    Reload,
    /// FAIL_RELOAD with `reload_config.backoff` set short.
    ReloadShort,
    /// The deprecated `fail_open: true`.
    FailOpenTrue,
    /// Lua: script errors are measured as they are.
    None,
}

impl Policy {
    pub const WASM: [Policy; 6] = [
        Policy::Unset,
        Policy::Closed,
        Policy::Open,
        Policy::Reload,
        Policy::ReloadShort,
        Policy::FailOpenTrue,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Policy::Unset => "unset",
            Policy::Closed => "closed",
            Policy::Open => "open",
            Policy::Reload => "reload",
            Policy::ReloadShort => "reload-short",
            Policy::FailOpenTrue => "fail-open-true",
            Policy::None => "none",
        }
    }

    pub fn from_id(s: &str) -> Option<Policy> {
        Policy::WASM
            .into_iter()
            .chain([Policy::None])
            .find(|p| p.id() == s)
    }

    pub fn label(self, short_backoff: Duration) -> String {
        match self {
            Policy::Unset => "unset (default)".into(),
            Policy::Closed => "FAIL_CLOSED".into(),
            Policy::Open => "FAIL_OPEN".into(),
            Policy::Reload => "FAIL_RELOAD (default 1 s backoff)".into(),
            Policy::ReloadShort => {
                format!("FAIL_RELOAD ({} ms backoff)", short_backoff.as_millis())
            }
            Policy::FailOpenTrue => "fail_open: true (deprecated)".into(),
            Policy::None => "none (Lua)".into(),
        }
    }

    /// The fields merged into the Wasm PluginConfig (envoy.extensions.wasm.v3.PluginConfig).
    pub fn plugin_extra(self, short_backoff: Duration) -> Map<String, Value> {
        let v = match self {
            Policy::Unset | Policy::None => json!({}),
            Policy::Closed => json!({ "failure_policy": "FAIL_CLOSED" }),
            Policy::Open => json!({ "failure_policy": "FAIL_OPEN" }),
            Policy::Reload => json!({ "failure_policy": "FAIL_RELOAD" }),
            Policy::ReloadShort => {
                let d = format!("{:.3}s", short_backoff.as_secs_f64());
                json!({
                    "failure_policy": "FAIL_RELOAD",
                    "reload_config": { "backoff": { "base_interval": d, "max_interval": d } }
                })
            }
            Policy::FailOpenTrue => json!({ "fail_open": true }),
        };
        v.as_object().cloned().unwrap_or_default()
    }
}

/// What a client got for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// 200 with the plugin's configured body: the plugin ran and answered.
    Plugin,
    /// 200 with the upstream's body: the request went past the plugin (or around it) to the upstream.
    Upstream,
    /// A 5xx answered by Envoy itself (the upstream only ever answers 200).
    #[serde(rename = "local_5xx")]
    Local5xx,
    /// Any other complete response (another status, or 200 with an unexpected body).
    OtherStatus,
    /// Refused, reset or closed before a complete response.
    ConnectionError,
    /// No complete response within the client timeout.
    Hang,
}

impl Class {
    pub const ALL: [Class; 6] = [
        Class::Plugin,
        Class::Upstream,
        Class::Local5xx,
        Class::OtherStatus,
        Class::ConnectionError,
        Class::Hang,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Class::Plugin => "plugin reply",
            Class::Upstream => "upstream reply",
            Class::Local5xx => "local 5xx",
            Class::OtherStatus => "other response",
            Class::ConnectionError => "connection error",
            Class::Hang => "hang (timeout)",
        }
    }

    /// The client got a 2xx answer (from the plugin or from the upstream).
    pub fn served(self) -> bool {
        matches!(self, Class::Plugin | Class::Upstream)
    }
}

// ---------------------------------------------------------------------------------------------------
// Results (the `failure` section of results.json, or failure.json of a `failure` run)

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassCounts {
    pub plugin: u64,
    pub upstream: u64,
    pub local_5xx: u64,
    pub other_status: u64,
    pub connection_error: u64,
    pub hang: u64,
}

impl ClassCounts {
    pub fn of(classes: impl IntoIterator<Item = Class>) -> ClassCounts {
        let mut c = ClassCounts::default();
        for k in classes {
            *c.slot(k) += 1;
        }
        c
    }

    fn slot(&mut self, k: Class) -> &mut u64 {
        match k {
            Class::Plugin => &mut self.plugin,
            Class::Upstream => &mut self.upstream,
            Class::Local5xx => &mut self.local_5xx,
            Class::OtherStatus => &mut self.other_status,
            Class::ConnectionError => &mut self.connection_error,
            Class::Hang => &mut self.hang,
        }
    }

    pub fn get(&self, k: Class) -> u64 {
        let mut c = self.clone();
        *c.slot(k)
    }

    pub fn total(&self) -> u64 {
        Class::ALL.iter().map(|k| self.get(*k)).sum()
    }
}

/// One request of a timeline, classified, with Envoy's account of it joined from the access log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub i: usize,
    /// Send time from the start of the timeline, ms.
    pub at_ms: f64,
    pub class: Class,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Only for complete responses; a hang is never a latency sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// `%RESPONSE_CODE_DETAILS%` of the access log line with this request's x-bench-seq.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A plugin of your own: this was the request that makes it fail (`--crash-on`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub crash_request: bool,
}

/// A request picked out of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub i: usize,
    pub at_ms: f64,
    pub class: Class,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Listener name, stat prefix and VM id: `<implementation>-crash<N>-<policy>`.
    pub id: String,
    pub implementation: String,
    pub language: String,
    pub crash_every: u32,
    pub policy: Policy,
    pub policy_label: String,
    /// Exactly what was merged into the Wasm PluginConfig.
    pub plugin_extra: Value,
    pub requests: usize,
    pub counts: ClassCounts,
    /// `%RESPONSE_CODE_DETAILS%` -> count, over requests that were not plugin replies.
    pub details: BTreeMap<String, u64>,
    /// HTTP status -> count, over complete responses.
    pub statuses: BTreeMap<String, u64>,
    /// The first request the plugin did not answer itself (the first visible effect of the first crash).
    pub first_crash: Option<Mark>,
    /// From `first_crash` to the next plugin reply (the plugin works again); null: never within the window.
    pub plugin_back_after_ms: Option<f64>,
    /// The first request that got no 2xx at all (5xx, other, connection error or hang).
    pub first_failed: Option<Mark>,
    /// From `first_failed` to the next 2xx from anyone; null: never within the window (or nothing failed).
    pub served_again_after_ms: Option<f64>,
    /// Slowest complete response, ms.
    pub max_latency_ms: Option<f64>,
    pub envoy_alive: bool,
    pub ready: Ready,
    /// This plugin's stats (`wasm.vm_reload*`, Lua `lua.errors`), read from /stats after the window.
    pub stats: BTreeMap<String, u64>,
    /// Index into `groups` (the Envoy this scenario ran in).
    pub group: usize,
    pub access_log: String,
    pub timeline: Vec<RequestRecord>,
}

/// One Envoy process and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub implementation: String,
    pub listeners: Vec<String>,
    pub config: String,
    pub log: String,
    pub envoy_alive_after: bool,
    pub ready_after: Ready,
    /// Envoy-wide Wasm stats after the window (VMs active and created per runtime, VM count).
    pub wasm_stats: BTreeMap<String, u64>,
    pub stop: StopReport,
    pub wall_s: f64,
}

/// One admin `/ready` probe made while a runaway plugin was spinning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminProbe {
    pub at_ms: f64,
    pub status: Option<u16>,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Runaway {
    pub id: String,
    pub implementation: String,
    pub language: String,
    pub spin: u32,
    pub policy: Policy,
    /// Requests to the spinning plugin's listener.
    pub counts: ClassCounts,
    /// Requests to a plugin-free listener of the same Envoy, sent meanwhile.
    pub neighbour_counts: ClassCounts,
    /// How long Envoy spent on spinning requests, from the access log's %DURATION% (when it logged them).
    pub spin_durations_ms: Vec<f64>,
    /// Two requests, one after the other, to a listener of the same plugin with `spin` = calibration_spin,
    /// before the runaway starts: their latency in ms (null: no plugin reply within 10 s).
    #[serde(default)]
    pub calibration_spin: u32,
    #[serde(default)]
    pub calibration_ms: Vec<Option<f64>>,
    /// The faster calibration request scaled to `spin`: how long one runaway request occupies the worker.
    #[serde(default)]
    pub estimated_ms_per_request: Option<f64>,
    pub admin_probes: Vec<AdminProbe>,
    /// The spinning listener gave no answer within the timeout.
    pub worker_stalled: bool,
    /// The plugin-free listener hung too (one worker: --concurrency 1).
    pub neighbours_stalled: bool,
    /// `/ready` answered 200 while the worker was stuck.
    pub ready_during_stall: bool,
    pub envoy_alive_after: bool,
    pub stop: StopReport,
    pub group: usize,
    pub timeline: Vec<RequestRecord>,
    pub neighbour_timeline: Vec<RequestRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureSettings {
    pub rate_per_s: f64,
    pub window_s: f64,
    pub requests_per_scenario: usize,
    pub timeout_s: f64,
    pub crash_every: Vec<u32>,
    pub policies: Vec<Policy>,
    pub reload_short_backoff_ms: f64,
    pub spin: u32,
    pub runaway_window_s: f64,
    pub runaway_rate_per_s: f64,
    pub neighbour_rate_per_s: f64,
    pub stop_grace_s: f64,
    pub plugin_body: String,
    pub upstream_body: String,
    pub connection: String,
    pub envoy_concurrency: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureSection {
    pub started_at: String,
    pub finished_at: Option<String>,
    /// "complete" or "interrupted".
    pub status: String,
    pub envoy_version: String,
    pub envoy_path: String,
    /// The Wasm runtime every Wasm scenario ran on.
    pub runtime: String,
    /// Where the runner's upstream listened (it is stopped when the scenarios end).
    pub upstream: String,
    pub settings: FailureSettings,
    pub groups: Vec<Group>,
    pub scenarios: Vec<Scenario>,
    pub runaway: Vec<Runaway>,
    pub skipped: Vec<Skipped>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Plugins of your own (`failure --plugin ... --crash-on FILE`): each by file name and sha256,
    /// the stated requests and answer, and what the probe saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own: Option<crate::results::own::OwnSection>,
    /// The request file that makes them fail, and its requests (sent every Nth request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_on: Option<CrashOn>,
}

/// `--crash-on FILE`: the requests a plugin of your own fails on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrashOn {
    pub file: String,
    pub requests: Vec<crate::results::own::RequestRecord>,
}

/// `failure.json` of a standalone `failure` run: the section plus the host it ran on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureRun {
    pub suite_version: String,
    pub host: crate::results::Host,
    pub runner: crate::results::RunnerBuild,
    pub failure: FailureSection,
}

/// The admin `/ready` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ready {
    /// HTTP status; null when the admin interface did not answer within its timeout.
    pub status: Option<u16>,
    pub body: String,
}

/// How Envoy stopped: SIGTERM to its process group, then SIGKILL if it was still running after the grace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopReport {
    /// It had exited before we asked.
    pub already_exited: bool,
    /// It exited within the grace period after SIGTERM.
    pub exited_on_sigterm: bool,
    /// It had to be SIGKILLed.
    pub killed: bool,
    /// From SIGTERM to the process being reaped.
    pub elapsed_ms: f64,
}
