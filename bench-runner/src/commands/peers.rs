//! `bench-runner peers`: its flags, and the glue to `bench::peers`.

use super::args::{parse_duration, EnvoyArgs};
use crate::bench::peers::{self, PeersOptions};
use crate::paths::Project;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct PeersArgs {
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Rounds; each round runs every tool at every connection count, in a rotated order.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub rounds: usize,
    /// Measured time per tool and connection count in each round (e.g. 8s, 500ms).
    #[arg(long, default_value = "8s", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// Connection counts to compare at.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,16",
        value_name = "LIST"
    )]
    pub connections: Vec<usize>,
    /// Do not pin Envoy and the tools to separate CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also save the comparison in DIR: peers.json (every sample) and peers.md (the table), for
    /// `bench-runner readme --peers DIR`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl PeersArgs {
    /// The engine's options from the flags.
    pub fn options(&self) -> anyhow::Result<PeersOptions> {
        Ok(PeersOptions {
            envoy: self.envoy.envoy.clone(),
            rounds: self.rounds,
            duration: self.duration,
            connections: self.connections.clone(),
            no_pin: self.no_pin,
            json: self.json,
            out: self.out.clone(),
        })
    }
}

/// `bench-runner peers`.
pub fn command(project: &Project, a: &PeersArgs) -> anyhow::Result<u8> {
    peers::command(project, &a.options()?)
}
