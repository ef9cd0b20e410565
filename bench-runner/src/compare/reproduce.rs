//! Reproducibility as a measured result: for two independent runs of the same code, does run B's
//! estimate of each figure land inside run A's 95% interval (and A's inside B's)? An interval that
//! describes what a re-run sees should hold the other run's estimate most of the time, a little less
//! than 95% because the other estimate has its own noise: with two runs of equal precision and a
//! Student's t interval over P processes, the expected rate is P(|T(P-1)| < t975(P-1)/√2): 89% at 4
//! processes, 85% at the default profile's 12 (83% with very many). Far below that, the intervals
//! leave out a source of variation between runs. The direct check of both intervals at once is whether
//! the runs agree: |A − B| within √(hA² + hB²) (h: each interval's half-width, so the bound is the
//! 95% half-width of the difference of two independent estimates), which honest intervals pass about
//! 95% of the time.
//!
//! Instruction counts (runs with an `instructions` section) are checked the way `compare` gates them:
//! not against an interval over noise but against a relative threshold, the added instructions per
//! request of A and B within `threshold_pct` % of A's instructions per request of the listener.

use crate::results::{Overhead, Results, VariantSummary};
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};

/// How one figure is read from a variant's overhead.
type Pick = fn(&Overhead) -> Estimate;

/// The figures checked per plugin variant, with how each is read from a summary.
const FIGURES: [(&str, Pick); 5] = [
    ("added p50 µs", |o| o.p50),
    ("added p99 µs", |o| o.p99),
    ("CPU overhead µs/req, fixed rate", |o| {
        o.fixed_cpu_us_per_req
    }),
    ("CPU overhead µs/req, saturation", |o| o.cpu_us_per_req),
    ("CPU overhead % of baseline, saturation", |o| o.cpu_pct),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FigureCheck {
    pub variant: String,
    pub figure: String,
    pub a: Estimate,
    pub b: Estimate,
    pub b_in_a: bool,
    pub a_in_b: bool,
    /// |A − B| within √(hA² + hB²) (absent in files written before it was checked).
    #[serde(default)]
    pub agree: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FigureSummary {
    pub figure: String,
    /// Variants where both runs have an interval for this figure.
    pub checked: usize,
    pub b_in_a: usize,
    pub a_in_b: usize,
    #[serde(default)]
    pub agree: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coverage {
    pub a: String,
    pub b: String,
    pub a_started_at: String,
    pub b_started_at: String,
    pub profile: String,
    pub processes: usize,
    pub figures: Vec<FigureCheck>,
    pub summary: Vec<FigureSummary>,
    /// Over every checked figure: the fraction of B's estimates inside A's intervals.
    pub b_in_a_fraction: f64,
    pub a_in_b_fraction: f64,
    #[serde(default)]
    pub agree_fraction: Option<f64>,
}

/// Whether two estimates agree within the 95% half-width of their difference.
fn agree(a: &Estimate, b: &Estimate) -> bool {
    (a.estimate - b.estimate).abs() <= a.half_width().hypot(b.half_width())
}

fn has_interval(e: &Estimate) -> bool {
    e.estimate.is_finite() && e.has_interval()
}

/// The instruction figure's name in the checks.
pub const INSTRUCTIONS_FIGURE: &str = "added instructions/request";

/// Checks every figure of every plugin variant (the A/A listener included) both runs measured;
/// instruction counts agree when within `instructions_pct` % of A's instructions per request.
pub fn coverage(
    a: &Results,
    b: &Results,
    a_label: &str,
    b_label: &str,
    instructions_pct: f64,
) -> Coverage {
    let mut figures = Vec::new();
    let overhead = |r: &'_ Results, id: &str| -> Option<Overhead> {
        r.variants
            .iter()
            .find(|v: &&VariantSummary| v.id == id)
            .and_then(|v| v.overhead.clone())
    };
    for v in a.variants.iter().filter(|v| v.overhead.is_some()) {
        let (Some(oa), Some(ob)) = (overhead(a, &v.id), overhead(b, &v.id)) else {
            continue;
        };
        for (name, pick) in FIGURES {
            let (ea, eb) = (pick(&oa), pick(&ob));
            if has_interval(&ea) && has_interval(&eb) {
                figures.push(FigureCheck {
                    variant: v.id.clone(),
                    figure: name.to_string(),
                    a: ea,
                    b: eb,
                    b_in_a: ea.contains(eb.estimate),
                    a_in_b: eb.contains(ea.estimate),
                    agree: Some(agree(&ea, &eb)),
                });
            }
        }
    }
    if let (Some(ia), Some(ib)) = (&a.instructions, &b.instructions) {
        for va in &ia.variants {
            let (Some(ea), Some(eb)) = (va.added, ib.variant(&va.id).and_then(|v| v.added)) else {
                continue;
            };
            if !(ea.estimate.is_finite() && eb.estimate.is_finite()) {
                continue;
            }
            let within = 100.0 * (eb.estimate - ea.estimate).abs()
                <= instructions_pct * va.per_request.estimate.abs();
            figures.push(FigureCheck {
                variant: va.id.clone(),
                figure: INSTRUCTIONS_FIGURE.to_string(),
                a: ea,
                b: eb,
                b_in_a: within,
                a_in_b: within,
                agree: Some(within),
            });
        }
    }
    let names = FIGURES
        .iter()
        .map(|(name, _)| *name)
        .chain(std::iter::once(INSTRUCTIONS_FIGURE));
    let summary = names
        .filter(|name| *name != INSTRUCTIONS_FIGURE || figures.iter().any(|f| f.figure == *name))
        .map(|name| {
            let of: Vec<&FigureCheck> = figures.iter().filter(|f| f.figure == name).collect();
            FigureSummary {
                figure: name.to_string(),
                checked: of.len(),
                b_in_a: of.iter().filter(|f| f.b_in_a).count(),
                a_in_b: of.iter().filter(|f| f.a_in_b).count(),
                agree: Some(of.iter().filter(|f| f.agree == Some(true)).count()),
            }
        })
        .collect();
    let frac = |f: fn(&FigureCheck) -> bool| {
        if figures.is_empty() {
            f64::NAN
        } else {
            figures.iter().filter(|x| f(x)).count() as f64 / figures.len() as f64
        }
    };
    Coverage {
        a: a_label.to_string(),
        b: b_label.to_string(),
        a_started_at: a.started_at.clone(),
        b_started_at: b.started_at.clone(),
        profile: a.profile.name.clone(),
        processes: a.profile.processes,
        b_in_a_fraction: frac(|x| x.b_in_a),
        a_in_b_fraction: frac(|x| x.a_in_b),
        agree_fraction: Some(frac(|x| x.agree == Some(true))),
        figures,
        summary,
    }
}

/// The coverage as a Markdown table (one row per figure, then the total).
pub fn markdown(c: &Coverage) -> String {
    let mut s = String::from(
        "| figure | variants checked | B's estimate inside A's interval | A's estimate inside B's interval | A and B agree: \\|A − B\\| ≤ √(hA² + hB²) |\n|---|---:|---:|---:|---:|\n",
    );
    let count =
        |n: Option<usize>, of: usize| n.map_or("not checked".into(), |n| format!("{n} of {of}"));
    for f in &c.summary {
        s += &format!(
            "| {} | {} | {} of {} | {} of {} | {} |\n",
            f.figure,
            f.checked,
            f.b_in_a,
            f.checked,
            f.a_in_b,
            f.checked,
            count(f.agree, f.checked)
        );
    }
    let n = c.figures.len();
    let agreed = c.agree_fraction.map(|x| (x * n as f64).round() as usize);
    s += &format!(
        "| **all** | {n} | **{} of {n} ({:.0}%)** | **{} of {n} ({:.0}%)** | **{}** |\n",
        c.figures.iter().filter(|f| f.b_in_a).count(),
        100.0 * c.b_in_a_fraction,
        c.figures.iter().filter(|f| f.a_in_b).count(),
        100.0 * c.a_in_b_fraction,
        match (agreed, c.agree_fraction) {
            (Some(k), Some(x)) => format!("{k} of {n} ({:.0}%)", 100.0 * x),
            _ => "not checked".into(),
        }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(est: f64, half: f64) -> Estimate {
        Estimate {
            estimate: est,
            ci95_low: est - half,
            ci95_high: est + half,
        }
    }

    #[test]
    fn runs_agree_within_the_half_width_of_their_difference() {
        // half-widths 3 and 4: the difference's is 5
        assert!(agree(&e(10.0, 3.0), &e(15.0, 4.0)));
        assert!(!agree(&e(10.0, 3.0), &e(15.1, 4.0)));
        assert!(agree(&e(15.0, 4.0), &e(10.0, 3.0)));
    }

    #[test]
    fn an_estimate_inside_the_other_interval_counts() {
        let (a, b) = (e(10.0, 2.0), e(11.5, 1.0));
        assert!(a.contains(b.estimate) && !b.contains(a.estimate));
        assert!(has_interval(&a));
        assert!(!has_interval(&Estimate {
            estimate: 1.0,
            ci95_low: f64::NAN,
            ci95_high: f64::NAN
        }));
    }
}
