//! The `failure` section rendered from saved data: a matrix (implementation x policy x crash mode ->
//! what clients got), the per-scenario details, the runaway-plugin table, and timeline charts drawn with
//! plotters (request index on x, one cell per request coloured by class, with a legend).

use crate::results::failure::Class;
use crate::results::failure::{
    ClassCounts, FailureSection, Policy, RequestRecord, Runaway, Scenario,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;
mod charts;
#[cfg(test)]
use charts::*;
pub use charts::{implementation_chart, runaway_chart, scenario_chart, write_charts};

/// Folder (inside the run folder) holding the timeline charts.
pub const CHARTS_DIR: &str = "failure-charts";
const FONT: &str = "sans-serif";

fn ensure_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

pub fn class_color(c: Class) -> RGBColor {
    match c {
        Class::Plugin => RGBColor(44, 160, 44),
        Class::Upstream => RGBColor(31, 119, 180),
        Class::Local5xx => RGBColor(214, 39, 40),
        Class::OtherStatus => RGBColor(255, 127, 14),
        Class::ConnectionError => RGBColor(148, 103, 189),
        Class::Hang => RGBColor(30, 30, 30),
    }
}

fn secs(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn opt_secs(v: Option<f64>, none: &str) -> String {
    v.map_or(none.to_string(), secs)
}

/// "plugin 9 · 5xx 141 · hang 2" (non-zero classes only).
pub fn counts_cell(c: &ClassCounts) -> String {
    let short = |k: Class| match k {
        Class::Plugin => "plugin",
        Class::Upstream => "upstream",
        Class::Local5xx => "5xx",
        Class::OtherStatus => "other",
        Class::ConnectionError => "conn-err",
        Class::Hang => "hang",
    };
    let parts: Vec<String> = Class::ALL
        .iter()
        .filter(|k| c.get(**k) > 0)
        .map(|k| format!("{} {}", short(*k), c.get(*k)))
        .collect();
    if parts.is_empty() {
        "no requests".into()
    } else {
        parts.join(" · ")
    }
}

/// The plugin-recovery part of a matrix cell.
fn recovery_cell(s: &Scenario) -> String {
    match (&s.first_crash, s.plugin_back_after_ms) {
        (None, _) => "no crash seen".into(),
        (Some(_), Some(ms)) => format!("plugin back after {}", secs(ms)),
        (Some(_), None) => "plugin never back".into(),
    }
}

fn policies_of(f: &FailureSection) -> Vec<Policy> {
    let mut out: Vec<Policy> = Vec::new();
    for s in &f.scenarios {
        if !out.contains(&s.policy) {
            out.push(s.policy);
        }
    }
    out
}

fn implementations_of(f: &FailureSection) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in f
        .scenarios
        .iter()
        .map(|s| &s.implementation)
        .chain(f.runaway.iter().map(|r| &r.implementation))
    {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

fn short_label(f: &FailureSection, p: Policy) -> String {
    f.scenarios
        .iter()
        .find(|s| s.policy == p)
        .map_or_else(|| p.id().to_string(), |s| s.policy_label.clone())
}

/// The matrix, one table per crash mode: implementation x policy -> counts per class and recovery.
pub fn matrix(f: &FailureSection) -> String {
    let mut s = String::new();
    let policies = policies_of(f);
    let imps = implementations_of(f);
    let mut modes: Vec<u32> = f.scenarios.iter().map(|s| s.crash_every).collect();
    modes.sort_unstable();
    modes.dedup();
    for n in modes {
        let _ = writeln!(
            s,
            "\n**crash_every: {n}** ({} requests per scenario at {} req/s, client timeout {} s)\n",
            f.settings.requests_per_scenario, f.settings.rate_per_s, f.settings.timeout_s
        );
        let _ = write!(s, "| implementation |");
        for p in &policies {
            let _ = write!(s, " {} |", short_label(f, *p));
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "|---|{}", "---|".repeat(policies.len()));
        for imp in &imps {
            let _ = write!(s, "| {imp} |");
            for p in &policies {
                match f
                    .scenarios
                    .iter()
                    .find(|x| &x.implementation == imp && x.crash_every == n && x.policy == *p)
                {
                    Some(sc) => {
                        let _ = write!(s, " {}; {} |", counts_cell(&sc.counts), recovery_cell(sc));
                    }
                    None => {
                        let _ = write!(s, " – |");
                    }
                }
            }
            let _ = writeln!(s);
        }
    }
    s
}

fn details_cell(s: &Scenario) -> String {
    if s.details.is_empty() {
        return "–".into();
    }
    s.details
        .iter()
        .map(|(k, v)| format!("`{k}` {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn stats_cell(s: &Scenario) -> String {
    let parts: Vec<String> = s
        .stats
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if parts.is_empty() {
        "all 0".into()
    } else {
        parts.join(", ")
    }
}

fn ready_cell(r: &crate::results::failure::Ready) -> String {
    match r.status {
        Some(code) => format!("{code} {}", r.body.lines().next().unwrap_or("")),
        None => "no answer".into(),
    }
}

fn stop_cell(st: &crate::results::failure::StopReport) -> String {
    if st.already_exited {
        "had already exited".into()
    } else if st.exited_on_sigterm {
        format!("exited {} after SIGTERM", secs(st.elapsed_ms))
    } else {
        format!(
            "**SIGKILL** after {} (still running after SIGTERM)",
            secs(st.elapsed_ms)
        )
    }
}

fn runaway_table(f: &FailureSection) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| implementation | spin | spinning listener | neighbour listener (no plugin) | worker stalled | neighbours stalled | /ready during the stall | spinning requests finished (access log) | est. worker time per request | stop |"
    );
    let _ = writeln!(s, "|---|---:|---|---|---|---|---|---|---|---|");
    for r in &f.runaway {
        let estimate = match (
            r.estimated_ms_per_request,
            r.calibration_ms.iter().flatten().next(),
        ) {
            (Some(e), Some(_)) => format!(
                "{} (spin {}: {})",
                secs(e),
                r.calibration_spin,
                r.calibration_ms
                    .iter()
                    .map(|c| opt_secs(*c, "no reply"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => "no calibration reply".into(),
        };
        let durations = if r.spin_durations_ms.is_empty() {
            "none".to_string()
        } else {
            r.spin_durations_ms
                .iter()
                .map(|d| secs(*d))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let ready = format!(
            "{} of {} probes 200",
            r.admin_probes
                .iter()
                .filter(|p| p.status == Some(200))
                .count(),
            r.admin_probes.len()
        );
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.implementation,
            r.spin,
            counts_cell(&r.counts),
            counts_cell(&r.neighbour_counts),
            if r.worker_stalled { "yes" } else { "no" },
            if r.neighbours_stalled { "yes" } else { "no" },
            ready,
            durations,
            estimate,
            stop_cell(&r.stop)
        );
    }
    s
}

/// The whole section as Markdown; chart links are relative to the run folder.
pub fn markdown(f: &FailureSection) -> String {
    let mut s = String::new();
    let st = &f.settings;
    let _ = writeln!(s, "## What clients see when a plugin crashes\n");
    let _ = writeln!(
        s,
        "Each scenario is one listener (own VM id) in front of a real upstream that answers `{}`; the plugin answers `{}` itself. \
         {} requests per scenario at {} req/s ({} s), {}, client timeout {} s. Classes: plugin reply, upstream reply (the plugin was bypassed), \
         local 5xx from Envoy (`%RESPONSE_CODE_DETAILS%` from the access log), connection error, hang (no answer within the timeout; never a latency sample). \
         \"plugin back after\" is the time from the first request the plugin did not answer to its next own reply. Envoy {} (`--concurrency {}`), Wasm runtime {}; status **{}**.",
        st.upstream_body,
        st.plugin_body,
        st.requests_per_scenario,
        st.rate_per_s,
        st.window_s,
        st.connection,
        st.timeout_s,
        f.envoy_version,
        st.envoy_concurrency,
        f.runtime,
        f.status
    );
    s.push_str(&matrix(f));
    if !f.scenarios.is_empty() {
        scenarios_section(&mut s, f);
    }
    if !f.runaway.is_empty() {
        let _ = writeln!(s, "\n### Runaway plugins (`spin` {})\n", st.spin);
        let _ = writeln!(
            s,
            "The spinning listener gets {} req/s and a plugin-free neighbour listener of the same Envoy {} req/s for {} s; the admin `/ready` is probed meanwhile; then Envoy gets SIGTERM and, if still running {} s later, SIGKILL.\n",
            st.runaway_rate_per_s, st.neighbour_rate_per_s, st.runaway_window_s, st.stop_grace_s
        );
        s.push_str(&runaway_table(f));
        let _ = writeln!(s, "\n![runaway timelines]({CHARTS_DIR}/runaway.svg)\n");
    }
    if !f.groups.is_empty() {
        groups_section(&mut s, f);
    }
    if !f.skipped.is_empty() {
        let _ = writeln!(s, "\n### Not run\n");
        for k in &f.skipped {
            let _ = writeln!(
                s,
                "- `{}`: {}",
                k.variant,
                k.reason.lines().next().unwrap_or("")
            );
        }
    }
    for n in &f.notes {
        let _ = writeln!(s, "\n_{n}_");
    }
    s
}

/// "Every scenario" (one table row each) and the per-implementation timeline charts.
fn scenarios_section(s: &mut String, f: &FailureSection) {
    let _ = writeln!(s, "\n### Every scenario\n");
    let _ = writeln!(
        s,
        "| scenario | policy | plugin | upstream | 5xx | other | conn err | hang | details (not plugin-answered) | first crash | plugin back after | 2xx again after first failure | plugin stats | Envoy alive | /ready | timeline |"
    );
    let _ = writeln!(
        s,
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---|---|---|---|---|"
    );
    for sc in &f.scenarios {
        let c = &sc.counts;
        let first = sc
            .first_crash
            .as_ref()
            .map_or("–".into(), |m| format!("#{} at {}", m.i, secs(m.at_ms)));
        let again = match (&sc.first_failed, sc.served_again_after_ms) {
            (None, _) => "no failure".to_string(),
            (Some(_), v) => opt_secs(v, "never"),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | [svg]({CHARTS_DIR}/{}.svg) |",
            sc.id,
            sc.policy_label,
            c.plugin,
            c.upstream,
            c.local_5xx,
            c.other_status,
            c.connection_error,
            c.hang,
            details_cell(sc),
            first,
            if sc.first_crash.is_some() { opt_secs(sc.plugin_back_after_ms, "never") } else { "–".into() },
            again,
            stats_cell(sc),
            if sc.envoy_alive { "yes" } else { "**no**" },
            ready_cell(&sc.ready),
            sc.id
        );
    }
    let _ = writeln!(s, "\n### Timelines\n");
    let _ = writeln!(
        s,
        "One row per scenario, one cell per request in sending order; colours: {}.\n",
        legend_text()
    );
    for imp in implementations_of(f) {
        if f.scenarios.iter().any(|x| x.implementation == imp) {
            let _ = writeln!(s, "![{imp} timelines]({CHARTS_DIR}/{imp}-crash.svg)\n");
        }
    }
}

/// "Envoy processes": one row per Envoy started, with how it ended.
fn groups_section(s: &mut String, f: &FailureSection) {
    let _ = writeln!(s, "\n### Envoy processes\n");
    let _ = writeln!(s, "| Envoy | listeners | alive after | /ready after | Wasm VMs (Envoy-wide stats) | stop | log |");
    let _ = writeln!(s, "|---|---:|---|---|---|---|---|");
    for g in &f.groups {
        let vms: Vec<String> = g
            .wasm_stats
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | `{}` |",
            g.id,
            g.listeners.len(),
            if g.envoy_alive_after { "yes" } else { "**no**" },
            ready_cell(&g.ready_after),
            if vms.is_empty() {
                "–".into()
            } else {
                vms.join(", ")
            },
            stop_cell(&g.stop),
            g.log
        );
    }
}

fn legend_text() -> String {
    Class::ALL
        .iter()
        .map(|c| {
            let RGBColor(r, g, b) = class_color(*c);
            format!("{} `#{r:02x}{g:02x}{b:02x}`", c.label())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------------
// Charts

/// One horizontal strip: a label and cells `[x0, x1)` in axis units.
pub struct Strip {
    pub label: String,
    pub cells: Vec<(f64, f64, Class)>,
}

pub struct StripChart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub x_max: f64,
    pub strips: Vec<Strip>,
}

const ROW_H: i32 = 22;
const ROW_GAP: i32 = 6;
const PLOT_W: i32 = 760;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_cells_of_one_class_merge() {
        use Class::*;
        let cells = [
            (0.0, 1.0, Local5xx),
            (1.0, 2.0, Upstream),
            (2.0, 3.0, Upstream),
            (3.1, 4.0, Upstream),
            (6.0, 7.0, Upstream),
        ];
        assert_eq!(
            merge_runs(&cells),
            vec![
                (0.0, 1.0, Local5xx),
                (1.0, 4.0, Upstream),
                (6.0, 7.0, Upstream)
            ]
        );
    }

    #[test]
    fn counts_cells_list_non_zero_classes() {
        let c = ClassCounts {
            plugin: 9,
            local_5xx: 141,
            hang: 2,
            ..Default::default()
        };
        assert_eq!(counts_cell(&c), "plugin 9 · 5xx 141 · hang 2");
        assert_eq!(counts_cell(&ClassCounts::default()), "no requests");
    }

    #[test]
    fn a_strip_chart_is_an_svg_with_one_cell_per_request_and_a_legend() {
        let t: Vec<RequestRecord> = (0..10)
            .map(|i| RequestRecord {
                i,
                at_ms: i as f64 * 20.0,
                class: if i == 0 {
                    Class::Local5xx
                } else {
                    Class::Upstream
                },
                status: Some(200),
                latency_ms: Some(1.0),
                details: None,
                error: None,
                crash_request: false,
            })
            .collect();
        let chart = StripChart {
            title: "t".into(),
            subtitle: "s".into(),
            x_label: "request index".into(),
            x_max: 10.0,
            strips: vec![Strip {
                label: "row".into(),
                cells: index_cells(&t),
            }],
        };
        let svg = chart.svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        let RGBColor(r, g, b) = class_color(Class::Upstream);
        let upstream = format!("#{r:02X}{g:02X}{b:02X}");
        assert!(svg.to_uppercase().contains(&upstream), "{svg}");
        assert!(svg.contains("hang (timeout)"));
    }
}
