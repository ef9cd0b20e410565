//! Pure statistics for comparing two independent runs: the verdict of a change given its interval
//! and a noise threshold. The interval itself is Welch's t over the two runs' per-process figures
//! ([`crate::stats::welch_interval`]): each run gives one figure per Envoy process (its independent
//! unit), the runs are independent (different processes, often different days), and their spreads
//! differ. With fewer than 2 processes on a side there is no interval (infinite bounds) and nothing can
//! be significant. The simulation below checks that two identical runs' interval holds 0 in at least
//! 93% of pairs at the profiles' process counts (the false-alarm rate of the first gate alone).

pub use crate::stats::{holm, student_t_upper};
use crate::stats::{welch_parts, Estimate};
use serde::Serialize;

/// Which way is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Latency, CPU time: an increase is a regression.
    LowerIsBetter,
    /// Throughput: a decrease is a regression.
    HigherIsBetter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Improved,
    Regressed,
    Unchanged,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Regressed => "regressed",
            Verdict::Unchanged => "unchanged",
        }
    }
}

/// The interval excludes 0.
pub fn significant(change: &Estimate) -> bool {
    change.ci95_low > 0.0 || change.ci95_high < 0.0
}

/// Two gates, as criterion and Google Benchmark do: a change counts only when its interval excludes 0
/// (significant) AND the point estimate is larger than the noise threshold `threshold` (same unit,
/// >= 0), in the same direction. Anything else is `Unchanged`.
pub fn verdict(change: &Estimate, threshold: f64, direction: Direction) -> Verdict {
    let t = threshold.abs();
    let up = change.ci95_low > 0.0 && change.estimate > t;
    let down = change.ci95_high < 0.0 && change.estimate < -t;
    match (direction, up, down) {
        (Direction::LowerIsBetter, true, _) | (Direction::HigherIsBetter, _, true) => {
            Verdict::Regressed
        }
        (Direction::LowerIsBetter, _, true) | (Direction::HigherIsBetter, true, _) => {
            Verdict::Improved
        }
        _ => Verdict::Unchanged,
    }
}

/// One-sided p-values of a change being above 0 (`.0`) and below 0 (`.1`): Welch's t, so that
/// `p < 0.025` on a side is exactly "the 95% interval excludes 0 on that side". `None` when
/// [`welch_parts`] gives no test.
pub fn one_sided_p(base: &[f64], new: &[f64]) -> Option<(f64, f64)> {
    let (est, se, df) = welch_parts(base, new)?;
    let up = student_t_upper(est / se, df);
    Some((up, 1.0 - up))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{normal, welch_interval, Rng};
    use proptest::prelude::*;

    #[test]
    fn clear_shift_is_a_significant_regression() {
        let base = [80.0, 81.0, 82.0, 80.5, 81.5];
        let new: Vec<f64> = base.iter().map(|x| x + 10.0).collect();
        let e = welch_interval(&base, &new);
        assert!((e.estimate - 10.0).abs() < 1e-9);
        assert!(e.ci95_low > 0.0, "{e:?}");
        assert_eq!(
            verdict(&e, 2.0, Direction::LowerIsBetter),
            Verdict::Regressed
        );
        assert_eq!(
            verdict(&e, 20.0, Direction::LowerIsBetter),
            Verdict::Unchanged
        );
        assert_eq!(
            verdict(&e, 2.0, Direction::HigherIsBetter),
            Verdict::Improved
        );
        let back = welch_interval(&new, &base);
        assert_eq!(
            verdict(&back, 2.0, Direction::LowerIsBetter),
            Verdict::Improved
        );
    }

    #[test]
    fn one_process_gives_no_interval() {
        let e = welch_interval(&[1.0], &[100.0, 101.0]);
        assert_eq!(e.estimate, 99.5);
        assert!(e.contains(0.0) && !significant(&e));
        assert_eq!(
            verdict(&e, 0.0, Direction::LowerIsBetter),
            Verdict::Unchanged
        );
    }

    /// Pairs of identical runs, each P processes with their own offsets (between-process SD `sb`) and
    /// the noise of the process's figure (`sw`): the share whose interval holds 0.
    fn null_coverage(p: usize, sb: f64, sw: f64, pairs: usize, seed: u64) -> f64 {
        let mut rng = Rng::new(seed);
        let run = |rng: &mut Rng| -> Vec<f64> {
            (0..p)
                .map(|_| 5.0 + sb * normal(rng) + sw * normal(rng))
                .collect()
        };
        let held = (0..pairs)
            .filter(|_| {
                let (a, b) = (run(&mut rng), run(&mut rng));
                welch_interval(&a, &b).contains(0.0)
            })
            .count();
        held as f64 / pairs as f64
    }

    #[test]
    fn identical_runs_hold_zero_at_the_profiles_process_counts() {
        for p in [3, 4, 6] {
            for (sb, sw) in [(0.0, 2.0), (2.0, 1.0), (5.0, 0.5)] {
                let c = null_coverage(p, sb, sw, 4000, p as u64);
                assert!(c >= 0.93, "P={p} sb={sb} sw={sw}: {c}");
            }
        }
    }

    #[test]
    fn one_sided_p_agrees_with_the_interval() {
        let mut rng = Rng::new(9);
        for _ in 0..500 {
            let a: Vec<f64> = (0..6).map(|_| normal(&mut rng)).collect();
            let b: Vec<f64> = (0..6).map(|_| 0.8 + normal(&mut rng)).collect();
            let e = welch_interval(&a, &b);
            let (up, down) = one_sided_p(&a, &b).unwrap();
            // the interval rounds df down (slightly wider), so only clear cases must agree
            if up < 0.02 {
                assert!(e.ci95_low > 0.0, "{e:?} {up}");
            }
            if e.ci95_low > 0.0 {
                assert!(up < 0.025, "{e:?} {up}");
            }
            assert!((up + down - 1.0).abs() < 1e-12);
        }
        assert!(one_sided_p(&[1.0], &[2.0, 3.0]).is_none());
        assert!(one_sided_p(&[1.0, 1.0], &[1.0, 1.0]).is_none());
    }

    /// Family-wise: 52 figures (13 variants x 4 metrics) of two identical runs, 6 processes a side:
    /// with Holm, a pair with any rejection is rare (<= 5%, the family-wise level); without it, most
    /// pairs would have at least one figure whose interval excludes 0.
    #[test]
    fn holm_keeps_identical_run_pairs_quiet() {
        let mut rng = Rng::new(4);
        let pairs = 400;
        let (mut any_holm, mut any_raw) = (0, 0);
        for _ in 0..pairs {
            let ps: Vec<f64> = (0..52)
                .map(|_| {
                    let a: Vec<f64> = (0..6).map(|_| normal(&mut rng)).collect();
                    let b: Vec<f64> = (0..6).map(|_| normal(&mut rng)).collect();
                    one_sided_p(&a, &b).unwrap().0
                })
                .collect();
            any_holm += usize::from(holm(&ps, 0.05).iter().any(|r| *r));
            any_raw += usize::from(ps.iter().any(|p| *p < 0.025));
        }
        assert!(any_holm as f64 / pairs as f64 <= 0.07, "{any_holm}");
        assert!(any_raw as f64 / pairs as f64 >= 0.5, "{any_raw}");
    }

    proptest! {
        #[test]
        fn identical_samples_contain_zero_and_are_unchanged(xs in prop::collection::vec(-1e3f64..1e3, 1..20), t in 0.0f64..50.0) {
            let e = welch_interval(&xs, &xs);
            prop_assert!(e.estimate.abs() < 1e-9);
            prop_assert!(e.contains(0.0) || !e.ci95_low.is_finite(), "{:?}", e);
            prop_assert_eq!(verdict(&e, t, Direction::LowerIsBetter), Verdict::Unchanged);
        }

        #[test]
        fn interval_is_ordered(a in prop::collection::vec(-1e3f64..1e3, 0..15), b in prop::collection::vec(-1e3f64..1e3, 0..15)) {
            let e = welch_interval(&a, &b);
            prop_assert!(e.ci95_low <= e.ci95_high || a.is_empty() || b.is_empty());
        }

        #[test]
        fn a_constant_shift_moves_estimate_and_interval(a in prop::collection::vec(-1e3f64..1e3, 2..15), b in prop::collection::vec(-1e3f64..1e3, 2..15), d in -100f64..100.0) {
            let e0 = welch_interval(&a, &b);
            let b2: Vec<f64> = b.iter().map(|x| x + d).collect();
            let e1 = welch_interval(&a, &b2);
            prop_assert!((e1.estimate - e0.estimate - d).abs() < 1e-6);
            prop_assert!((e1.ci95_low - e0.ci95_low - d).abs() < 1e-6);
            prop_assert!((e1.ci95_high - e0.ci95_high - d).abs() < 1e-6);
        }

        #[test]
        fn swapping_the_runs_negates_the_estimate(a in prop::collection::vec(-1e3f64..1e3, 1..15), b in prop::collection::vec(-1e3f64..1e3, 1..15)) {
            prop_assert!((welch_interval(&a, &b).estimate + welch_interval(&b, &a).estimate).abs() < 1e-9);
        }

        #[test]
        fn nothing_within_the_threshold_is_a_change(a in prop::collection::vec(-1e3f64..1e3, 2..15), b in prop::collection::vec(-1e3f64..1e3, 2..15)) {
            let e = welch_interval(&a, &b);
            prop_assert_eq!(verdict(&e, e.estimate.abs() + 1e-9, Direction::LowerIsBetter), Verdict::Unchanged);
            prop_assert_eq!(verdict(&e, e.estimate.abs() + 1e-9, Direction::HigherIsBetter), Verdict::Unchanged);
        }
    }
}
