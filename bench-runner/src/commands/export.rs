//! `bench-runner export`: its flags, and the glue to `export`.

use crate::export::{self, ExportOptions, Format};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// bmf: Bencher Metric Format; github-action-benchmark: `customSmallerIsBetter` entries (latency,
    /// CPU, overheads); github-action-benchmark-bigger: `customBiggerIsBetter` entries (throughput).
    #[arg(long, value_enum)]
    pub format: Format,
    /// results.json or a run folder.
    pub results: PathBuf,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl ExportArgs {
    /// The engine's options from the flags.
    pub fn options(&self) -> ExportOptions {
        ExportOptions {
            format: self.format,
            results: self.results.clone(),
            out: self.out.clone(),
        }
    }
}

/// `bench-runner export`.
pub fn command(a: &ExportArgs) -> anyhow::Result<u8> {
    export::command(&a.options())
}
