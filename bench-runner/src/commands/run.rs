//! `bench-runner run`: its flags, and the glue from them to the run matrix (`bench::measure`).

use super::args::EnvoyArgs;
use crate::baseline;
use crate::bench::measure::{self, RunOptions};
use crate::paths::Project;
use crate::results::profile::ProfileName;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value = "default")]
    pub profile: ProfileName,
    /// Comma-separated implementations to include (e.g. `rust,lua`); the baseline is always measured.
    /// With plugins of your own (below): the suite's implementations to measure beside them (none
    /// without `--only`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Run folder to write (default: results/<timestamp>-<profile>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Override the profile's number of rounds (in all, spread over the Envoy processes).
    #[arg(long, value_name = "N")]
    pub rounds: Option<usize>,
    /// Override the profile's number of Envoy processes the rounds are spread over (the units of
    /// every interval: at least 2 for an interval).
    #[arg(long, value_name = "N")]
    pub processes: Option<usize>,
    /// Override the profile's workloads (mock, headers).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub workloads: Option<Vec<String>>,
    /// Override the latency phase's open-loop rate (requests/s).
    #[arg(long, value_name = "RPS")]
    pub rate: Option<f64>,
    /// Seed for the round orders and the interleaving of latency windows.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Do not pin Envoy and the load generator to separate CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// First port for Envoy (admin, then one listener per variant); default: free ports from the kernel.
    #[arg(long, value_name = "PORT")]
    pub base_port: Option<u16>,
    /// Rebuild plugins even when their sources did not change.
    #[arg(long)]
    pub rebuild: bool,
    /// Add `spin: K` to every plugin's configuration (deterministic extra CPU work per request, to
    /// calibrate regression detection); 0 = none.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub spin: u32,
    /// After a successful run, copy its results.json and report.md to results/baselines/NAME/ (for
    /// `compare --baseline NAME`).
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Measure over HTTP/2 (h2c, prior knowledge, one stream per connection) instead of HTTP/1.1.
    #[arg(long)]
    pub http2: bool,
    #[command(flatten)]
    pub own: Box<super::own::OwnArgs>,
}

impl RunArgs {
    /// The engine's options from the flags.
    pub fn options(&self) -> RunOptions {
        RunOptions {
            profile: self.profile,
            only: self.only.clone(),
            out: self.out.clone(),
            envoy: self.envoy.envoy.clone(),
            rounds: self.rounds,
            processes: self.processes,
            workloads: self.workloads.clone(),
            rate: self.rate,
            seed: self.seed,
            no_pin: self.no_pin,
            base_port: self.base_port,
            rebuild: self.rebuild,
            spin: self.spin,
            save_baseline: self.save_baseline.clone(),
            http2: self.http2,
            own: None,
        }
    }
}

/// `bench-runner run` (also a bare `bench-runner`): the matrix, then the optional baseline copy.
pub fn command(project: &Project, a: &RunArgs) -> anyhow::Result<u8> {
    if let Some(name) = &a.save_baseline {
        baseline::validate_name("--save-baseline", name)?;
    }
    let mut options = a.options();
    options.own = a.own.plan(project)?;
    let dir = measure::run(project, &options)?;
    if let Some(name) = &a.save_baseline {
        let saved = baseline::save(project, name, &dir)?;
        eprintln!("saved baseline `{name}` to {}", project.rel(&saved));
    }
    Ok(0)
}

/// `run` with every flag at clap's default: what a bare `bench-runner` does.
pub fn default_args() -> RunArgs {
    #[derive(clap::Parser)]
    struct Only {
        #[command(flatten)]
        args: RunArgs,
    }
    <Only as clap::Parser>::parse_from(["run"]).args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_run_has_the_defaults_the_hand_written_copy_had() {
        let a = default_args();
        assert_eq!(a.profile, ProfileName::Default);
        assert_eq!((a.seed, a.spin), (1, 0));
        assert!(a.only.is_none() && a.out.is_none() && a.envoy.envoy.is_none());
        assert!(a.rounds.is_none() && a.workloads.is_none() && a.rate.is_none());
        assert!(a.base_port.is_none() && a.save_baseline.is_none());
        assert!(!a.no_pin && !a.rebuild && !a.http2);
    }
}
