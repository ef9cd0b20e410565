//! The `micro.instructions` section of results.json: instructions per request of each plugin
//! in-process (plugin-host under callgrind), per implementation, engine and workload, and where they
//! go: the plugin's Wasm code (split by the module's function names where it has them), each
//! proxy-wasm or WASI host call, the engine's entry and exit and its built-ins, and the host's own
//! request driver. Counted, not timed: the same on a loaded machine.

use crate::results::Skipped;
use serde::{Deserialize, Serialize};

/// The groups parts belong to, in the order tables and charts show them.
pub const GROUPS: [&str; 5] = ["guest", "host call", "engine", "host", "unattributed"];

/// How the counts were taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionSettings {
    /// Workloads counted: mock, headers, body.
    pub workloads: Vec<String>,
    /// Requests each VM answers before counting starts (JIT code and lazy translation warm).
    pub warmup_requests: u64,
    /// Requests between one zero and one dump of the counters.
    pub requests_per_window: u64,
    /// Windows per (implementation, engine, workload), one after the other in one VM.
    pub windows: usize,
    /// The plugin's `spin` (extra deterministic work per request), 0 normally.
    pub spin: u64,
    /// Bytes of the `body` workload's request body (one chunk).
    pub body_bytes: usize,
    /// `valgrind --version`.
    pub valgrind: String,
    /// The options valgrind ran with.
    pub valgrind_options: Vec<String>,
    /// Callers callgrind keeps per function (`--separate-callers`): a part is decided from these.
    pub context_depth: usize,
}

/// One part of a request's instructions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Stable id: `guest:plugin`, `guest:runtime`, `host:proxy_get_header_map_value`, `engine:entry`...
    pub id: String,
    /// One of [`GROUPS`].
    pub group: String,
    /// What it is, for a reader.
    pub label: String,
    /// Instructions per request (the windows' mean).
    pub per_request: f64,
    /// Of which in copy and fill functions (`memcpy`, `memmove`, `memset`), per request.
    pub copies_per_request: f64,
    /// Calls per request (host calls only: how often the plugin called it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls_per_request: Option<f64>,
}

/// One of the guest's most expensive functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestFunction {
    /// Its name-section name, else `function[N]` (its index).
    pub name: String,
    /// The part it is counted in (`guest:plugin`, ...).
    pub part: String,
    /// Its own instructions per request (callees not included).
    pub per_request: f64,
}

/// The counts of one implementation on one engine under one workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionEntry {
    pub implementation: String,
    pub language: String,
    pub engine: String,
    pub workload: String,
    pub wasm_sha256: String,
    /// Every instruction of each window (the raw data; per request = these / requests_per_window).
    pub window_instructions: Vec<u64>,
    /// Mean over windows, per request.
    pub per_request: f64,
    /// (largest window - smallest) / mean, percent.
    pub window_spread_pct: f64,
    /// Where the instructions went, per request; they add up to `per_request`.
    pub parts: Vec<Part>,
    /// The guest's functions with the largest own cost (JIT engines only), per request.
    pub guest_functions: Vec<GuestFunction>,
    /// The module's compiled functions (None on wasmi, where no function has machine code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<usize>,
    /// Of which with a name in the module's name section (0: a stripped module, its code unnamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_functions: Option<usize>,
}

impl InstructionEntry {
    pub fn part(&self, id: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.id == id)
    }

    /// Instructions per request of every part of `group`.
    pub fn group(&self, group: &str) -> f64 {
        self.parts
            .iter()
            .filter(|p| p.group == group)
            .map(|p| p.per_request)
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionSection {
    pub settings: InstructionSettings,
    pub entries: Vec<InstructionEntry>,
    /// (implementation, engine, workload) combinations not counted, with why.
    pub skipped: Vec<Skipped>,
}

impl InstructionSection {
    pub fn find(
        &self,
        implementation: &str,
        engine: &str,
        workload: &str,
    ) -> Option<&InstructionEntry> {
        self.entries.iter().find(|e| {
            e.implementation == implementation && e.engine == engine && e.workload == workload
        })
    }
}
