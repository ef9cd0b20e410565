//! Pure statistics: quantiles, medians, a seeded RNG, shuffling and percentile-bootstrap intervals.
//! No I/O here; everything is deterministic for a given seed, and property-tested.

use serde::{Deserialize, Serialize};

/// A point estimate with its 95% confidence interval, in the unit named by the field that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    #[serde(with = "nan_as_null")]
    pub estimate: f64,
    #[serde(with = "nan_as_null")]
    pub ci95_low: f64,
    #[serde(with = "nan_as_null")]
    pub ci95_high: f64,
}

/// JSON has no NaN: a figure with no sample is written as null and read back as NaN.
pub mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

impl Estimate {
    pub fn contains(&self, x: f64) -> bool {
        self.ci95_low <= x && x <= self.ci95_high
    }
}

/// Quantile `q` in [0, 1] of `sorted` (ascending), linear interpolation between closest ranks
/// (the "type 7" definition used by R and numpy). Empty input gives NaN.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

fn sorted_copy(xs: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

pub fn quantile(xs: &[f64], q: f64) -> f64 {
    quantile_sorted(&sorted_copy(xs), q)
}

pub fn median(xs: &[f64]) -> f64 {
    quantile(xs, 0.5)
}

pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// SplitMix64: tiny, fast, good enough for resampling and shuffling, and reproducible from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0), without modulo bias worth caring about for n << 2^64.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Number of bootstrap resamples used for every interval.
pub const BOOTSTRAP_RESAMPLES: usize = 4000;

/// Percentile-bootstrap 95% interval of `statistic` over `xs`. With fewer than 2 values the interval
/// collapses onto the estimate (and the caller should say there were too few rounds).
pub fn bootstrap_ci(
    xs: &[f64],
    statistic: fn(&[f64]) -> f64,
    resamples: usize,
    seed: u64,
) -> Estimate {
    let xs: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    let est = statistic(&xs);
    if xs.len() < 2 {
        return Estimate {
            estimate: est,
            ci95_low: est,
            ci95_high: est,
        };
    }
    let mut rng = Rng::new(seed);
    let mut sample = vec![0.0; xs.len()];
    let mut stats: Vec<f64> = (0..resamples)
        .map(|_| {
            for s in sample.iter_mut() {
                *s = xs[rng.below(xs.len())];
            }
            statistic(&sample)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    Estimate {
        estimate: est,
        ci95_low: quantile_sorted(&stats, 0.025),
        ci95_high: quantile_sorted(&stats, 0.975),
    }
}

/// Median of the per-round paired differences `a[i] - b[i]` with its bootstrap 95% interval.
/// Pairing by round removes the drift that a noisy machine adds to both sides of the same round.
pub fn paired_median_difference(a: &[f64], b: &[f64], seed: u64) -> Estimate {
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    bootstrap_ci(&diffs, median, BOOTSTRAP_RESAMPLES, seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantiles_match_the_type7_definition() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 1.0), 4.0);
        assert_eq!(median(&xs), 2.5);
        assert!((quantile(&xs, 0.9) - 3.7).abs() < 1e-12);
        assert!(median(&[]).is_nan());
        assert_eq!(median(&[7.0]), 7.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn shuffle_is_a_permutation_and_reproducible() {
        let mut a: Vec<u32> = (0..50).collect();
        let mut b = a.clone();
        super::Rng::new(7).shuffle(&mut a);
        super::Rng::new(7).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
        a.sort();
        assert_eq!(a, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn bootstrap_of_a_clear_shift_excludes_zero() {
        let base: Vec<f64> = (0..12).map(|i| 80.0 + (i % 3) as f64).collect();
        let slow: Vec<f64> = base.iter().map(|x| x + 10.0).collect();
        let e = paired_median_difference(&slow, &base, 1);
        assert_eq!(e.estimate, 10.0);
        assert!(e.ci95_low > 0.0);
    }

    proptest! {
        #[test]
        fn quantile_lies_within_range(xs in prop::collection::vec(-1e6f64..1e6, 1..60), q in 0.0f64..1.0) {
            let v = quantile(&xs, q);
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(lo <= v && v <= hi);
        }

        #[test]
        fn quantile_is_monotone_in_q(xs in prop::collection::vec(-1e6f64..1e6, 1..60), q1 in 0.0f64..1.0, q2 in 0.0f64..1.0) {
            let (a, b) = if q1 <= q2 { (q1, q2) } else { (q2, q1) };
            prop_assert!(quantile(&xs, a) <= quantile(&xs, b));
        }

        #[test]
        fn interval_contains_estimate(xs in prop::collection::vec(-1e3f64..1e3, 2..30), seed in any::<u64>()) {
            let e = bootstrap_ci(&xs, median, 500, seed);
            prop_assert!(e.ci95_low <= e.estimate + 1e-9 && e.estimate <= e.ci95_high + 1e-9);
        }

        #[test]
        fn difference_of_identical_samples_contains_zero(xs in prop::collection::vec(-1e3f64..1e3, 1..30), seed in any::<u64>()) {
            let e = paired_median_difference(&xs, &xs, seed);
            prop_assert!(e.contains(0.0));
        }

        #[test]
        fn a_constant_shift_moves_the_interval_by_the_shift(xs in prop::collection::vec(-1e3f64..1e3, 2..30), d in -50f64..50.0, seed in any::<u64>()) {
            let ys: Vec<f64> = xs.iter().map(|x| x + d).collect();
            let e = paired_median_difference(&ys, &xs, seed);
            prop_assert!((e.estimate - d).abs() < 1e-6);
            prop_assert!((e.ci95_low - d).abs() < 1e-6 && (e.ci95_high - d).abs() < 1e-6);
        }
    }
}
