//! `bench-runner report`: re-renders report.md (and the charts and HTML) from a saved run.

use crate::bench::failure;
use crate::{report, results};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// results.json or a run folder (a `curves` folder: re-rendered from its curves.json).
    pub results: PathBuf,
}

/// `bench-runner report`: a failure run's report, else the run's.
pub fn command(a: &ReportArgs) -> anyhow::Result<u8> {
    if let Some(code) = failure::report_command(&a.results)? {
        return Ok(code);
    }
    let curves_dir = if a.results.file_name().is_some_and(|n| n == "curves.json") {
        a.results.parent().map(|p| p.to_path_buf())
    } else {
        Some(a.results.clone()).filter(|d| d.join("curves.json").is_file())
    };
    if let Some(dir) = curves_dir {
        let run = report::growth::rerender(&dir)?;
        print!("{}", report::growth::fits_table(&run));
        eprintln!("wrote {}", dir.join("report.md").display());
        return Ok(0);
    }
    let r = results::Results::read(&a.results)?;
    let dir = if a.results.is_dir() {
        a.results.clone()
    } else {
        a.results
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default()
    };
    report::write_all(&r, &dir)?;
    print!("{}", report::summary_table(&r));
    eprintln!("wrote {}", dir.join("report.md").display());
    Ok(0)
}
