//! `bench-runner reproduce A B`: do two runs of the same code land inside each other's intervals?

use crate::compare::reproduce;
use crate::results::Results;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ReproduceArgs {
    /// Run A, then run B: results.json files or run folders of independent runs of the same code.
    #[arg(num_args = 2, required = true, value_names = ["A", "B"])]
    pub runs: Vec<PathBuf>,
    /// Also write DIR/reproducibility.json and DIR/reproducibility.md (for `readme --reproducibility`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Relative threshold of the instruction counts: `instructions=X` (% of A's instructions per
    /// request of the listener; default that of `compare`).
    #[arg(long, value_delimiter = ',', value_name = "instructions=PCT")]
    pub threshold_pct: Vec<String>,
}

/// `bench-runner reproduce`.
pub fn command(a: &ReproduceArgs) -> anyhow::Result<u8> {
    if let Some(dir) = &a.out {
        crate::sys::check_out_dir("--out", dir, &[])?;
    }
    if let Some(bad) = a
        .threshold_pct
        .iter()
        .find(|t| !t.trim().starts_with("instructions="))
    {
        return Err(crate::error::usage(format!(
            "--threshold-pct `{bad}`: reproduce takes only instructions=PCT (time figures are checked against their intervals)"
        )));
    }
    let pct =
        match crate::compare::Thresholds::from_flags(&[], &a.threshold_pct, false)?.instructions {
            crate::compare::Threshold::Pct(p) | crate::compare::Threshold::Us(p) => p,
        };
    let [ra, rb] = [&a.runs[0], &a.runs[1]];
    let (x, y) = (Results::read(ra)?, Results::read(rb)?);
    let c = reproduce::coverage(
        &x,
        &y,
        &ra.display().to_string(),
        &rb.display().to_string(),
        pct,
    );
    if c.figures.is_empty() {
        return Err(crate::error::usage(format!(
            "{} and {}: no figure has an interval in both runs (runs of fewer than 2 Envoy processes, or no plugin in common)",
            ra.display(),
            rb.display()
        )));
    }
    let md = reproduce::markdown(&c);
    print!("{md}");
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).map_err(|e| {
            crate::error::usage(format!("--out {}: cannot create ({e})", dir.display()))
        })?;
        crate::sys::write_atomic(
            &dir.join("reproducibility.json"),
            serde_json::to_string_pretty(&c)?.as_bytes(),
        )?;
        crate::sys::write_atomic(&dir.join("reproducibility.md"), md.as_bytes())?;
        eprintln!("wrote {}", dir.join("reproducibility.json").display());
    }
    Ok(0)
}
