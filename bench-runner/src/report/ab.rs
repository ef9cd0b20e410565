//! The report of an `ab` run, from its ab.json alone: the verdict per implementation and workload
//! (the change of each gated figure with its interval, the instruction change exactly, p99 shown),
//! the builds compared, the gate, the run's health, and a chart of every change over its noise
//! threshold. `summary` is the table printed at the end of the run; `markdown` is report.md and
//! what CI posts on a pull request.

use super::charts::{change_bars_chart, ChangeBar, Chart};
use super::est;
use crate::results::ab::{AbRun, Comparison, MetricChange, IDENTICAL_BUILD, MODE_ENVOY, MODE_OWN};
use std::fmt::Write;
use std::path::Path;

fn metric<'a>(c: &'a Comparison, key: &str) -> Option<&'a MetricChange> {
    c.metrics.iter().find(|m| m.metric == key)
}

/// A time change: "+3.1 [+1.2, +5.0]" (n/a without figures), and its verdict when it has one.
fn time_cell(c: &Comparison, key: &str) -> String {
    match metric(c, key) {
        Some(m) if m.gated && m.verdict != crate::results::ab::UNCHANGED => {
            format!("{} **{}**", est(&m.change), m.verdict)
        }
        Some(m) => est(&m.change),
        None => "-".into(),
    }
}

/// Envoy's CPU change, and an ext_proc variant's processor's beside it.
fn cpu_cell(c: &Comparison) -> String {
    let envoy = time_cell(c, "cpu_us_per_req");
    match metric(c, "processor_cpu_us_per_req") {
        Some(_) => format!(
            "Envoy {envoy}; processor {}",
            time_cell(c, "processor_cpu_us_per_req")
        ),
        None => envoy,
    }
}

/// The instruction change: "+1234 (+1.3%)" with its verdict, or why there is none.
fn instructions_cell(run: &AbRun, c: &Comparison) -> String {
    match metric(c, "instructions_per_req") {
        Some(m) => {
            let v = if m.verdict == crate::results::ab::UNCHANGED {
                String::new()
            } else {
                format!(" **{}**", m.verdict)
            };
            format!("{:+.0} ({:+.2}%){v}", m.change.estimate, m.change_pct)
        }
        None if c.verdict == IDENTICAL_BUILD => "-".into(),
        None if run.instructions.status == "counted" => "not counted".into(),
        None => "-".into(),
    }
}

fn side_name(run: &AbRun, new: bool) -> String {
    let s = if new { &run.new } else { &run.base };
    if run.mode == MODE_ENVOY {
        return format!("Envoy {} ({})", s.envoy.version, s.envoy.path);
    }
    // Two builds of a plugin of your own: each by file name and sha256.
    let own = run.implementations.first().and_then(|i| match new {
        true => i.new.as_ref(),
        false => i.base.as_ref(),
    });
    if let Some(b) = own.filter(|_| run.mode == MODE_OWN) {
        return format!(
            "{} (sha256 {})",
            b.file.as_deref().unwrap_or("-"),
            b.sha256.chars().take(12).collect::<String>()
        );
    }
    match &s.revision {
        Some(r) => format!(
            "{} ({})",
            r.spec,
            r.commit.chars().take(12).collect::<String>()
        ),
        None => "the working tree".into(),
    }
}

/// The verdict table as plain text (what the run prints at the end).
pub fn summary(run: &AbRun) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "ab: base {} vs new {} ({} mode, status {})",
        side_name(run, false),
        side_name(run, true),
        run.mode,
        run.status
    );
    let _ = writeln!(
        s,
        "{:<36} {:<16} {:>30} {:>30} {:>24}",
        "variant",
        "verdict",
        "p50 new-base µs [95%]",
        "CPU new-base µs/req [95%]",
        "instructions/req"
    );
    for c in &run.comparisons {
        let plain = |k: &str| metric(c, k).map_or("-".to_string(), |m| est(&m.change));
        let instr = metric(c, "instructions_per_req").map_or("-".to_string(), |m| {
            format!("{:+.0} ({:+.2}%)", m.change.estimate, m.change_pct)
        });
        let _ = writeln!(
            s,
            "{:<36} {:<16} {:>30} {:>30} {:>24}",
            c.variant,
            c.verdict,
            plain("p50_us"),
            plain("cpu_us_per_req"),
            instr
        );
    }
    s
}

/// report.md.
pub fn markdown(run: &AbRun, charts: &[Chart]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# ab: {} against {}\n",
        side_name(run, true),
        side_name(run, false)
    );
    let regressed = run.regressed();
    let _ = writeln!(
        s,
        "Status **{}**; {}.\n",
        run.status,
        if regressed {
            "**a regression** (exit status 1)"
        } else {
            "no regression"
        }
    );
    what(run, &mut s);
    let _ = writeln!(s, "\n## Verdicts\n");
    let _ = writeln!(
        s,
        "| variant | verdict | added p50 µs, new − base [95%] | CPU µs/req at saturation, new − base [95%] | instructions/req, new − base | p99 µs (not gated) | CPU µs/req at the fixed rate (not gated) | {} |",
        if run.mode == MODE_ENVOY { "process pairs" } else { "processes" }
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|");
    for c in &run.comparisons {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            c.variant,
            c.verdict,
            time_cell(c, "p50_us"),
            cpu_cell(c),
            instructions_cell(run, c),
            time_cell(c, "p99_us"),
            time_cell(c, "fixed_cpu_us_per_req"),
            if c.units > 0 {
                c.units.to_string()
            } else {
                "-".into()
            }
        );
    }
    for c in run.comparisons.iter().filter(|c| c.note.is_some()) {
        let _ = writeln!(
            s,
            "\n- `{}`: {}",
            c.variant,
            c.note.as_deref().unwrap_or("")
        );
    }
    for chart in charts {
        let _ = writeln!(s, "\n![{}]({}.svg)", chart.title, chart.stem);
    }
    builds(run, &mut s);
    if let Some(r) = &run.results {
        let _ = writeln!(s, "\n## The run's health\n\n{}", super::health(r));
    }
    if !run.skipped.is_empty() {
        let _ = writeln!(s, "\n## Skipped\n");
        for k in &run.skipped {
            let _ = writeln!(s, "- `{}`: {}", k.variant, k.reason);
        }
    }
    if !run.notes.is_empty() {
        let _ = writeln!(s, "\n## Notes\n");
        for n in &run.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

/// What was compared, how, and the gate.
fn what(run: &AbRun, s: &mut String) {
    let p = &run.profile;
    if run.mode == MODE_ENVOY {
        let _ = writeln!(
            s,
            "The same plugin builds in two Envoy binaries: {} Envoy processes started one after the other, alternating base and new (ABAB), each pair of processes one unit of every interval. Each figure is the variant's cost against the no-plugin baseline of its own process (the baseline row: its own figures).",
            p.processes
        );
    } else {
        let _ = writeln!(
            s,
            "Both builds of each changed implementation loaded side by side in each of {} Envoy processes (`<variant>@base`, `<variant>@new`): every latency window interleaves the new build with the base build on one schedule; every CPU pass measures each pair base, new, new, base (or the mirror), and the CPU figure is Envoy's {} only. Each process is one unit of every interval.",
            p.processes,
            match p.cpu_thread.as_deref() {
                Some(_) => "worker thread",
                None => "threads together",
            }
        );
    }
    let g = &run.gate;
    let _ = writeln!(
        s,
        "\nThe gate: a figure regresses (or improves) when Holm's test over all {} gated time figures rejects \"no change\" at {:.0}% family-wise and the change exceeds its noise threshold (p50 {} µs, CPU {} µs/request at saturation); instructions per request, when counted, when they change by more than {}% of the base's. p99 and the fixed-rate CPU are shown, not gated. Processes are combined with a {}. Profile `{}`: {} processes, latency windows {} s at {} requests/s, {} CPU pass(es) per process.",
        g.family,
        100.0 * g.family_alpha,
        g.p50_us,
        g.cpu_us,
        g.instructions_pct,
        g.estimator,
        p.name,
        p.processes,
        p.latency.window_s,
        p.latency.rate.map_or("closed-loop".to_string(), |r| format!("{r:.0}")),
        p.cpu.slices
    );
    match run.instructions.status.as_str() {
        "counted" => {}
        _ => {
            let _ = writeln!(
                s,
                "\nInstructions: not counted ({}).",
                run.instructions
                    .reason
                    .as_deref()
                    .unwrap_or("no reason recorded")
            );
        }
    }
}

/// The builds compared, per implementation.
fn builds(run: &AbRun, s: &mut String) {
    if run.implementations.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n## Builds\n");
    let _ = writeln!(
        s,
        "| implementation | kind | base sha256 (bytes, from) | new sha256 (bytes, from) | status |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    let b = |x: &Option<crate::results::ab::BuildInfo>| match x {
        Some(b) => format!(
            "{}`{}` ({}, {})",
            b.file
                .as_deref()
                .map_or(String::new(), |f| format!("`{f}` ")),
            b.sha256.chars().take(12).collect::<String>(),
            b.bytes,
            b.origin
        ),
        None => "-".into(),
    };
    for i in &run.implementations {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {}{} |",
            i.name,
            i.kind,
            b(&i.base),
            b(&i.new),
            i.status,
            i.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
}

/// The chart of every gated and shown time change over its threshold.
pub fn charts(run: &AbRun) -> anyhow::Result<Vec<Chart>> {
    let mut bars = Vec::new();
    let mut imps = Vec::new();
    for c in &run.comparisons {
        for m in c
            .metrics
            .iter()
            .filter(|m| m.metric != "instructions_per_req")
        {
            bars.push(ChangeBar {
                variant: c.variant.clone(),
                metric: m.metric.clone(),
                label: match m.metric.as_str() {
                    "p50_us" => "added p50 µs (gated)",
                    "cpu_us_per_req" => "CPU µs/req at saturation (gated)",
                    "p99_us" => "p99 µs (not gated)",
                    "processor_cpu_us_per_req" => "external processor CPU µs/req (gated)",
                    _ => "CPU µs/req at the fixed rate (not gated)",
                }
                .into(),
                unit: "us".into(),
                change: m.change,
                threshold: m.threshold,
                verdict: m.verdict.clone(),
            });
        }
        imps.push((c.variant.clone(), c.implementation.clone()));
    }
    let subtitle = vec![
        format!("BASE {}", side_name(run, false)),
        format!("NEW {}", side_name(run, true)),
    ];
    Ok(change_bars_chart(
        "ab-changes",
        "ab: every change, new − base, with its 95% interval (grey band: the noise threshold)",
        &subtitle,
        &bars,
        &imps,
    )?
    .into_iter()
    .collect())
}

/// Writes report.md and the charts into `dir` (each atomically).
pub fn write_all(run: &AbRun, dir: &Path) -> anyhow::Result<()> {
    let charts = charts(run)?;
    for c in &charts {
        c.write_to(dir)?;
    }
    crate::sys::write_atomic(&dir.join("report.md"), markdown(run, &charts).as_bytes())?;
    Ok(())
}

/// Recomputes the comparisons of a saved ab.json from its rounds and renders the folder.
pub fn rerender(dir: &Path) -> anyhow::Result<AbRun> {
    let mut run = AbRun::load(&dir.join("ab.json"))?;
    crate::results::ab::derive(&mut run);
    write_all(&run, dir)?;
    Ok(run)
}
