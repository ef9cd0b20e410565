//! `bench-runner conformance`: its flags, and the glue to `bench::conformance`.

use super::args::EnvoyArgs;
use crate::bench::conformance::{self, ConformanceOptions};
use crate::paths::Project;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ConformanceArgs {
    /// Case file (JSON array, SPEC section 2); default: plugins/conformance/cases.json.
    #[arg(long, value_name = "FILE")]
    pub cases: Option<PathBuf>,
    /// Comma-separated implementations to check (`lua` is the Lua filter).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
}

impl ConformanceArgs {
    /// The engine's options from the flags.
    pub fn options(&self) -> ConformanceOptions {
        ConformanceOptions {
            cases: self.cases.clone(),
            only: self.only.clone(),
            envoy: self.envoy.envoy.clone(),
        }
    }
}

/// `bench-runner conformance`.
pub fn command(project: &Project, a: &ConformanceArgs) -> anyhow::Result<u8> {
    conformance::command(project, &a.options())
}
