//! Latency percentile curves from saved rounds, and the "HDR" percentile axis they are drawn on.
//!
//! Each round's latency phase keeps `curve_us`, (quantile, µs) points of its latency distribution.
//! A variant's curve is, per quantile, the median over its rounds (the same rule as every other
//! figure of the report). The percentile axis is logarithmic in the tail: x = -log10(1 - q), so
//! 0% -> 0, 90% -> 1, 99% -> 2, 99.9% -> 3, and each further "9" is one more unit.

use crate::results::RoundRecord;
use crate::stats;

/// Quantiles closer than this are the same point (they come from one constant table).
const SAME_QUANTILE: f64 = 1e-9;

/// Per quantile, the median over `curves` of the latency at that quantile. Quantiles missing from
/// a curve, and non-finite latencies, are left out of that quantile's median. The result is sorted
/// by quantile and made non-decreasing (a running maximum), as a distribution function must be;
/// medians of non-decreasing curves are already non-decreasing when every curve has every point.
pub fn median_curve(curves: &[&[(f64, f64)]]) -> Vec<(f64, f64)> {
    let mut qs: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.iter().map(|p| p.0))
        .filter(|q| q.is_finite())
        .collect();
    qs.sort_by(f64::total_cmp);
    qs.dedup_by(|a, b| (*a - *b).abs() < SAME_QUANTILE);
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(qs.len());
    for q in qs {
        let values: Vec<f64> = curves
            .iter()
            .filter_map(|c| {
                c.iter()
                    .find(|p| (p.0 - q).abs() < SAME_QUANTILE)
                    .map(|p| p.1)
            })
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() {
            continue;
        }
        let mut m = stats::median(&values);
        if let Some(&(_, prev)) = out.last() {
            m = m.max(prev);
        }
        out.push((q, m));
    }
    out
}

/// The latency-phase curve of `variant`: median over its rounds, per quantile.
pub fn variant_curve(rounds: &[RoundRecord], variant: &str) -> Vec<(f64, f64)> {
    let curves: Vec<&[(f64, f64)]> = rounds
        .iter()
        .filter(|r| r.variant == variant && !r.latency.curve_us.is_empty())
        .map(|r| r.latency.curve_us.as_slice())
        .collect();
    median_curve(&curves)
}

/// The part of `curve` that `samples` latencies can resolve: quantiles up to 1 - 1/samples (above
/// that every quantile is the maximum, a single sample). Zero samples: nothing.
pub fn resolved(curve: &[(f64, f64)], samples: u64) -> Vec<(f64, f64)> {
    if samples == 0 {
        return Vec::new();
    }
    let limit = 1.0 - 1.0 / samples as f64;
    curve
        .iter()
        .copied()
        .filter(|p| p.0 <= limit + SAME_QUANTILE)
        .collect()
}

/// Fewest good responses any round of `variant` measured in its latency phase (0 if none).
pub fn min_samples(rounds: &[RoundRecord], variant: &str) -> u64 {
    rounds
        .iter()
        .filter(|r| r.variant == variant)
        .map(|r| r.latency.ok)
        .min()
        .unwrap_or(0)
}

/// Position of quantile `q` on the HDR axis, -log10(1 - q). None for q outside [0, 1) (the
/// maximum, q = 1, sits at infinity and is not drawn) and for NaN.
pub fn hdr_x(q: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&q) {
        return None;
    }
    Some(-(1.0 - q).log10())
}

/// Inverse of `hdr_x`: the quantile at axis position `x`.
pub fn hdr_q(x: f64) -> f64 {
    1.0 - 10f64.powf(-x)
}

/// Label of an axis position as a percentile: 0 -> "0%", 1 -> "90%", 2 -> "99%", 3 -> "99.9%".
/// Positions between whole units are printed with as many decimals as they need (up to 4).
pub fn hdr_label(x: f64) -> String {
    let rounded = x.round();
    if (x - rounded).abs() < 1e-9 && rounded >= 0.0 {
        let k = rounded as usize;
        return match k {
            0 => "0%".to_string(),
            1 => "90%".to_string(),
            2 => "99%".to_string(),
            _ => format!("99.{}%", "9".repeat(k - 2)),
        };
    }
    let pct = hdr_q(x) * 100.0;
    let decimals = (x.ceil() as usize).saturating_sub(1).min(4);
    let text = format!("{pct:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}%")
}

/// Curve points placed on the HDR axis: (x, µs), quantile 1 (the maximum) left out.
pub fn to_hdr_points(curve: &[(f64, f64)]) -> Vec<(f64, f64)> {
    curve
        .iter()
        .filter_map(|&(q, v)| hdr_x(q).map(|x| (x, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn median_is_taken_per_quantile() {
        let a = [(0.0, 10.0), (0.5, 20.0), (0.99, 100.0)];
        let b = [(0.0, 12.0), (0.5, 30.0), (0.99, 90.0)];
        let c = [(0.0, 11.0), (0.5, 25.0), (0.99, 300.0)];
        let m = median_curve(&[&a, &b, &c]);
        assert_eq!(m, vec![(0.0, 11.0), (0.5, 25.0), (0.99, 100.0)]);
        // Two rounds: the midpoint of the two.
        let m2 = median_curve(&[&a, &b]);
        assert_eq!(m2, vec![(0.0, 11.0), (0.5, 25.0), (0.99, 95.0)]);
    }

    #[test]
    fn missing_points_and_nan_are_left_out() {
        let a = [(0.0, 10.0), (0.5, f64::NAN), (0.9, 40.0)];
        let b = [(0.0, 20.0), (0.5, 30.0)];
        let m = median_curve(&[&a, &b]);
        assert_eq!(m, vec![(0.0, 15.0), (0.5, 30.0), (0.9, 40.0)]);
        assert!(median_curve(&[]).is_empty());
    }

    #[test]
    fn result_is_monotone_even_when_rounds_disagree_on_points() {
        // Round b lacks the 0.9 point, so the raw per-quantile medians would dip at 0.9.
        let a = [(0.5, 10.0), (0.9, 11.0), (0.99, 12.0)];
        let b = [(0.5, 50.0), (0.99, 60.0)];
        let m = median_curve(&[&a, &b]);
        assert!(
            m.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "{m:?}"
        );
    }

    #[test]
    fn curves_stop_where_samples_run_out() {
        let c = [
            (0.5, 1.0),
            (0.99, 2.0),
            (0.999, 3.0),
            (0.9999, 4.0),
            (1.0, 5.0),
        ];
        assert_eq!(resolved(&c, 1000), c[..3].to_vec());
        assert_eq!(resolved(&c, 100), c[..2].to_vec());
        assert!(resolved(&c, 0).is_empty());
        assert_eq!(resolved(&c, 1), vec![]);
    }

    #[test]
    fn hdr_axis_positions() {
        assert_eq!(hdr_x(0.0), Some(0.0));
        for (q, x) in [
            (0.9, 1.0),
            (0.99, 2.0),
            (0.999, 3.0),
            (0.9999, 4.0),
            (0.99999, 5.0),
        ] {
            assert!((hdr_x(q).unwrap() - x).abs() < 1e-9, "{q}");
            assert!((hdr_q(x) - q).abs() < 1e-12, "{x}");
        }
        assert_eq!(hdr_x(1.0), None);
        assert_eq!(hdr_x(-0.1), None);
        assert_eq!(hdr_x(f64::NAN), None);
        assert!((hdr_x(0.5).unwrap() - 2f64.log10()).abs() < 1e-12);
    }

    #[test]
    fn hdr_labels() {
        let labels: Vec<String> = (0..6).map(|k| hdr_label(k as f64)).collect();
        assert_eq!(labels, ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]);
        assert_eq!(hdr_label(hdr_x(0.5).unwrap()), "50%");
        assert_eq!(hdr_label(hdr_x(0.95).unwrap()), "95%");
        assert_eq!(hdr_label(hdr_x(0.995).unwrap()), "99.5%");
    }

    #[test]
    fn hdr_points_drop_the_maximum() {
        let pts = to_hdr_points(&[(0.0, 1.0), (0.99, 5.0), (1.0, 9.0)]);
        assert_eq!(pts.len(), 2);
        assert!((pts[1].0 - 2.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn median_of_monotone_curves_is_monotone(
            rounds in prop::collection::vec(prop::collection::vec(0.0f64..1000.0, 16), 1..7)
        ) {
            let qs = crate::load::CURVE_QUANTILES;
            let curves: Vec<Vec<(f64, f64)>> = rounds
                .iter()
                .map(|incs| {
                    let mut acc = 0.0;
                    qs.iter().zip(incs).map(|(&q, &d)| { acc += d; (q, acc) }).collect()
                })
                .collect();
            let refs: Vec<&[(f64, f64)]> = curves.iter().map(|c| c.as_slice()).collect();
            let m = median_curve(&refs);
            prop_assert_eq!(m.len(), qs.len());
            for w in m.windows(2) {
                prop_assert!(w[0].0 < w[1].0 && w[0].1 <= w[1].1);
            }
            // Each point lies within the range of the rounds' values at that quantile.
            for (i, &(_, v)) in m.iter().enumerate() {
                let lo = curves.iter().map(|c| c[i].1).fold(f64::INFINITY, f64::min);
                let hi = curves.iter().map(|c| c[i].1).fold(f64::NEG_INFINITY, f64::max);
                prop_assert!(lo - 1e-9 <= v && v <= hi + 1e-9);
            }
        }

        #[test]
        fn hdr_axis_is_increasing(a in 0.0f64..0.999999, b in 0.0f64..0.999999) {
            prop_assume!(a < b);
            prop_assert!(hdr_x(a).unwrap() < hdr_x(b).unwrap());
        }
    }
}
