//! Horizontal bar figures: panels of rows with interval whiskers, their legend and tick scales.

use super::*;

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

pub(super) fn draw_legend<DB: DrawingBackend>(
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

pub(super) fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &BarPanel,
    label_w: u32,
    labels: bool,
    x_fmt: fn(f64) -> String,
) -> DrawResult<(), DB> {
    let n = panel.rows.len();
    let (lo, hi, lo_ext, hi_ext) = panel_range(panel, area.dim_in_pixel().0 as f64, label_w);
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
                // a cut axis has no ticks past its cut: nothing is drawn to scale there
                ticks: nice_ticks(lo_ext, if panel.cut.is_some() { hi } else { hi_ext }, 8),
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
        draw_bar(&mut chart, r, row_y(i), half, panel.cut)?;
    }
    Ok(())
}

/// A row whose bar ends over this many times the panel's median bar (in magnitude) would flatten
/// every other row: the axis is cut for it.
pub(super) const OUTLIER_FACTOR: f64 = 6.0;

/// The axis range of a panel whose few rows dwarf the rest (an out-of-process implementation 20x
/// the in-process ones): every other row whole, bars and whiskers, with 0; None when no row ends
/// over [`OUTLIER_FACTOR`] times the median, or with fewer than 4 rows.
pub(super) fn outlier_cut(rows: &[BarRow]) -> Option<(f64, f64)> {
    let end = |r: &BarRow| r.base + r.value;
    let mags: Vec<f64> = rows
        .iter()
        .map(|r| end(r).abs())
        .filter(|x| x.is_finite())
        .collect();
    if mags.len() < 4 {
        return None;
    }
    let limit = OUTLIER_FACTOR * stats::median(&mags);
    if limit.is_nan() || limit <= 0.0 {
        return None;
    }
    let (mut lo, mut hi, mut cut) = (0.0f64, 0.0f64, false);
    for r in rows {
        if end(r).is_finite() && end(r).abs() > limit {
            cut = true;
            continue;
        }
        for x in [r.base, end(r)]
            .into_iter()
            .chain(r.whisker.iter().flat_map(|w| [w.0, w.1]))
            .filter(|x| x.is_finite())
        {
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    (cut && hi > lo).then_some((lo, hi))
}

/// About `target` evenly spaced "nice" ticks (steps of 1, 2 or 5 times a power of ten) in [lo, hi].
pub(super) fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
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

pub(super) fn fmt_plain(x: f64) -> String {
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

pub(super) fn fmt_kilo(x: f64) -> String {
    if x.abs() >= 1000.0 {
        let s = format!("{:.1}", x / 1000.0);
        format!("{}k", s.trim_end_matches(".0"))
    } else {
        format!("{x:.0}")
    }
}

/// The panel's x range: the data (bars and whiskers, 0 included) widened on the right for the value
/// printed after each bar, and a little on the left when it goes negative. Returns (lo, hi, lo_ext,
/// hi_ext).
fn panel_range(panel: &BarPanel, area_w: f64, label_w: u32) -> (f64, f64, f64, f64) {
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    for r in panel.rows.iter().filter(|_| panel.cut.is_none()) {
        for x in [r.base, r.base + r.value]
            .into_iter()
            .chain(r.whisker.iter().flat_map(|w| [w.0, w.1]))
            .chain(r.band.iter().flat_map(|t| [-t, *t]))
        {
            if x.is_finite() {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
    }
    if let Some((a, b)) = panel.cut {
        (lo, hi) = (a.min(0.0), b.max(0.0));
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
    let plot_w = (area_w - label_w as f64 - 20.0).max(100.0);
    let span = hi - lo;
    let frac = (note_w / plot_w).min(0.6);
    let hi_ext = hi + span * frac / (1.0 - frac);
    let lo_ext = if lo < 0.0 { lo - span * 0.03 } else { lo };
    (lo, hi, lo_ext, hi_ext)
}

/// One row: the base bar (light), the value bar, the interval whisker and the note after them;
/// within `cut` (the axis range when it is cut): a bar beyond it stops at its edge with a break
/// mark, a whisker beyond it loses its cap there.
fn draw_bar<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<TickAxis, TickAxis>>,
    r: &BarRow,
    y: f64,
    half: f64,
    cut: Option<(f64, f64)>,
) -> DrawResult<(), DB> {
    let (lo, hi) = cut.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
    let clip = |x: f64| x.clamp(lo, hi);
    let broken = {
        let end = r.base + r.value;
        end > hi || end < lo
    };
    let r = &BarRow {
        base: clip(r.base),
        value: clip(r.base + r.value) - clip(r.base),
        whisker: r.whisker.map(|(a, b)| (clip(a), clip(b))),
        ..r.clone()
    };

    if let Some(t) = r.band.filter(|t| t.is_finite() && *t > 0.0) {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(-t, y - half - 0.1), (t, y + half + 0.1)],
            RGBColor(232, 232, 232).filled(),
        )))?;
    }
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
    if broken {
        // two white strokes across the bar near its cut end
        let end = r.base + r.value;
        let d = (hi - lo) * 0.012 * end.signum();
        let s = WHITE.stroke_width(3);
        for k in [3.0, 5.0] {
            let x = end - k * d;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x - d, y - half - 0.05), (x + d, y + half + 0.05)],
                s,
            )))?;
        }
    }
    if let Some((wl, wh)) = r.whisker.filter(|w| w.0.is_finite() && w.1.is_finite()) {
        let s = BLACK.stroke_width(2);
        let cap = 0.18;
        chart.draw_series([PathElement::new(vec![(wl, y), (wh, y)], s)])?;
        for x in [wl, wh].into_iter().filter(|x| *x > lo && *x < hi) {
            chart.draw_series([PathElement::new(vec![(x, y - cap), (x, y + cap)], s)])?;
        }
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(value: f64, whisker: (f64, f64)) -> BarRow {
        BarRow {
            label: format!("{value}"),
            color: BLACK,
            base: 0.0,
            value,
            whisker: Some(whisker),
            note: String::new(),
            group: String::new(),
            band: None,
        }
    }

    #[test]
    fn a_row_twenty_times_the_others_cuts_the_axis_at_the_others_widest() {
        let rows = vec![
            row(20.0, (15.0, 25.0)),
            row(30.0, (-40.0, 90.0)),
            row(25.0, (20.0, 30.0)),
            row(50.0, (45.0, 55.0)),
            row(600.0, (300.0, 900.0)),
        ];
        assert_eq!(outlier_cut(&rows), Some((-40.0, 90.0)));
        // within 6x the median: no cut
        let mut close = rows.clone();
        close[4] = row(140.0, (100.0, 180.0));
        assert_eq!(outlier_cut(&close), None);
        // a negative outlier is cut too, and too few rows are never cut
        let mut negative = rows.clone();
        negative[4] = row(-600.0, (-900.0, -300.0));
        assert_eq!(outlier_cut(&negative), Some((-40.0, 90.0)));
        assert_eq!(outlier_cut(&rows[2..]), None);
    }
}
