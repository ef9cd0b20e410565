//! The report of a `curves` run, from curves.json only (points and fits recomputed from the saved
//! rounds, so a re-render gives the same report): report.md, report.html, the charts
//! `curves-headers` and `curves-body`, and the terminal table of slopes and intercepts.

use super::charts::{growth_chart, Chart, GrowthLine, GrowthPanel};
use super::html::esc;
use crate::results::curves::{CurvesRun, Fit, Point};
use crate::stats::Estimate;
use std::fmt::Write;
use std::path::Path;

/// The figures, as the report names them.
const FIGURES: [(&str, &str); 3] = [
    ("cpu_us_per_req", "CPU µs/req at saturation"),
    ("fixed_cpu_us_per_req", "CPU µs/req at the fixed rate"),
    ("p50_us", "p50 µs added"),
];

fn est(e: &Estimate, digits: usize) -> String {
    if !e.estimate.is_finite() {
        return "n/a".into();
    }
    if !e.has_interval() {
        return format!("{:+.digits$} [n/a]", e.estimate);
    }
    format!(
        "{:+.digits$} [{:+.digits$}, {:+.digits$}]",
        e.estimate, e.ci95_low, e.ci95_high
    )
}

fn linear_cell(f: &Fit) -> String {
    match (&f.reason, f.linear) {
        (None, _) => "yes".into(),
        (Some(r), true) => format!("yes ({r})"),
        (Some(r), false) => format!("**no**: {r}"),
    }
}

/// A table: header cells and rows, rendered as markdown or HTML.
struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn markdown(&self) -> String {
        let mut s = format!(
            "| {} |\n|{}\n",
            self.head.join(" | "),
            "---|".repeat(self.head.len())
        );
        for r in &self.rows {
            let _ = writeln!(s, "| {} |", r.join(" | "));
        }
        s
    }

    fn html(&self) -> String {
        let cells = |r: &[String], tag: &str| {
            r.iter()
                .map(|c| format!("<{tag}>{}</{tag}>", esc(c).replace("**", "")))
                .collect::<String>()
        };
        let mut s = format!("<table>\n<tr>{}</tr>\n", cells(&self.head, "th"));
        for r in &self.rows {
            let _ = writeln!(s, "<tr>{}</tr>", cells(r, "td"));
        }
        s.push_str("</table>\n");
        s
    }
}

/// Slopes and intercepts of one axis, one row per implementation and figure.
fn fits_rows(run: &CurvesRun, axis: &str) -> Table {
    let unit = if axis == "headers" {
        "µs per header"
    } else {
        "µs per KiB"
    };
    let mut rows = Vec::new();
    for f in run.fits.iter().filter(|f| f.axis == axis) {
        let name = FIGURES
            .iter()
            .find(|x| x.0 == f.figure)
            .map_or(f.figure.as_str(), |x| x.1);
        rows.push(vec![
            f.implementation.clone(),
            name.into(),
            est(&f.slope, 3),
            est(&f.intercept, 1),
            linear_cell(f),
        ]);
    }
    Table {
        head: vec![
            "implementation".into(),
            "figure".into(),
            format!("slope, {unit} [95%]"),
            "intercept (fixed cost), µs [95%]".into(),
            "linear".into(),
        ],
        rows,
    }
}

/// Every point's three overheads for one axis.
fn points_rows(run: &CurvesRun, axis: &str) -> Table {
    let rows = run
        .points
        .iter()
        .filter(|p| p.axis == axis)
        .map(|p| {
            vec![
                p.implementation.clone(),
                x_label(p),
                est(&p.overhead.cpu_us_per_req, 1),
                est(&p.overhead.fixed_cpu_us_per_req, 1),
                est(&p.overhead.p50_us, 1),
                p.units.to_string(),
            ]
        })
        .collect();
    let mut head = vec!["implementation".to_string(), axis.to_string()];
    head.extend(FIGURES.iter().map(|f| format!("{} [95%]", f.1)));
    head.push("processes".into());
    Table { head, rows }
}

fn x_label(p: &Point) -> String {
    match p.header_count {
        Some(h) => format!("{h}"),
        None => format!("{} B", p.body_bytes),
    }
}

/// The table of docs/curves.md: per implementation and figure, the slope and intercept on both axes.
pub fn readme_table(run: &CurvesRun) -> String {
    let mut s = String::from("| implementation | figure | µs per header [95%] | fixed µs (headers) | linear | µs per KiB [95%] | fixed µs (body) | linear |\n|---|---|---|---|---|---|---|---|\n");
    let find = |imp: &str, axis: &str, fig: &str| {
        run.fits
            .iter()
            .find(|f| f.implementation == imp && f.axis == axis && f.figure == fig)
    };
    let cells = |f: Option<&Fit>| match f {
        Some(f) => {
            let lin = if f.linear { "yes" } else { "**no**" };
            [est(&f.slope, 3), est(&f.intercept, 1), lin.to_string()]
        }
        None => ["-".into(), "-".into(), "-".into()],
    };
    for imp in &run.plan.implementations {
        for (key, name) in FIGURES {
            let [hs, hi, hl] = cells(find(imp, "headers", key));
            let [bs, bi, bl] = cells(find(imp, "body", key));
            let _ = writeln!(
                s,
                "| {imp} | {name} | {hs} | {hi} | {hl} | {bs} | {bi} | {bl} |"
            );
        }
    }
    let off: Vec<String> = run
        .fits
        .iter()
        .filter(|f| !f.linear)
        .map(|f| {
            format!(
                "- {} {} ({}): {}",
                f.implementation,
                f.axis,
                f.figure,
                f.reason.as_deref().unwrap_or("")
            )
        })
        .collect();
    if !off.is_empty() {
        let _ = write!(s, "\nWhere a line does not fit:\n\n{}\n", off.join("\n"));
    }
    s
}

/// The terminal table: CPU at saturation, slope and intercept per implementation and axis.
pub fn fits_table(run: &CurvesRun) -> String {
    let mut s = String::from("implementation   axis     slope [95%] (CPU µs/req at saturation)   intercept µs [95%]   linear\n");
    for f in run.fits.iter().filter(|f| f.figure == "cpu_us_per_req") {
        let unit = if f.axis == "headers" {
            "/header"
        } else {
            "/KiB"
        };
        let _ = writeln!(
            s,
            "{:<16} {:<8} {:<40} {:<20} {}",
            f.implementation,
            f.axis,
            format!("{}{unit}", est(&f.slope, 3)),
            est(&f.intercept, 1),
            if f.linear { "yes" } else { "no" }
        );
    }
    s
}

/// What every figure means and how the points were measured (markdown, one paragraph).
fn method(run: &CurvesRun) -> String {
    format!(
        "Each point is a variant measured by the run engine exactly like `run`'s: {} Envoy processes per group, {} round(s) in all, \
         latency windows interleaved with the no-plugin baseline at {:.0} req/s, CPU slices at saturation and at that fixed rate; \
         a figure is the mean over processes of the per-process overhead with a Student's t 95% interval. Header points run `headers` \
         mode with `header_count` = N (add, read back and remove N headers); body points run `body` mode (buffer the request body, \
         answer its checksum) with a body of that size. Points are measured in groups by body size, one engine run per size, and \
         every listener of a group is sent that body, the baseline's included (with a body it runs Envoy's buffer filter, no plugin, \
         so that it reads the whole body before its `direct_response` answers), so an overhead is the plugin's work, not the bytes on the wire. The line per implementation and figure is fitted \
         per Envoy process (least squares), the slope and intercept are the mean over processes with Student's t; a line fits when \
         the points' residuals over their standard errors give χ²/dof below its 99% quantile. Wasm runtime: {}.\n",
        run.profile.processes,
        run.profile.rounds,
        run.profile.latency.rate.unwrap_or(f64::NAN),
        run.wasm_runtime
    )
}

/// report.md.
pub fn markdown(run: &CurvesRun) -> String {
    let mut s = format!(
        "# Cost as the work grows: curves run of {}\n\n",
        run.started_at
    );
    let _ = writeln!(
        s,
        "Status {} · profile `{}` · Envoy {} · {} ({} cores) · implementations: {}\n",
        run.status,
        run.profile.name,
        run.envoy.version,
        run.host.cpu_model,
        run.host.cores,
        run.plan.implementations.join(", ")
    );
    s.push_str(&method(run));
    for (axis, title, stem) in [
        ("headers", "Per added header", "curves-headers"),
        ("body", "Per KiB of request body", "curves-body"),
    ] {
        let _ = writeln!(s, "\n## {title}\n\n![{title}]({stem}.svg)\n");
        s.push_str(&fits_rows(run, axis).markdown());
        let _ = writeln!(s, "\nPoints:\n");
        s.push_str(&points_rows(run, axis).markdown());
    }
    s.push_str(&footer(run));
    s
}

fn footer(run: &CurvesRun) -> String {
    let mut s = String::from("\n## Plugins\n\n| implementation | language | kind | sha256 | bytes |\n|---|---|---|---|---|\n");
    for p in &run.plugins {
        let _ = writeln!(
            s,
            "| {} | {} | {} | `{}` | {} |",
            p.name, p.language, p.kind, p.sha256, p.bytes
        );
    }
    if !run.skipped.is_empty() {
        s.push_str("\n## Skipped\n\n");
        for k in &run.skipped {
            let _ = writeln!(s, "- {}: {}", k.variant, k.reason);
        }
    }
    s
}

/// report.html: the same tables, the charts inline.
pub fn page(run: &CurvesRun, charts: &[Chart]) -> String {
    let title = format!("Cost as the work grows: curves run of {}", run.started_at);
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        super::html::CSS,
        esc(&title)
    );
    let _ = writeln!(s, "<p>{}</p>", esc(&method(run)).replace('`', ""));
    for (axis, heading) in [
        ("headers", "Per added header"),
        ("body", "Per KiB of request body"),
    ] {
        let _ = writeln!(s, "<h2>{heading}</h2>");
        if let Some(c) = charts.iter().find(|c| c.stem.ends_with(axis)) {
            // in a <figure>, whose CSS scales the chart to the page's width
            let _ = writeln!(s, "<figure>{}</figure>", c.svg);
        }
        s.push_str(&fits_rows(run, axis).html());
        s.push_str(&points_rows(run, axis).html());
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// The two charts, drawn from the points.
pub fn charts(run: &CurvesRun) -> anyhow::Result<Vec<Chart>> {
    let mut out = Vec::new();
    for (axis, stem, x_desc) in [
        (
            "headers",
            "curves-headers",
            "headers added, read and removed",
        ),
        ("body", "curves-body", "request body, KiB"),
    ] {
        let panels = FIGURES
            .iter()
            .map(|(key, name)| GrowthPanel {
                caption: name.to_string(),
                y_desc: "µs added per request".into(),
                lines: lines(run, axis, key),
            })
            .collect();
        out.push(growth_chart(
            stem,
            &format!("Overhead as the work grows ({axis})"),
            vec![
                "line: mean over Envoy processes; band: Student's t 95% interval of each point"
                    .into(),
            ],
            x_desc,
            panels,
        )?);
    }
    Ok(out)
}

fn lines(run: &CurvesRun, axis: &str, figure: &str) -> Vec<GrowthLine> {
    run.plan
        .implementations
        .iter()
        .map(|imp| GrowthLine {
            implementation: imp.clone(),
            points: run
                .points
                .iter()
                .filter(|p| &p.implementation == imp && p.axis == axis)
                .map(|p| {
                    let e = match figure {
                        "cpu_us_per_req" => p.overhead.cpu_us_per_req,
                        "fixed_cpu_us_per_req" => p.overhead.fixed_cpu_us_per_req,
                        _ => p.overhead.p50_us,
                    };
                    (p.x, e.estimate, e.ci95_low, e.ci95_high)
                })
                .collect(),
        })
        .collect()
}

/// Writes report.md, report.html and the charts into `dir` (each atomically).
pub fn write_all(run: &CurvesRun, dir: &Path) -> anyhow::Result<()> {
    let charts = charts(run)?;
    for c in &charts {
        c.write_to(dir)?;
    }
    crate::sys::write_atomic(&dir.join("report.md"), markdown(run).as_bytes())?;
    crate::sys::write_atomic(&dir.join("report.html"), page(run, &charts).as_bytes())?;
    Ok(())
}

/// Recomputes the points and fits of a saved curves.json from its groups and renders the folder.
pub fn rerender(dir: &Path) -> anyhow::Result<CurvesRun> {
    let mut run = CurvesRun::load(&dir.join("curves.json"))?;
    crate::results::curves::derive(&mut run);
    write_all(&run, dir)?;
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real `curves --only rust --headers 0,20 --body 0,1k,16k --processes 2` run (latency curves
    /// left out of its rounds to keep the file small: no figure here reads them).
    fn fixture() -> CurvesRun {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/curves-rust.json");
        CurvesRun::load(&path).unwrap()
    }

    #[test]
    fn every_point_is_recomputed_from_the_saved_rounds_as_it_was_saved() {
        let saved = fixture();
        let mut again = saved.clone();
        again.points.clear();
        again.fits.clear();
        crate::results::curves::derive(&mut again);
        // equal up to the last bits (serde_json's default float parsing is not always exact)
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        assert_eq!(again.points.len(), saved.points.len());
        for (a, b) in again.points.iter().zip(&saved.points) {
            assert_eq!(
                (&a.variant, a.group, a.units),
                (&b.variant, b.group, b.units)
            );
            let (x, y) = (&a.overhead, &b.overhead);
            for (e, f) in [
                (x.cpu_us_per_req, y.cpu_us_per_req),
                (x.fixed_cpu_us_per_req, y.fixed_cpu_us_per_req),
                (x.p50_us, y.p50_us),
            ] {
                assert!(
                    close(e.estimate, f.estimate) && close(e.ci95_low, f.ci95_low),
                    "{a:?}"
                );
                assert!(close(e.ci95_high, f.ci95_high), "{a:?}");
            }
        }
        assert_eq!(again.points.len(), 5);
        assert_eq!(again.fits.len(), 6);
    }

    #[test]
    fn re_rendering_from_curves_json_gives_the_same_report() {
        let mut run = fixture();
        crate::results::curves::derive(&mut run);
        let dir = tempfile::tempdir().unwrap();
        run.write(&dir.path().join("curves.json")).unwrap();
        write_all(&run, dir.path()).unwrap();
        let first = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("curves-body.svg")).unwrap();
        rerender(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("report.md")).unwrap(),
            first
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("report.html")).unwrap(),
            html
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("curves-body.svg")).unwrap(),
            svg
        );
        for needle in [
            "| rust | CPU µs/req at saturation |",
            "Per KiB of request body",
            "16384 B",
        ] {
            assert!(first.contains(needle), "{needle}");
        }
    }

    #[test]
    fn the_saved_run_matches_its_committed_schema() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/curves.schema.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut run = fixture();
        crate::results::curves::derive(&mut run);
        let json = serde_json::to_value(&run).unwrap();
        let v = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn the_readme_table_has_a_row_per_implementation_and_figure() {
        let mut run = fixture();
        crate::results::curves::derive(&mut run);
        let t = readme_table(&run);
        assert_eq!(t.lines().filter(|l| l.starts_with("| rust |")).count(), 3);
        assert!(t.contains("µs per header") && t.contains("µs per KiB"));
    }
}
