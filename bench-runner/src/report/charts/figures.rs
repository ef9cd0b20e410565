//! The figures of a run built from its results: overhead, CPU per request, throughput, and the simple
//! bar chart used by the micro and failure sections; `render_all` renders the run's figures.

use super::*;

pub(super) fn est_note(e: &Estimate) -> String {
    if e.estimate.is_finite() {
        format!(
            "{:+.1} [{:+.1}, {:+.1}]",
            e.estimate, e.ci95_low, e.ci95_high
        )
    } else {
        "n/a".to_string()
    }
}

pub(super) fn rounds_note(r: &Results) -> String {
    let n = r.profile.rounds;
    if n < 2 {
        format!("{n} round: intervals need at least 2 rounds and collapse onto the estimate")
    } else {
        format!("{n} rounds, each variant paired with the baseline of the same round")
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
    let panel = |caption: &str, pick: fn(&crate::results::Overhead) -> Estimate| BarPanel {
        caption: caption.to_string(),
        x_desc: "added latency versus baseline, µs".to_string(),
        rows: vs
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
                }
            })
            .collect(),
    };
    Some(BarFigure {
        title: "Latency overhead per request versus no plugin".to_string(),
        subtitle: vec![
            "bar: median over rounds of (variant − baseline); whisker: bootstrap 95% interval"
                .to_string(),
            rounds_note(r),
        ],
        panels: vec![
            panel("p50 overhead, µs", |o| o.p50),
            panel("p99 overhead, µs", |o| o.p99),
        ],
        legend: vec![("95% interval".to_string(), LegendKind::Whisker)],
        x_fmt: fmt_plain,
    })
}

pub(super) fn cpu_figure(r: &Results) -> Option<BarFigure> {
    let vs = ordered(r);
    if vs.is_empty() {
        return None;
    }
    let base_cpu = vs
        .iter()
        .find(|v| v.id == BASELINE)
        .map(|v| v.cpu_us_per_req)
        .filter(|x| x.is_finite());
    let colors = variant_colors(&vs);
    let rows = vs
        .iter()
        .zip(&colors)
        .map(|(v, c)| match (&v.overhead, base_cpu) {
            (Some(o), Some(b)) => {
                let e = o.cpu_us_per_req;
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
                }
            }
            _ => BarRow {
                label: v.id.clone(),
                color: *c,
                base: 0.0,
                value: v.cpu_us_per_req,
                whisker: None,
                note: if v.cpu_us_per_req.is_finite() {
                    fmt_plain(v.cpu_us_per_req)
                } else {
                    "n/a".into()
                },
                group: v.workload.clone(),
            },
        })
        .collect();
    let how = match &r.profile.cpu {
        Some(c) => format!(
            "all Envoy threads, closed-loop slices of {} requests over {} connections alternating between the variants ({} per round, median)",
            c.requests, c.connections, c.slices
        ),
        None => format!(
            "all Envoy threads, closed loop over {} connections (saturation window)",
            r.profile.saturation.connections
        ),
    };
    Some(BarFigure {
        title: "Envoy CPU time per request".to_string(),
        subtitle: vec![
            format!("{how}; grey: the baseline's CPU/request, colour: the plugin's overhead"),
            format!(
                "label: total µs (overhead [95% interval]); {}",
                rounds_note(r)
            ),
        ],
        panels: vec![BarPanel {
            caption: "CPU µs per request".to_string(),
            x_desc: "Envoy CPU time per request, µs".to_string(),
            rows,
        }],
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
        .enumerate()
        .map(|(i, (v, c))| {
            let per_round: Vec<f64> = r
                .rounds
                .iter()
                .filter(|x| x.variant == v.id)
                .map(|x| x.saturation.rps)
                .collect();
            let ci = stats::bootstrap_ci(
                &per_round,
                stats::median,
                stats::BOOTSTRAP_RESAMPLES,
                r.profile.seed.wrapping_add(i as u64),
            );
            let whisker = (per_round.len() >= 2).then_some((ci.ci95_low, ci.ci95_high));
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
            }
        })
        .collect();
    Some(BarFigure {
        title: "Throughput at saturation".to_string(),
        subtitle: vec![
            format!(
                "closed loop, {} connections, Envoy --concurrency {}",
                r.profile.saturation.connections, r.envoy.concurrency
            ),
            format!(
                "bar: median over {} rounds; whisker: bootstrap 95% interval of that median",
                r.profile.rounds
            ),
        ],
        panels: vec![BarPanel {
            caption: "requests per second".to_string(),
            x_desc: "requests/s at saturation".to_string(),
            rows,
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
        let (svg, png) = render(&fig)?;
        out.push(Chart {
            stem: format!("chart-latency-{}", file_safe(&w)),
            title: fig.title,
            svg,
            png,
        });
    }
    for (stem, fig) in [
        ("chart-overhead", overhead_figure(r)),
        ("chart-cpu", cpu_figure(r)),
        ("chart-throughput", throughput_figure(r)),
    ] {
        if let Some(fig) = fig {
            let (svg, png) = render(&fig)?;
            out.push(Chart {
                stem: stem.to_string(),
                title: fig.title,
                svg,
                png,
            });
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
                    })
                    .collect(),
            })
            .collect(),
        legend: vec![("95% interval".to_string(), LegendKind::Whisker)],
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
