//! The summaries of a run, always recomputed from its raw records: one figure per Envoy process (the
//! independent unit, [`units`]) and, per variant, the mean over processes with a Student's t interval
//! ([`summarize`]). The one estimator behind `run`, `report`, `export` and `compare`.

use super::*;

/// The second no-plugin listener: measured exactly like a variant, its overhead is the run's null check.
pub const BASELINE_AA: &str = "baseline-aa";

/// One figure per Envoy process (the independent units every interval is over), for one variant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Units {
    pub processes: Vec<usize>,
    /// Added latency at the fixed rate, µs (pooled percentiles, variant minus interleaved baseline).
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
    pub p99: Vec<f64>,
    /// CPU overhead µs/request, saturation and fixed-rate regimes (median of paired slice differences).
    pub cpu: Vec<f64>,
    pub fixed_cpu: Vec<f64>,
    /// The same relative to the baseline's CPU per request of the process, %.
    pub cpu_pct: Vec<f64>,
    pub fixed_cpu_pct: Vec<f64>,
    /// Cross-talk: baseline p50 beside the variant minus baseline p50 beside the A/A listener, µs.
    pub crosstalk_p50: Vec<f64>,
    /// The variant's own absolute figures per process: p50 µs, CPU µs/request in both regimes,
    /// saturation throughput req/s.
    pub abs_p50: Vec<f64>,
    pub abs_p99: Vec<f64>,
    pub abs_cpu: Vec<f64>,
    pub abs_fixed_cpu: Vec<f64>,
    pub abs_rps: Vec<f64>,
    /// Saturation throughput as % of the same process's baseline throughput.
    pub rps_pct: Vec<f64>,
}

/// A record's CPU slices of one regime (`fixed`: the fixed-rate ones, else saturation).
fn slices_of(r: &RoundRecord, fixed: bool) -> &[f64] {
    if fixed {
        &r.fixed_cpu_slices_us_per_req
    } else {
        &r.cpu_slices_us_per_req
    }
}

/// Per pass of a round: the variant's slice minus the baseline's slice of the same pass.
fn slice_differences(mine: &[&RoundRecord], base: &[&RoundRecord], fixed: bool) -> Vec<f64> {
    let mut out = Vec::new();
    for r in mine {
        if let Some(b) = base.iter().find(|b| b.round == r.round) {
            out.extend(
                slices_of(r, fixed)
                    .iter()
                    .zip(slices_of(b, fixed))
                    .map(|(x, y)| x - y),
            );
        }
    }
    out
}

fn all_slices(recs: &[&RoundRecord], fixed: bool) -> Vec<f64> {
    recs.iter()
        .flat_map(|r| slices_of(r, fixed).iter().copied())
        .collect()
}

/// The per-process figures of `id` from a run's raw records: the one estimator behind `run`,
/// `report` and `compare`.
pub fn units(rounds: &[RoundRecord], pooled: &[PooledLatency], id: &str) -> Units {
    let mut processes: Vec<usize> = rounds
        .iter()
        .filter(|r| r.variant == id)
        .map(|r| r.process)
        .collect();
    processes.sort();
    processes.dedup();
    let mut u = Units {
        processes: processes.clone(),
        ..Units::default()
    };
    for p in processes {
        let of = |v: &str| -> Vec<&RoundRecord> {
            rounds
                .iter()
                .filter(|r| r.process == p && r.variant == v)
                .collect()
        };
        let (mine, base) = (of(id), of(BASELINE));
        let pool = |v: &str| pooled.iter().find(|x| x.process == p && x.variant == v);
        let me = pool(id);
        u.abs_p50
            .push(me.map_or(f64::NAN, |x| x.latency.latency_us.p50));
        u.abs_p99
            .push(me.map_or(f64::NAN, |x| x.latency.latency_us.p99));
        u.abs_cpu.push(stats::median(&all_slices(&mine, false)));
        u.abs_fixed_cpu
            .push(stats::median(&all_slices(&mine, true)));
        let rps = |recs: &[&RoundRecord]| {
            stats::median(&recs.iter().map(|r| r.saturation.rps).collect::<Vec<_>>())
        };
        u.abs_rps.push(rps(&mine));
        u.rps_pct.push(100.0 * rps(&mine) / rps(&base));
        if id == BASELINE {
            continue;
        }
        let lat = |f: fn(&LatencyUs) -> f64| match me
            .and_then(|x| Some((x, x.paired_baseline.as_ref()?)))
        {
            Some((x, b)) => f(&x.latency.latency_us) - f(&b.latency_us),
            None => f64::NAN,
        };
        u.p50.push(lat(|l| l.p50));
        u.p90.push(lat(|l| l.p90));
        u.p99.push(lat(|l| l.p99));
        let cpu = stats::median(&slice_differences(&mine, &base, false));
        let fixed = stats::median(&slice_differences(&mine, &base, true));
        let base_cpu = stats::median(&all_slices(&base, false));
        let base_fixed = stats::median(&all_slices(&base, true));
        u.cpu.push(cpu);
        u.fixed_cpu.push(fixed);
        u.cpu_pct.push(100.0 * cpu / base_cpu);
        u.fixed_cpu_pct.push(100.0 * fixed / base_fixed);
        let beside_aa = pool(BASELINE).map_or(f64::NAN, |x| x.latency.latency_us.p50);
        let beside_me = me
            .and_then(|x| x.paired_baseline.as_ref())
            .map_or(f64::NAN, |b| b.latency_us.p50);
        u.crosstalk_p50.push(beside_me - beside_aa);
    }
    u
}

/// Why intervals are n/a, if they are.
pub fn interval_note(units: usize) -> Option<String> {
    (units < stats::MIN_UNITS).then(|| {
        format!(
            "n/a: {units} Envoy process(es) measured; an interval needs at least {} (independent processes are its units; the default profile runs {})",
            stats::MIN_UNITS,
            super::profile::profile(super::profile::ProfileName::Default).processes
        )
    })
}

/// Recomputes every variant summary from the raw rounds and pooled windows.
pub fn summarize(
    infos: &[VariantInfo],
    rounds: &[RoundRecord],
    pooled: &[PooledLatency],
) -> Vec<VariantSummary> {
    infos
        .iter()
        .filter_map(|info| {
            let mine: Vec<&RoundRecord> = rounds.iter().filter(|r| r.variant == info.id).collect();
            if mine.is_empty() {
                return None;
            }
            let u = units(rounds, pooled, &info.id);
            let med = |f: &dyn Fn(&RoundRecord) -> f64| {
                stats::median(&mine.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            let my_pools: Vec<&PooledLatency> =
                pooled.iter().filter(|p| p.variant == info.id).collect();
            let pooled_mean = |f: fn(&LatencyUs) -> f64| {
                stats::mean(
                    &my_pools
                        .iter()
                        .map(|p| f(&p.latency.latency_us))
                        .filter(|x| x.is_finite())
                        .collect::<Vec<_>>(),
                )
            };
            let n = u.processes.len();
            let overhead = (info.id != BASELINE).then(|| Overhead {
                p50: stats::unit_interval(&u.p50),
                p90: stats::unit_interval(&u.p90),
                p99: stats::unit_interval(&u.p99),
                cpu_us_per_req: stats::unit_interval(&u.cpu),
                fixed_cpu_us_per_req: stats::unit_interval(&u.fixed_cpu),
                cpu_pct: stats::unit_interval(&u.cpu_pct),
                fixed_cpu_pct: stats::unit_interval(&u.fixed_cpu_pct),
                crosstalk_p50: stats::unit_interval(&u.crosstalk_p50),
                units: n,
                note: interval_note(n),
            });
            let fell = |s: &LoadSummary| s.schedule.as_ref().is_some_and(|x| x.fell_behind);
            let processor = |f: fn(&RoundRecord) -> Option<f64>| {
                let v: Vec<f64> = mine.iter().filter_map(|r| f(r)).collect();
                (!v.is_empty()).then(|| stats::median(&v))
            };
            let cpu = med(&|r| r.cpu_us_per_req);
            let fixed_cpu = med(&|r| r.fixed_cpu_us_per_req);
            let processor_cpu = processor(|r| r.processor_cpu_us_per_req);
            let processor_fixed = processor(|r| r.processor_fixed_cpu_us_per_req);
            Some(VariantSummary {
                id: info.id.clone(),
                language: info.language.clone(),
                runtime: info.runtime.clone(),
                workload: info.workload.clone(),
                wasm_sha256: info.wasm_sha256.clone(),
                note: info.note.clone(),
                wasm_bytes: info.wasm_bytes,
                requests: mine
                    .iter()
                    .map(|r| r.latency.requests + r.saturation.requests)
                    .sum(),
                errors: mine
                    .iter()
                    .map(|r| r.latency.errors + r.saturation.errors)
                    .sum(),
                rps: med(&|r| r.saturation.rps),
                latency_us: LatencyUs {
                    p50: pooled_mean(|l| l.p50),
                    p90: pooled_mean(|l| l.p90),
                    p99: pooled_mean(|l| l.p99),
                    p999: pooled_mean(|l| l.p999),
                    max: pooled_mean(|l| l.max),
                    mean: pooled_mean(|l| l.mean),
                },
                cpu_us_per_req: cpu,
                fixed_cpu_us_per_req: fixed_cpu,
                processor_cpu_us_per_req: processor_cpu,
                processor_fixed_cpu_us_per_req: processor_fixed,
                total_cpu_us_per_req: processor_cpu.map(|p| cpu + p),
                total_fixed_cpu_us_per_req: processor_fixed.map(|p| fixed_cpu + p),
                overhead,
                rounds: mine.len(),
                processes: n,
                windows_fell_behind: mine.iter().filter(|r| fell(&r.latency)).count()
                    + mine
                        .iter()
                        .filter_map(|r| r.paired_baseline.as_ref())
                        .filter(|b| fell(b))
                        .count(),
            })
        })
        .collect()
}
