//! Points and fits from the saved groups only (what `report` recomputes): per point the per-process
//! overheads of the one estimator ([`crate::results::units`]), their mean with Student's t, and per
//! implementation, axis and figure the line through them ([`super::fit`]).

use super::fit::{self, PointIn};
use crate::results::curves::{CurvesRun, Fit, Point, PointFigures, Residual};
use crate::results::Units;
use crate::stats::unit_interval;

pub fn header_id(implementation: &str, h: usize) -> String {
    format!("{implementation}-h{h}")
}

pub fn body_id(implementation: &str, bytes: usize) -> String {
    format!("{implementation}-b{bytes}")
}

/// Where a figure's per-process values are in [`Units`].
pub type UnitsOf = fn(&Units) -> &Vec<f64>;

/// The figures of a fit: (name in curves.json, per-process values).
pub const FIGURES: [(&str, UnitsOf); 3] = [
    ("cpu_us_per_req", |u| &u.cpu),
    ("fixed_cpu_us_per_req", |u| &u.fixed_cpu),
    ("p50_us", |u| &u.p50),
];

/// A point located in the saved groups, with its per-process figures.
struct Located {
    point: Point,
    units: Units,
}

/// Recomputes `run.points` and `run.fits` from `run.groups` and `run.plan`.
pub fn derive(run: &mut CurvesRun) {
    let located = locate(run);
    let mut fits = Vec::new();
    for imp in &run.plan.implementations {
        for axis in ["headers", "body"] {
            let pts: Vec<&Located> = located
                .iter()
                .filter(|l| &l.point.implementation == imp && l.point.axis == axis)
                .collect();
            if pts.len() < 2 {
                continue;
            }
            for (name, of) in FIGURES {
                fits.push(fit_of(imp, axis, name, of, &pts));
            }
        }
    }
    run.points = located.into_iter().map(|l| l.point).collect();
    run.fits = fits;
}

fn locate(run: &CurvesRun) -> Vec<Located> {
    let mut out = Vec::new();
    let group_of = |bytes: usize| run.groups.iter().position(|g| g.body_bytes == bytes);
    for imp in &run.plan.implementations {
        let headers = run
            .plan
            .headers
            .iter()
            .map(|&h| ("headers", h, 0, header_id(imp, h)));
        let bodies = run
            .plan
            .body_bytes
            .iter()
            .map(|&b| ("body", 0, b, body_id(imp, b)));
        for (axis, h, bytes, id) in headers.chain(bodies) {
            let Some(gi) = group_of(bytes) else { continue };
            let r = &run.groups[gi].results;
            let units = crate::results::units(&r.rounds, &r.pooled, &id);
            if units.processes.is_empty() {
                continue;
            }
            let point = Point {
                implementation: imp.clone(),
                axis: axis.into(),
                x: if axis == "headers" {
                    h as f64
                } else {
                    bytes as f64 / 1024.0
                },
                header_count: (axis == "headers").then_some(h),
                body_bytes: bytes,
                variant: id,
                group: gi,
                overhead: PointFigures {
                    cpu_us_per_req: unit_interval(&units.cpu),
                    fixed_cpu_us_per_req: unit_interval(&units.fixed_cpu),
                    p50_us: unit_interval(&units.p50),
                },
                units: units.processes.len(),
            };
            out.push(Located { point, units });
        }
    }
    out
}

fn fit_of(imp: &str, axis: &str, name: &str, of: fn(&Units) -> &Vec<f64>, pts: &[&Located]) -> Fit {
    let input: Vec<PointIn> = pts
        .iter()
        .map(|l| PointIn {
            x: l.point.x,
            estimate: unit_interval(of(&l.units)),
            units: of(&l.units).clone(),
        })
        .collect();
    let label = |x: f64| {
        if axis == "headers" {
            format!("{x} headers")
        } else {
            format!("{x} KiB")
        }
    };
    let f = fit::fit(&input, &label);
    Fit {
        implementation: imp.into(),
        axis: axis.into(),
        figure: name.into(),
        slope: f.slope,
        intercept: f.intercept,
        slope_unit: if axis == "headers" {
            "us_per_header"
        } else {
            "us_per_kib"
        }
        .into(),
        linear: f.linear,
        reason: f.reason,
        chi2_per_dof: f.chi2_per_dof,
        residuals: f
            .residuals
            .iter()
            .map(|&(x, r, h)| Residual {
                x,
                residual_us: r,
                half_width_us: h,
            })
            .collect(),
        units: f.units,
    }
}
