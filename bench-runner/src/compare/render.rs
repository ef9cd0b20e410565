//! Renders a [`Comparison`] as a text table (terminal, CI log) or Markdown (PR comment, job summary).
//! JSON is the serde form of [`Comparison`] itself.

use super::{Comparison, Metric, MetricChange, RunRef, Threshold, VariantComparison};
use crate::compare::stats::Verdict;
use std::fmt::Write;

fn value(m: &MetricChange, x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    match m.quantity {
        "added_instructions_per_request" => format!("{x:+.0}"),
        "instructions_per_request" => format!("{x:.0}"),
        "rps_pct_of_baseline" => format!("{x:.1}%"),
        "rps" => format!("{x:.0}"),
        q if q.starts_with("overhead") => format!("{x:+.1}"),
        _ => format!("{x:.1}"),
    }
}

/// "+1.7 [-0.4, +3.9]" (µs) or "-2.3% [-8.0, +3.1]"; "(no interval)" with fewer than 2 rounds a side.
pub fn change(m: &MetricChange) -> String {
    let e = &m.change;
    if e.estimate.is_nan() {
        return "n/a".into();
    }
    let pct = if m.change_unit == "pct" { "%" } else { "" };
    if m.metric == Metric::Instructions {
        return format!("{:+.3}% of the request (exact count)", e.estimate);
    }
    if !e.has_interval() {
        return format!("{:+.1}{pct} (no interval: < 2 Envoy processes)", e.estimate);
    }
    format!(
        "{:+.1}{pct} [{:+.1}, {:+.1}]",
        e.estimate, e.ci95_low, e.ci95_high
    )
}

fn noise(m: &MetricChange) -> String {
    match (m.metric, m.threshold_setting) {
        (Metric::Rps, _) => format!("±{:.1}%", m.threshold),
        (Metric::Instructions, _) => format!("±{}%", m.threshold),
        (_, Threshold::Us(_)) => format!("±{:.1}", m.threshold),
        (_, Threshold::Pct(p)) => format!("±{:.1} ({p}%)", m.threshold),
    }
}

fn name(v: &VariantComparison) -> String {
    if v.gated {
        v.id.clone()
    } else {
        format!("{} (context, not gated)", v.id)
    }
}

const HEADER: [&str; 7] = [
    "variant",
    "figure",
    "BASE",
    "NEW",
    "change [95% CI]",
    "noise",
    "verdict",
];

fn rows(c: &Comparison, markdown: bool) -> Vec<[String; 7]> {
    let mut out = Vec::new();
    for v in &c.variants {
        for (i, m) in v.metrics.iter().enumerate() {
            let verdict = match (m.verdict, markdown && v.gated) {
                (Verdict::Regressed, true) => "**regressed**".to_string(),
                (x, _) => x.as_str().to_string(),
            };
            out.push([
                if i == 0 || markdown {
                    name(v)
                } else {
                    String::new()
                },
                m.metric.label(!v.gated).to_string(),
                value(m, m.base),
                value(m, m.new),
                change(m),
                noise(m),
                verdict,
            ]);
        }
    }
    out
}

/// "started …, profile quick, 5 rounds, Envoy 1.40.0, CPU model"
fn run_desc(r: &RunRef) -> String {
    format!(
        "started {}, profile {}, {} rounds, Envoy {}, {}{}",
        r.started_at,
        r.profile,
        r.rounds,
        r.envoy_version,
        r.cpu_model,
        if r.status == "complete" {
            String::new()
        } else {
            format!(", status {}", r.status)
        }
    )
}

/// One line: the outcome.
pub fn summary(c: &Comparison) -> String {
    let gated: Vec<&MetricChange> = c
        .variants
        .iter()
        .filter(|v| v.gated)
        .flat_map(|v| &v.metrics)
        .collect();
    let unchanged = gated
        .iter()
        .filter(|m| m.verdict == Verdict::Unchanged)
        .count();
    let thresholds = format!("thresholds: {}", c.mode);
    if c.regressions == 0 {
        return format!(
            "no regression: {} improved, {unchanged} unchanged over {} variant(s); {thresholds}",
            c.improvements,
            c.variants.iter().filter(|v| v.gated).count()
        );
    }
    let list: Vec<String> = c
        .variants
        .iter()
        .filter(|v| v.gated)
        .flat_map(|v| {
            v.metrics
                .iter()
                .filter(|m| m.verdict == Verdict::Regressed)
                .map(move |m| format!("{} {} {}", v.id, m.metric.label(false), change(m)))
        })
        .collect();
    format!(
        "REGRESSION: {} figure(s) regressed ({}); {thresholds}",
        c.regressions,
        list.join("; ")
    )
}

const GATES: &str = "A regression needs both gates: the 95% interval of the change excludes 0 and the change exceeds the noise threshold. \
Plugin rows compare overheads versus the baseline measured with them, one figure per Envoy process, with Welch's interval over the two runs' processes; the baseline row compares absolute figures and never fails the comparison.";

fn notes(c: &Comparison) -> Vec<String> {
    let mut n = c.notes.clone();
    if !c.only_in_base.is_empty() {
        n.push(format!(
            "only in BASE (not compared): {}",
            c.only_in_base.join(", ")
        ));
    }
    if !c.only_in_new.is_empty() {
        n.push(format!(
            "only in NEW (not compared): {}",
            c.only_in_new.join(", ")
        ));
    }
    n
}

pub fn text(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "BASE  {} ({})", c.base.path, run_desc(&c.base));
    let _ = writeln!(s, "NEW   {} ({})\n", c.new.path, run_desc(&c.new));
    let body = rows(c, false);
    let mut width = HEADER.map(|h| h.chars().count());
    for r in &body {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(width).enumerate() {
            let pad = w - cell.chars().count();
            // text columns left-aligned, numbers right-aligned
            if matches!(i, 0 | 1 | 6) {
                l.push_str(cell);
                l.push_str(&" ".repeat(pad));
            } else {
                l.push_str(&" ".repeat(pad));
                l.push_str(cell);
            }
            l.push_str("  ");
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(s, "{}", line(HEADER));
    for r in &body {
        let _ = writeln!(
            s,
            "{}",
            line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6]].map(String::as_str))
        );
    }
    let _ = writeln!(s, "\n{}", summary(c));
    let _ = writeln!(s, "{GATES}");
    let notes = notes(c);
    if !notes.is_empty() {
        let _ = writeln!(s, "notes:");
        for n in notes {
            let _ = writeln!(s, "  - {n}");
        }
    }
    s
}

pub fn markdown(c: &Comparison) -> String {
    let mut s = String::new();
    let title = if c.regressions > 0 {
        format!("{} regression(s)", c.regressions)
    } else {
        "no regression".to_string()
    };
    let _ = writeln!(s, "### Plugin benchmark comparison: {title}\n");
    let _ = writeln!(s, "- BASE: `{}` ({})", c.base.path, run_desc(&c.base));
    let _ = writeln!(s, "- NEW: `{}` ({})\n", c.new.path, run_desc(&c.new));
    let _ = writeln!(s, "| {} |", HEADER.join(" | "));
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---|");
    for r in rows(c, true) {
        let cells: Vec<String> = r.iter().map(|x| x.replace('|', "\\|")).collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(s, "\n{}\n", summary(c));
    let _ = writeln!(s, "{GATES}");
    let notes = notes(c);
    if !notes.is_empty() {
        let _ = writeln!(s, "\n<details><summary>Notes ({})</summary>\n", notes.len());
        for n in notes {
            let _ = writeln!(s, "- {n}");
        }
        let _ = writeln!(s, "\n</details>");
    }
    s
}
