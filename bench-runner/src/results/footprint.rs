//! The footprint of every implementation (results.json `memory` and `cold_start`): each variant in
//! Envoy processes of its own (one listener, `--concurrency` 1, 2, 4), beside the no-plugin Envoy at
//! the same concurrency. The raw per-process samples are saved; every summary is recomputed from them
//! ([`summarize_memory`], [`summarize_cold_start`]). The units of every interval are the repetitions:
//! repetition `r` of a variant at every concurrency and the no-plugin Envoy of the same repetition
//! and concurrency are separate processes, so the repetitions are independent of each other.

use crate::results::BASELINE;
use crate::stats::{self, Estimate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What shaped the footprint phase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FootprintSettings {
    /// Envoy `--concurrency` values measured (worker threads).
    pub concurrencies: Vec<u32>,
    /// Envoy processes per variant and concurrency (the units of every interval).
    pub repetitions: usize,
    /// The workload every implementation runs (its reply proves the plugin ran).
    pub workload: String,
    /// The bounded load after the idle reading: requests at `load_rate` over `load_connections`.
    pub load_requests: u64,
    pub load_rate: f64,
    pub load_connections: usize,
}

/// One memory reading of one process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct MemoryReading {
    /// VmRSS of /proc/PID/status, KiB.
    pub rss_kb: u64,
    /// Pss and Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, KiB (null where the kernel has
    /// no smaps_rollup).
    #[serde(default)]
    pub pss_kb: Option<u64>,
    #[serde(default)]
    pub private_kb: Option<u64>,
    /// Envoy's admin `/memory`: bytes allocated by tcmalloc and its heap size (Envoy's own heap; V8's
    /// heap is outside it, mapped by V8 itself).
    #[serde(default)]
    pub heap_allocated_bytes: Option<u64>,
    #[serde(default)]
    pub heap_size_bytes: Option<u64>,
}

/// One Envoy process of the footprint phase: its start-up and its memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FootprintSample {
    pub variant: String,
    pub concurrency: u32,
    pub repetition: usize,
    pub pid: u32,
    /// From spawning Envoy to admin `GET /ready` answering 200 (LIVE), ms.
    pub ready_ms: f64,
    /// From spawning Envoy to the first response with the expected body (asked once ready), ms.
    pub first_reply_ms: f64,
    /// Workers that accepted a connection answered with the expected body during the warm-up (every
    /// worker's VM ran before the idle reading): equals `concurrency`.
    pub workers_warmed: u32,
    /// After the warm-up, before the bounded load.
    pub idle: MemoryReading,
    /// After the bounded load.
    pub after_load: MemoryReading,
    pub load_ok: u64,
    pub load_errors: u64,
    /// The Wasm figures of admin `/stats` (`wasm.*`) after the warm-up, by stat name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub wasm_stats: BTreeMap<String, u64>,
    /// Processes besides Envoy that do the implementation's work (an external processor), after the
    /// warm-up and after the load; empty for in-process implementations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub companions: Vec<CompanionReading>,
}

/// A process besides Envoy that serves an implementation (an ext_proc processor): its memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompanionReading {
    pub name: String,
    pub pid: u32,
    pub idle: MemoryReading,
    pub after_load: MemoryReading,
}

/// Static facts of a measured variant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FootprintVariant {
    pub id: String,
    pub implementation: String,
    pub language: String,
    pub runtime: Option<String>,
    /// Bytes of what Envoy loads (the .wasm module, the Lua script template); null for the baseline.
    pub module_bytes: Option<u64>,
}

/// results.json `memory`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemorySection {
    pub settings: FootprintSettings,
    pub variants: Vec<FootprintVariant>,
    pub samples: Vec<FootprintSample>,
    /// The no-plugin Envoy per concurrency.
    pub baseline: Vec<BaselineMemory>,
    /// Per variant: what it adds to the no-plugin Envoy.
    pub summaries: Vec<MemorySummary>,
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineMemory {
    pub concurrency: u32,
    /// Mean over repetitions, KiB, Student's t interval.
    pub rss_kb: Estimate,
    pub pss_kb: Estimate,
    #[serde(default = "no_estimate")]
    pub private_kb: Estimate,
    /// After the bounded load minus before.
    pub growth_kb: Estimate,
}

/// A variant's memory at one concurrency, against the no-plugin Envoy of the same repetition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryAt {
    pub concurrency: u32,
    /// The variant's own RSS, KiB.
    pub rss_kb: Estimate,
    /// RSS, Pss and private memory minus the baseline's, KiB (per repetition, then Student's t).
    pub added_rss_kb: Estimate,
    pub added_pss_kb: Estimate,
    pub added_private_kb: Estimate,
    /// The variant's RSS growth over the bounded load minus the baseline's growth, KiB.
    pub added_growth_kb: Estimate,
    /// Companion processes' RSS (ext_proc's processor), KiB; null for in-process implementations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub companion_rss_kb: Option<Estimate>,
    pub units: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemorySummary {
    pub variant: String,
    pub implementation: String,
    pub module_bytes: Option<u64>,
    pub at: Vec<MemoryAt>,
    /// The least-squares line of the added RSS over the concurrency, fitted per repetition: the slope
    /// is what each added worker (one more VM) costs, the intercept what the implementation costs
    /// with no worker (module, compiled code, the main thread's VM). KiB, Student's t over repetitions.
    pub per_worker_kb: Estimate,
    pub fixed_kb: Estimate,
}

/// results.json `cold_start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColdStartSection {
    pub settings: FootprintSettings,
    pub summaries: Vec<ColdStartSummary>,
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColdStartSummary {
    pub variant: String,
    pub implementation: String,
    pub module_bytes: Option<u64>,
    pub at: Vec<ColdStartAt>,
}

/// Start-up at one concurrency: medians over repetitions with a distribution-free interval
/// ([`stats::median_interval`]; `ci_coverage` is its exact coverage).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColdStartAt {
    pub concurrency: u32,
    pub ready_ms: Estimate,
    pub first_reply_ms: Estimate,
    /// First reply minus /ready of the same process, ms.
    pub ready_to_reply_ms: Estimate,
    #[serde(with = "crate::stats::nan_as_null")]
    pub ci_coverage: f64,
    pub units: usize,
}

/// A variant's samples at one concurrency, by repetition.
fn at<'a>(
    samples: &'a [FootprintSample],
    id: &str,
    c: u32,
) -> BTreeMap<usize, &'a FootprintSample> {
    samples
        .iter()
        .filter(|s| s.variant == id && s.concurrency == c)
        .map(|s| (s.repetition, s))
        .collect()
}

/// Per repetition `f(variant) - f(baseline)` where both were measured, Student's t over repetitions.
fn paired(
    v: &BTreeMap<usize, &FootprintSample>,
    b: &BTreeMap<usize, &FootprintSample>,
    f: impl Fn(&FootprintSample) -> Option<f64>,
) -> (Estimate, Vec<(usize, f64)>) {
    let d: Vec<(usize, f64)> = v
        .iter()
        .filter_map(|(r, s)| Some((*r, f(s)? - f(b.get(r)?)?)))
        .collect();
    let xs: Vec<f64> = d.iter().map(|x| x.1).collect();
    (stats::unit_interval(&xs), d)
}

fn no_estimate() -> Estimate {
    Estimate {
        estimate: f64::NAN,
        ci95_low: f64::NAN,
        ci95_high: f64::NAN,
    }
}

fn kb(x: u64) -> Option<f64> {
    Some(x as f64)
}

/// The no-plugin Envoy's memory per concurrency.
pub fn summarize_baseline(samples: &[FootprintSample], cs: &[u32]) -> Vec<BaselineMemory> {
    cs.iter()
        .map(|&c| {
            let b = at(samples, BASELINE, c);
            let xs = |f: &dyn Fn(&FootprintSample) -> Option<f64>| {
                stats::unit_interval(&b.values().filter_map(|s| f(s)).collect::<Vec<_>>())
            };
            BaselineMemory {
                concurrency: c,
                rss_kb: xs(&|s| kb(s.idle.rss_kb)),
                pss_kb: xs(&|s| s.idle.pss_kb.map(|x| x as f64)),
                private_kb: xs(&|s| s.idle.private_kb.map(|x| x as f64)),
                growth_kb: xs(&|s| Some(s.after_load.rss_kb as f64 - s.idle.rss_kb as f64)),
            }
        })
        .collect()
}

/// What every variant adds to the no-plugin Envoy, per concurrency and per worker.
pub fn summarize_memory(
    variants: &[FootprintVariant],
    samples: &[FootprintSample],
    cs: &[u32],
) -> Vec<MemorySummary> {
    variants
        .iter()
        .filter(|v| v.id != BASELINE)
        .map(|v| {
            let mut lines: BTreeMap<usize, Vec<(f64, f64)>> = BTreeMap::new();
            let at_c: Vec<MemoryAt> = cs
                .iter()
                .map(|&c| {
                    let (vs, bs) = (at(samples, &v.id, c), at(samples, BASELINE, c));
                    let (added_rss_kb, d) = paired(&vs, &bs, |s| kb(s.idle.rss_kb));
                    for (r, x) in d {
                        lines.entry(r).or_default().push((c as f64, x));
                    }
                    let companions: Vec<f64> = vs
                        .values()
                        .filter(|s| !s.companions.is_empty())
                        .map(|s| s.companions.iter().map(|x| x.idle.rss_kb as f64).sum())
                        .collect();
                    MemoryAt {
                        concurrency: c,
                        rss_kb: stats::unit_interval(
                            &vs.values()
                                .map(|s| s.idle.rss_kb as f64)
                                .collect::<Vec<_>>(),
                        ),
                        added_rss_kb,
                        added_pss_kb: paired(&vs, &bs, |s| s.idle.pss_kb.map(|x| x as f64)).0,
                        added_private_kb: paired(&vs, &bs, |s| s.idle.private_kb.map(|x| x as f64))
                            .0,
                        added_growth_kb: paired(&vs, &bs, |s| {
                            Some(s.after_load.rss_kb as f64 - s.idle.rss_kb as f64)
                        })
                        .0,
                        companion_rss_kb: (!companions.is_empty())
                            .then(|| stats::unit_interval(&companions)),
                        units: vs.keys().filter(|r| bs.contains_key(r)).count(),
                    }
                })
                .collect();
            let lines: Vec<Vec<(f64, f64)>> = lines.into_values().collect();
            let (fixed_kb, per_worker_kb) = stats::unit_line_fit(&lines);
            MemorySummary {
                variant: v.id.clone(),
                implementation: v.implementation.clone(),
                module_bytes: v.module_bytes,
                at: at_c,
                per_worker_kb,
                fixed_kb,
            }
        })
        .collect()
}

/// Every variant's (baseline included) start-up per concurrency.
pub fn summarize_cold_start(
    variants: &[FootprintVariant],
    samples: &[FootprintSample],
    cs: &[u32],
) -> Vec<ColdStartSummary> {
    variants
        .iter()
        .map(|v| ColdStartSummary {
            variant: v.id.clone(),
            implementation: v.implementation.clone(),
            module_bytes: v.module_bytes,
            at: cs
                .iter()
                .map(|&c| {
                    let s: Vec<&FootprintSample> = at(samples, &v.id, c).into_values().collect();
                    let xs =
                        |f: fn(&FootprintSample) -> f64| s.iter().map(|x| f(x)).collect::<Vec<_>>();
                    let (ready_ms, coverage) = stats::median_interval(&xs(|x| x.ready_ms));
                    ColdStartAt {
                        concurrency: c,
                        ready_ms,
                        first_reply_ms: stats::median_interval(&xs(|x| x.first_reply_ms)).0,
                        ready_to_reply_ms: stats::median_interval(&xs(|x| {
                            x.first_reply_ms - x.ready_ms
                        }))
                        .0,
                        ci_coverage: coverage,
                        units: s.len(),
                    }
                })
                .collect(),
        })
        .collect()
}

/// Both sections from the raw samples.
pub fn sections(
    settings: FootprintSettings,
    variants: Vec<FootprintVariant>,
    samples: Vec<FootprintSample>,
    notes: Vec<String>,
) -> (MemorySection, ColdStartSection) {
    let cs = settings.concurrencies.clone();
    let memory = MemorySection {
        baseline: summarize_baseline(&samples, &cs),
        summaries: summarize_memory(&variants, &samples, &cs),
        settings: settings.clone(),
        variants: variants.clone(),
        samples: samples.clone(),
        notes: notes.clone(),
    };
    let cold = ColdStartSection {
        summaries: summarize_cold_start(&variants, &samples, &cs),
        settings,
        notes,
    };
    (memory, cold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(variant: &str, c: u32, r: usize, rss: u64, ready: f64) -> FootprintSample {
        FootprintSample {
            variant: variant.into(),
            concurrency: c,
            repetition: r,
            pid: 1,
            ready_ms: ready,
            first_reply_ms: ready + 5.0,
            workers_warmed: c,
            idle: MemoryReading {
                rss_kb: rss,
                pss_kb: Some(rss - 100),
                private_kb: Some(rss / 2),
                ..Default::default()
            },
            after_load: MemoryReading {
                rss_kb: rss + 10,
                ..Default::default()
            },
            load_ok: 10,
            load_errors: 0,
            wasm_stats: BTreeMap::new(),
            companions: vec![],
        }
    }

    fn variant(id: &str) -> FootprintVariant {
        FootprintVariant {
            id: id.into(),
            implementation: id.into(),
            language: id.into(),
            runtime: None,
            module_bytes: None,
        }
    }

    #[test]
    fn per_worker_and_fixed_costs_are_recovered_with_intervals_that_hold_them() {
        // baseline: 20 000 + 1 000 per worker; the plugin adds 3 000 fixed and 700 per worker; each
        // repetition has its own offset (+-40 KiB) and a small per-point wobble.
        let cs = [1u32, 2, 4];
        let wobble = [0i64, 13, -9, 21, -17];
        let mut samples = vec![];
        for r in 0..5 {
            for &c in &cs {
                let base = 20_000 + 1_000 * c as i64 + wobble[r] * 2;
                samples.push(sample(BASELINE, c, r, base as u64, 300.0));
                let w = wobble[(r + c as usize) % 5];
                let v = base + 3_000 + 700 * c as i64 + w;
                samples.push(sample("x", c, r, v as u64, 400.0 + r as f64));
            }
        }
        let vs = [variant(BASELINE), variant("x")];
        let m = summarize_memory(&vs, &samples, &cs);
        assert_eq!(m.len(), 1);
        let s = &m[0];
        assert!(
            (s.per_worker_kb.estimate - 700.0).abs() < 15.0,
            "{:?}",
            s.per_worker_kb
        );
        assert!(s.per_worker_kb.contains(700.0), "{:?}", s.per_worker_kb);
        assert!(s.fixed_kb.contains(3_000.0), "{:?}", s.fixed_kb);
        assert!(s.per_worker_kb.ci95_high - s.per_worker_kb.ci95_low < 60.0);
        for a in &s.at {
            let want = 3_000.0 + 700.0 * a.concurrency as f64;
            assert!(a.added_rss_kb.contains(want), "{a:?}");
            assert_eq!(a.units, 5);
            // Pss moves with RSS here; growth is 10 on both sides
            assert!(a.added_pss_kb.contains(want));
            assert_eq!(a.added_growth_kb.estimate, 0.0);
        }
        // Two concurrencies: the slope is the difference.
        let two = summarize_memory(&vs, &samples, &[1, 2]);
        let d: Vec<f64> = (0..5)
            .map(|r| {
                let f = |c: usize| {
                    let w = wobble[(r + c) % 5] as f64;
                    700.0 * c as f64 + w
                };
                f(2) - f(1)
            })
            .collect();
        assert!((two[0].per_worker_kb.estimate - stats::mean(&d)).abs() < 1e-9);
        let b = summarize_baseline(&samples, &cs);
        assert!(b[2].rss_kb.contains(24_000.0), "{:?}", b[2]);
        let cold = summarize_cold_start(&vs, &samples, &cs);
        assert_eq!(cold[1].at[0].ready_ms.estimate, 402.0);
        assert_eq!(cold[1].at[0].ready_to_reply_ms.estimate, 5.0);
        assert_eq!(
            (
                cold[1].at[0].ready_ms.ci95_low,
                cold[1].at[0].ready_ms.ci95_high
            ),
            (400.0, 404.0)
        );
    }

    #[test]
    fn one_repetition_gives_figures_without_intervals() {
        let samples = vec![
            sample(BASELINE, 1, 0, 100, 1.0),
            sample("x", 1, 0, 150, 2.0),
        ];
        let m = summarize_memory(&[variant("x")], &samples, &[1]);
        assert_eq!(m[0].at[0].added_rss_kb.estimate, 50.0);
        assert!(!m[0].at[0].added_rss_kb.has_interval());
        assert!(!m[0].per_worker_kb.estimate.is_finite());
    }
}
