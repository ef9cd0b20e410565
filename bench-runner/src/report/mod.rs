//! Reports rendered from saved results only (so `report` can re-render any run later).

use crate::results::{Results, VariantSummary};
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
        "| variant | p50 µs | p99 µs | CPU µs/req | max rps | overhead p50 µs [95% CI] | overhead p99 µs [95% CI] | overhead CPU µs/req [95% CI] | errors |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for v in &r.variants {
        let [o50, o99, ocpu] = overhead_cells(v);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.0} | {} | {} | {} | {} |",
            v.id,
            f1(v.latency_us.p50),
            f1(v.latency_us.p99),
            f1(v.cpu_us_per_req),
            v.rps,
            o50,
            o99,
            ocpu,
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

pub fn markdown(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Plugin overhead: run of {}\n", r.started_at);
    let _ = writeln!(
        s,
        "Latency percentiles are medians over rounds of the open-loop latency phase; CPU µs/req is Envoy's CPU time per request at saturation; overheads are the median over rounds of (variant − baseline of the same round) with a bootstrap 95% interval.\n"
    );
    s.push_str(&summary_table(r));
    let _ = writeln!(s, "\n## Modules\n");
    let _ = writeln!(
        s,
        "| variant | language | runtime | workload | module bytes | sha256 |"
    );
    let _ = writeln!(s, "|---|---|---|---|---:|---|");
    for v in &r.variants {
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
    let _ = writeln!(s, "\n## Conditions\n");
    s.push_str(&conditions(r));
    s
}

/// Writes every report file of a run folder from its results.
pub fn write_all(r: &Results, dir: &Path) -> anyhow::Result<()> {
    crate::sys::write_atomic(&dir.join("report.md"), markdown(r).as_bytes())?;
    Ok(())
}
