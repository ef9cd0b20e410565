//! `curves-headers` and `curves-body`: overhead against the work, one line per implementation with a
//! band through its points' 95% intervals, one panel per figure (CPU at saturation, CPU at the fixed
//! rate, p50 latency).

use super::*;

/// One implementation's line on one panel: (x, estimate, low, high) per point.
pub struct GrowthLine {
    pub implementation: String,
    pub points: Vec<(f64, f64, f64, f64)>,
}

pub struct GrowthPanel {
    pub caption: String,
    pub y_desc: String,
    pub lines: Vec<GrowthLine>,
}

struct GrowthFigure {
    title: String,
    subtitle: Vec<String>,
    x_desc: String,
    panels: Vec<GrowthPanel>,
}

const PANEL_W: u32 = 520;
const PANEL_H: u32 = 420;
const LEGEND_W: u32 = 190;

/// The chart `stem` (SVG and PNG) of `panels` side by side.
pub fn growth_chart(
    stem: &str,
    title: &str,
    subtitle: Vec<String>,
    x_desc: &str,
    panels: Vec<GrowthPanel>,
) -> anyhow::Result<Chart> {
    let fig = GrowthFigure {
        title: title.into(),
        subtitle,
        x_desc: x_desc.into(),
        panels,
    };
    Chart::of(stem.into(), title.into(), &fig)
}

impl Figure for GrowthFigure {
    fn size(&self) -> (u32, u32) {
        let w = PANEL_W * self.panels.len().max(1) as u32 + LEGEND_W;
        let w = w.max(header_width(&self.title, &self.subtitle));
        (w, header_height(self.subtitle.len()) + PANEL_H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let body = header(root, &self.title, &self.subtitle)?;
        let (w, _) = body.dim_in_pixel();
        let (plots, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));
        let areas = plots.split_evenly((1, self.panels.len().max(1)));
        let ids: Vec<&str> = self
            .panels
            .first()
            .map(|p| p.lines.iter().map(|l| l.implementation.as_str()).collect())
            .unwrap_or_default();
        let colors = implementation_colors(ids.iter().copied());
        for (panel, area) in self.panels.iter().zip(&areas) {
            draw_panel(area, panel, &self.x_desc, &colors)?;
        }
        draw_legend(&legend, &colors)
    }
}

fn color_of(colors: &[(&str, RGBColor)], id: &str) -> RGBColor {
    colors.iter().find(|c| c.0 == id).map_or(GREY, |c| c.1)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &GrowthPanel,
    x_desc: &str,
    colors: &[(&str, RGBColor)],
) -> DrawResult<(), DB> {
    let all = panel.lines.iter().flat_map(|l| l.points.iter());
    let finite = |v: f64| v.is_finite().then_some(v);
    let xmax = all.clone().map(|p| p.0).fold(1.0f64, f64::max);
    let lo = all
        .clone()
        .filter_map(|p| finite(p.2).or(finite(p.1)))
        .fold(0.0f64, f64::min);
    let hi = all
        .filter_map(|p| finite(p.3).or(finite(p.1)))
        .fold(1.0f64, f64::max);
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.caption, bold(16.0 * canvas::SIZE_PER_EM))
        .margin(12)
        .x_label_area_size(55)
        .y_label_area_size(70)
        .build_cartesian_2d(
            TickAxis {
                lo: 0.0,
                hi: xmax * 1.02,
                log: false,
                ticks: nice_ticks(0.0, xmax, 6),
            },
            TickAxis {
                lo,
                hi,
                log: false,
                ticks: nice_ticks(lo, hi, 7),
            },
        )?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(panel.y_desc.clone())
        .axis_desc_style(font(TEXT_SIZE))
        .label_style(font(TEXT_SIZE))
        .x_label_formatter(&|x| format!("{x}"))
        .y_label_formatter(&|y| format!("{y}"))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;
    for line in &panel.lines {
        let c = color_of(colors, &line.implementation);
        let band: Vec<(f64, f64)> = line
            .points
            .iter()
            .filter(|p| p.2.is_finite() && p.3.is_finite())
            .map(|p| (p.0, p.3))
            .chain(
                line.points
                    .iter()
                    .rev()
                    .filter(|p| p.2.is_finite() && p.3.is_finite())
                    .map(|p| (p.0, p.2)),
            )
            .collect();
        if band.len() >= 3 {
            chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))?;
        }
        let pts: Vec<(f64, f64)> = line
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|p| (p.0, p.1))
            .collect();
        chart.draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?;
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    colors: &[(&str, RGBColor)],
) -> DrawResult<(), DB> {
    let line_h = (em(LEGEND_SIZE) * 1.6) as i32;
    for (i, (id, c)) in colors.iter().enumerate() {
        let y = 40 + line_h * i as i32;
        area.draw(&PathElement::new(vec![(8, y), (38, y)], c.stroke_width(3)))?;
        area.draw(&Text::new(
            id.to_string(),
            (46, y),
            font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}
