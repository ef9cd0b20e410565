//! `bench-runner report`: re-renders report.md (and the charts and HTML) from a saved run.

use crate::bench::failure;
use crate::error::usage;
use crate::results::lifecycle::LifecycleRun;
use crate::{report, results};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// results.json or a run folder (a `curves` folder: re-rendered from its curves.json; an `ab`
    /// folder from its ab.json).
    pub results: PathBuf,
}

/// `bench-runner report`: a failure run's report, a lifecycle run's, else the run's.
pub fn command(a: &ReportArgs) -> anyhow::Result<u8> {
    if let Some(code) = failure::report_command(&a.results)? {
        return Ok(code);
    }
    if let Some(code) = lifecycle_report(&a.results)? {
        return Ok(code);
    }
    let ab_dir = if a.results.file_name().is_some_and(|n| n == "ab.json") {
        a.results.parent().map(|p| p.to_path_buf())
    } else {
        Some(a.results.clone()).filter(|d| d.join("ab.json").is_file())
    };
    if let Some(dir) = ab_dir {
        let run = report::ab::rerender(&dir)?;
        print!("{}", report::ab::summary(&run));
        eprintln!("wrote {}", dir.join("report.md").display());
        return Ok(0);
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

/// A `lifecycle` folder (or its lifecycle.json): report.md and the charts again, from the file alone.
fn lifecycle_report(path: &Path) -> anyhow::Result<Option<u8>> {
    let (json, dir) = if path.is_dir() {
        (path.join("lifecycle.json"), path.to_path_buf())
    } else if path.file_name().is_some_and(|n| n == "lifecycle.json") {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (path.to_path_buf(), dir)
    } else {
        return Ok(None);
    };
    if !json.is_file() || dir.join("results.json").is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&json)
        .map_err(|e| usage(format!("cannot read {} ({e})", json.display())))?;
    let run: LifecycleRun = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "{}: not a lifecycle.json of this version ({e}); re-run `bench-runner lifecycle`",
            json.display()
        ))
    })?;
    report::lifecycle::write_report(&run, &dir)?;
    eprintln!("wrote {}", dir.join("report.md").display());
    Ok(Some(0))
}
