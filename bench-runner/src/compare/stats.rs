//! Pure statistics for comparing two independent runs: a two-sample bootstrap interval of the change
//! between their per-round figures, and the two-gate verdict. No I/O; deterministic for a given seed;
//! property-tested below.
//!
//! # Why a two-sample bootstrap of the difference of medians (and not Mann-Whitney)
//!
//! The unit of replication is the round: each run gives one figure per round and variant (for overheads,
//! variant minus the baseline of the same round, which already removes the drift shared inside a round).
//! Two runs are independent (different processes, often different days), so their rounds cannot be paired;
//! each side is resampled on its own, with replacement, and the statistic is recomputed on every pair of
//! resamples. The 2.5% and 97.5% percentiles of those statistics form the 95% interval.
//!
//! - It gives an interval *in the metric's unit* (µs, or % for throughput). The second gate compares the
//!   change with a noise threshold in that unit, and the table shows the interval; a Mann-Whitney test
//!   gives only a p-value (a Hodges-Lehmann interval would need its own machinery).
//! - Mann-Whitney on so few rounds cannot reach significance at all: with 2 rounds a side the smallest
//!   two-sided p is 1/3, with 3 rounds 0.1, with 4 rounds 0.029. The quick profile has 5 rounds and users
//!   pass `--rounds 2`; the test would be mute exactly where CI runs.
//! - The median is robust to the one round that a noisy neighbour spoils, and it is the statistic
//!   `results.json` already reports for every summary.
//!
//! The price: a percentile bootstrap is anti-conservative with few rounds (the interval is too narrow, so
//! "significant" comes too easily). That is why a regression also needs the change to exceed a noise
//! threshold, and why `compare` warns below [`FEW_ROUNDS`] rounds. With fewer than 2 rounds on a side
//! there is no interval: the bounds are infinite and nothing can be significant.

use crate::stats::{median, Estimate, Rng};
use serde::Serialize;

/// Below this many rounds on either side, intervals are flagged as approximate (Google Benchmark's
/// compare.py warns below 9 repetitions; 5 is the quick profile).
pub const FEW_ROUNDS: usize = 5;

/// Resamples per interval (as for every interval in results.json).
pub const RESAMPLES: usize = crate::stats::BOOTSTRAP_RESAMPLES;

/// `median(new) - median(base)`: the shift of a lower-is-better figure, in its unit.
pub fn median_shift(base: &[f64], new: &[f64]) -> f64 {
    median(new) - median(base)
}

/// `(median(new) / median(base) - 1) * 100`: the relative change in percent (for throughput).
pub fn median_change_pct(base: &[f64], new: &[f64]) -> f64 {
    (median(new) / median(base) - 1.0) * 100.0
}

fn finite(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|x| x.is_finite()).collect()
}

/// No evidence either way: the interval is (-inf, +inf).
fn no_interval(est: f64) -> Estimate {
    Estimate {
        estimate: est,
        ci95_low: f64::NEG_INFINITY,
        ci95_high: f64::INFINITY,
    }
}

/// The 2.5% and 97.5% percentiles of the bootstrap statistics around `est`; none: no interval.
fn percentile_interval(est: f64, mut stats: Vec<f64>) -> Estimate {
    if stats.is_empty() {
        return no_interval(est);
    }
    stats.sort_by(f64::total_cmp);
    Estimate {
        estimate: est,
        ci95_low: crate::stats::quantile_sorted(&stats, 0.025),
        ci95_high: crate::stats::quantile_sorted(&stats, 0.975),
    }
}

/// Two-sample percentile bootstrap: `statistic(base, new)` with its 95% interval, resampling each side
/// independently (the runs are independent). Non-finite values are dropped. With fewer than 2 values on
/// either side the interval is (-inf, +inf): no evidence either way.
pub fn two_sample_bootstrap(
    base: &[f64],
    new: &[f64],
    statistic: fn(&[f64], &[f64]) -> f64,
    resamples: usize,
    seed: u64,
) -> Estimate {
    let (base, new) = (finite(base), finite(new));
    let est = statistic(&base, &new);
    if base.len() < 2 || new.len() < 2 || resamples == 0 {
        return no_interval(est);
    }
    let mut rng = Rng::new(seed);
    let mut b = vec![0.0; base.len()];
    let mut n = vec![0.0; new.len()];
    let stats: Vec<f64> = (0..resamples)
        .map(|_| {
            for x in b.iter_mut() {
                *x = base[rng.below(base.len())];
            }
            for x in n.iter_mut() {
                *x = new[rng.below(new.len())];
            }
            statistic(&b, &n)
        })
        .filter(|s| !s.is_nan())
        .collect();
    percentile_interval(est, stats)
}

/// Two-sample hierarchical bootstrap of the shift of medians for figures measured in groups (rounds)
/// of repeated samples (CPU slices): each side resamples its groups with replacement, then the samples
/// within every drawn group, and the statistic is `median(all new) - median(all base)`. Resampling the
/// groups first keeps what a round shares (its own machine conditions) in the interval; resampling only
/// the samples would treat 50 slices as 50 independent rounds and give an interval that is too narrow.
/// Non-finite values and empty groups are dropped; with fewer than 2 groups on a side the interval is
/// (-inf, +inf).
pub fn hierarchical_bootstrap(
    base: &[Vec<f64>],
    new: &[Vec<f64>],
    resamples: usize,
    seed: u64,
) -> Estimate {
    let clean = |g: &[Vec<f64>]| -> Vec<Vec<f64>> {
        g.iter()
            .map(|xs| finite(xs))
            .filter(|xs| !xs.is_empty())
            .collect()
    };
    let (base, new) = (clean(base), clean(new));
    let all = |g: &[Vec<f64>]| g.concat();
    let est = median(&all(&new)) - median(&all(&base));
    if base.len() < 2 || new.len() < 2 || resamples == 0 {
        return no_interval(est);
    }
    let mut rng = Rng::new(seed);
    let mut draw = |g: &[Vec<f64>], out: &mut Vec<f64>| {
        out.clear();
        for _ in 0..g.len() {
            let group = &g[rng.below(g.len())];
            for _ in 0..group.len() {
                out.push(group[rng.below(group.len())]);
            }
        }
        median(out)
    };
    let (mut b, mut n) = (Vec::new(), Vec::new());
    let stats: Vec<f64> = (0..resamples)
        .map(|_| {
            let mb = draw(&base, &mut b);
            draw(&new, &mut n) - mb
        })
        .collect();
    percentile_interval(est, stats)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shift(base: &[f64], new: &[f64], seed: u64) -> Estimate {
        two_sample_bootstrap(base, new, median_shift, 1000, seed)
    }

    #[test]
    fn clear_shift_is_a_significant_regression() {
        let base = [80.0, 81.0, 82.0, 80.5, 81.5];
        let new: Vec<f64> = base.iter().map(|x| x + 10.0).collect();
        let e = shift(&base, &new, 1);
        assert_eq!(e.estimate, 10.0);
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
        let back = shift(&new, &base, 1);
        assert_eq!(
            verdict(&back, 2.0, Direction::LowerIsBetter),
            Verdict::Improved
        );
    }

    #[test]
    fn one_round_gives_no_interval() {
        let e = shift(&[1.0], &[100.0, 101.0], 1);
        assert_eq!(e.estimate, 99.5);
        assert!(e.contains(0.0) && !significant(&e));
        assert_eq!(
            verdict(&e, 0.0, Direction::LowerIsBetter),
            Verdict::Unchanged
        );
    }

    #[test]
    fn percent_change_of_medians() {
        assert!((median_change_pct(&[100.0, 100.0], &[90.0, 90.0]) + 10.0).abs() < 1e-9);
        let e = two_sample_bootstrap(
            &[100.0, 101.0, 99.0],
            &[80.0, 81.0, 79.0],
            median_change_pct,
            500,
            3,
        );
        assert!(e.ci95_high < 0.0);
        assert_eq!(
            verdict(&e, 5.0, Direction::HigherIsBetter),
            Verdict::Regressed
        );
    }

    proptest! {
        #[test]
        fn identical_grouped_samples_contain_zero_and_a_shift_is_found(
            groups in prop::collection::vec(prop::collection::vec(-10f64..10.0, 1..12), 2..8),
            seed in any::<u64>(),
        ) {
            let e = hierarchical_bootstrap(&groups, &groups, 300, seed);
            prop_assert_eq!(e.estimate, 0.0);
            prop_assert!(e.contains(0.0), "{:?}", e);
            // every value shifted by more than the whole spread: the interval is entirely above 0
            let up: Vec<Vec<f64>> = groups.iter().map(|g| g.iter().map(|x| x + 25.0).collect()).collect();
            let e = hierarchical_bootstrap(&groups, &up, 300, seed);
            prop_assert!((e.estimate - 25.0).abs() < 1e-9, "{:?}", e);
            prop_assert!(e.ci95_low > 0.0, "{:?}", e);
        }

        #[test]
        fn identical_samples_contain_zero_and_are_unchanged(xs in prop::collection::vec(-1e3f64..1e3, 1..20), seed in any::<u64>(), t in 0.0f64..50.0) {
            let e = shift(&xs, &xs, seed);
            prop_assert_eq!(e.estimate, 0.0);
            prop_assert!(e.contains(0.0), "{:?}", e);
            prop_assert_eq!(verdict(&e, t, Direction::LowerIsBetter), Verdict::Unchanged);
            let p = two_sample_bootstrap(&xs.iter().map(|x| x.abs() + 1.0).collect::<Vec<_>>(), &xs.iter().map(|x| x.abs() + 1.0).collect::<Vec<_>>(), median_change_pct, 300, seed);
            prop_assert!(p.contains(0.0), "{:?}", p);
        }

        #[test]
        fn interval_is_ordered(a in prop::collection::vec(-1e3f64..1e3, 0..15), b in prop::collection::vec(-1e3f64..1e3, 0..15), seed in any::<u64>()) {
            let e = shift(&a, &b, seed);
            prop_assert!(e.ci95_low <= e.ci95_high);
        }

        #[test]
        fn a_constant_shift_moves_estimate_and_interval(a in prop::collection::vec(-1e3f64..1e3, 2..15), b in prop::collection::vec(-1e3f64..1e3, 2..15), d in -100f64..100.0, seed in any::<u64>()) {
            let e0 = shift(&a, &b, seed);
            let b2: Vec<f64> = b.iter().map(|x| x + d).collect();
            let e1 = shift(&a, &b2, seed);
            prop_assert!((e1.estimate - e0.estimate - d).abs() < 1e-6);
            prop_assert!((e1.ci95_low - e0.ci95_low - d).abs() < 1e-6);
            prop_assert!((e1.ci95_high - e0.ci95_high - d).abs() < 1e-6);
        }

        #[test]
        fn swapping_the_runs_negates_the_estimate(a in prop::collection::vec(-1e3f64..1e3, 1..15), b in prop::collection::vec(-1e3f64..1e3, 1..15)) {
            prop_assert!((shift(&a, &b, 1).estimate + shift(&b, &a, 1).estimate).abs() < 1e-9);
        }

        #[test]
        fn separated_samples_are_significant(a in prop::collection::vec(0f64..100.0, 2..15), b in prop::collection::vec(0f64..100.0, 2..15), gap in 0.001f64..50.0, seed in any::<u64>()) {
            // every new value above every base value: every resampled median is too
            let b: Vec<f64> = b.iter().map(|x| x + 100.0 + gap).collect();
            let e = shift(&a, &b, seed);
            prop_assert!(e.ci95_low > 0.0, "{:?}", e);
            prop_assert_eq!(verdict(&e, 0.0, Direction::LowerIsBetter), Verdict::Regressed);
            prop_assert_eq!(verdict(&e, 0.0, Direction::HigherIsBetter), Verdict::Improved);
        }

        #[test]
        fn nothing_within_the_threshold_is_a_change(a in prop::collection::vec(-1e3f64..1e3, 2..15), b in prop::collection::vec(-1e3f64..1e3, 2..15), seed in any::<u64>()) {
            let e = shift(&a, &b, seed);
            prop_assert_eq!(verdict(&e, e.estimate.abs() + 1e-9, Direction::LowerIsBetter), Verdict::Unchanged);
            prop_assert_eq!(verdict(&e, e.estimate.abs() + 1e-9, Direction::HigherIsBetter), Verdict::Unchanged);
        }

        #[test]
        fn the_same_seed_gives_the_same_interval(a in prop::collection::vec(-1e3f64..1e3, 2..15), b in prop::collection::vec(-1e3f64..1e3, 2..15), seed in any::<u64>()) {
            prop_assert_eq!(shift(&a, &b, seed), shift(&a, &b, seed));
        }
    }
}
