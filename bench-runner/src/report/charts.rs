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
mod latency;
use latency::*;
mod bars;
use bars::*;
mod figures;
mod growth;
pub use growth::{growth_chart, GrowthLine, GrowthPanel};
mod overlay;
mod palette;
mod stacked;
pub use figures::render_all;
pub(super) use figures::{simple_bar_chart, simple_bar_chart_whiskers};
pub use overlay::{change_bars_chart, comparison_charts, ChangeBar};
pub(in crate::report) use palette::variant_hex;
use palette::*;
pub(super) use stacked::{stacked_bar_chart, StackPanel, StackRow, StackSeries};

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

impl Chart {
    /// Renders `fig` as a chart named `stem`.
    fn of(stem: String, title: String, fig: &impl Figure) -> anyhow::Result<Chart> {
        let (svg, png) = render(fig)?;
        Ok(Chart {
            stem,
            title,
            svg,
            png,
        })
    }

    /// Writes `<stem>.svg` and `<stem>.png` into `dir` (atomically); returns both paths.
    pub fn write_to(&self, dir: &std::path::Path) -> std::io::Result<[std::path::PathBuf; 2]> {
        let svg = dir.join(format!("{}.svg", self.stem));
        let png = dir.join(format!("{}.png", self.stem));
        crate::sys::write_atomic(&svg, self.svg.as_bytes())?;
        crate::sys::write_atomic(&png, &self.png)?;
        Ok([svg, png])
    }
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
    // the baseline, then the A/A null check, then the plugins by workload
    let rank = |v: &VariantSummary| match v.id.as_str() {
        BASELINE => 0,
        crate::results::BASELINE_AA => 1,
        _ => 2,
    };
    vs.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
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
    /// Drawn dashed (the BASE run of a comparison).
    dashed: bool,
}

struct LatencyFigure {
    title: String,
    subtitle: Vec<String>,
    series: Vec<Series>,
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

// ---------------------------------------------------------------------------------------------
// Horizontal bars with whiskers.

#[derive(Clone)]
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
    /// A band drawn behind the row from -x to +x (a comparison's noise threshold).
    band: Option<f64>,
}

struct BarPanel {
    caption: String,
    x_desc: String,
    rows: Vec<BarRow>,
    /// Where the axis ends when a few rows dwarf the others ([`outlier_cut`]): their bars and
    /// whiskers are cut there, with a break mark, and their values printed.
    cut: Option<(f64, f64)>,
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

/// One bar of [`simple_bar_chart`]: coloured by `implementation` (a folder name under `plugins/`),
/// grouped by `group`, with its interval.
pub(super) struct SimpleBar {
    pub label: String,
    pub implementation: String,
    pub group: String,
    pub value: Estimate,
    pub note: String,
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

    fn color_of(ids: &[&str], id: &str) -> RGBColor {
        implementation_colors(ids.iter().copied())
            .into_iter()
            .find(|(x, _)| *x == id)
            .unwrap()
            .1
    }

    const KNOWN: [&str; 7] = [
        "baseline",
        "rust",
        "go",
        "go-higress",
        "assemblyscript",
        "cpp",
        "lua",
    ];

    #[test]
    fn go_and_go_higress_differ() {
        let ids = ["go", "go-higress"];
        assert_ne!(color_of(&ids, "go"), color_of(&ids, "go-higress"));
        assert_ne!(known_color("go"), known_color("go-higress"));
    }

    #[test]
    fn every_known_implementation_has_its_own_colour() {
        let colors = implementation_colors(KNOWN);
        assert_eq!(colors.len(), KNOWN.len());
        for (i, (a, ca)) in colors.iter().enumerate() {
            assert_eq!(Some(*ca), known_color(a), "{a}");
            for (b, cb) in &colors[i + 1..] {
                assert_ne!(ca, cb, "{a} and {b}");
            }
        }
        // The colours of the known ids do not depend on what else is in the run.
        assert_eq!(color_of(&["lua"], "lua"), PALETTE[0]);
        assert_eq!(color_of(&["rust", "zig"], "rust"), PALETTE[1]);
    }

    #[test]
    fn unknown_implementations_get_distinct_colours() {
        let mut ids: Vec<&str> = KNOWN.to_vec();
        ids.extend(["zig", "tinygo", "c", "swift"]);
        let colors = implementation_colors(ids.iter().copied());
        for (i, (a, ca)) in colors.iter().enumerate() {
            for (b, cb) in &colors[i + 1..] {
                assert_ne!(ca, cb, "{a} and {b}");
            }
        }
        // With every colour taken, an unknown id still gets one.
        let many: Vec<String> = (0..20).map(|i| format!("x{i}")).collect();
        let all: Vec<&str> = KNOWN
            .iter()
            .copied()
            .chain(many.iter().map(|s| s.as_str()))
            .collect();
        assert_eq!(implementation_colors(all.iter().copied()).len(), all.len());
        // Repeats of an id share its colour; an unknown id in a run of two takes the first spare.
        assert_eq!(implementation_colors(["zig", "rust", "zig"]).len(), 2);
        assert_eq!(color_of(&["rust", "zig"], "zig"), SPARE[0]);
    }

    #[test]
    fn runtimes_of_one_implementation_get_darker_shades() {
        let v = |id: &str, rt: &str| VariantSummary {
            id: format!("{id}-{rt}-mock"),
            language: "go".into(),
            runtime: Some(rt.into()),
            workload: "mock".into(),
            wasm_sha256: None,
            wasm_bytes: None,
            note: None,
            requests: 0,
            errors: 0,
            rps: f64::NAN,
            latency_us: crate::load::LatencyUs {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            },
            cpu_us_per_req: f64::NAN,
            fixed_cpu_us_per_req: f64::NAN,
            processor_cpu_us_per_req: None,
            processor_fixed_cpu_us_per_req: None,
            total_cpu_us_per_req: None,
            total_fixed_cpu_us_per_req: None,
            overhead: None,
            rounds: 1,
            processes: 1,
            windows_fell_behind: 0,
        };
        let vs = [
            v("go", "v8"),
            v("go", "wamr"),
            v("go-higress", "v8"),
            v("go-higress", "wamr"),
        ];
        let refs: Vec<&VariantSummary> = vs.iter().collect();
        let c = variant_colors(&refs);
        assert_eq!(c[0], PALETTE[5]);
        assert_eq!(c[1], darken(PALETTE[5], 1));
        assert_eq!(c[2], PALETTE[2]);
        assert_eq!(c[3], darken(PALETTE[2], 1));
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("mock"), "mock");
        assert_eq!(file_safe("a b/c"), "a_b_c");
    }
}
