//! The charts of a comparison of two runs (`compare --charts`): per workload the two runs' latency
//! percentile curves overlaid (BASE dashed, NEW solid, one colour per variant), and the change of every
//! compared figure as a bar with its 95% interval over the noise threshold drawn as a grey band.
//! Everything comes from the two saved results.json files.

use super::figures::est_note;
use super::*;

/// One compared figure of one variant, as `compare` judged it (the chart does not recompute it).
#[derive(Debug, Clone)]
pub struct ChangeBar {
    pub variant: String,
    /// Metric key (`p50`, `p99`, `cpu`, `rps`) and its label for the panel caption.
    pub metric: String,
    pub label: String,
    /// `us` or `pct`.
    pub unit: String,
    /// NEW minus BASE, with its interval.
    pub change: Estimate,
    /// The noise threshold in the change's unit (the band is drawn from -threshold to +threshold).
    pub threshold: f64,
    pub verdict: String,
}

/// The overlay of one workload's figures of BASE and NEW: for each variant of NEW, BASE's curve
/// (dashed, NEW's colour) then NEW's (solid). Variants only one run has are drawn alone.
fn overlay(
    base: &LatencyFigure,
    new: &LatencyFigure,
    workload: &str,
    runs: &[String],
) -> LatencyFigure {
    let mut series = Vec::new();
    for n in &new.series {
        if let Some(b) = base.series.iter().find(|b| b.label == n.label) {
            series.push(Series {
                label: format!("{} · BASE", b.label),
                detail: b.detail.clone(),
                color: n.color,
                points: b.points.clone(),
                dashed: true,
            });
        }
        series.push(Series {
            label: format!("{} · NEW", n.label),
            detail: n.detail.clone(),
            color: n.color,
            points: n.points.clone(),
            dashed: false,
        });
    }
    let mut subtitle = runs.to_vec();
    subtitle.extend(new.subtitle.iter().cloned());
    LatencyFigure {
        title: format!(
            "Latency percentiles, BASE (dashed) vs NEW (solid), workload \"{workload}\""
        ),
        subtitle,
        series,
    }
}

/// The change bars: one panel per metric, one row per variant (coloured by `colors`), the threshold
/// as a band.
fn change_figure(
    colors: &[(String, RGBColor)],
    changes: &[ChangeBar],
    title: &str,
    runs: &[String],
) -> Option<BarFigure> {
    let color_of = |id: &str| {
        colors
            .iter()
            .find(|(v, _)| v == id)
            .map_or(LIGHT, |(_, c)| *c)
    };
    let mut metrics: Vec<(&str, &str, &str)> = Vec::new();
    for c in changes {
        if !metrics.iter().any(|m| m.0 == c.metric) {
            metrics.push((&c.metric, &c.label, &c.unit));
        }
    }
    let variants: Vec<&str> = {
        let mut v: Vec<&str> = Vec::new();
        for c in changes {
            if !v.contains(&c.variant.as_str()) {
                v.push(&c.variant);
            }
        }
        v
    };
    let panels: Vec<BarPanel> = metrics
        .iter()
        .map(|(key, label, unit)| {
            let u = if *unit == "pct" { "%" } else { " µs" };
            BarPanel {
                caption: label.to_string(),
                x_desc: format!("NEW − BASE,{u} (grey band: the noise threshold)"),
                rows: variants
                    .iter()
                    .map(|id| {
                        let c = changes
                            .iter()
                            .find(|c| c.variant == *id && c.metric == *key);
                        match c {
                            Some(c) => BarRow {
                                label: id.to_string(),
                                color: color_of(id),
                                base: 0.0,
                                value: c.change.estimate,
                                whisker: c
                                    .change
                                    .has_interval()
                                    .then_some((c.change.ci95_low, c.change.ci95_high)),
                                note: format!("{}{u} {}", est_note(&c.change), c.verdict),
                                group: String::new(),
                                band: Some(c.threshold),
                            },
                            None => BarRow {
                                label: id.to_string(),
                                color: LIGHT,
                                base: 0.0,
                                value: f64::NAN,
                                whisker: None,
                                note: "not compared".into(),
                                group: String::new(),
                                band: None,
                            },
                        }
                    })
                    .collect(),
                cut: None,
            }
        })
        .collect();
    if panels.is_empty() || variants.is_empty() {
        return None;
    }
    Some(BarFigure {
        title: title.into(),
        subtitle: runs.to_vec(),
        panels,
        legend: vec![("95% interval of the change".into(), LegendKind::Whisker)],
        x_fmt: fmt_plain,
    })
}

/// Every chart of a comparison: `compare-latency-<workload>` per workload NEW has, then
/// `compare-changes`.
pub fn comparison_charts(
    base: &Results,
    new: &Results,
    base_label: &str,
    new_label: &str,
    changes: &[ChangeBar],
) -> anyhow::Result<Vec<Chart>> {
    let runs = vec![
        format!("BASE {base_label} (started {})", base.started_at),
        format!("NEW {new_label} (started {})", new.started_at),
    ];
    let base_figs = latency_figures(base);
    let mut out = Vec::new();
    for (w, n) in latency_figures(new) {
        let empty = LatencyFigure {
            title: String::new(),
            subtitle: vec![],
            series: vec![],
        };
        let b = base_figs
            .iter()
            .find(|(bw, _)| *bw == w)
            .map_or(&empty, |x| &x.1);
        let fig = overlay(b, &n, &w, &runs);
        out.push(Chart::of(
            format!("compare-latency-{}", file_safe(&w)),
            fig.title.clone(),
            &fig,
        )?);
    }
    let colors: Vec<(String, RGBColor)> = {
        let vs = ordered(new);
        vs.iter()
            .map(|v| v.id.clone())
            .zip(variant_colors(&vs))
            .collect()
    };
    let title = "What changed from BASE to NEW: every compared figure with its 95% interval";
    if let Some(fig) = change_figure(&colors, changes, title, &runs) {
        out.push(Chart::of(
            "compare-changes".into(),
            fig.title.clone(),
            &fig,
        )?);
    }
    Ok(out)
}

/// The change bars alone, as `ab` draws them: `implementation_of` gives each row's implementation
/// (its colour); None when there is nothing to draw.
pub fn change_bars_chart(
    stem: &str,
    title: &str,
    subtitle: &[String],
    changes: &[ChangeBar],
    implementation_of: &[(String, String)],
) -> anyhow::Result<Option<Chart>> {
    let colors =
        super::palette::implementation_colors(implementation_of.iter().map(|x| x.1.as_str()));
    let colors: Vec<(String, RGBColor)> = implementation_of
        .iter()
        .map(|(id, imp)| {
            let c = colors.iter().find(|(i, _)| i == imp).map_or(LIGHT, |x| x.1);
            (id.clone(), c)
        })
        .collect();
    match change_figure(&colors, changes, title, subtitle) {
        Some(fig) => Ok(Some(Chart::of(stem.into(), fig.title.clone(), &fig)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(points: &[(f64, f64)]) -> LatencyFigure {
        LatencyFigure {
            title: "t".into(),
            subtitle: vec!["s".into()],
            series: vec![Series {
                label: "rust-v8-mock".into(),
                detail: String::new(),
                color: RGBColor(1, 2, 3),
                points: points.to_vec(),
                dashed: false,
            }],
        }
    }

    #[test]
    fn identical_runs_draw_coinciding_curves_and_a_shift_draws_the_shift() {
        let pts = [(0.0, 100.0), (1.0, 120.0), (2.0, 300.0)];
        let same = overlay(&fig(&pts), &fig(&pts), "mock", &[]);
        assert_eq!(same.series.len(), 2);
        assert!(same.series[0].dashed && !same.series[1].dashed);
        assert_eq!(same.series[0].points, same.series[1].points);
        assert_eq!(same.series[0].color, same.series[1].color);
        let shifted: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x, y + 25.0)).collect();
        let moved = overlay(&fig(&pts), &fig(&shifted), "mock", &[]);
        for (b, n) in moved.series[0].points.iter().zip(&moved.series[1].points) {
            assert_eq!((n.0, n.1 - b.1), (b.0, 25.0));
        }
    }

    #[test]
    fn a_variant_only_new_has_is_drawn_alone() {
        let mut base = fig(&[(0.0, 1.0)]);
        base.series[0].label = "lua-mock".into();
        let o = overlay(&base, &fig(&[(0.0, 2.0)]), "mock", &[]);
        assert_eq!(o.series.len(), 1);
        assert_eq!(o.series[0].label, "rust-v8-mock · NEW");
    }
}
