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

/// Absolute figures of one variant: medians over rounds with a bootstrap 95% interval of the median.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub p50_us: Estimate,
    pub p99_us: Estimate,
    pub cpu_us_per_req: Estimate,
    pub rps: Estimate,
    pub rounds: usize,
}

pub fn figures(r: &Results, v: &VariantSummary, seed: u64) -> Figures {
    let mine: Vec<_> = r.rounds.iter().filter(|x| x.variant == v.id).collect();
    let ci = |f: &dyn Fn(&crate::results::RoundRecord) -> f64, s: u64| {
        let xs: Vec<f64> = mine.iter().map(|x| f(x)).collect();
        stats::bootstrap_ci(
            &xs,
            stats::median,
            stats::BOOTSTRAP_RESAMPLES,
            seed.wrapping_add(s),
        )
    };
    Figures {
        p50_us: ci(&|x| x.latency.latency_us.p50, 0),
        p99_us: ci(&|x| x.latency.latency_us.p99, 1),
        cpu_us_per_req: ci(&|x| x.cpu_us_per_req, 2),
        rps: ci(&|x| x.saturation.rps, 3),
        rounds: mine.len(),
    }
}

/// Estimates that can be written as JSON numbers.
pub fn is_finite(e: &Estimate) -> bool {
    e.estimate.is_finite() && e.ci95_low.is_finite() && e.ci95_high.is_finite()
}

pub fn command(a: &ExportOptions) -> anyhow::Result<u8> {
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
