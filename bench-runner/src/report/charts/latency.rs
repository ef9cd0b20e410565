//! The latency-percentile figure: one panel per workload, a line per variant over the quantiles, with
//! its legend.

use super::*;

/// 1-2-5 ticks covering [lo, hi].
pub(super) fn ticks_125(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi && out.len() < 60 {
        for m in [1.0, 2.0, 5.0] {
            let t = decade * m;
            if t >= lo && t <= hi {
                out.push(t);
            }
        }
        decade *= 10.0;
    }
    out
}

/// A latency for a legend: "79 µs", "1.5 ms", "41 ms".
pub(super) fn fmt_latency(us: f64) -> String {
    if !us.is_finite() {
        "n/a".into()
    } else if us >= 10_000.0 {
        format!("{:.0} ms", us / 1000.0)
    } else if us >= 1000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

pub(super) fn fmt_us(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0).replace(".0k", "k")
    } else if v >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

impl Figure for LatencyFigure {
    fn size(&self) -> (u32, u32) {
        let h = (header_height(self.subtitle.len()) + 560)
            .max(header_height(self.subtitle.len()) + 80 + 40 * self.series.len() as u32);
        (
            (860 + self.legend_width()).max(header_width(&self.title, &self.subtitle)),
            h,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let area = header(root, &self.title, &self.subtitle)?;
        let (w, _) = area.dim_in_pixel();
        let (area, legend_area) = area.split_horizontally(w.saturating_sub(self.legend_width()));
        let all = self.series.iter().flat_map(|s| s.points.iter());
        let xmax = (all.clone().map(|p| p.0).fold(2.0f64, f64::max) - 1e-6)
            .ceil()
            .min(7.0);
        let ymin = all
            .clone()
            .map(|p| p.1)
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let ymax = all.map(|p| p.1).fold(0.0f64, f64::max);
        let (ymin, ymax) = if ymin.is_finite() && ymax > 0.0 {
            (ymin * 0.8, ymax * 1.3)
        } else {
            (1.0, 1000.0)
        };
        let mut xticks: Vec<f64> = (0..=xmax as usize).map(|k| k as f64).collect();
        xticks.insert(1, curves::hdr_x(0.5).unwrap_or(0.3));
        let yticks = ticks_125(ymin, ymax);
        let mut chart = ChartBuilder::on(&area)
            .margin_left(10)
            .margin_right(30)
            .margin_bottom(10)
            .x_label_area_size(55)
            .y_label_area_size(80)
            .build_cartesian_2d(
                TickAxis {
                    lo: 0.0,
                    hi: xmax,
                    log: false,
                    ticks: xticks,
                },
                TickAxis {
                    lo: ymin,
                    hi: ymax,
                    log: true,
                    ticks: yticks,
                },
            )?;
        chart
            .configure_mesh()
            .x_desc("percentile (log scale: each step adds a 9)")
            .y_desc("latency, µs (log scale)")
            .axis_desc_style(font(TEXT_SIZE))
            .label_style(font(TEXT_SIZE))
            .x_label_formatter(&|x| curves::hdr_label(*x))
            .y_label_formatter(&|y| fmt_us(*y))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        for s in &self.series {
            if s.dashed {
                chart.draw_series(DashedLineSeries::new(
                    s.points.iter().copied(),
                    9,
                    6,
                    s.color.stroke_width(2),
                ))?;
                chart.draw_series(
                    s.points
                        .iter()
                        .map(|&p| Circle::new(p, 3, s.color.stroke_width(1))),
                )?;
            } else {
                chart.draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    s.color.stroke_width(2),
                ))?;
                chart.draw_series(
                    s.points
                        .iter()
                        .map(|&p| Circle::new(p, 3, s.color.filled())),
                )?;
            }
        }
        series_legend(&legend_area, &self.series)?;
        Ok(())
    }
}

/// The curves' legend, in its own column right of the plot (so it never hides a curve); each
/// entry is the variant id with its p50 and p99 on a grey second line. Sized with the embedded
/// font's metrics (plotters' own legend measures text differently from how it is drawn).
pub(super) fn series_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
) -> DrawResult<(), DB> {
    if series.is_empty() {
        return Ok(());
    }
    let line_h = (em(LEGEND_SIZE) * 1.3) as i32;
    let entry_h = line_h * 2 + 6;
    let pad = 10;
    let (aw, _) = area.dim_in_pixel();
    let (x0, y0) = (0, 10);
    let w = aw as i32 - 16;
    let h = pad * 2 + entry_h * series.len() as i32 - 6;
    area.draw(&Rectangle::new([(x0, y0), (x0 + w, y0 + h)], LIGHT))?;
    for (i, s) in series.iter().enumerate() {
        let y = y0 + pad + entry_h * i as i32 + line_h / 2;
        let x = x0 + pad;
        if s.dashed {
            for k in 0..3 {
                let a = x + k * LEGEND_SWATCH / 3;
                area.draw(&PathElement::new(
                    vec![(a, y), (a + LEGEND_SWATCH / 5, y)],
                    s.color.stroke_width(3),
                ))?;
            }
        } else {
            area.draw(&PathElement::new(
                vec![(x, y), (x + LEGEND_SWATCH, y)],
                s.color.stroke_width(3),
            ))?;
        }
        area.draw(&Circle::new(
            (x + LEGEND_SWATCH / 2, y),
            3,
            s.color.filled(),
        ))?;
        let tx = x + LEGEND_SWATCH + 8;
        area.draw(&Text::new(
            s.label.clone(),
            (tx, y),
            font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        area.draw(&Text::new(
            s.detail.clone(),
            (tx, y + line_h),
            font(SMALL_SIZE)
                .color(&GREY)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

pub(super) fn latency_figures(r: &Results) -> Vec<(String, LatencyFigure)> {
    let vs = ordered(r);
    let baseline: Vec<&VariantSummary> = vs.iter().copied().filter(|v| v.id == BASELINE).collect();
    let mut workloads: Vec<&str> = Vec::new();
    // the no-plugin listeners (baseline, baseline-aa) have no workload of their own
    for v in vs
        .iter()
        .filter(|v| v.id != BASELINE && v.workload != "none")
    {
        if !workloads.contains(&v.workload.as_str()) {
            workloads.push(&v.workload);
        }
    }
    // A run of the baseline alone still gets its curve.
    let groups: Vec<(String, Vec<&VariantSummary>)> = if workloads.is_empty() {
        if baseline.is_empty() {
            vec![]
        } else {
            vec![(BASELINE.to_string(), baseline.clone())]
        }
    } else {
        workloads
            .iter()
            .map(|w| {
                let mut g = baseline.clone();
                g.extend(
                    vs.iter()
                        .copied()
                        .filter(|v| v.id != BASELINE && v.workload == *w),
                );
                (w.to_string(), g)
            })
            .collect()
    };
    let rate = r
        .profile
        .latency
        .rate
        .map_or("closed-loop".to_string(), |x| {
            format!("{x:.0} req/s open-loop")
        });
    groups
        .into_iter()
        .filter_map(|(w, g)| {
            let colors = variant_colors(&g);
            let series: Vec<Series> = g
                .iter()
                .zip(colors)
                .map(|(v, color)| {
                    let curve = curves::variant_curve(&r.rounds, &v.id);
                    let curve = curves::resolved(&curve, curves::min_samples(&r.rounds, &v.id));
                    let points = curves::to_hdr_points(&curve)
                        .into_iter()
                        .filter(|p| p.1 > 0.0)
                        .collect();
                    Series {
                        label: v.id.clone(),
                        detail: format!("p50 {}, p99 {}", fmt_latency(v.latency_us.p50), fmt_latency(v.latency_us.p99)),
                        color,
                        points,
                        dashed: false,
                    }
                })
                .filter(|s: &Series| !s.points.is_empty())
                .collect();
            if series.is_empty() {
                return None;
            }
            let what = if w == BASELINE { "baseline only".to_string() } else { format!("workload \"{w}\"") };
            Some((
                w.clone(),
                LatencyFigure {
                    title: format!("Latency percentiles, {what}"),
                    subtitle: vec![
                        format!(
                            "latency phase at {rate} over {} connections; per percentile the median over {} rounds",
                            r.profile.latency.connections, r.profile.rounds
                        ),
                        "each curve ends at the highest percentile its rounds' request counts resolve (1 − 1/requests)".to_string(),
                    ],
                    series,
                },
            ))
        })
        .collect()
}
