//! Pure statistics: quantiles, medians, a seeded RNG, shuffling and percentile-bootstrap intervals.
//! No I/O here; everything is deterministic for a given seed, and property-tested.

use serde::{Deserialize, Serialize};

pub mod robust;
mod tdist;
pub use tdist::{holm, student_t_upper};

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

    /// Both bounds are numbers: an interval was computed (not `n/a` for too few units).
    pub fn has_interval(&self) -> bool {
        self.ci95_low.is_finite() && self.ci95_high.is_finite()
    }

    /// Half the interval's width (NaN without an interval).
    pub fn half_width(&self) -> f64 {
        (self.ci95_high - self.ci95_low) / 2.0
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

/// Two-sided 97.5% quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom (fractional df, as Welch's
/// gives, are rounded down: slightly wider, never narrower). Beyond 30: the normal-tail expansion.
pub fn t975(df: f64) -> f64 {
    if df.is_nan() || df < 1.0 {
        return f64::NAN;
    }
    let d = df.floor() as usize;
    if d <= 30 {
        T975[d - 1]
    } else {
        let z: f64 = 1.959_964;
        let df = d as f64;
        z + (z.powi(3) + z) / (4.0 * df)
            + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * df * df)
    }
}

/// Sample standard deviation (n - 1); NaN below 2 values.
pub fn sd(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// The fewest independent units (Envoy processes) an interval is given for.
pub const MIN_UNITS: usize = 2;

/// The 95% interval of a figure measured once per independent unit (an Envoy process: every window
/// and slice of a process shares its memory layout, JIT output and stretch of machine time, so they
/// are not independent of each other; processes are). The estimate is the mean of the unit values,
/// the interval Student's t over them: exact for normally distributed unit values whatever the
/// split between process-to-process and within-process variance, and checked by simulation in the
/// tests below. Non-finite unit values are dropped; with fewer than [`MIN_UNITS`] the bounds are NaN
/// (`null` in results.json, "n/a" in reports): no interval rather than a collapsed one.
pub fn unit_interval(units: &[f64]) -> Estimate {
    let xs = finite(units);
    let est = mean(&xs);
    if xs.len() < MIN_UNITS {
        return Estimate {
            estimate: est,
            ci95_low: f64::NAN,
            ci95_high: f64::NAN,
        };
    }
    let half = t_half_width(sd(&xs), xs.len());
    Estimate {
        estimate: est,
        ci95_low: est - half,
        ci95_high: est + half,
    }
}

/// The fewest independent units whose [`unit_interval`] half-width, at a spread `sd` between units,
/// is at most `half`: t(k-1)·sd/√k <= half. A projection (it assumes a longer run's units spread as
/// these did), for saying what a tighter interval would cost. `None` when `sd` is not finite, `half`
/// is not positive, or more than `cap` units would be needed.
pub fn units_for_half_width(sd: f64, half: f64, cap: usize) -> Option<usize> {
    if !(sd.is_finite() && half > 0.0) {
        return None;
    }
    (MIN_UNITS..=cap.max(MIN_UNITS)).find(|&k| t_half_width(sd, k) <= half)
}

/// [`unit_interval`]'s half-width for `k` units of spread `sd`: t(k-1)·sd/√k.
fn t_half_width(sd: f64, k: usize) -> f64 {
    t975((k - 1) as f64) * sd / (k as f64).sqrt()
}

/// Least-squares slope of `ys` over `xs` with its Student-t 95% interval (n - 2 degrees of freedom,
/// residuals assumed independent): a trend per unit of x, e.g. memory per swap. Fewer than 3 finite
/// points, or all x equal: NaN bounds (and a NaN estimate below 2 points).
pub fn slope_interval(xs: &[f64], ys: &[f64]) -> Estimate {
    let pts: Vec<(f64, f64)> = xs
        .iter()
        .zip(ys)
        .map(|(x, y)| (*x, *y))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if pts.len() >= 2 && sxx > 0.0 {
        sxy / sxx
    } else {
        f64::NAN
    };
    if pts.len() < 3 || sxx <= 0.0 {
        return Estimate {
            estimate: slope,
            ci95_low: f64::NAN,
            ci95_high: f64::NAN,
        };
    }
    let intercept = my - slope * mx;
    let ssr: f64 = pts
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let half = t975(n - 2.0) * (ssr / (n - 2.0) / sxx).sqrt();
    Estimate {
        estimate: slope,
        ci95_low: slope - half,
        ci95_high: slope + half,
    }
}

/// The finite values of `x` (NaN and infinite units carry no evidence).
pub fn finite(x: &[f64]) -> Vec<f64> {
    x.iter().copied().filter(|v| v.is_finite()).collect()
}

/// The 95% interval of `mean(new) - mean(base)` for unit values of two independent runs: Welch's t
/// (unequal variances, Welch-Satterthwaite degrees of freedom). Fewer than [`MIN_UNITS`] on a side:
/// infinite bounds (no evidence either way).
pub fn welch_interval(base: &[f64], new: &[f64]) -> Estimate {
    let (b, n) = (finite(base), finite(new));
    let est = mean(&n) - mean(&b);
    if b.len() < MIN_UNITS || n.len() < MIN_UNITS {
        return Estimate {
            estimate: est,
            ci95_low: f64::NEG_INFINITY,
            ci95_high: f64::INFINITY,
        };
    }
    match welch_parts(&b, &n) {
        Some((est, se, df)) => {
            let half = t975(df) * se;
            Estimate {
                estimate: est,
                ci95_low: est - half,
                ci95_high: est + half,
            }
        }
        // no spread on either side: the difference is exact
        None => Estimate {
            estimate: est,
            ci95_low: est,
            ci95_high: est,
        },
    }
}

/// Welch's two-sample statistics of `mean(new) - mean(base)`: the change, its standard error and
/// the Welch-Satterthwaite degrees of freedom. `None` with fewer than [`MIN_UNITS`] finite values
/// on a side or a zero standard error (no test is possible). [`welch_interval`] is built on it.
pub fn welch_parts(base: &[f64], new: &[f64]) -> Option<(f64, f64, f64)> {
    let (b, n) = (finite(base), finite(new));
    if b.len() < MIN_UNITS || n.len() < MIN_UNITS {
        return None;
    }
    let var = |x: &[f64]| sd(x).powi(2) / x.len() as f64;
    let (vb, vn) = (var(&b), var(&n));
    let se = (vb + vn).sqrt();
    if se <= 0.0 || !se.is_finite() {
        return None;
    }
    let df =
        (vb + vn).powi(2) / (vb.powi(2) / (b.len() - 1) as f64 + vn.powi(2) / (n.len() - 1) as f64);
    Some((mean(&n) - mean(&b), se, df))
}

/// The least-squares line through `points` (x, y): (intercept, slope); NaN for fewer than two
/// distinct x.
pub fn line_fit(points: &[(f64, f64)]) -> (f64, f64) {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let mx = mean(&pts.iter().map(|p| p.0).collect::<Vec<_>>());
    let my = mean(&pts.iter().map(|p| p.1).collect::<Vec<_>>());
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if pts.len() < 2 || sxx == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let slope = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    (my - slope * mx, slope)
}

/// One line per independent unit (a repetition: its points over the concurrency), fitted by least
/// squares ([`line_fit`]); the intercept and the slope are each the mean over units with Student's t
/// ([`unit_interval`]). With two x values per unit the slope is the per-unit difference.
pub fn unit_line_fit(units: &[Vec<(f64, f64)>]) -> (Estimate, Estimate) {
    let fits: Vec<(f64, f64)> = units.iter().map(|u| line_fit(u)).collect();
    (
        unit_interval(&fits.iter().map(|f| f.0).collect::<Vec<_>>()),
        unit_interval(&fits.iter().map(|f| f.1).collect::<Vec<_>>()),
    )
}

/// The median of `xs` with a distribution-free interval from order statistics: the narrowest
/// symmetric pair of ranks (k, n + 1 - k) whose binomial coverage is at least 95%, or the range
/// when no pair reaches it (below 6 values: 5 give 93.8%, 2 give 50%). Returns the estimate and the
/// interval's exact coverage (NaN bounds and coverage for no value; one value: itself, coverage 0).
pub fn median_interval(xs: &[f64]) -> (Estimate, f64) {
    let v = sorted_copy(xs);
    let n = v.len();
    let est = quantile_sorted(&v, 0.5);
    if n == 0 {
        return (
            Estimate {
                estimate: f64::NAN,
                ci95_low: f64::NAN,
                ci95_high: f64::NAN,
            },
            f64::NAN,
        );
    }
    // P(Binomial(n, 1/2) <= j), for coverage 1 - 2 P(B <= k - 1)
    let cdf = |j: usize| -> f64 {
        let mut c = 1.0f64;
        let mut sum = 0.0;
        for i in 0..=j {
            if i > 0 {
                c = c * (n - i + 1) as f64 / i as f64;
            }
            sum += c;
        }
        sum / 2f64.powi(n as i32)
    };
    let mut k = 1;
    while k < n.div_ceil(2) && 1.0 - 2.0 * cdf(k) >= 0.95 {
        k += 1;
    }
    let coverage = if n == 1 { 0.0 } else { 1.0 - 2.0 * cdf(k - 1) };
    (
        Estimate {
            estimate: est,
            ci95_low: v[k - 1],
            ci95_high: v[n - k],
        },
        coverage,
    )
}

/// A standard normal draw (Box-Muller), for simulations.
pub fn normal(rng: &mut Rng) -> f64 {
    let u1 = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A seed for one figure of one variant, from the run's seed and the variant's id: adding or removing
/// another variant leaves it unchanged (a position-derived seed would not).
pub fn seed_for(seed: u64, id: &str, salt: u64) -> u64 {
    // FNV-1a over the id, mixed with the seed and salt through SplitMix64.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    Rng::new(h ^ seed.rotate_left(17) ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn units_for_half_width_is_the_smallest_count_that_reaches_it() {
        // sd 6.1 µs: 18 units give t(17)·6.1/√18 = 3.03, 19 give 2.94
        assert_eq!(units_for_half_width(6.1, 3.0, 10_000), Some(19));
        assert_eq!(units_for_half_width(0.0, 3.0, 10_000), Some(MIN_UNITS));
        assert_eq!(units_for_half_width(100.0, 0.1, 1000), None);
        assert_eq!(units_for_half_width(f64::NAN, 3.0, 1000), None);
        assert_eq!(units_for_half_width(1.0, 0.0, 1000), None);
    }

    proptest! {
        /// The projection inverts the interval itself: units of spread s whose interval has
        /// half-width h need exactly their own count for h (and one fewer misses it).
        #[test]
        fn units_for_half_width_inverts_unit_interval(
            xs in prop::collection::vec(-50.0f64..50.0, 3..40)
        ) {
            let e = unit_interval(&xs);
            let half = e.ci95_high - e.estimate;
            prop_assume!(half > 1e-9);
            let k = units_for_half_width(sd(&xs), half * (1.0 + 1e-12), 10_000);
            prop_assert_eq!(k, Some(xs.len()));
        }
    }

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

    /// Simulated runs: P processes, each with its own offset (between-process SD `sb`) and W windows
    /// around it (within SD `sw`, with an occasional stall 5 SD wide on one window in 20); a unit is
    /// the median of a process's windows. The share of runs whose interval holds the true value.
    fn coverage(p: usize, w: usize, sb: f64, sw: f64, runs: usize, seed: u64) -> f64 {
        use super::{median, normal, unit_interval};
        let mut rng = super::Rng::new(seed);
        let truth = 10.0;
        let mut hit = 0;
        for _ in 0..runs {
            let units: Vec<f64> = (0..p)
                .map(|_| {
                    let off = truth + sb * normal(&mut rng);
                    let ws: Vec<f64> = (0..w)
                        .map(|_| {
                            let stall = if rng.below(20) == 0 { 5.0 } else { 1.0 };
                            off + sw * stall * normal(&mut rng)
                        })
                        .collect();
                    median(&ws)
                })
                .collect();
            if unit_interval(&units).contains(truth) {
                hit += 1;
            }
        }
        hit as f64 / runs as f64
    }

    #[test]
    fn unit_intervals_cover_at_the_profiles_unit_counts() {
        // quick (6 processes x 1 window), default (8 x 1), full (12 x 3), and the shapes used before
        // (12 x 1, 3 x 2, 4 x 3); from no process effect to one that dominates
        for (p, w) in [(6, 1), (8, 1), (12, 1), (12, 3), (3, 2), (4, 3)] {
            for (sb, sw) in [(0.0, 3.0), (1.0, 3.0), (3.0, 3.0), (6.0, 1.0)] {
                let c = coverage(p, w, sb, sw, 4000, (p * 100 + w) as u64);
                assert!(c >= 0.93, "P={p} W={w} sb={sb} sw={sw}: coverage {c}");
            }
        }
    }

    #[test]
    fn pooling_windows_across_processes_would_not_cover() {
        // The evidence for units: the same data with windows treated as independent (a bootstrap
        // of all windows) covers far below 95% once processes differ.
        let mut rng = super::Rng::new(5);
        let (p, w, sb, sw) = (4, 3, 3.0, 1.0);
        let mut hit = 0;
        let runs = 600;
        for i in 0..runs {
            let mut all = vec![];
            for _ in 0..p {
                let off = sb * normal(&mut rng);
                all.extend((0..w).map(|_| off + sw * normal(&mut rng)));
            }
            if bootstrap_ci(&all, mean, 400, i as u64).contains(0.0) {
                hit += 1;
            }
        }
        let c = hit as f64 / runs as f64;
        assert!(c < 0.85, "window bootstrap coverage {c}");
    }

    #[test]
    fn one_unit_gives_no_interval_and_t_matches_tables() {
        let e = unit_interval(&[4.0]);
        assert_eq!(e.estimate, 4.0);
        assert!(e.ci95_low.is_nan() && e.ci95_high.is_nan());
        assert!(!e.contains(4.0));
        let e = unit_interval(&[1.0, 3.0]);
        assert!((e.ci95_high - 2.0 - 12.706 * 2f64.sqrt() / 2f64.sqrt()).abs() < 1e-9);
        assert!((t975(60.0) - 2.000).abs() < 0.002, "{}", t975(60.0));
        assert!((t975(1000.0) - 1.962).abs() < 0.002);
        let w = welch_interval(&[1.0, 2.0, 3.0], &[11.0, 12.0, 13.0]);
        assert_eq!(w.estimate, 10.0);
        assert!(w.ci95_low > 7.0 && w.ci95_high < 13.0, "{w:?}");
        assert!(welch_interval(&[1.0], &[2.0, 3.0]).ci95_low.is_infinite());
    }

    #[test]
    fn seeds_follow_the_id_not_the_position() {
        assert_eq!(
            seed_for(1, "rust-v8-mock", 0),
            seed_for(1, "rust-v8-mock", 0)
        );
        assert_ne!(
            seed_for(1, "rust-v8-mock", 0),
            seed_for(1, "cpp-v8-mock", 0)
        );
        assert_ne!(
            seed_for(1, "rust-v8-mock", 0),
            seed_for(2, "rust-v8-mock", 0)
        );
        assert_ne!(
            seed_for(1, "rust-v8-mock", 0),
            seed_for(1, "rust-v8-mock", 1)
        );
    }

    #[test]
    fn lines_and_median_intervals_on_known_data() {
        let (a, b) = line_fit(&[(1.0, 5.0), (2.0, 7.0), (4.0, 11.0)]);
        assert!((a - 3.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        assert!(line_fit(&[(1.0, 5.0)]).1.is_nan());
        let (i, s) = unit_line_fit(&[
            vec![(1.0, 4.0), (2.0, 6.0)],
            vec![(1.0, 6.0), (2.0, 8.0)],
            vec![(1.0, 5.0), (2.0, 7.5)],
        ]);
        assert!((s.estimate - 13.0 / 6.0).abs() < 1e-12, "{s:?}");
        assert!(s.contains(2.0) && i.contains(3.0), "{i:?} {s:?}");
        let (m, c) = median_interval(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((m.estimate, m.ci95_low, m.ci95_high), (3.0, 1.0, 5.0));
        assert!((c - 0.9375).abs() < 1e-12);
        // 10 values: ranks 2 and 9 (97.9%), 20: ranks 6 and 15 (95.9%)
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        let (m, c) = median_interval(&ten);
        assert_eq!((m.ci95_low, m.ci95_high), (2.0, 9.0));
        assert!((c - 0.978_515_625).abs() < 1e-9, "{c}");
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        let (m, c) = median_interval(&twenty);
        assert_eq!((m.ci95_low, m.ci95_high), (6.0, 15.0));
        assert!(c >= 0.95, "{c}");
        assert!(median_interval(&[]).0.estimate.is_nan());
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

    #[test]
    fn slope_of_a_line_is_exact_and_noise_widens_it() {
        let xs: Vec<f64> = (0..10).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 5.0 + 2.0 * x).collect();
        let e = slope_interval(&xs, &ys);
        assert!((e.estimate - 2.0).abs() < 1e-9 && e.contains(2.0));
        let noisy: Vec<f64> = ys
            .iter()
            .enumerate()
            .map(|(i, y)| y + if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let e = slope_interval(&xs, &noisy);
        assert!(e.ci95_low < 2.0 && e.ci95_high > 2.0);
        assert!(!slope_interval(&xs[..2], &ys[..2]).has_interval());
    }
}
