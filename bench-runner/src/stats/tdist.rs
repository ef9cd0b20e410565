//! Student's t distribution function and Holm's step-down procedure: what turns a t statistic into a
//! p-value and a family of p-values into rejections (`compare --family-wise`, `ab`'s gate).

/// P(T > t) for Student's t with `df` (> 0, fractional allowed) degrees of freedom.
pub fn student_t_upper(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * regularized_beta(x, df / 2.0, 0.5);
    if t >= 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// Holm's step-down procedure at family-wise level `alpha`: which of `ps` are rejected. Controls
/// the chance of any false rejection among all of them at `alpha` whatever their dependence.
/// Non-finite p-values are never rejected and do not count in the family.
pub fn holm(ps: &[f64], alpha: f64) -> Vec<bool> {
    let mut order: Vec<usize> = (0..ps.len()).filter(|&i| ps[i].is_finite()).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    let m = order.len();
    let mut rejected = vec![false; ps.len()];
    for (k, &i) in order.iter().enumerate() {
        if ps[i] > alpha / (m - k) as f64 {
            break;
        }
        rejected[i] = true;
    }
    rejected
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified Lentz),
/// using the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly.
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut f = d;
    for m in 1..300 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        f *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        f *= step;
        if (step - 1.0).abs() < 1e-14 {
            break;
        }
    }
    f
}

/// ln Γ(x) for x > 0: Lanczos (g = 7, 9 terms), relative error about 1e-15.
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |acc, (i, g)| acc + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_tails_match_the_tables() {
        // the 97.5% and 95% quantiles (t975 in crate::stats is the same table)
        for (t, df, p) in [
            (12.706, 1.0, 0.025),
            (2.228, 10.0, 0.025),
            (1.812, 10.0, 0.05),
            (2.042, 30.0, 0.025),
            (0.0, 5.0, 0.5),
            (3.169, 10.0, 0.005),
        ] {
            let got = student_t_upper(t, df);
            assert!((got - p).abs() < 2e-4, "t={t} df={df}: {got}");
            assert!((student_t_upper(-t, df) - (1.0 - p)).abs() < 2e-4);
        }
        for df in [1.0f64, 2.5, 7.0, 29.0] {
            let q = crate::stats::t975(df.floor());
            assert!(
                (student_t_upper(q, df.floor()) - 0.025).abs() < 3e-4,
                "df={df}"
            );
        }
    }

    #[test]
    fn holm_steps_down() {
        assert_eq!(holm(&[0.01, 0.04, 0.03], 0.05), vec![true, false, false]);
        assert_eq!(holm(&[0.001, 0.02, 0.04], 0.05), vec![true, true, true]);
        assert_eq!(
            holm(&[0.2, f64::NAN, 0.001], 0.05),
            vec![false, false, true]
        );
        assert_eq!(holm(&[], 0.05), Vec::<bool>::new());
    }
}
