//! The line through one implementation's points on one axis, and the check that a line fits.
//!
//! Method: ordinary least squares per Envoy process, then the mean over processes with Student's t
//! ([`stats::unit_line_fit`]), the same rule as every other figure (an interval over processes). The
//! k-th process of every group is one unit: units are independent of each other whatever happens
//! inside one (the header points of a unit share a process; its body points come from processes of
//! their own), so the interval carries the process-to-process spread, including the part that moves
//! all points of a process together. Weighted least squares by the points' interval widths was the
//! alternative; it needs the widths to be right at every point, while a t over per-unit slopes
//! needs only that units are independent. The mean of per-unit lines is the least-squares line
//! through the points' estimates (the fit is linear in y), so residuals are read off that line.
//!
//! Check: each point's residual over its standard error, summed squared and divided by points - 2;
//! the standard error is the half-width / 1.96 (not / t of its units: with 2 to 5 processes the
//! interval's width is itself uncertain, and t's heavy tails would turn a residual of a third of a
//! half-width into "3.8 standard errors"), above the 99% quantile of χ²/dof the line does not fit (e.g.
//! a step where a garbage collector starts, or a buffer doubling), and the report says which point
//! is furthest off.

use crate::stats::{self, Estimate};

/// One point: x, its estimate with interval, and its per-unit values (index = unit).
pub struct PointIn {
    pub x: f64,
    pub estimate: Estimate,
    pub units: Vec<f64>,
}

/// What the fit gives.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFit {
    pub slope: Estimate,
    pub intercept: Estimate,
    pub linear: bool,
    pub reason: Option<String>,
    pub chi2_per_dof: f64,
    /// (x, residual, half-width) per point.
    pub residuals: Vec<(f64, f64, f64)>,
    pub units: usize,
}

/// The 99% quantile of χ² with `k` degrees of freedom, divided by k (Wilson-Hilferty).
pub fn chi2_99_per_dof(k: f64) -> f64 {
    let z = 2.326_348;
    let a = 2.0 / (9.0 * k);
    (1.0 - a + z * a.sqrt()).powi(3)
}

/// Fits `points` (per-unit values aligned by unit index); `unit_x` formats an x for the reason.
pub fn fit(points: &[PointIn], unit_x: &dyn Fn(f64) -> String) -> LineFit {
    let n_units = points.iter().map(|p| p.units.len()).max().unwrap_or(0);
    let units: Vec<Vec<(f64, f64)>> = (0..n_units)
        .map(|k| {
            points
                .iter()
                .filter_map(|p| Some((p.x, *p.units.get(k)?)))
                .collect()
        })
        .collect();
    let (intercept, slope) = stats::unit_line_fit(&units);
    let residuals: Vec<(f64, f64, f64)> = points
        .iter()
        .map(|p| {
            let line = intercept.estimate + slope.estimate * p.x;
            (p.x, p.estimate.estimate - line, p.estimate.half_width())
        })
        .collect();
    let (linear, reason, chi2) = check(points, &residuals, unit_x);
    LineFit {
        slope,
        intercept,
        linear,
        reason,
        chi2_per_dof: chi2,
        residuals,
        units: n_units,
    }
}

/// (linear, reason, χ²/dof) from the residuals and each point's standard error.
fn check(
    points: &[PointIn],
    residuals: &[(f64, f64, f64)],
    unit_x: &dyn Fn(f64) -> String,
) -> (bool, Option<String>, f64) {
    if points.len() < 3 {
        return (
            true,
            Some("2 points: a line always fits, not checked".into()),
            f64::NAN,
        );
    }
    let z: Vec<f64> = points
        .iter()
        .zip(residuals)
        .map(|(_, r)| r.1 / (r.2 / 1.96))
        .collect();
    if z.iter().any(|v| !v.is_finite()) {
        return (
            true,
            Some("not checked: a point has no interval (fewer than 2 processes)".into()),
            f64::NAN,
        );
    }
    let dof = (points.len() - 2) as f64;
    let chi2 = z.iter().map(|v| v * v).sum::<f64>() / dof;
    let limit = chi2_99_per_dof(dof);
    if chi2 <= limit {
        return (true, None, chi2);
    }
    let (worst, r) = residuals
        .iter()
        .zip(&z)
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(r, _)| (r.0, r))
        .unwrap_or((f64::NAN, &(0.0, 0.0, 0.0)));
    let reason = format!(
        "χ²/dof {chi2:.1} > {limit:.1}: furthest off at {} ({:+.2} µs, {:.1} half-widths)",
        unit_x(worst),
        r.1,
        (r.1 / r.2).abs()
    );
    (false, Some(reason), chi2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{unit_interval, Rng};

    const XS: [f64; 7] = [0.0, 1.0, 5.0, 10.0, 20.0, 50.0, 100.0];

    /// Six processes; per process an offset (moves all its points) and per point noise.
    fn synthetic(seed: u64, slope: f64, step_at: Option<f64>) -> Vec<PointIn> {
        let mut rng = Rng::new(seed);
        let offsets: Vec<f64> = (0..6).map(|_| 2.0 * stats::normal(&mut rng)).collect();
        XS.iter()
            .map(|&x| {
                let step = step_at.map_or(0.0, |s| if x >= s { 40.0 } else { 0.0 });
                let units: Vec<f64> = offsets
                    .iter()
                    .map(|o| 10.0 + slope * x + step + o + 1.5 * stats::normal(&mut rng))
                    .collect();
                PointIn {
                    x,
                    estimate: unit_interval(&units),
                    units,
                }
            })
            .collect()
    }

    #[test]
    fn a_known_slope_is_recovered_within_its_interval_in_most_seeds() {
        let seeds = 200;
        let mut inside = 0;
        let mut linear = 0;
        for seed in 0..seeds {
            let f = fit(&synthetic(seed, 0.35, None), &|x| format!("{x}"));
            assert!(f.slope.has_interval() && f.intercept.has_interval());
            inside += usize::from(f.slope.contains(0.35) && f.intercept.contains(10.0));
            linear += usize::from(f.linear);
        }
        // 95% intervals (both must hold: at least ~90%); a true line passes the 99% check nearly always
        assert!(inside >= seeds as usize * 85 / 100, "{inside} of {seeds}");
        assert!(linear >= seeds as usize * 90 / 100, "{linear} of {seeds}");
    }

    #[test]
    fn a_step_is_flagged_not_linear_naming_the_point() {
        let mut flagged = 0;
        for seed in 0..50 {
            let f = fit(&synthetic(seed, 0.35, Some(50.0)), &|x| {
                format!("{x} headers")
            });
            if !f.linear {
                flagged += 1;
                assert!(f.reason.as_deref().unwrap().contains("headers"), "{f:?}");
            }
        }
        assert!(flagged >= 45, "{flagged} of 50");
    }

    #[test]
    fn two_points_fit_trivially_and_say_so() {
        let pts: Vec<PointIn> = synthetic(1, 1.0, None).into_iter().take(2).collect();
        let f = fit(&pts, &|x| format!("{x}"));
        assert!(f.linear);
        assert!(f.reason.unwrap().contains("not checked"));
        assert!(f.chi2_per_dof.is_nan());
    }

    #[test]
    fn the_chi2_quantile_is_close_to_the_table() {
        // χ²(0.99) / k: k = 1: 6.63, 5: 3.02, 10: 2.32
        for (k, want) in [(1.0, 6.63), (5.0, 3.02), (10.0, 2.32)] {
            assert!((chi2_99_per_dof(k) - want).abs() < 0.15 * want, "{k}");
        }
    }
}
