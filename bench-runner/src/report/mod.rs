//! Reports rendered from saved results only (so `report` can re-render any run later):
//! report.md, a self-contained report.html, and the charts (SVG and PNG) of a run folder.

pub mod ab;
pub mod answer;
pub mod article;
pub mod breakdown;
pub mod calls;
mod canvas;
pub mod charts;
pub mod curves;
pub mod external;
pub mod failure;
pub mod footprint;
pub mod growth;
pub mod html;
pub mod instructions;
pub mod lifecycle;
pub mod micro;
pub mod own;
pub mod peers;
pub mod precision;

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

/// "+10.2 [9.8, 10.9]"; "+10.2 [n/a]" without an interval (fewer than 2 Envoy processes).
pub fn est(e: &Estimate) -> String {
    if e.estimate.is_nan() {
        return "n/a".into();
    }
    if !e.has_interval() {
        return format!("{:+.1} [n/a]", e.estimate);
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

fn overhead_cells(v: &VariantSummary) -> [String; 4] {
    match &v.overhead {
        Some(o) => [
            est(&o.p50),
            est(&o.p99),
            est(&o.fixed_cpu_us_per_req),
            est(&o.cpu_us_per_req),
        ],
        None => std::array::from_fn(|_| "(reference)".into()),
    }
}

/// The main table, Markdown.
pub fn summary_table(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| variant | p50 µs | p99 µs | CPU µs/req, fixed rate | CPU µs/req, saturation | max rps | added p50 µs [95% CI] | added p99 µs [95% CI] | CPU overhead µs/req, fixed rate [95% CI] | CPU overhead µs/req, saturation [95% CI] | article's claim µs (its headers workload) | errors |"
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for v in charts::ordered(r) {
        let [o50, o99, ofixed, ocpu] = overhead_cells(v);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            v.id,
            f1(v.latency_us.p50),
            f1(v.latency_us.p99),
            f1(v.fixed_cpu_us_per_req),
            f1(v.cpu_us_per_req),
            v.rps,
            o50,
            o99,
            ofixed,
            ocpu,
            article_cell(v),
            v.errors
        );
    }
    s
}

/// Cross-talk: how much each variant's work slows the baseline interleaved with it (its p50 beside the
/// variant minus its p50 beside the A/A listener, per process, mean with a t interval).
pub fn crosstalk_table(r: &Results) -> String {
    let rows: Vec<&VariantSummary> = charts::ordered(r)
        .into_iter()
        .filter(|v| v.overhead.is_some() && v.id != crate::results::BASELINE_AA)
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\nCross-talk: the interleaved baseline's p50 beside each variant minus beside `baseline-aa` (how much the variant's work slows what shares Envoy's worker with it; the added latency above is measured against the baseline as slowed):\n\n| variant | baseline p50 shift µs [95% CI] |\n|---|---:|\n",
    );
    for v in rows {
        if let Some(o) = &v.overhead {
            let _ = writeln!(s, "| {} | {} |", v.id, est(&o.crosstalk_p50));
        }
    }
    s
}

/// The run's health in a few lines: the A/A check, windows that fell behind, load and steal, and
/// whether the run should be trusted.
pub fn health(r: &Results) -> String {
    let Some(h) = &r.health else {
        return String::new();
    };
    let mut s = String::new();
    let aa = h.aa_p50.as_ref().map_or("not measured".to_string(), |e| {
        format!(
            "{} µs p50 ({})",
            est(e),
            if !e.has_interval() {
                "no interval: fewer than 2 Envoy processes"
            } else if e.contains(0.0) {
                "holds 0: passed"
            } else {
                "excludes 0: FAILED"
            }
        )
    });
    let _ = writeln!(
        s,
        "- A/A check (a second no-plugin listener measured like a variant): {aa}"
    );
    let _ = writeln!(
        s,
        "- latency windows that fell behind their schedule: {} of {}{}",
        h.windows_fell_behind,
        h.windows,
        h.windows_measured_again.map_or(String::new(), |n| format!(
            "; measured again because the machine stalled during them (over {:.0}% of the no-plugin side's sends more than 1 ms late; kept in results.json, left out of the estimates): {n}; still stalled after the last of {} retries, and so in the estimates: {}",
            100.0 * crate::results::STALLED_LATE_SHARE,
            crate::results::STALL_RETRIES,
            crate::results::stalled_kept(&r.rounds)
        ))
    );
    if let Some(o) = &h.other_cpu_at_start {
        let _ = writeln!(
            s,
            "- other work on the CPUs in the {:.1} s before the Envoy processes started: {:.2} of {} CPUs (/proc/stat's busy time minus the runner's own processes; warns from {:.2}){}",
            o.seconds,
            o.other_cpus,
            o.cpus,
            crate::results::OTHER_CPU_WARN,
            if o.top.is_empty() {
                String::new()
            } else {
                format!("; most: {}", o.named())
            }
        );
    }
    let _ = writeln!(
        s,
        "- 1-minute load average {:.2} at the start, {:.2} at the end ({} CPUs); CPU steal over the run: {}",
        h.loadavg_start,
        h.loadavg_end,
        h.cpus,
        h.steal_pct
            .map_or("not readable".into(), |x| format!("{x:.1}% (/proc/stat)"))
    );
    if !h.stalls.is_empty() {
        let cells: Vec<String> = h
            .stalls
            .iter()
            .map(|c| {
                format!(
                    "CPU {} at the {}: {:.2}% lost, {} gaps over 1 ms, longest {:.1} ms",
                    c.cpu,
                    c.when,
                    c.lost_pct,
                    c.gaps_over_1ms,
                    c.max_gap_us / 1e3
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "- machine stalls (a spin loop on every CPU, {:.1} s before the Envoy processes and after): {}",
            h.stalls[0].seconds,
            cells.join("; ")
        );
    }
    if !h.phases.is_empty() {
        let total: f64 = h.phases.iter().map(|p| p.seconds).sum();
        let cells: Vec<String> = h
            .phases
            .iter()
            .map(|p| format!("{} {}", p.phase, crate::results::human_s(p.seconds)))
            .collect();
        let _ = writeln!(
            s,
            "- wall time {} (start: every Envoy process started, its Wasm modules compiled): {}",
            crate::results::human_s(total),
            cells.join(", ")
        );
    }
    if h.warnings.is_empty() {
        let _ = writeln!(
            s,
            "- nothing found that says this run should not be trusted"
        );
    } else {
        for w in &h.warnings {
            let _ = writeln!(s, "- **do not trust this run blindly**: {w}");
        }
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
        "- profile `{}`: {} rounds over {} Envoy processes (the units of every interval), variants shuffled each round; workloads {}; latency: each variant interleaved with the baseline on one open-loop schedule of {} req/s, {} connections each, {} s warm-up + {} s window; CPU phase: {} passes per round, each variant a saturation burst of {} requests over {} connections and a fixed-rate burst of {} requests; seed {}",
        p.name,
        p.rounds,
        p.processes,
        p.workloads.join(", "),
        p.latency.rate.unwrap_or(0.0),
        p.latency.connections,
        p.latency.warmup_s,
        p.latency.window_s,
        p.cpu.slices,
        p.cpu.requests,
        p.cpu.connections,
        p.cpu.fixed_requests,
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
        if !is_reference(&v.id) && !out.contains(&v.workload) {
            out.push(v.workload.clone());
        }
    }
    out
}

/// The no-plugin listeners: the baseline and the A/A null check (no workload, not in the article).
pub fn is_reference(id: &str) -> bool {
    id == BASELINE || id == crate::results::BASELINE_AA
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
    for v in charts::ordered(r)
        .into_iter()
        .filter(|v| !is_reference(&v.id))
    {
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
            " ours `{w}`: added p50 µs [95% CI] | ours `{w}`: total p50 µs | ours `{w}`: CPU overhead µs/req, fixed rate [95% CI] |"
        );
        rule.push_str("---:|---:|---:|");
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
            match v.and_then(|v| v.overhead.as_ref().map(|o| (v, o))) {
                Some((v, o)) => {
                    let _ = write!(
                        s,
                        " {} | {} | {} |",
                        est(&o.p50),
                        f1(v.latency_us.p50),
                        est(&o.fixed_cpu_us_per_req)
                    );
                }
                None => s.push_str(" not measured | not measured | not measured |"),
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
    if r.variants.is_empty() && r.memory.is_some() {
        return footprint::standalone_markdown(r, charts);
    }
    if r.variants.is_empty() && r.instructions.is_some() {
        return instructions::standalone_markdown(r, charts);
    }
    let mut s = String::new();
    let _ = writeln!(s, "# Plugin overhead: run of {}\n", r.started_at);
    let a = answer::answer(r);
    if !a.workloads.is_empty() {
        let _ = writeln!(s, "## What each implementation adds to a request\n");
        s.push_str(&answer::markdown(&a));
        if let Some((stem, title)) = charts.iter().find(|c| c.0 == "chart-overhead") {
            let _ = writeln!(s, "![{title}]({stem}.svg)\n");
        }
        let _ = writeln!(s, "## Every figure per variant\n");
    }
    let _ = writeln!(
        s,
        "Latency is measured at a fixed rate, each variant interleaved with the baseline on one open-loop schedule (both see the same moment of machine noise); added latency is the variant's percentile minus the interleaved baseline's, every window of an Envoy process pooled. CPU µs/req is Envoy's CPU time per request (all threads), in two regimes: at the latency phase's fixed rate, where every request pays its own wake-ups, and at saturation (closed loop), where Envoy batches requests and the same plugin costs less. Every overhead is the mean over {} Envoy processes of that process's figure, with a Student's t 95% interval over processes (a re-run is a new process). `baseline-aa` is a second no-plugin listener: its overhead must hold 0.\n",
        r.profile.processes
    );
    if let Some(note) = r
        .variants
        .iter()
        .find_map(|v| v.overhead.as_ref().and_then(|o| o.note.clone()))
    {
        let _ = writeln!(s, "**No intervals in this run** ({note}).\n");
    }
    s.push_str(&summary_table(r));
    s.push_str(&own::markdown(r));
    if r.health.is_some() {
        let _ = writeln!(s, "\n## Run health\n");
        s.push_str(&health(r));
        s.push_str(&crosstalk_table(r));
    }
    let precision = precision::markdown(r);
    if !precision.is_empty() {
        let _ = writeln!(s, "\n## Precision, and what more of it would cost\n");
        s.push_str(&precision);
    }
    let _ = writeln!(s, "\n## Beside the article's figures\n");
    let _ = writeln!(s, "{}\n", article::SOURCE);
    s.push_str(&article_table(r));
    if let Some(note) = external::note(r) {
        let _ = writeln!(s, "\n{note}");
    }
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
            .first()
            .filter(|_| !charts.iter().any(|c| c.0 == "chart-overhead"))
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
                .map_or("-".to_string(), |h| format!(
                    "`{}`",
                    h.chars().take(16).collect::<String>()
                ))
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
    if r.memory.is_some() || r.cold_start.is_some() {
        s.push('\n');
        s.push_str(&footprint::markdown(r));
    }
    if r.instructions.is_some() {
        s.push('\n');
        s.push_str(&instructions::markdown(r));
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
    charts.extend(footprint::charts(r)?);
    charts.extend(instructions::charts(r)?);
    for c in &charts {
        c.write_to(dir)?;
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
