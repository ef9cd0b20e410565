//! The merge report as text: a table of workers and the merged row, the window, warnings, problems.

use super::{MergeReport, WorkerRow};

fn cell(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "-".into()
    }
}

fn line(name: &str, w: &WorkerRow) -> String {
    let l = &w.latency_us;
    format!(
        "{name:<24} {:>9} {:>9} {:>7} {:>9.1} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        w.requests,
        w.ok,
        w.errors,
        w.rps,
        cell(l.p50),
        cell(l.p90),
        cell(l.p99),
        cell(l.p999),
        cell(l.max),
        w.start_lag_ms.map_or("-".into(), cell)
    )
}

/// The report for a terminal.
pub fn format(r: &MergeReport) -> String {
    let m = &r.merged;
    let mut out = format!(
        "merged {} worker(s): {} requests ({} ok, {} errors); {:.1} req/s in total",
        r.workers.len(),
        m.requests,
        m.ok,
        m.errors,
        r.total_rps
    );
    if let Some(t) = r.total_intended_rps {
        let each: Vec<String> = r
            .workers
            .iter()
            .filter_map(|w| w.rate_rps.map(|x| format!("{x}")))
            .collect();
        out += &format!(
            " of {t} req/s intended ({} req/s per worker)",
            each.join(" + ")
        );
    }
    out += "\n";
    match &r.common_window {
        Some(w) => {
            out += &format!(
                "common window {} to {} ({:.3} s, {:.0}% of the longest worker window)\n",
                w.start,
                w.end,
                w.seconds,
                w.share_of_longest * 100.0
            )
        }
        None => out += "no common window\n",
    }
    out += &format!(
        "{:<24} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        "worker (latency µs)",
        "requests",
        "ok",
        "errors",
        "req/s",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "late ms"
    );
    for w in &r.workers {
        out += &line(&w.worker_id, w);
    }
    out += &line("merged", m);
    out += &format!(
        "clock: the workers' clocks, each against the target's Date header, {} (bound {:.0} ms)\n",
        match r.clock_disagreement_ms {
            Some(d) if d > 0.0 => format!("differ by at least {d:.0} ms"),
            Some(_) => "agree within the probes' precision".into(),
            None => "were not compared".into(),
        },
        r.clock_bound_ms
    );
    for w in &r.warnings {
        out += &format!("WARNING: {w}\n");
    }
    for p in &r.problems {
        out += &format!("PROBLEM: {p}\n");
    }
    out
}
