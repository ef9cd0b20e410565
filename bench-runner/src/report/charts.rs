//! Charts of a run, drawn with plotters from saved results only, each as SVG and PNG.
//!
//! - `chart-latency-<workload>`: latency percentile curves per variant on an HDR percentile axis;
//! - `chart-overhead`: p50 and p99 overhead bars with 95% interval whiskers;
//! - `chart-cpu`: Envoy CPU µs per request (baseline + overhead, overhead interval whiskers);
//! - `chart-throughput`: requests/s at saturation.
//!
//! Text is laid out and rasterised with DejaVu Sans embedded from the `dejavu` crate (see
//! `canvas`), so rendering needs no system fonts, fontconfig or freetype.

use super::canvas::{self, Canvas};
use super::curves;
use crate::results::{Results, VariantSummary, BASELINE};
use crate::stats::{self, Estimate};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;
use std::sync::Once;

/// The family every text of every chart uses (registered from embedded font bytes).
/// DejaVu Sans is what the PNGs are drawn and every chart is measured with; SVG viewers without it
/// fall back to Verdana (close metrics), then any sans-serif.
const FONT: &str = "DejaVu Sans, Verdana, sans-serif";
// Text sizes in plotters' unit: plotters' SVG backend writes `font-size = size / 1.24`, so these
// are 1.24 times the em in pixels (22, 15, 14 and 13 px); `canvas` measures and draws the same.
const TITLE_SIZE: f64 = 22.0 * canvas::SIZE_PER_EM;
const TEXT_SIZE: f64 = 15.0 * canvas::SIZE_PER_EM;
const SMALL_SIZE: f64 = 13.0 * canvas::SIZE_PER_EM;
const LEGEND_SIZE: f64 = 14.0 * canvas::SIZE_PER_EM;

/// Pixels of one em of a text size.
fn em(size: f64) -> f64 {
    size / canvas::SIZE_PER_EM
}
const GREY: RGBColor = RGBColor(90, 90, 90);
const LIGHT: RGBColor = RGBColor(175, 175, 175);

/// One rendered chart.
pub struct Chart {
    /// File name without extension, e.g. `chart-overhead`.
    pub stem: String,
    pub title: String,
    pub svg: String,
    pub png: Vec<u8>,
}

fn ensure_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both are valid TrueType files shipped by the crate; a failure would only mean no text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

fn font(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

fn bold(size: f64) -> TextStyle<'static> {
    (FONT, size, FontStyle::Bold).into_font().color(&BLACK)
}

/// A linear or logarithmic f64 axis whose labelled ticks are exactly `ticks` (plotters' own
/// choice of ticks cannot express the HDR percentiles, bar rows or a 1-2-5 log scale).
#[derive(Clone)]
struct TickAxis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
}

impl TickAxis {
    fn t(&self, x: f64) -> f64 {
        if self.log {
            x.max(f64::MIN_POSITIVE).ln()
        } else {
            x
        }
    }
}

impl Ranged for TickAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.t(self.hi) - self.t(self.lo);
        let frac = if span == 0.0 {
            0.0
        } else {
            (self.t(*value) - self.t(self.lo)) / span
        };
        limit.0 + (frac * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Width in pixels of `text` at `size`, from the embedded font's metrics.
fn text_width(text: &str, size: f64) -> u32 {
    canvas::measure(text, size, false).0
}

/// A chart that can be drawn on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB>;
}

fn render(fig: &impl Figure) -> anyhow::Result<(String, Vec<u8>)> {
    ensure_fonts();
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let root = Canvas::vector(SVGBackend::with_string(&mut svg, (w, h))).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| anyhow::anyhow!("drawing SVG chart: {e}"))?;
        fig.draw(&root)
            .map_err(|e| anyhow::anyhow!("drawing SVG chart: {e}"))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("drawing SVG chart: {e}"))?;
    }
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root =
            Canvas::raster(BitMapBackend::with_buffer(&mut pixels, (w, h))).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| anyhow::anyhow!("drawing PNG chart: {e}"))?;
        fig.draw(&root)
            .map_err(|e| anyhow::anyhow!("drawing PNG chart: {e}"))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("drawing PNG chart: {e}"))?;
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok((svg, png))
}

/// Draws a bold title and a grey subtitle line (or several) at the top; returns the area below.
fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &[String],
) -> DrawResult<DrawingArea<DB, Shift>, DB> {
    let (w, _) = root.dim_in_pixel();
    let cx = w as i32 / 2;
    let center = Pos::new(HPos::Center, VPos::Top);
    root.draw(&Text::new(
        title.to_string(),
        (cx, 10),
        bold(TITLE_SIZE).pos(center),
    ))?;
    let mut y = 10 + em(TITLE_SIZE) as i32 + 8;
    for line in subtitle {
        root.draw(&Text::new(
            line.clone(),
            (cx, y),
            font(SMALL_SIZE).color(&GREY).pos(center),
        ))?;
        y += em(SMALL_SIZE) as i32 + 5;
    }
    let (_, below) = root.split_vertically(y + 6);
    Ok(below)
}

/// Width the title and subtitle lines need.
fn header_width(title: &str, subtitle: &[String]) -> u32 {
    let t = canvas::measure(title, TITLE_SIZE, true).0;
    subtitle
        .iter()
        .map(|l| text_width(l, SMALL_SIZE))
        .chain([t])
        .max()
        .unwrap_or(0)
        + 40
}

fn header_height(lines: usize) -> u32 {
    10 + em(TITLE_SIZE) as u32 + 8 + lines as u32 * (em(SMALL_SIZE) as u32 + 5) + 6
}

// ---------------------------------------------------------------------------------------------
// Colours: one per language, stable across charts; runtimes of one language get darker shades.

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),  // blue
    RGBColor(255, 127, 14),  // orange
    RGBColor(44, 160, 44),   // green
    RGBColor(214, 39, 40),   // red
    RGBColor(148, 103, 189), // purple
    RGBColor(23, 190, 207),  // cyan
    RGBColor(140, 86, 75),   // brown
    RGBColor(227, 119, 194), // pink
];

fn language_color(language: &str) -> RGBColor {
    match language {
        "none" => RGBColor(40, 40, 40),
        "lua" => PALETTE[0],
        "rust" => PALETTE[1],
        "go" => PALETTE[5],
        "go-higress" => PALETTE[2],
        "cpp" => PALETTE[3],
        "assemblyscript" => PALETTE[4],
        other => {
            let h = other
                .bytes()
                .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
            PALETTE[6 + h % 2]
        }
    }
}

fn darken(c: RGBColor, k: usize) -> RGBColor {
    let f = 1.0 - 0.3 * (k.min(3) as f64);
    let d = |x: u8| (x as f64 * f) as u8;
    RGBColor(d(c.0), d(c.1), d(c.2))
}

/// Colour of each variant: its language's, darker for its language's second, third... runtime.
fn variant_colors(vs: &[&VariantSummary]) -> Vec<RGBColor> {
    vs.iter()
        .map(|v| {
            let mut runtimes: Vec<Option<&str>> = Vec::new();
            for o in vs.iter().filter(|o| o.language == v.language) {
                if !runtimes.contains(&o.runtime.as_deref()) {
                    runtimes.push(o.runtime.as_deref());
                }
            }
            let k = runtimes
                .iter()
                .position(|r| *r == v.runtime.as_deref())
                .unwrap_or(0);
            darken(language_color(&v.language), k)
        })
        .collect()
}

/// Baseline first, then by workload (in the profile's order), language, runtime.
pub fn ordered(r: &Results) -> Vec<&VariantSummary> {
    let mut vs: Vec<&VariantSummary> = r.variants.iter().collect();
    let wl = |v: &VariantSummary| {
        r.profile
            .workloads
            .iter()
            .position(|w| *w == v.workload)
            .unwrap_or(usize::MAX)
    };
    vs.sort_by(|a, b| {
        (a.id != BASELINE)
            .cmp(&(b.id != BASELINE))
            .then(wl(a).cmp(&wl(b)))
            .then(a.workload.cmp(&b.workload))
            .then(a.language.cmp(&b.language))
            .then(a.runtime.cmp(&b.runtime))
    });
    vs
}

// ---------------------------------------------------------------------------------------------
// Latency percentile curves.

struct Series {
    label: String,
    /// Second legend line (grey), e.g. the p50 and p99.
    detail: String,
    color: RGBColor,
    /// (HDR axis x, µs)
    points: Vec<(f64, f64)>,
}

struct LatencyFigure {
    title: String,
    subtitle: Vec<String>,
    series: Vec<Series>,
}

/// 1-2-5 ticks covering [lo, hi].
fn ticks_125(lo: f64, hi: f64) -> Vec<f64> {
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
fn fmt_latency(us: f64) -> String {
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

fn fmt_us(v: f64) -> String {
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

const LEGEND_SWATCH: i32 = 24;

impl LatencyFigure {
    fn legend_width(&self) -> u32 {
        let text = self
            .series
            .iter()
            .map(|s| text_width(&s.label, LEGEND_SIZE).max(text_width(&s.detail, SMALL_SIZE)))
            .max()
            .unwrap_or(0);
        text + LEGEND_SWATCH as u32 + 8 + 2 * 10 + 16
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
        series_legend(&legend_area, &self.series)?;
        Ok(())
    }
}

/// The curves' legend, in its own column right of the plot (so it never hides a curve); each
/// entry is the variant id with its p50 and p99 on a grey second line. Sized with the embedded
/// font's metrics (plotters' own legend measures text differently from how it is drawn).
fn series_legend<DB: DrawingBackend>(
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
        area.draw(&PathElement::new(
            vec![(x, y), (x + LEGEND_SWATCH, y)],
            s.color.stroke_width(3),
        ))?;
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

fn latency_figures(r: &Results) -> Vec<(String, LatencyFigure)> {
    let vs = ordered(r);
    let baseline: Vec<&VariantSummary> = vs.iter().copied().filter(|v| v.id == BASELINE).collect();
    let mut workloads: Vec<&str> = Vec::new();
    for v in vs.iter().filter(|v| v.id != BASELINE) {
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

// ---------------------------------------------------------------------------------------------
// Horizontal bars with whiskers.

struct BarRow {
    label: String,
    color: RGBColor,
    /// Stacked part drawn in grey before the bar (0 for none).
    base: f64,
    /// Length of the coloured bar, after `base`; NaN: no data.
    value: f64,
    /// Whisker, absolute x positions.
    whisker: Option<(f64, f64)>,
    /// Text printed after the bar.
    note: String,
    /// Rows of one group (a workload) sit together; a line separates groups.
    group: String,
}

struct BarPanel {
    caption: String,
    x_desc: String,
    rows: Vec<BarRow>,
}

struct BarFigure {
    title: String,
    subtitle: Vec<String>,
    panels: Vec<BarPanel>,
    /// Legend entries: (text, kind).
    legend: Vec<(String, LegendKind)>,
    x_fmt: fn(f64) -> String,
}

#[derive(Clone, Copy)]
enum LegendKind {
    Box(RGBColor),
    Whisker,
}

const ROW_H: u32 = 30;
const PANEL_W: u32 = 520;

impl BarFigure {
    fn rows(&self) -> usize {
        self.panels.first().map_or(0, |p| p.rows.len())
    }

    fn label_width(&self) -> u32 {
        self.panels
            .first()
            .map(|p| {
                p.rows
                    .iter()
                    .map(|r| text_width(&r.label, TEXT_SIZE))
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
            + 24
    }

    fn legend_height(&self) -> u32 {
        if self.legend.is_empty() {
            0
        } else {
            30
        }
    }
}

impl Figure for BarFigure {
    fn size(&self) -> (u32, u32) {
        let w = (self.label_width() + PANEL_W * self.panels.len() as u32 + 30)
            .max(header_width(&self.title, &self.subtitle));
        let h = header_height(self.subtitle.len())
            + self.legend_height()
            + 30 // panel caption
            + ROW_H * self.rows() as u32
            + 20 // space above and below the rows
            + 80; // x labels and description
        (w.max(700), h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let area = header(root, &self.title, &self.subtitle)?;
        let area = if self.legend.is_empty() {
            area
        } else {
            let (legend, rest) = area.split_vertically(self.legend_height());
            draw_legend(&legend, &self.legend)?;
            rest
        };
        let label_w = self.label_width();
        let mut rest = area;
        let last = self.panels.len().saturating_sub(1);
        for (i, panel) in self.panels.iter().enumerate() {
            let lw = if i == 0 { label_w } else { 12 };
            if i == last {
                draw_panel(&rest, panel, lw, i == 0, self.x_fmt)?;
            } else {
                let (this, next) = rest.split_horizontally(lw + PANEL_W);
                draw_panel(&this, panel, lw, i == 0, self.x_fmt)?;
                rest = next;
            }
        }
        Ok(())
    }
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(String, LegendKind)],
) -> DrawResult<(), DB> {
    let widths: Vec<u32> = items
        .iter()
        .map(|(t, _)| 30 + text_width(t, LEGEND_SIZE) + 28)
        .collect();
    let (w, _) = area.dim_in_pixel();
    let mut x = (w as i32 - widths.iter().sum::<u32>() as i32).max(0) / 2;
    let y = 12;
    for ((text, kind), wi) in items.iter().zip(widths) {
        match kind {
            LegendKind::Box(c) => {
                area.draw(&Rectangle::new([(x, y - 7), (x + 22, y + 7)], c.filled()))?;
            }
            LegendKind::Whisker => {
                let s = BLACK.stroke_width(2);
                area.draw(&PathElement::new(vec![(x, y), (x + 22, y)], s))?;
                area.draw(&PathElement::new(vec![(x, y - 6), (x, y + 6)], s))?;
                area.draw(&PathElement::new(vec![(x + 22, y - 6), (x + 22, y + 6)], s))?;
            }
        }
        area.draw(&Text::new(
            text.clone(),
            (x + 30, y),
            font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += wi as i32;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &BarPanel,
    label_w: u32,
    labels: bool,
    x_fmt: fn(f64) -> String,
) -> DrawResult<(), DB> {
    let n = panel.rows.len();
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    for r in &panel.rows {
        for x in [r.base, r.base + r.value]
            .into_iter()
            .chain(r.whisker.iter().flat_map(|w| [w.0, w.1]))
        {
            if x.is_finite() {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    // Room on the right for the value printed after each bar.
    let note_w = panel
        .rows
        .iter()
        .map(|r| text_width(&r.note, SMALL_SIZE))
        .max()
        .unwrap_or(0) as f64
        + 12.0;
    let plot_w = (area.dim_in_pixel().0 as f64 - label_w as f64 - 20.0).max(100.0);
    let span = hi - lo;
    let frac = (note_w / plot_w).min(0.6);
    let hi_ext = hi + span * frac / (1.0 - frac);
    let lo_ext = if lo < 0.0 { lo - span * 0.03 } else { lo };
    let row_y = |i: usize| (n - 1 - i) as f64;
    let labels_of: Vec<String> = panel.rows.iter().map(|r| r.label.clone()).collect();
    let keys: Vec<f64> = (0..n).map(row_y).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.caption, bold(16.0 * canvas::SIZE_PER_EM))
        .margin_right(20)
        .margin_top(4)
        .x_label_area_size(64)
        .y_label_area_size(label_w)
        .build_cartesian_2d(
            TickAxis {
                lo: lo_ext,
                hi: hi_ext,
                log: false,
                ticks: nice_ticks(lo_ext, hi_ext, 8),
            },
            TickAxis {
                lo: -0.6,
                hi: n as f64 - 0.4,
                log: false,
                ticks: keys,
            },
        )?;
    let label_fmt = |y: &f64| {
        if !labels {
            return String::new();
        }
        let i = n as i64 - 1 - y.round() as i64;
        labels_of.get(i as usize).cloned().unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(panel.x_desc.clone())
        .axis_desc_style(font(TEXT_SIZE))
        .label_style(font(TEXT_SIZE))
        .x_label_formatter(&|x| x_fmt(*x))
        .y_label_formatter(&label_fmt)
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;
    if lo < 0.0 {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.6), (0.0, n as f64 - 0.4)],
            GREY.stroke_width(1),
        )))?;
    }
    let half = 0.32;
    for i in 1..n {
        if panel.rows[i].group != panel.rows[i - 1].group {
            let y = row_y(i) + 0.5;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(lo_ext, y), (hi_ext, y)],
                RGBColor(150, 150, 150).stroke_width(1),
            )))?;
        }
    }
    for (i, r) in panel.rows.iter().enumerate() {
        let y = row_y(i);
        if r.base > 0.0 && r.base.is_finite() {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - half), (r.base, y + half)],
                LIGHT.filled(),
            )))?;
        }
        if r.value.is_finite() {
            let (a, b) = (r.base, r.base + r.value);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a.min(b), y - half), (a.max(b), y + half)],
                r.color.filled(),
            )))?;
        }
        if let Some((wl, wh)) = r.whisker.filter(|w| w.0.is_finite() && w.1.is_finite()) {
            let s = BLACK.stroke_width(2);
            let cap = 0.18;
            chart.draw_series([
                PathElement::new(vec![(wl, y), (wh, y)], s),
                PathElement::new(vec![(wl, y - cap), (wl, y + cap)], s),
                PathElement::new(vec![(wh, y - cap), (wh, y + cap)], s),
            ])?;
        }
        let end = [
            r.base,
            r.base + r.value,
            r.whisker.map_or(f64::NAN, |w| w.1),
        ]
        .into_iter()
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max);
        chart.draw_series(std::iter::once(
            EmptyElement::at((end, y))
                + Text::new(
                    r.note.clone(),
                    (6, 0),
                    font(SMALL_SIZE)
                        .color(&GREY)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ),
        ))?;
    }
    Ok(())
}

/// About `target` evenly spaced "nice" ticks (steps of 1, 2 or 5 times a power of ten) in [lo, hi].
fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || span.is_infinite() {
        return vec![lo];
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    // Rounded to the step's decimals: no float dust such as 0.30000000000000004, and no "-0".
    let unit = 10f64.powi((-step.log10().floor()).max(0.0) as i32);
    let mut k = (lo / step).ceil() as i64;
    let mut out = Vec::new();
    while (k as f64) * step <= hi + step * 1e-9 && out.len() < 100 {
        let v = ((k as f64) * step * unit).round() / unit;
        out.push(if v == 0.0 { 0.0 } else { v });
        k += 1;
    }
    out
}

fn fmt_plain(x: f64) -> String {
    if x.abs() >= 10_000.0 {
        return fmt_kilo(x);
    }
    if x.abs() >= 100.0 || x == 0.0 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.1}");
        s.trim_end_matches(".0").to_string()
    }
}

fn fmt_kilo(x: f64) -> String {
    if x.abs() >= 1000.0 {
        let s = format!("{:.1}", x / 1000.0);
        format!("{}k", s.trim_end_matches(".0"))
    } else {
        format!("{x:.0}")
    }
}

fn est_note(e: &Estimate) -> String {
    if e.estimate.is_finite() {
        format!(
            "{:+.1} [{:+.1}, {:+.1}]",
            e.estimate, e.ci95_low, e.ci95_high
        )
    } else {
        "n/a".to_string()
    }
}

fn rounds_note(r: &Results) -> String {
    let n = r.profile.rounds;
    if n < 2 {
        format!("{n} round: intervals need at least 2 rounds and collapse onto the estimate")
    } else {
        format!("{n} rounds, each variant paired with the baseline of the same round")
    }
}

fn overhead_figure(r: &Results) -> Option<BarFigure> {
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

fn cpu_figure(r: &Results) -> Option<BarFigure> {
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
                "plugin overhead (colour: language)".to_string(),
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

fn throughput_figure(r: &Results) -> Option<BarFigure> {
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

/// Every chart of a run, rendered (nothing is written).
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
    out.extend(super::micro::charts(r)?);
    Ok(out)
}

/// One bar of [`simple_bar_chart`]: coloured by `language`, grouped by `group`, with its interval.
pub(super) struct SimpleBar {
    pub label: String,
    pub language: String,
    pub group: String,
    pub value: Estimate,
    pub note: String,
}

/// A horizontal bar chart with 95%-interval whiskers for report sections kept in their own files
/// (`micro`): panels of (caption, x-axis description, bars).
pub(super) fn simple_bar_chart(
    stem: &str,
    title: &str,
    subtitle: Vec<String>,
    panels: Vec<(String, String, Vec<SimpleBar>)>,
) -> anyhow::Result<Chart> {
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
                        label: b.label,
                        color: language_color(&b.language),
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

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_1_2_5() {
        assert_eq!(
            ticks_125(30.0, 1200.0),
            vec![50.0, 100.0, 200.0, 500.0, 1000.0]
        );
        assert_eq!(ticks_125(1.0, 9.0), vec![1.0, 2.0, 5.0]);
    }

    #[test]
    fn nice_ticks_are_round_and_cover_the_range() {
        assert_eq!(
            nice_ticks(0.0, 52.0, 7),
            vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
        );
        assert_eq!(
            nice_ticks(-16.5, 140.0, 8),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 120.0, 140.0]
        );
        assert_eq!(
            nice_ticks(-30.0, 30.0, 6),
            vec![-30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0]
        );
        assert_eq!(nice_ticks(0.0, 0.3, 3), vec![0.0, 0.1, 0.2, 0.3]);
    }

    #[test]
    fn number_formats() {
        assert_eq!(fmt_us(78.9), "79");
        assert_eq!(fmt_us(1500.0), "1.5k");
        assert_eq!(fmt_us(2000.0), "2k");
        assert_eq!(fmt_kilo(52697.0), "52.7k");
        assert_eq!(fmt_kilo(30000.0), "30k");
        assert_eq!(fmt_plain(10.62), "10.6");
        assert_eq!(fmt_plain(-5.0), "-5");
        assert_eq!(fmt_plain(200000.0), "200k");
        assert_eq!(fmt_latency(78.9), "79 µs");
        assert_eq!(fmt_latency(1530.0), "1.5 ms");
        assert_eq!(fmt_latency(41000.0), "41 ms");
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("mock"), "mock");
        assert_eq!(file_safe("a b/c"), "a_b_c");
    }
}
