//! `export --format FORMAT RESULTS`: one saved results.json in a format other tools ingest, so users
//! can track the suite in bencher.dev or github-action-benchmark. One small file per format behind
//! [`Exporter`]; everything is computed from the saved results (summaries and raw rounds).

pub mod bmf;
pub mod gab;

use crate::results::{Results, VariantSummary};
use crate::stats::{self, Estimate};
use clap::ValueEnum;
use std::path::PathBuf;

/// What `export` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// bmf: Bencher Metric Format; github-action-benchmark: `customSmallerIsBetter` entries (latency,
    /// CPU, overheads); github-action-benchmark-bigger: `customBiggerIsBetter` entries (throughput).
    pub format: Format,
    /// results.json or a run folder.
    pub results: PathBuf,
    /// Write to this file (atomically) instead of stdout.
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Bmf,
    GithubActionBenchmark,
    GithubActionBenchmarkBigger,
}

/// One output format.
pub trait Exporter {
    /// The document for `r` (JSON text, ending with a newline).
    fn render(&self, r: &Results) -> anyhow::Result<String>;
}

pub fn exporter(f: Format) -> Box<dyn Exporter> {
    match f {
        Format::Bmf => Box::new(bmf::Bmf),
        Format::GithubActionBenchmark => Box::new(gab::Gab {
            bigger_is_better: false,
        }),
        Format::GithubActionBenchmarkBigger => Box::new(gab::Gab {
            bigger_is_better: true,
        }),
    }
}

/// Absolute figures of one variant: means over Envoy processes of each process's figure, with a
/// Student's t 95% interval over processes (the estimator of `run` and `compare`).
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub p50_us: Estimate,
    pub p99_us: Estimate,
    pub cpu_us_per_req: Estimate,
    pub rps: Estimate,
    pub rounds: usize,
}

pub fn figures(r: &Results, v: &VariantSummary) -> Figures {
    let u = crate::results::units(&r.rounds, &r.pooled, &v.id);
    Figures {
        p50_us: stats::unit_interval(&u.abs_p50),
        p99_us: stats::unit_interval(&u.abs_p99),
        cpu_us_per_req: stats::unit_interval(&u.abs_cpu),
        rps: stats::unit_interval(&u.abs_rps),
        rounds: r.rounds.iter().filter(|x| x.variant == v.id).count(),
    }
}

/// Estimates that can be written as JSON numbers.
pub fn is_finite(e: &Estimate) -> bool {
    e.estimate.is_finite() && e.has_interval()
}

pub fn command(a: &ExportOptions) -> anyhow::Result<u8> {
    if let Some(out) = &a.out {
        crate::sys::check_out_file("--out", out)?;
    }
    let r = Results::read(&a.results)?;
    let text = exporter(a.format).render(&r)?;
    match &a.out {
        Some(path) => {
            crate::sys::write_atomic(path, text.as_bytes()).map_err(|e| {
                crate::error::usage(format!(
                    "--out {}: cannot write ({e}); check the folder exists and is writable",
                    path.display()
                ))
            })?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(0)
}
