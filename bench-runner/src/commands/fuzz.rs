//! `bench-runner fuzz`: its flags, and the glue to `bench::fuzz`.

use crate::bench::fuzz::{self, FuzzOptions};
use crate::paths::Project;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct FuzzArgs {
    /// Generated inputs (a configuration and a few requests each).
    #[arg(long, value_name = "N", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub cases: u64,
    /// Seed of the generator: the same seed and count give the same inputs.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Print `{"cases", "divergences", "implementations", "found"}` as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Comma-separated implementations to check (`lua` is the Lua filter); default: all.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
}

impl FuzzArgs {
    /// The engine's options from the flags.
    pub fn options(&self) -> FuzzOptions {
        FuzzOptions {
            cases: self.cases as usize,
            seed: self.seed,
            json: self.json,
            only: self.only.clone(),
        }
    }
}

/// `bench-runner fuzz`.
pub fn command(project: &Project, a: &FuzzArgs) -> anyhow::Result<u8> {
    fuzz::command(project, &a.options())
}
