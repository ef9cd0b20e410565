//! The figures of a run built from its results: overhead, CPU per request, throughput, and the simple
//! bar chart used by the micro and failure sections; `render_all` renders the run's figures.

use super::*;

pub(super) fn est_note(e: &Estimate) -> String {
    if !e.estimate.is_finite() {
        "n/a".to_string()
    } else if !e.has_interval() {
        format!("{:+.1} [n/a]", e.estimate)
    } else {
        format!(
            "{:+.1} [{:+.1}, {:+.1}]",
            e.estimate, e.ci95_low, e.ci95_high
        )
    }
}

pub(super) fn rounds_note(r: &Results) -> String {
    let (n, p) = (r.profile.rounds, r.profile.processes);
    if p < crate::stats::MIN_UNITS {
        format!(
            "{n} round(s) in {p} Envoy process: no interval (its units are processes; at least {} are needed)",
            crate::stats::MIN_UNITS
        )
    } else {
        format!(
            "{n} rounds over {p} Envoy processes; whisker: Student's t 95% interval over processes"
        )
    }
}

pub(super) fn overhead_figure(r: &Results) -> Option<BarFigure> {
    let vs: Vec<&VariantSummary> = ordered(r)
        .into_iter()
        .filter(|v| v.overhead.is_some())
        .collect();
    if vs.is_empty() {
        return None;
    }
    let colors = variant_colors(&vs);
    let panel = |caption: &str, pick: fn(&crate::results::Overhead) -> Estimate| {
        let rows: Vec<BarRow> = vs
            .iter()
            .zip(&colors)
            .map(|(v, c)| {
                let e = v.overhead.as_ref().map(pick).unwrap_or(Estimate {
                    estimate: f64::NAN,
                    ci95_low: f64::NAN,
                    ci95_high: f64::NAN,
                });
                BarRow {
                    label: v.id.clone(),
                    color: *c,
                    base: 0.0,
                    value: e.estimate,
                    whisker: Some((e.ci95_low, e.ci95_high)),
                    note: est_note(&e),
                    group: v.workload.clone(),
                    band: None,
                }
            })
            .collect();
        BarPanel {
            caption: caption.to_string(),
            x_desc: "added latency versus baseline, µs".to_string(),
            cut: outlier_cut(&rows),
            rows,
        }
    };
    let rate = r.profile.latency.rate.unwrap_or(f64::NAN);
    let panels = vec![
        panel("p50 added latency, µs", |o| o.p50),
        panel("p99 added latency, µs", |o| o.p99),
    ];
    let mut subtitle = vec![
        format!(
            "at {rate:.0} req/s, each variant interleaved with the baseline in the same windows; bar: mean over processes of (variant − baseline), windows pooled per process; baseline-aa: the null check"
        ),
        rounds_note(r),
    ];
    if panels.iter().any(|p| p.cut.is_some()) {
        subtitle.push(format!(
            "a bar over {OUTLIER_FACTOR:.0}x the panel's median would flatten the others: its axis ends at the others' widest, the bar is cut there (two white strokes) and its value printed"
        ));
    }
    Some(BarFigure {
        title: "Added latency per request versus no plugin".to_string(),
        subtitle,
        panels,
        legend: vec![("95% interval".to_string(), LegendKind::Whisker)],
        x_fmt: fmt_plain,
    })
}

/// One regime's panel of the CPU figure: the baseline's CPU/request (grey) plus each plugin's overhead.
fn cpu_panel(
    vs: &[&VariantSummary],
    colors: &[RGBColor],
    caption: &str,
    absolute: fn(&VariantSummary) -> f64,
    overhead: fn(&crate::results::Overhead) -> Estimate,
) -> BarPanel {
    let base_cpu = vs
        .iter()
        .find(|v| v.id == BASELINE)
        .map(|v| absolute(v))
        .filter(|x| x.is_finite());
    let rows = vs
        .iter()
        .zip(colors)
        .map(|(v, c)| match (&v.overhead, base_cpu) {
            (Some(o), Some(b)) => {
                let e = overhead(o);
                BarRow {
                    label: v.id.clone(),
                    color: *c,
                    base: b,
                    value: e.estimate,
                    whisker: Some((b + e.ci95_low, b + e.ci95_high)),
                    note: if e.estimate.is_finite() {
                        format!("{} ({})", fmt_plain(b + e.estimate), est_note(&e))
                    } else {
                        "n/a".into()
                    },
                    group: v.workload.clone(),
                    band: None,
                }
            }
            _ => BarRow {
                label: v.id.clone(),
                color: *c,
                base: 0.0,
                value: absolute(v),
                whisker: None,
                note: if absolute(v).is_finite() {
                    fmt_plain(absolute(v))
                } else {
                    "n/a".into()
                },
                group: v.workload.clone(),
                band: None,
            },
        })
        .collect();
    BarPanel {
        caption: caption.to_string(),
        x_desc: "Envoy CPU time per request, µs".to_string(),
        rows,
        cut: None,
    }
}

pub(super) fn cpu_figure(r: &Results) -> Option<BarFigure> {
    let vs = ordered(r);
    if vs.is_empty() {
        return None;
    }
    let colors = variant_colors(&vs);
    let c = &r.profile.cpu;
    Some(BarFigure {
        title: "Envoy CPU time per request, in two regimes".to_string(),
        subtitle: vec![
            format!(
                "all Envoy threads; slices alternating between the variants, {} per round: fixed rate = open loop at {:.0} req/s ({} requests), saturation = closed loop over {} connections ({} requests)",
                c.slices,
                r.profile.latency.rate.unwrap_or(f64::NAN),
                c.fixed_requests,
                c.connections,
                c.requests
            ),
            format!(
                "grey: the baseline's CPU/request, colour: the plugin's overhead; label: total µs (overhead [95% interval]); {}",
                rounds_note(r)
            ),
        ],
        panels: vec![
            cpu_panel(
                &vs,
                &colors,
                "fixed rate: CPU µs per request",
                |v| v.fixed_cpu_us_per_req,
                |o| o.fixed_cpu_us_per_req,
            ),
            cpu_panel(
                &vs,
                &colors,
                "saturation: CPU µs per request",
                |v| v.cpu_us_per_req,
                |o| o.cpu_us_per_req,
            ),
        ],
        legend: vec![
            ("baseline CPU/request".to_string(), LegendKind::Box(LIGHT)),
            (
                "plugin overhead (colour: implementation)".to_string(),
                LegendKind::Box(PALETTE[1]),
            ),
            (
                "95% interval of the overhead".to_string(),
                LegendKind::Whisker,
            ),
        ],
        x_fmt: fmt_plain,
    })
}

pub(super) fn throughput_figure(r: &Results) -> Option<BarFigure> {
    let vs = ordered(r);
    if vs.is_empty() {
        return None;
    }
    let colors = variant_colors(&vs);
    let rows = vs
        .iter()
        .zip(&colors)
        .map(|(v, c)| {
            let u = crate::results::units(&r.rounds, &r.pooled, &v.id);
            let ci = stats::unit_interval(&u.abs_rps);
            let whisker = ci
                .ci95_low
                .is_finite()
                .then_some((ci.ci95_low, ci.ci95_high));
            BarRow {
                label: v.id.clone(),
                color: *c,
                base: 0.0,
                value: v.rps,
                whisker,
                note: if v.rps.is_finite() {
                    format!("{} req/s", fmt_kilo(v.rps))
                } else {
                    "n/a".into()
                },
                group: v.workload.clone(),
                band: None,
            }
        })
        .collect();
    Some(BarFigure {
        title: "Throughput at saturation".to_string(),
        subtitle: vec![
            format!(
                "closed loop, {} connections, Envoy --concurrency {}",
                r.profile.cpu.connections, r.envoy.concurrency
            ),
            format!(
                "bar: median over rounds of the saturation slices' throughput; {}",
                rounds_note(r)
            ),
        ],
        panels: vec![BarPanel {
            caption: "requests per second".to_string(),
            x_desc: "requests/s at saturation".to_string(),
            rows,
            cut: None,
        }],
        legend: vec![],
        x_fmt: fmt_kilo,
    })
}

/// The run's own charts, rendered (nothing is written); the micro section adds its own after them
/// (`report::write_all`).
pub fn render_all(r: &Results) -> anyhow::Result<Vec<Chart>> {
    let mut out = Vec::new();
    for (w, fig) in latency_figures(r) {
        out.push(Chart::of(
            format!("chart-latency-{}", file_safe(&w)),
            fig.title.clone(),
            &fig,
        )?);
    }
    for (stem, fig) in [
        ("chart-overhead", overhead_figure(r)),
        ("chart-cpu", cpu_figure(r)),
        ("chart-throughput", throughput_figure(r)),
    ] {
        if let Some(fig) = fig {
            out.push(Chart::of(stem.to_string(), fig.title.clone(), &fig)?);
        }
    }
    Ok(out)
}

/// A horizontal bar chart with 95%-interval whiskers for report sections kept in their own files
/// (`micro`): panels of (caption, x-axis description, bars).
pub(in crate::report) fn simple_bar_chart(
    stem: &str,
    title: &str,
    subtitle: Vec<String>,
    panels: Vec<(String, String, Vec<SimpleBar>)>,
) -> anyhow::Result<Chart> {
    simple_bar_chart_whiskers(stem, title, subtitle, panels, "95% interval")
}

/// [`simple_bar_chart`] whose whiskers are something else than a 95% interval (`whisker` names
/// them in the legend, e.g. "median to max").
pub(in crate::report) fn simple_bar_chart_whiskers(
    stem: &str,
    title: &str,
    subtitle: Vec<String>,
    panels: Vec<(String, String, Vec<SimpleBar>)>,
    whisker: &str,
) -> anyhow::Result<Chart> {
    let ids: Vec<String> = panels
        .iter()
        .flat_map(|p| p.2.iter().map(|b| b.implementation.clone()))
        .collect();
    let colors = implementation_colors(ids.iter().map(|s| s.as_str()));
    let color = |imp: &str| {
        colors
            .iter()
            .find(|(id, _)| *id == imp)
            .map_or(SPARE[0], |&(_, c)| c)
    };
    let fig = BarFigure {
        title: title.to_string(),
        subtitle,
        panels: panels
            .into_iter()
            .map(|(caption, x_desc, bars)| BarPanel {
                caption,
                x_desc,
                rows: bars
                    .into_iter()
                    .map(|b| BarRow {
                        color: color(&b.implementation),
                        label: b.label,
                        base: 0.0,
                        value: b.value.estimate,
                        whisker: Some((b.value.ci95_low, b.value.ci95_high)),
                        note: b.note,
                        group: b.group,
                        band: None,
                    })
                    .collect(),
                cut: None,
            })
            .collect(),
        legend: vec![(whisker.to_string(), LegendKind::Whisker)],
        x_fmt: fmt_plain,
    };
    let (svg, png) = render(&fig)?;
    Ok(Chart {
        stem: stem.to_string(),
        title: fig.title,
        svg,
        png,
    })
}
