//! The report of a `lifecycle` run (from lifecycle.json only): a terminal table, report.md and the
//! charts (failed requests per swap and time to switch per implementation and swap kind; the RSS
//! trend per swap).

use super::charts::{simple_bar_chart, simple_bar_chart_whiskers, SimpleBar};
use crate::results::lifecycle::*;
use crate::stats::Estimate;
use std::fmt::Write;
use std::path::Path;

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

fn est(e: &Estimate) -> String {
    if e.has_interval() {
        format!("{:.1} [{:.1}, {:.1}]", e.estimate, e.ci95_low, e.ci95_high)
    } else if e.estimate.is_finite() {
        format!("{:.1} [n/a]", e.estimate)
    } else {
        "-".into()
    }
}

/// The swap figures, one line per implementation and swap kind.
pub fn table(l: &LifecycleSection) -> String {
    let mut s = String::from(
        "| implementation | swap | swaps | requests | failed | failed/swap | swaps with failures | switch ms (median / max) | not switched | keep-alive closed / failed | p99 ms in / out window | max ms in / out | RSS KiB before → after | RSS KiB/swap [95%] |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for i in &l.implementations {
        for r in &i.swaps {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {:.2} | {} | {} / {} | {} | {} / {} | {} / {} | {} / {} | {} → {} | {} |",
                i.implementation,
                r.mode,
                r.swaps_done,
                r.requests,
                r.failed.total,
                r.failed_per_swap_mean,
                r.swaps_with_failures,
                opt(r.switch_ms_median, 1),
                opt(r.switch_ms_max, 1),
                r.swaps_not_switched,
                r.keepalive.connections_closed,
                r.keepalive.failed,
                opt(r.latency_inside.p99_ms, 1),
                opt(r.latency_outside.p99_ms, 1),
                opt(r.latency_inside.max_ms, 1),
                opt(r.latency_outside.max_ms, 1),
                r.rss_before_kib.map_or("-".into(), |v| v.to_string()),
                r.rss_after_kib.map_or("-".into(), |v| v.to_string()),
                est(&r.rss_slope_kib_per_swap),
            );
        }
    }
    s
}

fn remote_md(l: &LifecycleSection) -> String {
    let mut s = String::from(
        "| implementation | module bytes | load ms (median [min, max]) | case | first plugin reply ms | /ready 200 after ms | /ready at the end | Envoy alive | client outcomes | log |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for i in &l.implementations {
        let Some(r) = &i.remote else { continue };
        for c in &r.cases {
            let outcomes: Vec<String> = c
                .outcomes
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            let line = c.log_lines.last().map_or("-".into(), |l| {
                let l: String = l.chars().take(160).collect();
                format!("`{}`", l.replace('|', "\\|").replace('`', "'"))
            });
            let _ = writeln!(
                s,
                "| {} | {} | {} [{}, {}] | {} | {} | {} | {} {} | {} | {} | {} |",
                i.implementation,
                r.module_bytes,
                opt(r.load_ms_median, 0),
                opt(r.load_ms_min, 0),
                opt(r.load_ms_max, 0),
                c.id,
                opt(c.first_plugin_reply_ms, 0),
                opt(c.ready_after_ms, 0),
                c.ready.status.map_or("-".into(), |v| v.to_string()),
                c.ready.body.replace('|', "\\|"),
                c.envoy_alive,
                outcomes.join(", "),
                line
            );
        }
    }
    s
}

/// report.md's body.
pub fn markdown(l: &LifecycleSection) -> String {
    let st = &l.settings;
    let mut s = format!(
        "Envoy {} ({}), Wasm runtime {}; status {}.\n\n## Remote module load\n\n",
        l.envoy_version, l.envoy_path, l.runtime, l.status
    );
    s.push_str(&remote_md(l));
    let _ = write!(
        s,
        "\n## Swaps under load\n\n{} swaps per run, one every {:.0} ms, under an open loop of {} requests/s (one fresh connection each, {:.0} ms timeout) and {} keep-alive clients (a request every {:.0} ms each). \"Inside the window\": requests sent within {:.0} ms after a swap. Failed: non-200, a body of neither version, connection errors, timeouts.\n\n",
        st.swaps, st.swap_interval_ms, st.rate_per_s, st.timeout_ms, st.keepalive_clients, st.keepalive_period_ms, st.swap_window_ms
    );
    s.push_str(&table(l));
    s.push_str("\n![failed requests and time to switch](chart-lifecycle.svg)\n\n![RSS per swap](chart-lifecycle-rss.svg)\n");
    if !l.skipped.is_empty() {
        s.push_str("\n## Not run\n\n");
        for k in &l.skipped {
            let _ = writeln!(
                s,
                "- {}: {}",
                k.variant,
                k.reason.lines().next().unwrap_or("")
            );
        }
    }
    s.push_str("\n## Notes\n\n");
    for n in &l.notes {
        let _ = writeln!(s, "- {n}");
    }
    s
}

fn bar(i: &ImplLifecycle, r: &SwapRun, value: Estimate, note: String) -> SimpleBar {
    SimpleBar {
        label: format!("{} · {}", i.implementation, r.mode),
        implementation: i.implementation.clone(),
        group: r.mode.clone(),
        value,
        note,
    }
}

fn point(x: f64) -> Estimate {
    Estimate {
        estimate: x,
        ci95_low: x,
        ci95_high: x,
    }
}

/// Writes `chart-lifecycle` (failed requests per swap, time to switch) and `chart-lifecycle-rss`
/// (RSS slope per swap with its interval).
pub fn write_charts(l: &LifecycleSection, dir: &Path) -> anyhow::Result<()> {
    let runs: Vec<(&ImplLifecycle, &SwapRun)> = l
        .implementations
        .iter()
        .flat_map(|i| i.swaps.iter().map(move |r| (i, r)))
        .collect();
    if runs.is_empty() {
        return Ok(());
    }
    let failed = runs
        .iter()
        .map(|(i, r)| {
            bar(
                i,
                r,
                point(r.failed_per_swap_mean),
                format!("{} failed in {} swaps", r.failed.total, r.swaps_done),
            )
        })
        .collect();
    let switch = runs
        .iter()
        .map(|(i, r)| {
            let m = r.switch_ms_median.unwrap_or(f64::NAN);
            let e = Estimate {
                estimate: m,
                ci95_low: m,
                ci95_high: r.switch_ms_max.unwrap_or(m),
            };
            bar(i, r, e, format!("max {}", opt(r.switch_ms_max, 0)))
        })
        .collect();
    let sub = vec![format!(
        "{} swaps each, {} requests/s open loop; whisker of the switch time: median to max",
        l.settings.swaps, l.settings.rate_per_s
    )];
    simple_bar_chart_whiskers(
        "chart-lifecycle",
        "Plugin swaps under load",
        sub.clone(),
        vec![
            (
                "Failed requests per swap (mean)".into(),
                "requests".into(),
                failed,
            ),
            (
                "Time until every response is the new version (median)".into(),
                "ms".into(),
                switch,
            ),
        ],
        "switch time: median to max",
    )?
    .write_to(dir)?;
    let rss = runs
        .iter()
        .map(|(i, r)| {
            let note = format!(
                "{} → {} KiB",
                r.rss_before_kib.map_or("-".into(), |v| v.to_string()),
                r.rss_after_kib.map_or("-".into(), |v| v.to_string())
            );
            bar(i, r, r.rss_slope_kib_per_swap, note)
        })
        .collect();
    simple_bar_chart(
        "chart-lifecycle-rss",
        "Envoy RSS over the swaps",
        vec!["least-squares slope of VmRSS per swap, 95% interval".into()],
        vec![("RSS change per swap".into(), "KiB per swap".into(), rss)],
    )?
    .write_to(dir)?;
    Ok(())
}

/// Writes report.md and the charts of a lifecycle run into `dir`.
pub fn write_report(run: &LifecycleRun, dir: &Path) -> anyhow::Result<()> {
    write_charts(&run.lifecycle, dir)?;
    let mut md = format!(
        "# Plugin lifecycle: run of {}\n\n",
        run.lifecycle.started_at
    );
    md.push_str(&markdown(&run.lifecycle));
    if let Some(o) = &run.lifecycle.own {
        md.push_str(&super::own::section(o));
    }
    let _ = write!(
        md,
        "\n- host: {} · {} cores · kernel {}\n- runner built with cargo profile `{}`, opt-level {}\n",
        run.host.cpu_model, run.host.cores, run.host.kernel, run.runner.cargo_profile, run.runner.opt_level
    );
    crate::sys::write_atomic(&dir.join("report.md"), md.as_bytes())?;
    Ok(())
}
