//! The failure timeline charts: one strip per scenario (each request a cell coloured by its class),
//! per implementation and for the runaway plugin, written as SVG and PNG.

use super::*;

pub(super) fn index_cells(t: &[RequestRecord]) -> Vec<(f64, f64, Class)> {
    t.iter()
        .map(|r| (r.i as f64, r.i as f64 + 1.0, r.class))
        .collect()
}

pub(super) fn time_cells(t: &[RequestRecord], rate: f64) -> Vec<(f64, f64, Class)> {
    let w = 1.0 / rate.max(0.001);
    t.iter()
        .map(|r| (r.at_ms / 1000.0, r.at_ms / 1000.0 + w, r.class))
        .collect()
}

pub(super) fn nice_step(max: f64) -> f64 {
    let raw = max / 8.0;
    let mag = 10f64.powf(raw.max(1e-9).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// Consecutive cells of one class that touch (or nearly: a gap under a quarter cell) become one run,
/// which keeps the SVGs small.
pub(super) fn merge_runs(cells: &[(f64, f64, Class)]) -> Vec<(f64, f64, Class)> {
    let mut out: Vec<(f64, f64, Class)> = Vec::new();
    for &(a, b, c) in cells {
        match out.last_mut() {
            Some(last) if last.2 == c && a >= last.0 && a - last.1 <= 0.25 * (b - a) => {
                last.1 = last.1.max(b)
            }
            _ => out.push((a, b, c)),
        }
    }
    out
}

impl StripChart {
    fn label_w(&self) -> i32 {
        let longest = self
            .strips
            .iter()
            .map(|s| s.label.chars().count())
            .max()
            .unwrap_or(0) as i32;
        (longest * 7 + 16).clamp(40, 320)
    }

    pub fn size(&self) -> (u32, u32) {
        let rows = self.strips.len() as i32;
        let h = 60 + rows * (ROW_H + ROW_GAP) + 40 + 50;
        ((self.label_w() + PLOT_W + 30) as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let text = |size: f64| (FONT, size).into_font().color(&BLACK);
        let grey = RGBColor(90, 90, 90);
        let (w, _) = self.size();
        root.draw(&Text::new(
            self.title.clone(),
            (w as i32 / 2, 8),
            (FONT, 18.0, FontStyle::Bold)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        root.draw(&Text::new(
            self.subtitle.clone(),
            (w as i32 / 2, 32),
            text(12.0)
                .color(&grey)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let x0 = self.label_w();
        let top = 60;
        let scale = |x: f64| x0 + ((x / self.x_max.max(1e-9)) * PLOT_W as f64).round() as i32;
        for (k, strip) in self.strips.iter().enumerate() {
            let y = top + k as i32 * (ROW_H + ROW_GAP);
            root.draw(&Text::new(
                strip.label.clone(),
                (x0 - 8, y + ROW_H / 2),
                text(12.0).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            root.draw(&Rectangle::new(
                [(x0, y), (x0 + PLOT_W, y + ROW_H)],
                RGBColor(235, 235, 235).filled(),
            ))?;
            for (a, b, c) in merge_runs(&strip.cells) {
                let (xa, xb) = (scale(a), scale(b).max(scale(a) + 1));
                let c = &c;
                root.draw(&Rectangle::new(
                    [(xa, y), (xb, y + ROW_H)],
                    class_color(*c).filled(),
                ))?;
            }
        }
        let axis_y = top + self.strips.len() as i32 * (ROW_H + ROW_GAP);
        root.draw(&PathElement::new(
            vec![(x0, axis_y), (x0 + PLOT_W, axis_y)],
            grey,
        ))?;
        let step = nice_step(self.x_max);
        let mut t = 0.0;
        while t <= self.x_max + 1e-9 {
            let x = scale(t);
            root.draw(&PathElement::new(vec![(x, axis_y), (x, axis_y + 4)], grey))?;
            let label = if step >= 1.0 {
                format!("{t:.0}")
            } else {
                format!("{t:.1}")
            };
            root.draw(&Text::new(
                label,
                (x, axis_y + 6),
                text(11.0).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
            t += step;
        }
        root.draw(&Text::new(
            self.x_label.clone(),
            (x0 + PLOT_W / 2, axis_y + 22),
            text(12.0)
                .color(&grey)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        // Legend
        let mut lx = x0;
        let ly = axis_y + 44;
        for c in Class::ALL {
            root.draw(&Rectangle::new(
                [(lx, ly), (lx + 12, ly + 12)],
                class_color(c).filled(),
            ))?;
            let label = c.label();
            root.draw(&Text::new(
                label.to_string(),
                (lx + 16, ly + 6),
                text(11.0).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            lx += 16 + label.chars().count() as i32 * 7 + 18;
        }
        Ok(())
    }

    /// The chart as an SVG document.
    pub fn svg(&self) -> anyhow::Result<String> {
        ensure_fonts();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, self.size()).into_drawing_area();
            root.fill(&WHITE)
                .map_err(|e| anyhow::anyhow!("drawing a failure timeline: {e}"))?;
            self.draw(&root)
                .map_err(|e| anyhow::anyhow!("drawing a failure timeline: {e}"))?;
            root.present()
                .map_err(|e| anyhow::anyhow!("drawing a failure timeline: {e}"))?;
        }
        Ok(out)
    }

    /// The chart as a PNG image.
    pub fn png(&self) -> anyhow::Result<Vec<u8>> {
        ensure_fonts();
        let (w, h) = self.size();
        let mut pixels = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
            root.fill(&WHITE)
                .map_err(|e| anyhow::anyhow!("drawing a failure timeline: {e}"))?;
            self.draw(&root)
                .map_err(|e| anyhow::anyhow!("drawing a failure timeline: {e}"))?;
            root.present()
                .map_err(|e| anyhow::anyhow!("drawing a failure timeline: {e}"))?;
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.write_header()?.write_image_data(&pixels)?;
        }
        Ok(out)
    }
}

pub(super) fn scenario_strip_label(s: &Scenario) -> String {
    format!("crash_every {} · {}", s.crash_every, s.policy_label)
}

pub fn scenario_chart(f: &FailureSection, s: &Scenario) -> StripChart {
    StripChart {
        title: format!("{}: {}", s.implementation, s.id),
        subtitle: format!(
            "crash_every {} · {} · {} requests at {} req/s · {}",
            s.crash_every,
            s.policy_label,
            s.requests,
            f.settings.rate_per_s,
            counts_cell(&s.counts)
        ),
        x_label: "request index".into(),
        x_max: s.requests.max(1) as f64,
        strips: vec![Strip {
            label: scenario_strip_label(s),
            cells: index_cells(&s.timeline),
        }],
    }
}

pub fn implementation_chart(f: &FailureSection, imp: &str) -> StripChart {
    let scen: Vec<&Scenario> = f
        .scenarios
        .iter()
        .filter(|s| s.implementation == imp)
        .collect();
    StripChart {
        title: format!("{imp}: what clients got, request by request"),
        subtitle: format!(
            "{} req/s, one fresh connection each, {} s client timeout, Envoy {}",
            f.settings.rate_per_s, f.settings.timeout_s, f.envoy_version
        ),
        x_label: "request index".into(),
        x_max: scen.iter().map(|s| s.requests).max().unwrap_or(1).max(1) as f64,
        strips: scen
            .iter()
            .map(|s| Strip {
                label: scenario_strip_label(s),
                cells: index_cells(&s.timeline),
            })
            .collect(),
    }
}

pub fn runaway_chart(f: &FailureSection) -> StripChart {
    let mut strips = Vec::new();
    for r in &f.runaway {
        strips.push(runaway_strip(r, false, f.settings.runaway_rate_per_s));
        strips.push(runaway_strip(r, true, f.settings.neighbour_rate_per_s));
    }
    StripChart {
        title: format!(
            "Runaway plugins (spin {}): the spinning listener and its plugin-free neighbour",
            f.settings.spin
        ),
        subtitle: format!(
            "Envoy --concurrency {}: one worker for every listener",
            f.settings.envoy_concurrency
        ),
        x_label: "send time, s".into(),
        x_max: f.settings.runaway_window_s.max(0.1) + 0.5,
        strips,
    }
}

pub(super) fn runaway_strip(r: &Runaway, neighbour: bool, rate: f64) -> Strip {
    if neighbour {
        Strip {
            label: format!("{} · neighbour (no plugin)", r.implementation),
            cells: time_cells(&r.neighbour_timeline, rate),
        }
    } else {
        Strip {
            label: format!("{} · spinning plugin", r.implementation),
            cells: time_cells(&r.timeline, rate),
        }
    }
}

/// Writes every timeline chart under `<dir>/failure-charts/`; returns the files written.
pub fn write_charts(f: &FailureSection, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let out = dir.join(CHARTS_DIR);
    std::fs::create_dir_all(&out)?;
    let mut written = Vec::new();
    // Per-scenario charts as SVG; the overviews (embedded in the report) as SVG and PNG.
    let mut put = |stem: String, chart: StripChart, png: bool| -> anyhow::Result<()> {
        let path = out.join(format!("{stem}.svg"));
        crate::sys::write_atomic(&path, chart.svg()?.as_bytes())?;
        written.push(path);
        if png {
            let path = out.join(format!("{stem}.png"));
            crate::sys::write_atomic(&path, &chart.png()?)?;
            written.push(path);
        }
        Ok(())
    };
    for s in &f.scenarios {
        put(s.id.clone(), scenario_chart(f, s), false)?;
    }
    for imp in implementations_of(f) {
        if f.scenarios.iter().any(|s| s.implementation == imp) {
            put(format!("{imp}-crash"), implementation_chart(f, &imp), true)?;
        }
    }
    if !f.runaway.is_empty() {
        put("runaway".into(), runaway_chart(f), true)?;
    }
    Ok(written)
}
