//! `bench-runner report`: re-renders report.md (and the charts and HTML) from a saved run.

use crate::bench::failure;
use crate::error::usage;
use crate::report::answer::{self, OutputFormat};
use crate::results::lifecycle::LifecycleRun;
use crate::{report, results};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// results.json or a run folder (a `curves` folder: re-rendered from its curves.json; an `ab`
    /// folder from its ab.json).
    pub results: PathBuf,
    /// What to print: a run's answer as aligned text (colours on a terminal unless NO_COLOR is
    /// set), Markdown or JSON (for scripts); the full tables are in report.md and report.html.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
}

/// Prints a run's answer on stdout in `format` (text: colours where stdout takes them), then names
/// the files with the full tables on stderr. A run without plugin variants (in-process only) has
/// printed its own table: nothing more in text or Markdown.
pub fn print_answer(r: &results::Results, dir: &Path, format: OutputFormat) {
    let a = answer::answer(r);
    if !a.workloads.is_empty() || format == OutputFormat::Json {
        print!(
            "{}",
            answer::render(&a, format, crate::sys::stdout_colours())
        );
    }
    eprintln!(
        "the full tables and charts: {} and report.html (data: results.json)",
        dir.join("report.md").display()
    );
}

/// `--format` on a folder that is not a run's: only a run has an answer to format.
fn no_format(a: &ReportArgs, what: &str) -> anyhow::Result<()> {
    match a.format {
        Some(f) if f != OutputFormat::Text => Err(usage(format!(
            "--format: {} is {what}, which has no answer to print as {}; give a run's results.json or folder, or leave --format out",
            a.results.display(),
            if f == OutputFormat::Json { "JSON" } else { "Markdown" }
        ))),
        _ => Ok(()),
    }
}

/// `bench-runner report`: a failure run's report, a lifecycle run's, else the run's.
pub fn command(a: &ReportArgs) -> anyhow::Result<u8> {
    if is_named(&a.results, "failure.json") {
        no_format(a, "a failure run")?;
    }
    if let Some(code) = failure::report_command(&a.results)? {
        return Ok(code);
    }
    if is_named(&a.results, "lifecycle.json") {
        no_format(a, "a lifecycle folder")?;
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
        no_format(a, "a curves folder")?;
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
    print_answer(&r, &dir, a.format.unwrap_or(OutputFormat::Text));
    Ok(0)
}

/// Whether `path` is a folder holding `name` (or that file itself) and no run's results.json: a
/// failure run or lifecycle folder rather than a run.
fn is_named(path: &Path, name: &str) -> bool {
    let (json, dir) = if path.is_dir() {
        (path.join(name), path.to_path_buf())
    } else if path.file_name().is_some_and(|n| n == name) {
        (
            path.to_path_buf(),
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        )
    } else {
        return false;
    };
    json.is_file() && !dir.join("results.json").is_file()
}

/// A `lifecycle` folder (or its lifecycle.json): report.md and the charts again, from the file alone.
fn lifecycle_report(path: &Path) -> anyhow::Result<Option<u8>> {
    if !is_named(path, "lifecycle.json") {
        return Ok(None);
    }
    let (json, dir) = if path.is_dir() {
        (path.join("lifecycle.json"), path.to_path_buf())
    } else {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (path.to_path_buf(), dir)
    };
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
