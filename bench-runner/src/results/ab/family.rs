//! The gate's family: Holm's test over every gated time figure of an `ab` run.

use super::{Comparison, MetricChange, FAMILY_ALPHA, IMPROVED, REGRESSED, UNCHANGED};
use crate::stats::holm;

/// Holm's test over every gated time figure (regressions and improvements each, at
/// [`FAMILY_ALPHA`]); a figure's verdict needs Holm's rejection and a change beyond its threshold.
/// Returns the family's size.
pub(super) fn family_wise(comparisons: &mut [Comparison]) -> usize {
    let mut at: Vec<(usize, usize)> = Vec::new();
    for (ci, c) in comparisons.iter().enumerate() {
        for (mi, m) in c.metrics.iter().enumerate() {
            if m.gated && m.metric != "instructions_per_req" && m.p_worse.is_finite() {
                at.push((ci, mi));
            }
        }
    }
    let p = |f: fn(&MetricChange) -> f64| -> Vec<f64> {
        at.iter()
            .map(|&(ci, mi)| f(&comparisons[ci].metrics[mi]))
            .collect()
    };
    let worse = holm(&p(|m| m.p_worse), FAMILY_ALPHA);
    let better = holm(&p(|m| m.p_better), FAMILY_ALPHA);
    for (k, &(ci, mi)) in at.iter().enumerate() {
        let m = &mut comparisons[ci].metrics[mi];
        m.verdict = if worse[k] && m.change.estimate > m.threshold {
            REGRESSED
        } else if better[k] && m.change.estimate < -m.threshold {
            IMPROVED
        } else {
            UNCHANGED
        }
        .into();
    }
    at.len()
}
