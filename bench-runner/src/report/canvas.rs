//! Text for the charts: one set of font metrics for layout, and correct glyph placement in PNGs.
//!
//! Both chart formats are laid out with DejaVu Sans (embedded from the `dejavu` crate), at the em
//! size an SVG viewer renders plotters' `font-size` at (size / 1.24 pixels). `Canvas`
//! wraps a plotters backend: it answers every text measurement with these metrics, and for a
//! bitmap it draws the glyphs itself (baseline, side bearings and kerning placed properly; plotters'
//! own ab_glyph path drops the side bearings, which smears "13.5" into "13. 5"). For SVG it only
//! measures and leaves drawing to the SVG backend, so the file keeps real, selectable text.

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
    FontStyle as BackendFontStyle,
};
use std::sync::OnceLock;

struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts {
        regular: FontRef::try_from_slice(dejavu::sans::regular())
            .expect("the dejavu crate ships a valid DejaVu Sans"),
        bold: FontRef::try_from_slice(dejavu::sans::bold())
            .expect("the dejavu crate ships a valid DejaVu Sans Bold"),
    })
}

fn face(bold: bool) -> &'static FontRef<'static> {
    if bold {
        &fonts().bold
    } else {
        &fonts().regular
    }
}

/// Plotters' text size per em in pixels: its SVG backend writes `font-size = size / 1.24`.
pub const SIZE_PER_EM: f64 = 1.24;

/// ab_glyph scales by ascent-to-descent height; this makes one em `size / SIZE_PER_EM` pixels,
/// the size an SVG viewer draws the same text at.
fn scale(font: &FontRef<'static>, size: f64) -> PxScale {
    let units = font.units_per_em().unwrap_or(2048.0);
    PxScale::from((size / SIZE_PER_EM) as f32 * font.height_unscaled() / units)
}

/// Glyphs of `text` with their pen x positions, and the advance width of the whole line.
fn layout(font: &FontRef<'static>, size: f64, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
    let sf = font.as_scaled(scale(font, size));
    let mut pen = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            pen += sf.kern(p, id);
        }
        out.push((id, pen));
        pen += sf.h_advance(id);
        prev = Some(id);
    }
    (out, pen)
}

/// Width and height in pixels of one line of `text` (height: ascent to descent).
pub fn measure(text: &str, size: f64, bold: bool) -> (u32, u32) {
    let font = face(bold);
    let (_, w) = layout(font, size, text);
    let sf = font.as_scaled(scale(font, size));
    (w.ceil() as u32, (sf.ascent() - sf.descent()).ceil() as u32)
}

fn is_bold<S: BackendTextStyle>(style: &S) -> bool {
    matches!(style.style(), BackendFontStyle::Bold)
}

/// A plotters backend whose text metrics are `measure`'s; `raster` backends also get their text
/// drawn here.
pub struct Canvas<B> {
    inner: B,
    raster: bool,
}

impl<B: DrawingBackend> Canvas<B> {
    pub fn vector(inner: B) -> Self {
        Canvas {
            inner,
            raster: false,
        }
    }

    pub fn raster(inner: B) -> Self {
        Canvas {
            inner,
            raster: true,
        }
    }

    fn draw_glyphs<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = face(is_bold(style));
        let sf = font.as_scaled(scale(font, style.size()));
        let (glyphs, width) = layout(font, style.size(), text);
        let height = sf.ascent() - sf.descent();
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.inner.get_size();
        for (id, x) in glyphs {
            let glyph = id.with_scale_and_position(sf.scale(), point(x + dx, sf.ascent() + dy));
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
            outline.draw(|gx, gy, c| {
                pixels.push((b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, c))
            });
            for (px, py, c) in pixels {
                if c <= 0.0 {
                    continue;
                }
                let (tx, ty) = trans.transform(px, py);
                let (tx, ty) = (pos.0 + tx, pos.1 + ty);
                if tx >= 0 && ty >= 0 && (tx as u32) < w && (ty as u32) < h {
                    let col = BackendColor {
                        alpha: color.alpha * (c.min(1.0) as f64),
                        rgb: color.rgb,
                    };
                    self.inner.draw_pixel((tx, ty), col)?;
                }
            }
        }
        Ok(())
    }
}

impl<B: DrawingBackend> DrawingBackend for Canvas<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if self.raster {
            self.draw_glyphs(text, style, pos)
        } else {
            self.inner.draw_text(text, style, pos)
        }
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        Ok(measure(text, style.size(), is_bold(style)))
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_measured_with_the_embedded_font() {
        let (w, h) = measure("rust-v8-mock", 15.0 * SIZE_PER_EM, false);
        // DejaVu Sans at 15 px: about 8 px per character, line height about 17 px.
        assert!((70..130).contains(&w), "{w}");
        assert!((15..22).contains(&h), "{h}");
        assert!(
            measure("rust-v8-mock", 15.0 * SIZE_PER_EM, true).0 > w,
            "bold is wider"
        );
        assert_eq!(measure("", 15.0, false).0, 0);
        assert!(measure("1.5", 15.0, false).0 < measure("105", 15.0, false).0);
    }

    #[test]
    fn raster_text_lands_inside_its_anchor_box() {
        let (w, h) = (200u32, 60u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let root =
                Canvas::raster(BitMapBackend::with_buffer(&mut buf, (w, h))).into_drawing_area();
            let style = ("sans-serif", 20.0).into_font().color(&BLACK).pos(
                plotters::style::text_anchor::Pos::new(HPos::Left, VPos::Top),
            );
            root.draw(&Text::new("Hg 13.5", (10, 10), style)).unwrap();
            root.present().unwrap();
        }
        let (tw, th) = measure("Hg 13.5", 20.0, false);
        let mut inked = 0;
        for y in 0..h {
            for x in 0..w {
                let i = ((y * w + x) * 3) as usize;
                if buf[i] < 128 {
                    inked += 1;
                    assert!(
                        x >= 10 && x <= 10 + tw + 1 && y >= 10 && y <= 10 + th + 1,
                        "pixel ({x},{y}) outside the box"
                    );
                }
            }
        }
        assert!(inked > 50, "text was drawn");
    }
}
