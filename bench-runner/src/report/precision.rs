//! How precise a run's added latency is, and what more precision would cost. Every interval's
//! half-width is t(k-1)·s/√k over k Envoy processes, s the spread of the processes' figures; keeping
//! this run's spreads, the processes a target half-width would need, and at this run's pace (its
//! `health.phases`) the wall time they would take. A projection from saved data, labelled as one.

use super::{charts, f1};
use crate::results::{units, Results, VariantSummary};
use crate::stats;
use std::fmt::Write;

/// The half-widths the suite aims at, µs: added p50 to ±3 µs (and ±1 µs, the stretch), added p99 to
/// ±25 µs.
pub const P50_TARGETS: [f64; 2] = [3.0, 1.0];
pub const P99_TARGET: f64 = 25.0;
/// Beyond this many processes a target is reported as out of reach.
const CAP: usize = 10_000;

/// One variant's precision now and the processes its targets would need.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    pub id: &'a str,
    pub units: usize,
    pub p50_half: f64,
    pub p50_sd: f64,
    /// Processes for each of [`P50_TARGETS`].
    pub p50_needs: [Option<usize>; 2],
    pub p99_half: f64,
    pub p99_needs: Option<usize>,
}

/// Wall time of the run: per Envoy process (its share of starting and of the rounds) and the rest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub per_process_s: f64,
    pub other_s: f64,
}

impl Pace {
    /// The wall time of the same run with `k` processes.
    pub fn wall_s(&self, k: usize) -> f64 {
        self.other_s + self.per_process_s * k as f64
    }
}

/// Every variant with an overhead (the A/A listener included: its p99 row is the machine's floor).
pub fn rows(r: &Results) -> Vec<Row<'_>> {
    charts::ordered(r)
        .into_iter()
        .filter_map(|v: &VariantSummary| {
            let o = v.overhead.as_ref()?;
            let u = units(&r.rounds, &r.pooled, &v.id);
            let (s50, s99) = (
                stats::sd(&stats::finite(&u.p50)),
                stats::sd(&stats::finite(&u.p99)),
            );
            Some(Row {
                id: &v.id,
                units: o.units,
                p50_half: o.p50.half_width(),
                p50_sd: s50,
                p50_needs: P50_TARGETS.map(|t| stats::units_for_half_width(s50, t, CAP)),
                p99_half: o.p99.half_width(),
                p99_needs: stats::units_for_half_width(s99, P99_TARGET, CAP),
            })
        })
        .collect()
}

/// The run's pace from its recorded phases (`None` for runs saved before phases were recorded, or
/// without processes).
pub fn pace(r: &Results) -> Option<Pace> {
    let phases = &r.health.as_ref()?.phases;
    let processes = {
        let mut p: Vec<usize> = r.rounds.iter().map(|x| x.process).collect();
        p.sort();
        p.dedup();
        p.len()
    };
    let of = |name: &str| {
        phases
            .iter()
            .filter(|p| p.phase == name)
            .map(|p| p.seconds)
            .sum::<f64>()
    };
    let scaled = of("start") + of("rounds");
    if processes == 0 || scaled <= 0.0 {
        return None;
    }
    let total: f64 = phases.iter().map(|p| p.seconds).sum();
    Some(Pace {
        per_process_s: scaled / processes as f64,
        other_s: total - scaled,
    })
}

/// Minutes and hours as a person reads them (long projections run to days).
fn duration(s: f64) -> String {
    if s < 3600.0 {
        crate::results::human_s(s)
    } else if s < 48.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.0} days", s / 86400.0)
    }
}

fn needs(k: Option<usize>, now: usize, pace: Option<Pace>) -> String {
    match k {
        None => format!("over {CAP}"),
        Some(k) if k <= now => format!("{k} (met)"),
        Some(k) => match pace {
            Some(p) => format!("{k} (~{})", duration(p.wall_s(k))),
            None => k.to_string(),
        },
    }
}

/// The section's header sentence and table cells (shared by report.md, report.html and the README).
pub fn table(r: &Results) -> Option<(String, Vec<String>, Vec<Vec<String>>)> {
    let rows = rows(r);
    if rows.iter().all(|x| x.units < stats::MIN_UNITS) {
        return None;
    }
    let pace = pace(r);
    let intro = format!(
        "An interval's half-width is t(k-1)·s/√k over k Envoy processes, s the spread of the processes' figures. Keeping this run's spreads (a projection: a longer run's may differ), the processes a half-width would need{}:",
        pace.map_or(String::new(), |p| format!(
            ", and the wall time at this run's pace ({} per Envoy process for its start and rounds, {} for the rest)",
            crate::results::human_s(p.per_process_s),
            crate::results::human_s(p.other_s)
        ))
    );
    let header = vec![
        "variant".to_string(),
        "processes".into(),
        "added p50 ± µs".into(),
        "p50 SD between processes µs".into(),
        format!("processes for p50 ±{} µs", P50_TARGETS[0]),
        format!("for ±{} µs", P50_TARGETS[1]),
        "added p99 ± µs".into(),
        format!("processes for p99 ±{P99_TARGET} µs"),
    ];
    let cells = rows
        .iter()
        .map(|x| {
            vec![
                x.id.to_string(),
                x.units.to_string(),
                f1(x.p50_half),
                f1(x.p50_sd),
                needs(x.p50_needs[0], x.units, pace),
                needs(x.p50_needs[1], x.units, pace),
                f1(x.p99_half),
                needs(x.p99_needs, x.units, pace),
            ]
        })
        .collect();
    Some((intro, header, cells))
}

/// The section as Markdown ("" when the run has no intervals).
pub fn markdown(r: &Results) -> String {
    let Some((intro, header, cells)) = table(r) else {
        return String::new();
    };
    let mut s = format!("{intro}\n\n| {} |\n|---|", header.join(" | "));
    s.push_str(&"---:|".repeat(header.len() - 1));
    s.push('\n');
    for row in cells {
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::PhaseTime;

    #[test]
    fn needs_says_met_projects_time_and_names_the_cap() {
        let p = Some(Pace {
            per_process_s: 50.0,
            other_s: 100.0,
        });
        assert_eq!(needs(Some(5), 12, p), "5 (met)");
        assert_eq!(needs(Some(19), 12, p), "19 (~17 min 30 s)");
        assert_eq!(needs(Some(19), 12, None), "19");
        assert_eq!(needs(None, 12, p), "over 10000");
        assert_eq!(needs(Some(2000), 12, p), "2000 (~27.8 h)");
        assert_eq!(duration(5.0 * 86400.0), "5 days");
    }

    fn fixture() -> Results {
        serde_json::from_str(include_str!("../../tests/fixtures/results-quick.json")).unwrap()
    }

    #[test]
    fn rows_come_from_the_run_s_own_units_and_intervals() {
        let r = fixture();
        let rows = rows(&r);
        let ids: Vec<&str> = rows.iter().map(|x| x.id).collect();
        assert_eq!(ids, ["baseline-aa", "lua-mock", "rust-v8-mock"]);
        for x in &rows {
            let v = r.variants.iter().find(|v| v.id == x.id).unwrap();
            let o = v.overhead.as_ref().unwrap();
            assert_eq!(x.units, 3);
            assert!((x.p50_half - (o.p50.ci95_high - o.p50.estimate)).abs() < 1e-9);
            // the projection at the run's own half-width gives back the run's own process count
            assert_eq!(
                stats::units_for_half_width(x.p50_sd, x.p50_half * (1.0 + 1e-12), CAP),
                Some(3),
                "{}",
                x.id
            );
        }
        assert_eq!(
            pace(&r),
            None,
            "a run saved before phases were recorded has no pace"
        );
        let md = markdown(&r);
        assert!(md.contains("| lua-mock | 3 |"), "{md}");
        assert!(!md.contains("wall time at this run's pace"), "{md}");
    }

    #[test]
    fn a_run_without_intervals_has_no_section() {
        let mut r = fixture();
        // `run --rounds 1`: one Envoy process, no interval anywhere
        for o in r.variants.iter_mut().filter_map(|v| v.overhead.as_mut()) {
            o.units = 1;
        }
        assert!(table(&r).is_none());
        assert_eq!(markdown(&r), "");
    }

    #[test]
    fn pace_splits_start_and_rounds_over_the_processes() {
        let mut r = fixture();
        r.health.as_mut().unwrap().phases = ["prepare", "start", "rounds", "footprint"]
            .iter()
            .zip([2.0, 40.0, 110.0, 30.0])
            .map(|(p, s)| PhaseTime {
                phase: p.to_string(),
                seconds: s,
            })
            .collect();
        let p = pace(&r).unwrap();
        assert_eq!(p.per_process_s, 50.0);
        assert_eq!(p.other_s, 32.0);
        assert_eq!(p.wall_s(4), 232.0);
        assert!(markdown(&r)
            .contains("50 s per Envoy process for its start and rounds, 32 s for the rest"));
    }
}
