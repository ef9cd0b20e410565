//! Reports rendered from saved results only (so `report` can re-render any run later):
//! report.md, a self-contained report.html, and the charts (SVG and PNG) of a run folder.

pub mod article;
mod canvas;
pub mod charts;
pub mod curves;
pub mod failure;
pub mod html;
pub mod micro;
pub mod peers;

use crate::results::{Results, VariantSummary, BASELINE};
use crate::stats::Estimate;
use std::fmt::Write;
use std::path::Path;

fn f1(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else {
        format!("{x:.1}")
    }
}

/// "+10.2 [9.8, 10.9]"
pub fn est(e: &Estimate) -> String {
    if e.estimate.is_nan() {
        return "n/a".into();
    }
    format!(
        "{:+.1} [{:+.1}, {:+.1}]",
        e.estimate, e.ci95_low, e.ci95_high
    )
}

/// The article's claimed overhead for this variant's implementation, µs ("-" when it has none).
pub fn article_cell(v: &VariantSummary) -> String {
    match article::claim_for(v.implementation()) {
        Some(c) if v.id != BASELINE => format!("{:.0}", c.overhead_us),
        _ => "-".into(),
    }
}

fn overhead_cells(v: &VariantSummary) -> [String; 3] {
    match &v.overhead {
        Some(o) => [est(&o.p50), est(&o.p99), est(&o.cpu_us_per_req)],
        None => [
            "(reference)".into(),
            "(reference)".into(),
            "(reference)".into(),
        ],
    }
}

/// The main table, Markdown.
pub fn summary_table(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| variant | p50 µs | p99 µs | CPU µs/req | max rps | overhead p50 µs [95% CI] | overhead p99 µs [95% CI] | overhead CPU µs/req [95% CI] | article's claim µs (its headers workload) | errors |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for v in charts::ordered(r) {
        let [o50, o99, ocpu] = overhead_cells(v);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            v.id,
            f1(v.latency_us.p50),
            f1(v.latency_us.p99),
            f1(v.cpu_us_per_req),
            v.rps,
            o50,
            o99,
            ocpu,
            article_cell(v),
            v.errors
        );
    }
    s
}

pub fn conditions(r: &Results) -> String {
    let mut s = String::new();
    let p = &r.profile;
    let pin = match (r.host.envoy_cpu, r.host.load_cpu) {
        (Some(e), Some(l)) => format!("Envoy on CPU {e}, load generator on CPU {l}"),
        _ => "not pinned".into(),
    };
    let _ = writeln!(
        s,
        "- started {} ({}), status **{}**",
        r.started_at,
        r.finished_at.as_deref().unwrap_or("unfinished"),
        r.status
    );
    let _ = writeln!(
        s,
        "- host: {} · {} cores · kernel {} · pinning: {pin}",
        r.host.cpu_model, r.host.cores, r.host.kernel
    );
    let _ = writeln!(
        s,
        "- Envoy {} (`{}`, {}), --concurrency {}, Wasm runtimes: {}",
        r.envoy.version,
        r.envoy.version_line,
        r.envoy.found_via,
        r.envoy.concurrency,
        r.envoy.runtimes.join(", ")
    );
    let _ = writeln!(
        s,
        "- profile `{}`: {} rounds, variants shuffled each round; workloads {}; latency phase: open loop {} req/s over {} connections, {} s warm-up + {} s window; saturation phase: closed loop, {} connections, {} s + {} s; seed {}",
        p.name,
        p.rounds,
        p.workloads.join(", "),
        p.latency.rate.unwrap_or(0.0),
        p.latency.connections,
        p.latency.warmup_s,
        p.latency.window_s,
        p.saturation.connections,
        p.saturation.warmup_s,
        p.saturation.window_s,
        p.seed
    );
    let _ = writeln!(
        s,
        "- runner built with cargo profile `{}`, opt-level {}, debug assertions {}",
        r.runner.cargo_profile, r.runner.opt_level, r.runner.debug_assertions
    );
    s
}

/// Workloads of the measured variants, in the profile's order (the baseline's "none" left out).
pub fn workloads(r: &Results) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in charts::ordered(r) {
        if v.id != BASELINE && !out.contains(&v.workload) {
            out.push(v.workload.clone());
        }
    }
    out
}

/// One row of the comparison with the article: an implementation (folder under `plugins/`) on a
/// runtime, its claim, and per workload the variant measured (if any).
pub struct ArticleRow<'a> {
    pub implementation: String,
    pub runtime: Option<String>,
    pub claim: Option<article::Claim>,
    pub per_workload: Vec<Option<&'a VariantSummary>>,
}

/// Rows of the comparison with the article, one per (implementation, runtime) measured in this run.
pub fn article_rows(r: &Results) -> (Vec<String>, Vec<ArticleRow<'_>>) {
    let wls = workloads(r);
    let mut rows: Vec<ArticleRow> = Vec::new();
    for v in charts::ordered(r).into_iter().filter(|v| v.id != BASELINE) {
        if rows
            .iter()
            .any(|x| x.implementation == v.implementation() && x.runtime == v.runtime)
        {
            continue;
        }
        let per_workload = wls
            .iter()
            .map(|w| {
                r.variants.iter().find(|o| {
                    o.implementation() == v.implementation()
                        && o.runtime == v.runtime
                        && &o.workload == w
                        && o.id != BASELINE
                })
            })
            .collect();
        rows.push(ArticleRow {
            implementation: v.implementation().to_string(),
            runtime: v.runtime.clone(),
            claim: article::claim_for(v.implementation()),
            per_workload,
        });
    }
    rows.sort_by_key(|x| x.claim.is_none());
    (wls, rows)
}

/// Markdown table: the article's claim beside our p50 and CPU overhead for each workload.
pub fn article_table(r: &Results) -> String {
    let (wls, rows) = article_rows(r);
    let mut s = String::new();
    let mut head =
        "| implementation | runtime | article's claim µs (headers workload) |".to_string();
    let mut rule = "|---|---|---:|".to_string();
    for w in &wls {
        let _ = write!(
            head,
            " ours `{w}`: p50 overhead µs [95% CI] | ours `{w}`: CPU overhead µs/req [95% CI] |"
        );
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(s, "{head}\n{rule}");
    for row in &rows {
        let _ = write!(
            s,
            "| {} | {} | {} |",
            row.claim.map_or(row.implementation.clone(), |c| format!(
                "{} (`{}`)",
                c.language, row.implementation
            )),
            row.runtime.as_deref().unwrap_or("-"),
            row.claim
                .map_or("-".to_string(), |c| format!("{:.0}", c.overhead_us))
        );
        for v in &row.per_workload {
            match v.and_then(|v| v.overhead.as_ref()) {
                Some(o) => {
                    let _ = write!(s, " {} | {} |", est(&o.p50), est(&o.cpu_us_per_req));
                }
                None => s.push_str(" not measured | not measured |"),
            }
        }
        s.push('\n');
    }
    s
}

/// report.md without chart links (see `markdown_with_charts`).
pub fn markdown(r: &Results) -> String {
    markdown_with_charts(r, &[])
}

/// report.md; `charts` are (file stem, title) of the charts written beside it.
pub fn markdown_with_charts(r: &Results, charts: &[(String, String)]) -> String {
    if r.variants.is_empty() && r.micro.is_some() {
        return micro::standalone_markdown(r, charts);
    }
    let mut s = String::new();
    let _ = writeln!(s, "# Plugin overhead: run of {}\n", r.started_at);
    let _ = writeln!(
        s,
        "Latency percentiles are medians over rounds of the open-loop latency phase; CPU µs/req is Envoy's CPU time per request (all threads; per round the median of short closed-loop slices alternating between the variants); overheads are the median over rounds of (variant − baseline of the same round) with a bootstrap 95% interval.\n"
    );
    s.push_str(&summary_table(r));
    let _ = writeln!(s, "\n## Beside the article's figures\n");
    let _ = writeln!(s, "{}\n", article::SOURCE);
    s.push_str(&article_table(r));
    if !charts.is_empty() {
        let _ = writeln!(s, "\n## Charts\n");
        let _ = writeln!(
            s,
            "All charts are also in `report.html` (self-contained).\n"
        );
        for (stem, title) in charts {
            let _ = writeln!(
                s,
                "- {title}: [{stem}.svg]({stem}.svg), [{stem}.png]({stem}.png)"
            );
        }
        if let Some((stem, title)) = charts
            .iter()
            .find(|c| c.0 == "chart-overhead")
            .or(charts.first())
        {
            let _ = writeln!(s, "\n![{title}]({stem}.svg)");
        }
    }
    let _ = writeln!(s, "\n## Modules\n");
    let _ = writeln!(
        s,
        "| variant | language | runtime | workload | module bytes | sha256 |"
    );
    let _ = writeln!(s, "|---|---|---|---|---:|---|");
    for v in charts::ordered(r) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            v.id,
            v.language,
            v.runtime.as_deref().unwrap_or("-"),
            v.workload,
            v.wasm_bytes.map_or("-".into(), |b| b.to_string()),
            v.wasm_sha256
                .as_deref()
                .map_or("-".to_string(), |h| format!("`{}`", &h[..16.min(h.len())]))
        );
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(s, "\n## Skipped\n");
        for k in &r.skipped {
            let _ = writeln!(s, "- `{}`: {}", k.variant, k.reason);
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "\n## Notes\n");
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    if let Some(f) = &r.failure {
        s.push('\n');
        s.push_str(&failure::markdown(f));
    }
    if r.micro.is_some() {
        s.push('\n');
        s.push_str(&micro::markdown(r));
    }
    let _ = writeln!(s, "\n## Conditions\n");
    s.push_str(&conditions(r));
    s
}

/// Writes every report file of a run folder from its results: the charts (`chart-*.svg` and
/// `chart-*.png`), report.md and report.html.
pub fn write_all(r: &Results, dir: &Path) -> anyhow::Result<()> {
    let mut charts = charts::render_all(r)?;
    charts.extend(micro::charts(r)?);
    for c in &charts {
        crate::sys::write_atomic(&dir.join(format!("{}.svg", c.stem)), c.svg.as_bytes())?;
        crate::sys::write_atomic(&dir.join(format!("{}.png", c.stem)), &c.png)?;
    }
    let refs: Vec<(String, String)> = charts
        .iter()
        .map(|c| (c.stem.clone(), c.title.clone()))
        .collect();
    if let Some(f) = &r.failure {
        failure::write_charts(f, dir)?;
    }
    crate::sys::write_atomic(
        &dir.join("report.md"),
        markdown_with_charts(r, &refs).as_bytes(),
    )?;
    crate::sys::write_atomic(&dir.join("report.html"), html::page(r, &charts).as_bytes())?;
    Ok(())
}
