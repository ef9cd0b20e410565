//! Memory and start-up per implementation (results.json `memory` and `cold_start`) in report.md, the
//! README and two charts (`chart-memory`, `chart-startup`).

use super::charts::{Chart, SimpleBar};
use crate::results::footprint::{ColdStartSection, MemorySection};
use crate::results::{Results, BASELINE};
use crate::stats::Estimate;
use std::fmt::Write;

/// The figure for Istio: a sidecar's memory with Wasm plugins and without.
pub const ISTIO: &str = "Istio's figure (quoted in issue 16): about 60 MB per sidecar with Wasm plugins against about 12 MB without; it is their figure, not a measurement of this run.";

fn scaled(e: &Estimate, k: f64) -> Estimate {
    Estimate {
        estimate: e.estimate * k,
        ci95_low: e.ci95_low * k,
        ci95_high: e.ci95_high * k,
    }
}

/// "1.23 [1.10, 1.36]"; "n/a" bounds when there is no interval.
fn cell(e: &Estimate, p: usize) -> String {
    if !e.estimate.is_finite() {
        return "n/a".into();
    }
    if !e.has_interval() {
        return format!("{:.p$} [n/a]", e.estimate);
    }
    format!(
        "{:.p$} [{:.p$}, {:.p$}]",
        e.estimate, e.ci95_low, e.ci95_high
    )
}

fn mib(e: &Estimate) -> String {
    cell(&scaled(e, 1.0 / 1024.0), 2)
}

fn bytes(b: Option<u64>) -> String {
    b.map_or("-".into(), |b| b.to_string())
}

/// The memory table: the no-plugin Envoy's RSS, then per variant what it adds.
pub fn memory_table(m: &MemorySection) -> String {
    let cs = &m.settings.concurrencies;
    let mut s = String::new();
    let mut head = "| variant | module bytes |".to_string();
    let mut rule = "|---|---:|".to_string();
    for c in cs {
        let _ = write!(head, " RSS added, c={c}, MiB |");
        rule.push_str("---:|");
    }
    head.push_str(" per added worker, MiB | with no worker, MiB | private added, c=1, MiB | growth over the load, c=1, KiB |");
    rule.push_str("---:|---:|---:|---:|");
    let _ = writeln!(s, "{head}\n{rule}");
    let _ = write!(s, "| baseline (its own RSS) | - |");
    for b in &m.baseline {
        let _ = write!(s, " {} |", mib(&b.rss_kb));
    }
    let growth = m.baseline.first().map(|b| cell(&b.growth_kb, 0));
    let _ = writeln!(
        s,
        " - | - | {} | {} |",
        m.baseline
            .first()
            .map_or("n/a".into(), |b| mib(&b.private_kb)),
        growth.unwrap_or_else(|| "n/a".into())
    );
    for v in &m.summaries {
        let _ = write!(s, "| {} | {} |", v.variant, bytes(v.module_bytes));
        for a in &v.at {
            let _ = write!(s, " {} |", mib(&a.added_rss_kb));
        }
        let first = v.at.first();
        let _ = writeln!(
            s,
            " {} | {} | {} | {} |",
            mib(&v.per_worker_kb),
            mib(&v.fixed_kb),
            first.map_or("n/a".into(), |a| mib(&a.added_private_kb)),
            first.map_or("n/a".into(), |a| cell(&a.added_growth_kb, 0))
        );
    }
    let comp: Vec<String> = m
        .summaries
        .iter()
        .flat_map(|v| {
            v.at.iter().filter_map(move |a| {
                a.companion_rss_kb
                    .as_ref()
                    .map(|e| format!("{} at c={}: {} MiB", v.variant, a.concurrency, mib(e)))
            })
        })
        .collect();
    if !comp.is_empty() {
        let _ = writeln!(
            s,
            "\nProcesses besides Envoy (external processors), their own RSS: {}.",
            comp.join("; ")
        );
    }
    s
}

/// The start-up table: per variant, /ready and the first plugin reply at each concurrency.
pub fn cold_start_table(c: &ColdStartSection) -> String {
    let cs = &c.settings.concurrencies;
    let mut s = String::new();
    let mut head = "| variant | module bytes |".to_string();
    let mut rule = "|---|---:|".to_string();
    for k in cs {
        let _ = write!(head, " to /ready, c={k}, ms | to first reply, c={k}, ms |");
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(s, "{head}\n{rule}");
    for v in &c.summaries {
        let _ = write!(s, "| {} | {} |", v.variant, bytes(v.module_bytes));
        for a in &v.at {
            let _ = write!(
                s,
                " {} | {} |",
                cell(&a.ready_ms, 0),
                cell(&a.first_reply_ms, 0)
            );
        }
        s.push('\n');
    }
    let cov = c
        .summaries
        .first()
        .and_then(|v| v.at.first())
        .map_or(f64::NAN, |a| a.ci_coverage);
    let _ = writeln!(
        s,
        "\nMedians over {} Envoy processes per cell; the interval is the order-statistic interval of the median (its exact coverage {:.1}%, below 95% with fewer than 6 processes).",
        c.settings.repetitions,
        cov * 100.0
    );
    s
}

/// Both tables with their explanations, and Istio's figure beside ours.
pub fn tables(r: &Results) -> String {
    let mut s = String::new();
    if let Some(m) = &r.memory {
        let _ = writeln!(
            s,
            "Memory: Envoy's RSS (VmRSS) with one listener running the plugin, every worker having answered through it (each worker's VM ran), minus the no-plugin Envoy of the same repetition and `--concurrency` (private: Private_Clean + Private_Dirty of smaps_rollup, kept beside Pss; both move with the other Envoy processes running at the time, which share the binary's pages, so RSS is the figure to read on a busy machine); the per-worker cost is the slope of a line fitted over the concurrency, \"with no worker\" its intercept (the module, its compiled code, the main thread's VM). Growth: RSS after {} requests at {:.0}/s minus before, the variant's minus the baseline's. Mean over {} repetitions, Student's t 95% interval.\n",
            m.settings.load_requests, m.settings.load_rate, m.settings.repetitions
        );
        s.push_str(&memory_table(m));
        if let Some(b) = m.baseline.first() {
            let with: Vec<String> = m
                .summaries
                .iter()
                .filter_map(|v| {
                    let a = v.at.first()?;
                    Some(format!(
                        "{} {:.1}",
                        v.implementation,
                        (b.rss_kb.estimate + a.added_rss_kb.estimate) / 1024.0
                    ))
                })
                .collect();
            let _ = writeln!(
                s,
                "\n{ISTIO} Ours, one Envoy at `--concurrency {}`: {:.1} MiB without a plugin; with one (MiB): {}.",
                b.concurrency,
                b.rss_kb.estimate / 1024.0,
                with.join(", ")
            );
        }
    }
    if let Some(c) = &r.cold_start {
        let _ = writeln!(
            s,
            "\nStart-up: from spawning Envoy to admin `/ready` answering 200, and to the first response with the plugin's body (asked once ready), beside the bytes Envoy loads.\n"
        );
        s.push_str(&cold_start_table(c));
    }
    s
}

/// The report section.
pub fn markdown(r: &Results) -> String {
    if r.memory.is_none() && r.cold_start.is_none() {
        return String::new();
    }
    format!("## Memory and start-up\n\n{}", tables(r))
}

/// The report of a standalone `footprint` folder.
pub fn standalone_markdown(r: &Results, charts: &[(String, String)]) -> String {
    let mut s = format!("# Memory and start-up: run of {}\n\n", r.started_at);
    for n in &r.notes {
        let _ = writeln!(s, "- {n}");
    }
    s.push('\n');
    s.push_str(&tables(r));
    s.push_str(&super::own::markdown(r));
    for (stem, title) in charts {
        let _ = writeln!(s, "\n![{title}]({stem}.svg)");
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(s, "\n## Skipped\n");
        for k in &r.skipped {
            let _ = writeln!(s, "- `{}`: {}", k.variant, k.reason);
        }
    }
    let _ = writeln!(s, "\n## Conditions\n");
    s.push_str(&super::conditions(r));
    s
}

fn bar(label: &str, implementation: &str, value: Estimate, note: String) -> SimpleBar {
    SimpleBar {
        label: label.to_string(),
        implementation: implementation.to_string(),
        group: String::new(),
        value,
        note,
    }
}

/// `chart-memory` (added RSS per concurrency, and per worker) and `chart-startup`.
pub fn charts(r: &Results) -> anyhow::Result<Vec<Chart>> {
    let mut out = vec![];
    if let Some(m) = &r.memory {
        let mut panels = vec![];
        for (i, c) in m.settings.concurrencies.iter().enumerate() {
            let bars = m
                .summaries
                .iter()
                .filter_map(|v| {
                    let e = scaled(&v.at.get(i)?.added_rss_kb, 1.0 / 1024.0);
                    Some(bar(&v.variant, &v.implementation, e, cell(&e, 2)))
                })
                .collect();
            panels.push((
                format!("--concurrency {c}"),
                "RSS added to the no-plugin Envoy, MiB".to_string(),
                bars,
            ));
        }
        let bars = m
            .summaries
            .iter()
            .map(|v| {
                let e = scaled(&v.per_worker_kb, 1.0 / 1024.0);
                bar(&v.variant, &v.implementation, e, cell(&e, 2))
            })
            .collect();
        panels.push((
            "each added worker (slope over the concurrency)".to_string(),
            "MiB per worker".to_string(),
            bars,
        ));
        out.push(super::charts::simple_bar_chart(
            "chart-memory",
            "Memory each implementation adds to Envoy",
            vec![
                "VmRSS with every worker warmed, minus the no-plugin Envoy of the same repetition and concurrency".into(),
                format!("bar: mean of {} repetitions; whisker: Student's t 95% interval", m.settings.repetitions),
            ],
            panels,
        )?);
    }
    if let Some(c) = &r.cold_start {
        let k = c.settings.concurrencies.first().copied().unwrap_or(1);
        let panel = |what: &str, f: fn(&crate::results::footprint::ColdStartAt) -> Estimate| {
            let bars = c
                .summaries
                .iter()
                .filter_map(|v| {
                    let e = f(v.at.first()?);
                    let size = v
                        .module_bytes
                        .map_or(String::new(), |b| format!(", {} KB", b / 1000));
                    let imp = if v.variant == BASELINE {
                        BASELINE
                    } else {
                        v.implementation.as_str()
                    };
                    Some(bar(&v.variant, imp, e, format!("{}{size}", cell(&e, 0))))
                })
                .collect();
            (
                format!("{what}, --concurrency {k}"),
                "ms from spawning Envoy".to_string(),
                bars,
            )
        };
        out.push(super::charts::simple_bar_chart(
            "chart-startup",
            "Start-up per implementation",
            vec![
                "spawn to admin /ready 200, and to the first response with the plugin's body; module size beside".into(),
                format!("bar: median of {} processes; whisker: order-statistic interval", c.settings.repetitions),
            ],
            vec![panel("to /ready", |a| a.ready_ms), panel("to the first plugin reply", |a| a.first_reply_ms)],
        )?);
    }
    Ok(out)
}
