//! `bench-runner merge FILES...`: several load workers' `--save-histograms` files (or pod logs holding
//! them between the marker lines) as one measurement. Exit 0: merged, every worker measured without
//! errors; 1: merged, but a worker failed or saw errors, or the windows do not overlap (each named);
//! 2: a file cannot be read or is not a worker file (named).

use crate::bench::merge::{self, Input};
use crate::error::usage;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Worker files written by `load --save-histograms FILE`, or logs with one between the markers
    /// (`kubectl logs` of a worker pod).
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn read(file: &std::path::Path) -> anyhow::Result<Input> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| usage(format!("{name}: cannot read it: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| usage(format!("{name}: not text, so not a worker file")))?;
    let record =
        crate::load::worker::parse(&text).map_err(|why| usage(format!("{name}: {why}")))?;
    Ok(Input { file: name, record })
}

/// `bench-runner merge`.
pub fn command(a: &MergeArgs) -> anyhow::Result<u8> {
    let mut inputs: Vec<Input> = Vec::new();
    for f in &a.files {
        let i = read(f)?;
        if let Some(same) = inputs.iter().find(|o| {
            o.record.meta.worker_id == i.record.meta.worker_id
                && o.record.meta.clock.wall_start == i.record.meta.clock.wall_start
        }) {
            return Err(usage(format!(
                "{} and {} hold the same worker's run ({}): give each worker's file once",
                same.file, i.file, i.record.meta.worker_id
            )));
        }
        inputs.push(i);
    }
    let report = merge::merge(&inputs)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", merge::format(&report));
    }
    for p in &report.problems {
        eprintln!("merge: {p}");
    }
    Ok(if report.problems.is_empty() { 0 } else { 1 })
}
