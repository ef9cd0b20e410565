//! `compare --charts DIR`: the comparison drawn (the two runs' latency curves overlaid, every compared
//! figure's change with its interval over the noise threshold), written as SVG and PNG.

use super::Comparison;
use crate::report::charts::{comparison_charts, ChangeBar};
use crate::results::Results;
use std::path::{Path, PathBuf};

/// The compared figures of every variant, as the charts take them.
fn bars(c: &Comparison) -> Vec<ChangeBar> {
    c.variants
        .iter()
        .flat_map(|v| {
            v.metrics.iter().map(|m| ChangeBar {
                variant: v.id.clone(),
                metric: m.metric.key().to_string(),
                label: m.metric.label(v.id == crate::results::BASELINE).to_string(),
                unit: m.change_unit.to_string(),
                change: m.change,
                threshold: m.threshold,
                verdict: m.verdict.as_str().to_string(),
            })
        })
        .collect()
}

/// Draws the comparison into `dir` (created if missing); returns the files written, SVG then PNG per
/// chart.
pub fn write(
    dir: &Path,
    base: &Results,
    new: &Results,
    c: &Comparison,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| {
        crate::error::usage(format!(
            "--charts {}: cannot create the folder ({e}); give a folder you can write",
            dir.display()
        ))
    })?;
    let mut written = Vec::new();
    for chart in comparison_charts(base, new, &c.base.path, &c.new.path, &bars(c))? {
        written.extend(chart.write_to(dir).map_err(|e| {
            anyhow::anyhow!(
                "writing the chart {} into {}: {e}",
                chart.stem,
                dir.display()
            )
        })?);
    }
    Ok(written)
}

/// The Markdown lines that link the charts (SVGs), for a PR comment.
pub fn markdown_links(files: &[PathBuf]) -> String {
    let links: Vec<String> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .map(|p| {
            let name = p
                .file_stem()
                .map_or(String::new(), |s| s.to_string_lossy().into_owned());
            format!("[{name}]({})", p.display())
        })
        .collect();
    format!("\nCharts: {}\n", links.join(" · "))
}
