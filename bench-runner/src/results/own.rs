//! results.json's `own` section: the plugins of your own a run measured (each by file name and
//! sha256, with exactly what Envoy was given), the requests every listener was sent, the answer
//! stated as correct, what the probe saw before any load, and what reached the runner's upstream.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The workload of a plugin of your own: the requests you stated (`<name>-<runtime>-own`).
pub const OWN_WORKLOAD: &str = "own";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OwnSection {
    pub plugins: Vec<OwnRecord>,
    /// The request file (`--request`), or none: `GET /` to localhost.
    pub request_file: Option<String>,
    /// Every listener of the run (the baseline's, the suite's implementations', yours) was sent
    /// these, cycled through in order.
    pub requests: Vec<RequestRecord>,
    /// The answer that counts as correct for your plugins (status, body substring, header).
    pub expect: ExpectRecord,
    /// The first requests, one of each, to every plugin of yours before any load.
    pub probe: Vec<ProbeRecord>,
    /// The runner's upstream every route forwarded to, and what each listener sent it over the
    /// run (probe, rounds and footprint included).
    pub upstream: UpstreamRecord,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OwnRecord {
    pub name: String,
    /// `wasm`, `envoy-lua`, `dynamic-module` or `ext-proc`.
    pub kind: String,
    /// How it was given on the command line.
    pub given: String,
    /// What Envoy loaded (absent for an ext_proc processor).
    pub file: Option<String>,
    /// The file's name, or the processor's address or command: what reports call it.
    pub file_name: String,
    pub sha256: Option<String>,
    pub bytes: Option<u64>,
    /// The configuration handed to it, as given.
    pub configuration: String,
    /// Wasm: `root_id` and the fields merged into `vm_config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_config: Option<serde_json::Value>,
    /// Dynamic module: the filter name Envoy asked the module for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_name: Option<String>,
    /// ext_proc: the processor's loopback address, or the command the runner started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_proc: Option<String>,
    /// Its variant ids in this run.
    pub variants: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub host: String,
    pub headers: Vec<String>,
    pub body_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExpectRecord {
    pub status: u16,
    /// The body must contain this.
    pub body_contains: Option<String>,
    /// `name` or `name: value`.
    pub header: Option<String>,
    /// The whole expectation in words.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProbeRecord {
    pub variant: String,
    /// Index into `requests`.
    pub request: usize,
    pub status: u16,
    /// The body's first 200 characters.
    pub body: String,
    pub body_bytes: usize,
    /// Whether the runner's upstream answered it (the plugin let it through).
    pub reached_upstream: bool,
    pub as_expected: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UpstreamRecord {
    pub addr: String,
    /// What it answers every request with (200).
    pub body: String,
    /// Requests answered per listener (variant id) over the whole run.
    pub served_by_listener: BTreeMap<String, u64>,
}
