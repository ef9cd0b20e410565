//! calls.json: what each Wasm plugin asks of its host for one request (`bench-runner calls`): every
//! proxy-wasm and WASI call by name with the bytes copied in and out, per workload, and the
//! contract's work as observed. Properties of the modules (their sha256 is kept), not of the machine.

use crate::plugins::config::Work;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const CALLS_SCHEMA_VERSION: u32 = 1;

/// One host function's calls in one request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NamedCount {
    /// `proxy_add_header_map_value`, or `wasi:fd_write` for a WASI function.
    pub call: String,
    pub calls: u64,
    /// Bytes the host read from the plugin's memory for these calls (keys, values, bodies, lines).
    pub bytes_in: u64,
    /// Bytes the host wrote into memory the plugin allocated for the answers.
    pub bytes_out: u64,
}

/// One implementation's calls for one workload's steady-state request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallsRow {
    pub implementation: String,
    pub workload: String,
    /// The contract's work as observed (None when the header operations were not the workload's).
    pub work: Option<Work>,
    /// Why the operations were not the workload's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_error: Option<String>,
    /// Every host function called, sorted by name.
    pub calls: Vec<NamedCount>,
}

impl CallsRow {
    /// (calls, bytes in, bytes out) over every host function.
    pub fn total(&self) -> (u64, u64, u64) {
        self.calls.iter().fold((0, 0, 0), |(c, i, o), n| {
            (c + n.calls, i + n.bytes_in, o + n.bytes_out)
        })
    }

    pub fn count(&self, call: &str) -> u64 {
        self.calls
            .iter()
            .find(|n| n.call == call)
            .map_or(0, |n| n.calls)
    }
}

/// A module the rows were measured on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Module {
    pub implementation: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallsFile {
    pub schema_version: u32,
    pub generated_at: String,
    /// The in-process host and engine the calls were seen on (they do not depend on the engine).
    pub host_engine: String,
    /// Requests before the tabulated one (a runtime's lazy set-up happens on the first).
    pub warm_requests: usize,
    /// Each workload's plugin configuration.
    pub workloads: Vec<(String, String)>,
    pub modules: Vec<Module>,
    pub rows: Vec<CallsRow>,
}

impl CallsFile {
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        Ok(crate::sys::write_atomic(
            path,
            serde_json::to_string_pretty(self)?.as_bytes(),
        )?)
    }

    pub fn read(path: &Path) -> anyhow::Result<CallsFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::error::usage(format!("cannot read {} ({e})", path.display())))?;
        serde_json::from_str(&text).map_err(|e| {
            crate::error::usage(format!(
                "{} is not a calls.json of this version ({e}); re-run `bench-runner calls`",
                path.display()
            ))
        })
    }
}
