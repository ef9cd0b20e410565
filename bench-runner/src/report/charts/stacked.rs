//! Horizontal stacked bars: each row a total split into coloured parts (the series), a panel per
//! group of rows (a workload), a legend of the series that wraps over as many lines as it needs.

use super::*;

/// One part of every row: its name in the legend and its colour.
pub struct StackSeries {
    pub name: String,
    pub rgb: (u8, u8, u8),
}

/// One bar: the value of each series (in [`StackSeries`] order; 0 or NaN: absent).
pub struct StackRow {
    pub label: String,
    /// Rows of one group sit together; a line separates groups.
    pub group: String,
    pub values: Vec<f64>,
    /// Printed after the bar (the total, say).
    pub note: String,
}

pub struct StackPanel {
    pub caption: String,
    pub x_desc: String,
    pub rows: Vec<StackRow>,
}

struct StackedFigure {
    title: String,
    subtitle: Vec<String>,
    series: Vec<StackSeries>,
    panels: Vec<StackPanel>,
}

const SWATCH: i32 = 18;
const LEGEND_LINE: u32 = 24;

impl StackedFigure {
    fn label_width(&self) -> u32 {
        self.panels
            .iter()
            .flat_map(|p| p.rows.iter())
            .map(|r| text_width(&r.label, TEXT_SIZE))
            .max()
            .unwrap_or(0)
            + 24
    }

    fn rows(&self) -> usize {
        self.panels.iter().map(|p| p.rows.len()).max().unwrap_or(0)
    }

    fn width(&self) -> u32 {
        (self.label_width() + PANEL_W * self.panels.len() as u32 + 30)
            .max(header_width(&self.title, &self.subtitle))
            .max(700)
    }

    /// The legend's items, line by line, for a figure `w` pixels wide.
    fn legend_lines(&self, w: u32) -> Vec<Vec<(usize, u32)>> {
        let mut lines: Vec<Vec<(usize, u32)>> = vec![vec![]];
        let mut used = 0;
        for (i, s) in self.series.iter().enumerate() {
            let iw = SWATCH as u32 + 8 + text_width(&s.name, LEGEND_SIZE) + 24;
            if used + iw > w.saturating_sub(40) && !lines.last().is_some_and(Vec::is_empty) {
                lines.push(vec![]);
                used = 0;
            }
            lines.last_mut().expect("one line").push((i, iw));
            used += iw;
        }
        lines
    }
}

impl Figure for StackedFigure {
    fn size(&self) -> (u32, u32) {
        let w = self.width();
        let h = header_height(self.subtitle.len())
            + LEGEND_LINE * self.legend_lines(w).len() as u32
            + 8
            + 30
            + ROW_H * self.rows() as u32
            + 20
            + 80;
        (w, h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let area = header(root, &self.title, &self.subtitle)?;
        let (w, _) = area.dim_in_pixel();
        let lines = self.legend_lines(w);
        let (legend, mut rest) = area.split_vertically(LEGEND_LINE * lines.len() as u32 + 8);
        for (n, line) in lines.iter().enumerate() {
            let total: u32 = line.iter().map(|x| x.1).sum();
            let mut x = (w as i32 - total as i32).max(0) / 2;
            let y = 12 + n as i32 * LEGEND_LINE as i32;
            for &(i, iw) in line {
                let s = &self.series[i];
                let c = RGBColor(s.rgb.0, s.rgb.1, s.rgb.2);
                legend.draw(&Rectangle::new(
                    [(x, y - 7), (x + SWATCH, y + 7)],
                    c.filled(),
                ))?;
                legend.draw(&Text::new(
                    s.name.clone(),
                    (x + SWATCH + 8, y),
                    font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
                x += iw as i32;
            }
        }
        let label_w = self.label_width();
        let last = self.panels.len().saturating_sub(1);
        for (i, panel) in self.panels.iter().enumerate() {
            let lw = if i == 0 { label_w } else { 12 };
            if i == last {
                self.draw_panel(&rest, panel, lw, i == 0)?;
            } else {
                let (this, next) = rest.split_horizontally(lw + PANEL_W);
                self.draw_panel(&this, panel, lw, i == 0)?;
                rest = next;
            }
        }
        Ok(())
    }
}

impl StackedFigure {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &StackPanel,
        label_w: u32,
        labels: bool,
    ) -> DrawResult<(), DB> {
        let n = panel.rows.len().max(1);
        let total = |r: &StackRow| r.values.iter().filter(|v| v.is_finite()).sum::<f64>();
        let hi = panel.rows.iter().map(total).fold(0.0, f64::max).max(1.0);
        // Room on the right for the note printed after each bar.
        let note_w = panel
            .rows
            .iter()
            .map(|r| text_width(&r.note, SMALL_SIZE))
            .max()
            .unwrap_or(0) as f64
            + 12.0;
        let plot_w = (area.dim_in_pixel().0 as f64 - label_w as f64 - 20.0).max(100.0);
        let frac = (note_w / plot_w).min(0.6);
        let hi_ext = hi / (1.0 - frac);
        let row_y = |i: usize| (n - 1 - i) as f64;
        let labels_of: Vec<String> = panel.rows.iter().map(|r| r.label.clone()).collect();
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.caption, bold(16.0 * canvas::SIZE_PER_EM))
            .margin_right(20)
            .margin_top(4)
            .x_label_area_size(64)
            .y_label_area_size(label_w)
            .build_cartesian_2d(
                TickAxis {
                    lo: 0.0,
                    hi: hi_ext,
                    log: false,
                    ticks: nice_ticks(0.0, hi, 6),
                },
                TickAxis {
                    lo: -0.6,
                    hi: n as f64 - 0.4,
                    log: false,
                    ticks: (0..n).map(row_y).collect(),
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
            .x_label_formatter(&|x| fmt_kilo(*x))
            .y_label_formatter(&label_fmt)
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        let half = 0.32;
        for i in 1..panel.rows.len() {
            if panel.rows[i].group != panel.rows[i - 1].group {
                let y = row_y(i) + 0.5;
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, y), (hi_ext, y)],
                    RGBColor(150, 150, 150).stroke_width(1),
                )))?;
            }
        }
        for (i, r) in panel.rows.iter().enumerate() {
            let y = row_y(i);
            let mut x = 0.0;
            for (v, s) in r.values.iter().zip(&self.series) {
                if !(v.is_finite() && *v > 0.0) {
                    continue;
                }
                let c = RGBColor(s.rgb.0, s.rgb.1, s.rgb.2);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x, y - half), (x + v, y + half)],
                    c.filled(),
                )))?;
                x += v;
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, y))
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
}

/// A stacked bar chart for report sections kept in their own files (the instruction breakdown).
pub(in crate::report) fn stacked_bar_chart(
    stem: &str,
    title: &str,
    subtitle: Vec<String>,
    series: Vec<StackSeries>,
    panels: Vec<StackPanel>,
) -> anyhow::Result<Chart> {
    let fig = StackedFigure {
        title: title.to_string(),
        subtitle,
        series,
        panels,
    };
    Chart::of(stem.to_string(), fig.title.clone(), &fig)
}
