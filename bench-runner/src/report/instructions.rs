//! Instructions per request through Envoy (results.json `instructions`) in report.md, the
//! results region (docs/results.md) and a chart (`chart-instructions`): per variant the worker's instructions per
//! request, the added instructions over the no-plugin listener with their interval and spread between
//! Envoy processes, the other threads and the external processor apart, and, where the same run has
//! the time figure, the CPU time per 1000 added instructions.

use super::charts::{Chart, SimpleBar};
use crate::results::instructions::{InstrVariant, InstructionsSection, LEAVES_OUT};
use crate::results::{Results, BASELINE};
use crate::stats::Estimate;
use std::fmt::Write;

/// "19,402" (thousands separated).
pub fn count(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let n = x.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// "+19,412": [`count`] with its sign (a value that rounds to 0 is "+0").
pub fn signed_count(x: f64) -> String {
    let n = x.round();
    format!("{}{}", if n < 0.0 { '-' } else { '+' }, count(n.abs()))
}

fn signed(x: f64) -> String {
    if x >= 0.0 {
        format!("+{}", count(x))
    } else {
        count(x)
    }
}

/// "+19,402 [+19,380, +19,424]"; "[n/a]" without an interval.
pub fn added_cell(e: &Estimate) -> String {
    if !e.has_interval() {
        return format!("{} [n/a]", signed(e.estimate));
    }
    format!(
        "{} [{}, {}]",
        signed(e.estimate),
        signed(e.ci95_low),
        signed(e.ci95_high)
    )
}

/// The same run's Envoy CPU overhead at saturation per 1000 added instructions, ns (None without
/// the time figure or with fewer than 1000 added instructions).
pub fn ns_per_1000(r: &Results, v: &InstrVariant) -> Option<f64> {
    let added = v.added?.estimate;
    let cpu = r
        .variants
        .iter()
        .find(|s| s.id == v.id)?
        .overhead
        .as_ref()?
        .cpu_us_per_req
        .estimate;
    (added >= 1000.0 && cpu.is_finite()).then(|| cpu * 1000.0 / (added / 1000.0))
}

/// The table of one section, with the run's time per 1000 instructions where it has one.
pub fn table(r: &Results, s: &InstructionsSection) -> String {
    let mut t = String::from("| variant | instructions/request (worker) | added instructions/request [95% CI] | spread between processes | other threads/request | external processor/request | Envoy CPU ns per 1000 added instructions (saturation) |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for v in &s.variants {
        let spread = match (v.added_per_process.len(), v.spread_pct()) {
            (n, Some(p)) => format!(
                "{} ({p:.3}% of the request, {n} processes)",
                count(range(&v.added_per_process))
            ),
            (n, None) => format!("n/a ({n} process)"),
        };
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} |",
            v.id,
            count(v.per_request.estimate),
            v.added.as_ref().map_or("(reference)".into(), added_cell),
            if v.id == BASELINE { "-".into() } else { spread },
            count(v.other_threads_per_request),
            v.processor_per_request.map_or("-".into(), count),
            ns_per_1000(r, v).map_or("-".into(), |x| format!("{x:.1}"))
        );
    }
    t
}

fn range(xs: &[f64]) -> f64 {
    let xs = crate::stats::finite(xs);
    xs.iter().cloned().fold(f64::MIN, f64::max) - xs.iter().cloned().fold(f64::MAX, f64::min)
}

/// How the counts were taken, in one paragraph.
pub fn method(s: &InstructionsSection) -> String {
    let p = &s.protocol;
    format!(
        "Counted by {} (callgrind): Envoy `--concurrency 1` under `{}`, one Envoy per implementation (with its own no-plugin `baseline` and `baseline-aa` listeners) and {} processes of each; after {} uninstrumented warm-up requests per listener, {} windows per listener of {} serial keep-alive requests between `callgrind_control -z` and `-d`, in a shuffled order. The figure is {}; added = the variant's median window minus the baseline's of the same process, mean over processes with a Student's t 95% interval; the spread is the largest minus the smallest process's added count. Envoy kept no `{}` histograms while counting (their bin search follows the latencies seen, which valgrind slows). Status {}, {} Envoy processes in {}.",
        s.tool,
        p.valgrind.iter().take(4).cloned().collect::<Vec<_>>().join(" "),
        p.processes,
        p.warmup_requests,
        p.windows,
        p.requests_per_window,
        p.counted,
        p.excluded_stats.join(", "),
        s.status,
        s.processes.len(),
        crate::results::human_s(s.wall_s)
    )
}

/// The report.md section.
pub fn markdown(r: &Results) -> String {
    let Some(s) = &r.instructions else {
        return String::new();
    };
    let mut out = String::from("## Instructions per request\n\n");
    let _ = writeln!(out, "{}\n", method(s));
    out.push_str(&table(r, s));
    let _ = writeln!(out, "\n{LEAVES_OUT}");
    let _ = writeln!(out, "\nThe last column divides the same run's Envoy CPU overhead at saturation by the added instructions: where it differs between implementations, their instructions retire at different rates (JIT-compiled Wasm, V8's entry and exit, Envoy's C++, LuaJIT), or their cost is outside what is counted.");
    for n in &s.notes {
        let _ = writeln!(out, "\n- {n}");
    }
    out
}

/// The report of an `instructions` folder (no timed figures).
pub fn standalone_markdown(r: &Results, charts: &[(String, String)]) -> String {
    let mut s = format!("# Instructions per request: run of {}\n\n", r.started_at);
    s.push_str(&markdown(r));
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

/// `chart-instructions`: added instructions per request per variant, one panel per workload.
pub fn charts(r: &Results) -> anyhow::Result<Vec<Chart>> {
    let Some(s) = &r.instructions else {
        return Ok(vec![]);
    };
    let workload = |id: &str| {
        crate::results::profile::WORKLOADS
            .iter()
            .find(|w| id.ends_with(&format!("-{w}")))
            .copied()
    };
    let mut panels = vec![];
    for w in crate::results::profile::WORKLOADS {
        let bars: Vec<SimpleBar> = s
            .variants
            .iter()
            .filter(|v| v.added.is_some() && workload(&v.id) == Some(w))
            .map(|v| {
                let e = v.added.unwrap_or(Estimate {
                    estimate: f64::NAN,
                    ci95_low: f64::NAN,
                    ci95_high: f64::NAN,
                });
                SimpleBar {
                    label: v.id.clone(),
                    implementation: s
                        .processes
                        .iter()
                        .find(|p| p.variants.contains(&v.id))
                        .map_or(v.id.clone(), |p| p.group.clone()),
                    group: String::new(),
                    value: e,
                    note: count(e.estimate),
                }
            })
            .collect();
        if !bars.is_empty() {
            panels.push((
                format!("workload {w}"),
                "instructions added per request (Envoy's worker)".to_string(),
                bars,
            ));
        }
    }
    if panels.is_empty() {
        return Ok(vec![]);
    }
    Ok(vec![super::charts::simple_bar_chart(
        "chart-instructions",
        "Instructions each plugin adds per request through Envoy",
        vec![
            "callgrind, Envoy's worker thread, minus the no-plugin listener of the same process"
                .into(),
            format!(
                "bar: mean of {} Envoy processes; whisker: Student's t 95% interval",
                s.protocol.processes
            ),
        ],
        panels,
    )?])
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::count(19402.4), "19,402");
        assert_eq!(super::count(-1234567.0), "-1,234,567");
        assert_eq!(super::count(12.0), "12");
        assert_eq!(super::signed(1000.0), "+1,000");
    }
}
