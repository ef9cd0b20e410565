//! The in-process micro-benchmarks (`micro` section of results.json) in report.md: per-request cost
//! per implementation x engine beside the Envoy figures of the same run, configuration parse and
//! instantiation costs, which engine ran which module, and one chart per engine.

use crate::results::micro::{MicroEntry, MicroSection};
use crate::results::Results;
use crate::stats::Estimate;
use std::fmt::Write;

/// "1.23 [1.20, 1.27]" with precision that suits the magnitude.
pub fn cell(e: &Estimate) -> String {
    if !e.estimate.is_finite() {
        return "n/a".into();
    }
    let p = if e.estimate < 10.0 {
        2
    } else if e.estimate < 100.0 {
        1
    } else {
        0
    };
    format!(
        "{:.p$} [{:.p$}, {:.p$}]",
        e.estimate, e.ci95_low, e.ci95_high
    )
}

fn scaled(e: &Estimate, k: f64) -> Estimate {
    Estimate {
        estimate: e.estimate * k,
        ci95_low: e.ci95_low * k,
        ci95_high: e.ci95_high * k,
    }
}

/// Implementations in first-seen order.
fn implementations(m: &MicroSection) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for x in m.modules.iter().map(|x| x.implementation.as_str()) {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

fn entry_cell(m: &MicroSection, imp: &str, engine: &str, bench: &str, wl: &str, k: f64) -> String {
    match m.find(imp, engine, bench, wl) {
        Some(MicroEntry { us_per_op, .. }) => cell(&scaled(us_per_op, k)),
        None => match m
            .modules
            .iter()
            .find(|x| x.implementation == imp && x.engine == engine)
        {
            Some(x) if x.error.is_some() => "cannot run".into(),
            _ => "not measured".into(),
        },
    }
}

/// The Envoy CPU overhead of the same implementation and workload, per Wasm runtime of this run.
fn envoy_cells(r: &Results, imp: &str, wl: &str) -> String {
    let cells: Vec<String> = r
        .variants
        .iter()
        .filter(|v| v.workload == wl && v.id.starts_with(&format!("{imp}-")) && v.runtime.is_some())
        .filter(|v| v.id == format!("{imp}-{}-{wl}", v.runtime.as_deref().unwrap_or_default()))
        .filter_map(|v| {
            v.overhead.as_ref().map(|o| {
                format!(
                    "{}: {}",
                    v.runtime.as_deref().unwrap_or("?"),
                    super::est(&o.cpu_us_per_req)
                )
            })
        })
        .collect();
    if cells.is_empty() {
        "-".into()
    } else {
        cells.join("; ")
    }
}

/// Per-request cost, µs, rows implementation x workload, one column per engine, then Envoy's.
pub fn request_table(m: &MicroSection, r: &Results) -> String {
    let mut s = String::new();
    let mut head = "| implementation | workload |".to_string();
    let mut rule = "|---|---|".to_string();
    for e in &m.engines {
        let _ = write!(head, " {} µs/request [95% CI] |", e.id);
        rule.push_str("---:|");
    }
    head.push_str(" through Envoy: CPU overhead µs/req [95% CI] |");
    rule.push_str("---:|");
    let _ = writeln!(s, "{head}\n{rule}");
    for wl in &m.settings.workloads {
        for imp in implementations(m) {
            let _ = write!(s, "| {imp} | {wl} |");
            for e in &m.engines {
                let _ = write!(s, " {} |", entry_cell(m, imp, &e.id, "request", wl, 1.0));
            }
            let _ = writeln!(s, " {} |", envoy_cells(r, imp, wl));
        }
    }
    s
}

fn per_engine_table(m: &MicroSection, bench: &str, labels: &[&str], unit: &str, k: f64) -> String {
    let mut s = String::new();
    let mut head = "| implementation | input |".to_string();
    let mut rule = "|---|---|".to_string();
    for e in &m.engines {
        let _ = write!(head, " {} {unit} [95% CI] |", e.id);
        rule.push_str("---:|");
    }
    let _ = writeln!(s, "{head}\n{rule}");
    for label in labels {
        for imp in implementations(m) {
            let _ = write!(s, "| {imp} | {label} |");
            for e in &m.engines {
                let _ = write!(s, " {} |", entry_cell(m, imp, &e.id, bench, label, k));
            }
            s.push('\n');
        }
    }
    s
}

fn modules_table(m: &MicroSection) -> String {
    let mut s = String::new();
    let mut head = "| implementation | module bytes |".to_string();
    let mut rule = "|---|---:|".to_string();
    for e in &m.engines {
        let _ = write!(head, " {} |", e.id);
        rule.push_str("---|");
    }
    let _ = writeln!(s, "{head}\n{rule}");
    for imp in implementations(m) {
        let bytes = m
            .modules
            .iter()
            .find(|x| x.implementation == imp)
            .map_or(0, |x| x.wasm_bytes);
        let _ = write!(s, "| {imp} | {bytes} |");
        for e in &m.engines {
            let c = match m
                .modules
                .iter()
                .find(|x| x.implementation == imp && x.engine == e.id)
            {
                Some(x) => match (&x.error, x.compile_ms) {
                    (Some(err), _) => format!(
                        "cannot run: {}",
                        err.lines().next().unwrap_or("").replace('|', "/")
                    ),
                    (None, Some(ms)) => format!("runs (compiled in {ms:.0} ms)"),
                    (None, None) => "runs".into(),
                },
                None => "not tried".into(),
            };
            let _ = write!(s, " {c} |");
        }
        s.push('\n');
    }
    s
}

/// The whole "In-process micro-benchmarks" section of report.md.
pub fn markdown(r: &Results) -> String {
    let Some(m) = &r.micro else {
        return String::new();
    };
    let mut s = String::new();
    let st = &m.settings;
    let _ = writeln!(s, "## In-process micro-benchmarks (no Envoy)\n");
    if m.entries.is_empty() && m.instructions.is_some() {
        // Counted only (`micro --instructions`): no timed figure to describe.
        if let Some(i) = &m.instructions {
            s.push_str(&super::breakdown::markdown(i));
        }
        return s;
    }
    let _ = writeln!(
        s,
        "The same modules on {}: {}. Each figure is the median over {} timed batches of the mean time per operation (batch size fixed after a warm-up of {} ms to last about {} ms; each round runs one batch of every figure in a shuffled order), with a bootstrap 95% interval. A request is context create, request headers (end of stream), done, log and delete for `{}`; Envoy's own work per request (networking, HTTP, the filter chain{}) is not in these figures.\n",
        m.host,
        m.engines
            .iter()
            .map(|e| format!("`{}` ({})", e.id, e.description))
            .collect::<Vec<_>>()
            .join(", "),
        st.batches,
        st.warmup_ms,
        st.batch_target_ms,
        st.request,
        r.variants
            .iter()
            .find(|v| v.id == crate::results::BASELINE)
            .filter(|b| b.cpu_us_per_req.is_finite() && b.fixed_cpu_us_per_req.is_finite())
            .map_or(String::new(), |b| format!(
                ": in this run's Envoy, {:.1} µs of CPU per request without a plugin at saturation and {:.1} µs at the fixed rate",
                b.cpu_us_per_req, b.fixed_cpu_us_per_req
            ))
    );
    let _ = writeln!(s, "### Per request\n");
    s.push_str(&request_table(m, r));
    if st.benchmarks.iter().any(|b| b == "configure") {
        let sizes: Vec<String> = st
            .config_bytes
            .iter()
            .map(|(l, n)| format!("`{l}` {n} bytes"))
            .collect();
        let _ = writeln!(
            s,
            "\n### Configuration parse (`proxy_on_configure`; {})\n",
            sizes.join(", ")
        );
        s.push_str(&per_engine_table(
            m,
            "configure",
            &["small", "8k"],
            "µs",
            1.0,
        ));
    }
    if st.benchmarks.iter().any(|b| b == "instantiate") {
        let _ = writeln!(
            s,
            "\n### Instantiation and VM start (runtime initialiser, root context, `proxy_on_vm_start`)\n"
        );
        s.push_str(&per_engine_table(m, "instantiate", &["-"], "ms", 0.001));
    }
    let _ = writeln!(s, "\n### Which engine runs which module\n");
    s.push_str(&modules_table(m));
    if !m.skipped.is_empty() {
        let _ = writeln!(s, "\nNot measured in-process:\n");
        for k in &m.skipped {
            let _ = writeln!(s, "- `{}`: {}", k.variant, k.reason);
        }
    }
    if let Some(i) = &m.instructions {
        s.push('\n');
        s.push_str(&super::breakdown::markdown(i));
    }
    s
}

/// report.md of a run that measured in-process only (`micro`, or `run` without an Envoy).
pub fn standalone_markdown(r: &Results, charts: &[(String, String)]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# In-process plugin micro-benchmarks: run of {}\n",
        r.started_at
    );
    if !r.notes.is_empty() {
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
        s.push('\n');
    }
    s.push_str(&markdown(r));
    if !charts.is_empty() {
        let _ = writeln!(s, "\n## Charts\n");
        for (stem, title) in charts {
            let _ = writeln!(
                s,
                "- {title}: [{stem}.svg]({stem}.svg), [{stem}.png]({stem}.png)"
            );
        }
        if let Some((stem, title)) = charts.first() {
            let _ = writeln!(s, "\n![{title}]({stem}.svg)");
        }
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(s, "\n## Skipped\n");
        for k in &r.skipped {
            let _ = writeln!(s, "- `{}`: {}", k.variant, k.reason);
        }
    }
    let _ = writeln!(s, "\n## Conditions\n");
    let _ = writeln!(
        s,
        "- started {} ({}), status **{}**",
        r.started_at,
        r.finished_at.as_deref().unwrap_or("unfinished"),
        r.status
    );
    let _ = writeln!(
        s,
        "- host: {} · {} cores · kernel {} · not pinned",
        r.host.cpu_model, r.host.cores, r.host.kernel
    );
    let _ = writeln!(s, "- Envoy: {}", r.envoy.found_via);
    let _ = writeln!(
        s,
        "- runner built with cargo profile `{}`, opt-level {}, debug assertions {}",
        r.runner.cargo_profile, r.runner.opt_level, r.runner.debug_assertions
    );
    s
}

/// One chart per engine: µs per request of each implementation, a panel per workload.
pub fn charts(r: &Results) -> anyhow::Result<Vec<super::charts::Chart>> {
    let Some(m) = &r.micro else {
        return Ok(vec![]);
    };
    let mut out = match &m.instructions {
        Some(i) => super::breakdown::charts(i)?,
        None => Vec::new(),
    };
    for e in &m.engines {
        let panels: Vec<(String, String, Vec<super::charts::SimpleBar>)> = m
            .settings
            .workloads
            .iter()
            .map(|wl| {
                let bars = implementations(m)
                    .into_iter()
                    .map(|imp| {
                        let found = m.find(imp, &e.id, "request", wl);
                        let value = found.map(|x| x.us_per_op).unwrap_or(Estimate {
                            estimate: f64::NAN,
                            ci95_low: f64::NAN,
                            ci95_high: f64::NAN,
                        });
                        super::charts::SimpleBar {
                            label: imp.to_string(),
                            implementation: imp.to_string(),
                            group: String::new(),
                            value,
                            note: if found.is_some() {
                                cell(&value)
                            } else {
                                "not measured".into()
                            },
                        }
                    })
                    .collect();
                (
                    format!("workload `{wl}`"),
                    "µs per request (in-process)".to_string(),
                    bars,
                )
            })
            .collect();
        if panels
            .iter()
            .all(|p| p.2.iter().all(|b| !b.value.estimate.is_finite()))
        {
            continue;
        }
        out.push(super::charts::simple_bar_chart(
            &format!("chart-micro-{}", e.id),
            &format!("Plugin cost per request in-process on {}", e.id),
            vec![
                format!(
                    "{}; context create, request headers, done, log, delete; no Envoy",
                    e.description
                ),
                format!(
                    "bar: median of {} batch means; whisker: bootstrap 95% interval",
                    m.settings.batches
                ),
            ],
            panels,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::micro::{MicroEngine, MicroModule, MicroSettings};
    use crate::results::profile::ProfileName;

    fn est(x: f64) -> Estimate {
        Estimate {
            estimate: x,
            ci95_low: x * 0.9,
            ci95_high: x * 1.1,
        }
    }

    pub fn section() -> MicroSection {
        let mut settings = MicroSettings::for_profile(ProfileName::Quick);
        settings.engines = vec!["wasmtime-cranelift".into(), "wasmi".into()];
        let entry = |imp: &str, engine: &str, bench: &str, wl: &str, x: f64| MicroEntry {
            implementation: imp.into(),
            language: imp.into(),
            engine: engine.into(),
            benchmark: bench.into(),
            workload: wl.into(),
            ops_per_batch: 10,
            batch_us_per_op: vec![x; 5],
            us_per_op: est(x),
        };
        MicroSection {
            host: "plugin-host".into(),
            settings,
            engines: vec![
                MicroEngine {
                    id: "wasmtime-cranelift".into(),
                    description: "c".into(),
                },
                MicroEngine {
                    id: "wasmi".into(),
                    description: "i".into(),
                },
            ],
            modules: vec![
                MicroModule {
                    implementation: "rust".into(),
                    engine: "wasmtime-cranelift".into(),
                    wasm_sha256: "x".into(),
                    wasm_bytes: 100,
                    compile_ms: Some(12.0),
                    error: None,
                },
                MicroModule {
                    implementation: "rust".into(),
                    engine: "wasmi".into(),
                    wasm_sha256: "x".into(),
                    wasm_bytes: 100,
                    compile_ms: None,
                    error: Some("cannot compile: bad | thing".into()),
                },
            ],
            entries: vec![
                entry("rust", "wasmtime-cranelift", "request", "mock", 1.234),
                entry("rust", "wasmtime-cranelift", "request", "headers", 12.34),
                entry("rust", "wasmtime-cranelift", "configure", "small", 5.0),
                entry("rust", "wasmtime-cranelift", "instantiate", "-", 2500.0),
            ],
            skipped: vec![],
            instructions: None,
        }
    }

    #[test]
    fn cells_scale_precision_and_mark_missing_engines() {
        assert_eq!(cell(&est(1.234)), "1.23 [1.11, 1.36]");
        assert_eq!(cell(&est(123.4)), "123 [111, 136]");
        let m = section();
        assert_eq!(
            entry_cell(&m, "rust", "wasmi", "request", "mock", 1.0),
            "cannot run"
        );
        assert_eq!(
            entry_cell(&m, "rust", "wasmtime-cranelift", "instantiate", "-", 0.001),
            "2.50 [2.25, 2.75]"
        );
        let t = modules_table(&m);
        assert!(t.contains("runs (compiled in 12 ms)"), "{t}");
        assert!(t.contains("cannot run: cannot compile: bad / thing"), "{t}");
    }

    #[test]
    fn markdown_and_one_chart_per_engine_with_data() {
        let r = crate::results::micro::standalone_results(
            "2026-01-01T00:00:00Z".into(),
            crate::results::profile::profile(ProfileName::Quick),
            section(),
            vec![],
            "not used",
            vec![],
        )
        .unwrap();
        let md = markdown(&r);
        assert!(
            md.contains("## In-process micro-benchmarks (no Envoy)"),
            "{md}"
        );
        assert!(
            md.contains("| rust | mock | 1.23 [1.11, 1.36] | cannot run |"),
            "{md}"
        );
        let c = charts(&r).unwrap();
        // wasmi has no data: only the Cranelift chart is drawn.
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].stem, "chart-micro-wasmtime-cranelift");
        assert!(c[0].svg.contains("<svg"));
    }
}
