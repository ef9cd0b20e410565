//! `bench-runner instructions`: its flags, and the glue to the counting of `bench::measure`.

use super::args::EnvoyArgs;
use crate::bench::instructions::Protocol;
use crate::bench::instructions::DEFAULT;
use crate::bench::measure::{self, InstrOptions};
use crate::paths::Project;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct InstructionsArgs {
    /// Comma-separated implementations to include (e.g. `rust,lua`); the baseline is always counted.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Workloads to count (mock, headers; default both).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub workloads: Option<Vec<String>>,
    /// Envoy processes per implementation (the units of the spread and of every interval; 2 or more
    /// for an interval).
    #[arg(long, value_name = "N", default_value_t = DEFAULT.processes)]
    pub processes: usize,
    /// Serial keep-alive requests per window (between callgrind's zero and dump).
    #[arg(long, value_name = "N", default_value_t = DEFAULT.requests)]
    pub requests: u64,
    /// Windows per listener and process.
    #[arg(long, value_name = "N", default_value_t = DEFAULT.windows)]
    pub windows: usize,
    /// Envoy processes counted at once (counts do not depend on the load; default: 2).
    #[arg(long, value_name = "N", default_value_t = DEFAULT.jobs)]
    pub jobs: usize,
    /// Run folder to write (default: results/<timestamp>-instructions/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Seed for the order of the listeners in each window.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Add `spin: K` to every plugin's configuration (deterministic extra work per request).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub spin: u32,
    /// Rebuild plugins even when their sources did not change.
    #[arg(long)]
    pub rebuild: bool,
}

/// `bench-runner instructions`.
pub fn command(project: &Project, a: &InstructionsArgs) -> anyhow::Result<u8> {
    if a.jobs == 0 {
        return Err(crate::error::usage("--jobs must be at least 1"));
    }
    if a.spin > crate::bench::failure::MAX_SPIN {
        return Err(crate::error::usage(format!(
            "--spin {}: the plugins take at most {} rounds",
            a.spin,
            crate::bench::failure::MAX_SPIN
        )));
    }
    measure::instructions_run(
        project,
        &InstrOptions {
            only: a.only.clone(),
            workloads: a.workloads.clone(),
            out: a.out.clone(),
            envoy: a.envoy.envoy.clone(),
            protocol: Protocol {
                requests: a.requests,
                windows: a.windows,
                warmup: DEFAULT.warmup,
                processes: a.processes,
                jobs: a.jobs,
            },
            seed: a.seed,
            spin: a.spin,
            rebuild: a.rebuild,
        },
    )?;
    Ok(0)
}
