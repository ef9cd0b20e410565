//! The in-process instruction counts (`micro.instructions`) in report.md and one stacked chart:
//! per implementation, engine and workload, the instructions of one request and where they go.

use super::charts::{stacked_bar_chart, Chart, StackPanel, StackRow, StackSeries};
use crate::results::breakdown::{InstructionEntry, InstructionSection};
use std::fmt::Write;

/// 2.52M, 190.6k, 8.04k, 912.
pub fn kilo(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x.abs() >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x.abs() >= 10_000.0 {
        format!("{:.1}k", x / 1000.0)
    } else if x.abs() >= 1000.0 {
        format!("{:.2}k", x / 1000.0)
    } else {
        format!("{x:.0}")
    }
}

/// "91.8k (48%)"; "-" for nothing.
fn with_share(x: f64, total: f64) -> String {
    if x <= 0.0 {
        return "-".into();
    }
    format!("{} ({:.0}%)", kilo(x), 100.0 * x / total.max(1.0))
}

/// The section's entries of one workload, in the order they were counted.
fn of_workload<'a>(
    i: &'a InstructionSection,
    wl: &'a str,
) -> impl Iterator<Item = &'a InstructionEntry> {
    i.entries.iter().filter(move |e| e.workload == wl)
}

fn sum_ids(e: &InstructionEntry, ids: &[&str]) -> f64 {
    e.parts
        .iter()
        .filter(|p| ids.contains(&p.id.as_str()))
        .map(|p| p.per_request)
        .sum()
}

/// Per workload: each implementation and engine's instructions per request and their parts.
pub fn summary_table(i: &InstructionSection) -> String {
    let mut s = String::new();
    for wl in &i.settings.workloads {
        let rows: Vec<&InstructionEntry> = of_workload(i, wl).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\nWorkload `{wl}`, instructions per request:\n");
        let _ = writeln!(
            s,
            "| implementation | engine | total | window spread | Wasm: plugin, SDK | Wasm: standard library | Wasm: language runtime | Wasm: unnamed or interpreted | host calls | of which copies | engine: entry and exit | engine: built-ins | host: driver | unattributed |"
        );
        let _ = writeln!(
            s,
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for e in rows {
            let t = e.per_request;
            let host_copies: f64 = e
                .parts
                .iter()
                .filter(|p| p.group == "host call")
                .map(|p| p.copies_per_request)
                .sum();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.2}% | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                e.implementation,
                e.engine,
                kilo(t),
                e.window_spread_pct,
                with_share(sum_ids(e, &["guest:plugin"]), t),
                with_share(sum_ids(e, &["guest:stdlib"]), t),
                with_share(sum_ids(e, &["guest:runtime"]), t),
                with_share(sum_ids(e, &["guest:unnamed", "guest:interpreted"]), t),
                with_share(e.group("host call"), t),
                if host_copies > 0.0 {
                    kilo(host_copies)
                } else {
                    "-".into()
                },
                with_share(sum_ids(e, &["engine:entry"]), t),
                with_share(sum_ids(e, &["engine:builtins"]), t),
                with_share(sum_ids(e, &["host:driver"]), t),
                with_share(sum_ids(e, &["unattributed"]), t),
            );
        }
    }
    s
}

/// Per workload: each host call's instructions per request, with how often the plugin called it.
pub fn host_calls_table(i: &InstructionSection) -> String {
    let mut s = String::new();
    for wl in &i.settings.workloads {
        let rows: Vec<&InstructionEntry> = of_workload(i, wl).collect();
        let mut calls: Vec<&str> = Vec::new();
        for e in &rows {
            for p in e.parts.iter().filter(|p| p.group == "host call") {
                if !calls.contains(&p.label.as_str()) {
                    calls.push(&p.label);
                }
            }
        }
        if calls.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "\nWorkload `{wl}`, host calls: instructions per request (calls per request × instructions per call; of which in memcpy/memmove/memset):\n"
        );
        let mut head = "| implementation | engine |".to_string();
        let mut rule = "|---|---|".to_string();
        for c in &calls {
            let _ = write!(head, " `{c}` |");
            rule.push_str("---:|");
        }
        let _ = writeln!(s, "{head}\n{rule}");
        for e in rows {
            let _ = write!(s, "| {} | {} |", e.implementation, e.engine);
            for c in &calls {
                let cell = e
                    .parts
                    .iter()
                    .find(|p| p.group == "host call" && p.label == *c)
                    .map_or("-".to_string(), |p| {
                        let calls = p.calls_per_request.unwrap_or(0.0);
                        format!(
                            "{} ({} × {}; copies {})",
                            kilo(p.per_request),
                            if calls >= 10.0 || calls.fract() == 0.0 {
                                format!("{calls:.0}")
                            } else {
                                format!("{calls:.3}")
                            },
                            kilo(p.per_request / calls.max(1.0)),
                            kilo(p.copies_per_request)
                        )
                    });
                let _ = write!(s, " {cell} |");
            }
            s.push('\n');
        }
    }
    s
}

/// The guest functions with the largest own cost, per implementation and workload (first engine
/// with machine code, the others run the same module).
pub fn guest_functions(i: &InstructionSection) -> String {
    let mut s = String::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for e in i.entries.iter().filter(|e| !e.guest_functions.is_empty()) {
        let key = (e.implementation.as_str(), e.workload.as_str());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let names = match (e.functions, e.named_functions) {
            (Some(n), Some(0)) => format!("{n} functions, no names: the module is stripped"),
            (Some(n), Some(k)) => format!("{k} of {n} functions named"),
            _ => String::new(),
        };
        let cells: Vec<String> = e
            .guest_functions
            .iter()
            .take(5)
            .map(|f| format!("`{}` {} ({})", f.name, kilo(f.per_request), f.part))
            .collect();
        let _ = writeln!(
            s,
            "- {} `{}` on {} ({names}): {}",
            e.implementation,
            e.workload,
            e.engine,
            cells.join(", ")
        );
    }
    s
}

/// The whole "Instructions per request" section.
pub fn markdown(i: &InstructionSection) -> String {
    let st = &i.settings;
    let mut s = String::new();
    let _ = writeln!(s, "### Instructions per request, and where they go\n");
    let _ = writeln!(
        s,
        "Counted, not timed: each module on each engine in a process of its own under {} (`{}`), {} warm-up requests, then {} windows of {} requests each between a zero and a dump of callgrind's counters{}{}. A part is decided by the first frame of a function's calling context (callgrind keeps {} callers) that says whose work it is: the module's machine code (located with the host's map of each function's address, named from the module's name section where it has one), a proxy-wasm or WASI host function of plugin-host (with everything it calls: the header map, allocation, copying between the guest's memory and the host's), the engine's frames on the way in and out of Wasm (calls of exports, host-call dispatch, trampolines) and its built-ins for `memory.copy`/`memory.fill`/`memory.grow`, or the host's request driver. wasmi interprets: its instruction handlers are the guest's code, not split. The kernel is not counted; caches are not modelled: counts detect changes in the work done, they are not a time.\n",
        st.valgrind,
        st.valgrind_options.join(" "),
        st.warmup_requests,
        st.windows,
        st.requests_per_window,
        if st.spin > 0 { format!("; the plugins' `spin` at {}", st.spin) } else { String::new() },
        if st.workloads.iter().any(|w| w == "body") {
            format!("; the `body` workload's request carries {} bytes in one chunk", st.body_bytes)
        } else {
            String::new()
        },
        st.context_depth
    );
    s.push_str(&summary_table(i));
    let calls = host_calls_table(i);
    if !calls.is_empty() {
        let _ = writeln!(s, "\n#### Host calls\n");
        s.push_str(&calls);
    }
    let top = guest_functions(i);
    if !top.is_empty() {
        let _ = writeln!(
            s,
            "\n#### The guest's most expensive functions (own instructions per request)\n"
        );
        s.push_str(&top);
    }
    if !i.skipped.is_empty() {
        let _ = writeln!(s, "\nNot counted:\n");
        for k in &i.skipped {
            let _ = writeln!(s, "- `{}`: {}", k.variant, k.reason.replace('\n', " "));
        }
    }
    s
}

/// Colours of the guest's parts (blues), the engine's (purples), the host driver and the rest (greys).
const FIXED: [(&str, &str, (u8, u8, u8)); 9] = [
    ("guest:plugin", "Wasm: plugin, SDK", (31, 119, 180)),
    ("guest:stdlib", "Wasm: standard library", (107, 174, 214)),
    ("guest:runtime", "Wasm: language runtime", (8, 48, 107)),
    ("guest:unnamed", "Wasm: unnamed", (84, 132, 140)),
    ("guest:interpreted", "Wasm: interpreted", (158, 202, 225)),
    ("engine:entry", "engine: entry and exit", (117, 107, 177)),
    ("engine:builtins", "engine: built-ins", (188, 189, 220)),
    ("host:driver", "host: driver", (150, 150, 150)),
    ("unattributed", "unattributed", (215, 215, 215)),
];

/// Colours of the host calls with their own segment (oranges, reds, browns); the rest share one.
const HOST_COLORS: [(u8, u8, u8); 6] = [
    (230, 85, 13),
    (253, 141, 60),
    (166, 54, 3),
    (214, 39, 40),
    (253, 174, 107),
    (140, 86, 75),
];
const OTHER_HOST: (u8, u8, u8) = (250, 210, 170);

/// One series of the chart: the part ids it adds up, its name, its colour.
type Series = (Vec<String>, String, (u8, u8, u8));

/// The engines counted, in the order they were counted.
fn engines(i: &InstructionSection) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for e in &i.entries {
        if !out.contains(&e.engine.as_str()) {
            out.push(&e.engine);
        }
    }
    out
}

/// The charts' stems: one per engine.
pub fn chart_stem(engine: &str) -> String {
    format!("chart-instructions-{engine}")
}

/// One chart per engine (an interpreter's bars would dwarf a JIT's): a panel per workload, a
/// stacked bar per implementation. The series and their colours are the same in every chart.
pub fn charts(i: &InstructionSection) -> anyhow::Result<Vec<Chart>> {
    if i.entries.is_empty() {
        return Ok(vec![]);
    }
    // Host calls by their largest cost in any entry: the first get their own colour.
    let mut host: Vec<(String, f64)> = Vec::new();
    for p in i
        .entries
        .iter()
        .flat_map(|e| &e.parts)
        .filter(|p| p.group == "host call")
    {
        match host.iter_mut().find(|h| h.0 == p.id) {
            Some(h) => h.1 = h.1.max(p.per_request),
            None => host.push((p.id.clone(), p.per_request)),
        }
    }
    host.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let own: Vec<&str> = host
        .iter()
        .take(HOST_COLORS.len())
        .map(|h| h.0.as_str())
        .collect();
    // Series: the guest's, each own host call, the other host calls, the engine's, the rest.
    let mut ids: Vec<Series> = Vec::new();
    for (id, name, rgb) in &FIXED[..5] {
        ids.push((vec![id.to_string()], name.to_string(), *rgb));
    }
    for (k, id) in own.iter().enumerate() {
        let name = id.strip_prefix("host:").unwrap_or(id);
        ids.push((
            vec![id.to_string()],
            format!("host: {name}"),
            HOST_COLORS[k],
        ));
    }
    let others: Vec<String> = host.iter().skip(own.len()).map(|h| h.0.clone()).collect();
    if !others.is_empty() {
        ids.push((others, "host: other calls".into(), OTHER_HOST));
    }
    for (id, name, rgb) in &FIXED[5..] {
        ids.push((vec![id.to_string()], name.to_string(), *rgb));
    }
    let value = |e: &InstructionEntry, set: &[String]| -> f64 {
        e.parts
            .iter()
            .filter(|p| set.contains(&p.id))
            .map(|p| p.per_request)
            .sum()
    };
    let st = &i.settings;
    let mut out = Vec::new();
    for engine in engines(i) {
        let here: Vec<&InstructionEntry> =
            i.entries.iter().filter(|e| e.engine == engine).collect();
        // Only the series some bar of this chart has.
        let series: Vec<&Series> = ids
            .iter()
            .filter(|(set, _, _)| here.iter().any(|e| value(e, set) > 0.0))
            .collect();
        let panels: Vec<StackPanel> = st
            .workloads
            .iter()
            .filter(|wl| here.iter().any(|e| e.workload == **wl))
            .map(|wl| StackPanel {
                caption: format!("workload `{wl}`"),
                x_desc: "instructions per request".into(),
                rows: here
                    .iter()
                    .filter(|e| e.workload == *wl)
                    .map(|e| StackRow {
                        label: e.implementation.clone(),
                        group: e.implementation.clone(),
                        values: series.iter().map(|(set, _, _)| value(e, set)).collect(),
                        note: kilo(e.per_request),
                    })
                    .collect(),
            })
            .collect();
        out.push(stacked_bar_chart(
            &chart_stem(engine),
            &format!("Instructions per request in-process on {engine}, and where they go"),
            vec![
                format!(
                    "plugin-host under {} (callgrind), {} windows of {} warm requests per bar; no Envoy",
                    st.valgrind, st.windows, st.requests_per_window
                ),
                "Wasm code (blue: split by the module's function names where it has them), host calls (orange), the engine (purple), the host's driver (grey)".into(),
            ],
            series
                .into_iter()
                .map(|(_, name, rgb)| StackSeries {
                    name: name.clone(),
                    rgb: *rgb,
                })
                .collect(),
            panels,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::results::breakdown::{GuestFunction, InstructionSettings, Part};

    fn part(id: &str, group: &str, x: f64, calls: Option<f64>) -> Part {
        Part {
            id: id.into(),
            group: group.into(),
            label: id.strip_prefix("host:").unwrap_or(id).into(),
            per_request: x,
            copies_per_request: x / 10.0,
            calls_per_request: calls,
        }
    }

    pub fn section() -> InstructionSection {
        let entry = |imp: &str, engine: &str, wl: &str, k: f64| InstructionEntry {
            implementation: imp.into(),
            language: imp.into(),
            engine: engine.into(),
            workload: wl.into(),
            wasm_sha256: "0".repeat(64),
            window_instructions: vec![(1000.0 * k * 200.0) as u64; 3],
            per_request: 1000.0 * k,
            window_spread_pct: 0.01,
            parts: vec![
                part("guest:plugin", "guest", 400.0 * k, None),
                part("guest:runtime", "guest", 200.0 * k, None),
                part(
                    "host:proxy_get_header_map_value",
                    "host call",
                    250.0 * k,
                    Some(20.0),
                ),
                part("host:proxy_log", "host call", 50.0 * k, Some(1.0)),
                part("engine:entry", "engine", 80.0 * k, None),
                part("host:driver", "host", 20.0 * k, None),
            ],
            guest_functions: vec![GuestFunction {
                name: "runtime.mallocgc".into(),
                part: "guest:runtime".into(),
                per_request: 150.0 * k,
            }],
            functions: Some(100),
            named_functions: Some(90),
        };
        InstructionSection {
            settings: InstructionSettings {
                workloads: vec!["mock".into(), "headers".into()],
                warmup_requests: 100,
                requests_per_window: 200,
                windows: 3,
                spin: 0,
                body_bytes: 4096,
                valgrind: "valgrind-3.19.0".into(),
                valgrind_options: vec!["--tool=callgrind".into()],
                context_depth: 12,
            },
            entries: vec![
                entry("go", "wasmtime-cranelift", "mock", 10.0),
                entry("go", "wasmi", "mock", 40.0),
                entry("go", "wasmtime-cranelift", "headers", 100.0),
            ],
            skipped: vec![crate::results::Skipped {
                variant: "cpp-wasmi".into(),
                reason: "why".into(),
            }],
        }
    }

    #[test]
    fn tables_show_every_part_and_share() {
        let i = section();
        let t = summary_table(&i);
        assert!(t.contains("Workload `mock`"), "{t}");
        assert!(
            t.contains("| go | wasmtime-cranelift | 10.0k | 0.01% | 4.00k (40%) | - | 2.00k (20%) | - | 3.00k (30%) | 300 | 800 (8%) | - | 200 (2%) | - |"),
            "{t}"
        );
        let h = host_calls_table(&i);
        assert!(h.contains("`proxy_get_header_map_value`"), "{h}");
        assert!(h.contains("25.0k (20 × 1.25k; copies 2.50k)"), "{h}");
        let g = guest_functions(&i);
        // one line per implementation and workload, from the first engine counted
        assert_eq!(g.lines().count(), 2, "{g}");
        assert!(g.contains("90 of 100 functions named"), "{g}");
        let md = markdown(&i);
        assert!(md.contains("- `cpp-wasmi`: why"), "{md}");
    }

    #[test]
    fn a_stacked_chart_per_engine_with_a_panel_per_workload() {
        let c = charts(&section()).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].stem, "chart-instructions-wasmtime-cranelift");
        assert_eq!(c[1].stem, "chart-instructions-wasmi");
        for text in [
            "workload `mock`",
            "workload `headers`",
            "host: proxy_get_header_map_value",
            "Wasm: language runtime",
            ">\ngo\n</text>",
        ] {
            assert!(c[0].svg.contains(text), "{text} missing");
        }
        // wasmi's chart has only the workload it counted.
        assert!(!c[1].svg.contains("workload `headers`"));
        // No series for parts no entry has.
        assert!(!c[0].svg.contains("Wasm: interpreted"));
        assert!(c[0].png.starts_with(b"\x89PNG"));
        assert!(charts(&InstructionSection {
            entries: vec![],
            ..section()
        })
        .unwrap()
        .is_empty());
    }
}
