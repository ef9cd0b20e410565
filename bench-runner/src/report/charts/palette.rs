//! Colours: one per implementation (the folder under `plugins/`, see
//! `VariantSummary::implementation`), stable across charts; runtimes of one implementation get
//! darker shades.

use super::*;

pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),  // blue
    RGBColor(255, 127, 14),  // orange
    RGBColor(44, 160, 44),   // green
    RGBColor(214, 39, 40),   // red
    RGBColor(148, 103, 189), // purple
    RGBColor(23, 190, 207),  // cyan
    RGBColor(140, 86, 75),   // brown
    RGBColor(227, 119, 194), // pink
];

/// Colours for implementations not in [`KNOWN_COLORS`], handed out in order of appearance.
pub(super) const SPARE: [RGBColor; 4] = [
    PALETTE[6],
    PALETTE[7],
    RGBColor(188, 189, 34), // olive
    RGBColor(57, 59, 121),  // indigo
];

/// The fixed colour of each known implementation id (all distinct).
pub(super) const KNOWN_COLORS: [(&str, RGBColor); 7] = [
    (BASELINE, RGBColor(40, 40, 40)),
    ("lua", PALETTE[0]),
    ("rust", PALETTE[1]),
    ("go", PALETTE[5]),
    ("go-higress", PALETTE[2]),
    ("cpp", PALETTE[3]),
    ("assemblyscript", PALETTE[4]),
];

pub(super) fn known_color(implementation: &str) -> Option<RGBColor> {
    KNOWN_COLORS
        .iter()
        .find(|(id, _)| *id == implementation)
        .map(|&(_, c)| c)
}

/// One colour per implementation of `ids` (in the order given, repeats allowed): a known id gets
/// its fixed colour; an unknown id the first colour no other id of `ids` has (the spare colours,
/// then those of known implementations absent from `ids`), and only when all are taken one picked
/// by a hash of its name.
pub(super) fn implementation_colors<'a>(
    ids: impl IntoIterator<Item = &'a str>,
) -> Vec<(&'a str, RGBColor)> {
    let mut distinct: Vec<&str> = Vec::new();
    for id in ids {
        if !distinct.contains(&id) {
            distinct.push(id);
        }
    }
    let mut taken: Vec<RGBColor> = distinct.iter().filter_map(|id| known_color(id)).collect();
    let free: Vec<RGBColor> = SPARE
        .iter()
        .chain(KNOWN_COLORS.iter().skip(1).map(|(_, c)| c))
        .copied()
        .collect();
    distinct
        .into_iter()
        .map(|id| {
            let c = known_color(id).unwrap_or_else(|| {
                let c = free
                    .iter()
                    .find(|c| !taken.contains(c))
                    .copied()
                    .unwrap_or_else(|| {
                        let h = id
                            .bytes()
                            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
                        SPARE[h % SPARE.len()]
                    });
                taken.push(c);
                c
            });
            (id, c)
        })
        .collect()
}

pub(super) fn darken(c: RGBColor, k: usize) -> RGBColor {
    let f = 1.0 - 0.3 * (k.min(3) as f64);
    let d = |x: u8| (x as f64 * f) as u8;
    RGBColor(d(c.0), d(c.1), d(c.2))
}

/// Colour of each variant: its implementation's, darker for its implementation's second, third...
/// runtime.
pub(super) fn variant_colors(vs: &[&VariantSummary]) -> Vec<RGBColor> {
    let colors = implementation_colors(vs.iter().map(|v| v.implementation()));
    vs.iter()
        .map(|v| {
            let imp = v.implementation();
            let mut runtimes: Vec<Option<&str>> = Vec::new();
            for o in vs.iter().filter(|o| o.implementation() == imp) {
                if !runtimes.contains(&o.runtime.as_deref()) {
                    runtimes.push(o.runtime.as_deref());
                }
            }
            let k = runtimes
                .iter()
                .position(|r| *r == v.runtime.as_deref())
                .unwrap_or(0);
            let base = colors
                .iter()
                .find(|(id, _)| *id == imp)
                .map_or(SPARE[0], |&(_, c)| c);
            darken(base, k)
        })
        .collect()
}

/// Each variant's chart colour as `#rrggbb`, by variant id (the HTML answer's bars match the charts).
pub(in crate::report) fn variant_hex(r: &Results) -> std::collections::BTreeMap<String, String> {
    let vs = ordered(r);
    vs.iter()
        .zip(variant_colors(&vs))
        .map(|(v, c)| (v.id.clone(), format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)))
        .collect()
}
