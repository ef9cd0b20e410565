//! `bench-runner footprint`: its flags, and the glue to `bench::footprint`.

use super::args::EnvoyArgs;
use crate::bench::footprint::{self, FootprintOptions};
use crate::paths::Project;
use crate::results::profile::ProfileName;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct FootprintArgs {
    /// Size preset: concurrencies and repetitions (quick 1,2 x 2; default 1,2,4 x 3; full 1,2,4 x 10).
    #[arg(long, value_enum, default_value = "default")]
    pub profile: ProfileName,
    /// Comma-separated implementations to include (e.g. `rust,lua`); the baseline is always measured.
    /// With plugins of your own (below): the suite's implementations to measure beside them (none
    /// without `--only`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Run folder to write (default: results/<timestamp>-footprint/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Override the profile's Envoy processes per variant and concurrency (2 or more for an interval).
    #[arg(long, value_name = "N")]
    pub repetitions: Option<usize>,
    /// Override the profile's Envoy `--concurrency` values (comma-separated worker counts).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub concurrency: Option<Vec<u32>>,
    /// Seed for the order of the variants within a repetition.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub own: Box<super::own::OwnArgs>,
}

/// `bench-runner footprint`.
pub fn command(project: &Project, a: &FootprintArgs) -> anyhow::Result<u8> {
    footprint::command(
        project,
        &FootprintOptions {
            profile: a.profile,
            only: a.only.clone(),
            out: a.out.clone(),
            envoy: a.envoy.envoy.clone(),
            repetitions: a.repetitions,
            concurrency: a.concurrency.clone(),
            seed: a.seed,
            own: a.own.plan(project)?,
        },
    )
}
