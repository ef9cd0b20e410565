//! `merge`: several load workers' files (`load --save-histograms`) as one measurement. Histograms
//! add exactly (HdrHistogram addition: the merged percentiles are those of one histogram fed every
//! sample); counts and errors add; throughput is summed over the workers, and their measured windows'
//! overlap (the common window) is stated. Warnings: windows that do not overlap, workers given
//! different start times, clocks that disagree by more than [`CLOCK_BOUND_MS`].
//!
//! Nothing is dropped: a worker that failed, or whose requests had errors, stays in the tables and is
//! named as a problem (exit 1).

use crate::load::worker::{parse_rfc3339, WorkerRecord};
use crate::load::{latency_us, new_hist, ErrorCounts, LatencyUs};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

mod text;
pub use text::format;

/// Two workers' clocks (each measured against the target's `Date` header) that provably differ by
/// more than this, ms, are warned about: their common window is then uncertain by that much.
pub const CLOCK_BOUND_MS: f64 = 100.0;
/// A wall clock that stepped by more than this during a worker's run (wall minus monotonic) is
/// warned about, ms.
pub const STEP_BOUND_MS: f64 = 100.0;

/// One input: the name it was given by, and what it holds.
pub struct Input {
    pub file: String,
    pub record: WorkerRecord,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerRow {
    pub file: String,
    pub worker_id: String,
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub error_kinds: ErrorCounts,
    /// This worker's good responses per second over its own measured window.
    pub rps: f64,
    /// This worker's open-loop rate (None: closed loop).
    pub rate_rps: Option<f64>,
    pub window_s: f64,
    pub measured_start: Option<String>,
    pub measured_end: Option<String>,
    pub start_lag_ms: Option<f64>,
    pub latency_us: LatencyUs,
    /// Why the worker failed before measuring, if it did.
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Window {
    pub start: String,
    pub end: String,
    pub seconds: f64,
    /// The common window's length over the longest worker window's.
    pub share_of_longest: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeReport {
    pub workers: Vec<WorkerRow>,
    /// All workers' histograms added: requests, errors and percentiles of the union of samples.
    pub merged: WorkerRow,
    /// Open loop: the merged service time (from the actual send) and send lag.
    pub merged_service_us: Option<LatencyUs>,
    pub merged_lag_us: Option<LatencyUs>,
    /// The sum of the workers' rates (--rate is per worker); None for closed loops.
    pub total_intended_rps: Option<f64>,
    /// The sum of the workers' throughputs, each over its own measured window: the total over the
    /// common window when the windows coincide (see `common_window.share_of_longest`).
    pub total_rps: f64,
    /// The overlap of the workers' measured windows; None when they do not overlap.
    pub common_window: Option<Window>,
    pub clock_bound_ms: f64,
    /// The largest disagreement between two workers' clocks that the `Date` probes prove, ms.
    pub clock_disagreement_ms: Option<f64>,
    pub warnings: Vec<String>,
    /// Workers that failed or saw errors, and windows that do not overlap: exit 1.
    pub problems: Vec<String>,
}

fn row(file: &str, r: &WorkerRecord) -> WorkerRow {
    let m = &r.meta;
    let s = m.summary.as_ref();
    WorkerRow {
        file: file.to_string(),
        worker_id: m.worker_id.clone(),
        requests: s.map_or(0, |s| s.requests),
        ok: s.map_or(0, |s| s.ok),
        errors: s.map_or(0, |s| s.errors),
        error_kinds: s.map(|s| s.error_kinds.clone()).unwrap_or_default(),
        rps: s.map_or(0.0, |s| s.rps),
        rate_rps: m.rate_rps,
        window_s: s.map_or(0.0, |s| s.window_s),
        measured_start: m.clock.measured_start.clone(),
        measured_end: m.clock.measured_end.clone(),
        start_lag_ms: m.clock.start_lag_ms,
        latency_us: latency_us(&r.latency),
        failure: m.failure.clone(),
    }
}

fn secs(a: SystemTime, b: SystemTime) -> f64 {
    b.duration_since(a).map_or(0.0, |d| d.as_secs_f64())
}

/// The overlap of the measured windows of the workers that measured; Err(why) when there is none.
fn common_window(inputs: &[Input]) -> Result<Option<Window>, String> {
    let spans: Vec<(SystemTime, SystemTime)> = inputs
        .iter()
        .filter_map(|i| {
            let c = &i.record.meta.clock;
            Some((
                parse_rfc3339(c.measured_start.as_deref()?)?,
                parse_rfc3339(c.measured_end.as_deref()?)?,
            ))
        })
        .collect();
    let (Some(start), Some(end)) = (
        spans.iter().map(|s| s.0).max(),
        spans.iter().map(|s| s.1).min(),
    ) else {
        return Ok(None);
    };
    if end <= start {
        return Err(format!(
            "the workers' measured windows do not overlap (the latest start, {}, is {:.3} s after the earliest end, {}): they did not load the target together; give them one --start-at",
            crate::load::worker::rfc3339(start),
            secs(end, start),
            crate::load::worker::rfc3339(end)
        ));
    }
    let longest = spans.iter().map(|s| secs(s.0, s.1)).fold(0.0, f64::max);
    Ok(Some(Window {
        start: crate::load::worker::rfc3339(start),
        end: crate::load::worker::rfc3339(end),
        seconds: secs(start, end),
        share_of_longest: if longest > 0.0 {
            secs(start, end) / longest
        } else {
            1.0
        },
    }))
}

/// Clock warnings: steps during a run, different planned starts, and pairs of workers whose clocks
/// provably disagree by more than the bound; also the largest proven disagreement.
fn clock_warnings(inputs: &[Input], warnings: &mut Vec<String>) -> Option<f64> {
    let id = |i: &Input| format!("{} ({})", i.record.meta.worker_id, i.file);
    for i in inputs {
        let step = i.record.meta.clock.wall_minus_monotonic_ms;
        if step.abs() > STEP_BOUND_MS {
            warnings.push(format!(
                "{}: the wall clock moved {step:+.0} ms against the monotonic clock during the run (a clock step, e.g. NTP); its window's wall times are uncertain by that much",
                id(i)
            ));
        }
    }
    let mut starts: Vec<&str> = inputs
        .iter()
        .filter_map(|i| i.record.meta.clock.planned_start.as_deref())
        .collect();
    starts.sort();
    starts.dedup();
    if starts.len() > 1
        || (starts.len() == 1
            && inputs
                .iter()
                .any(|i| i.record.meta.clock.planned_start.is_none()))
    {
        warnings.push(format!(
            "the workers were not all given one --start-at (seen: {}); their schedules did not begin together",
            if starts.is_empty() { "none".into() } else { starts.join(", ") }
        ));
    }
    let probed: Vec<&Input> = inputs
        .iter()
        .filter(|i| i.record.meta.clock.target_offset.is_some())
        .collect();
    let unprobed: Vec<String> = inputs
        .iter()
        .filter(|i| i.record.meta.clock.target_offset.is_none())
        .map(id)
        .collect();
    if !unprobed.is_empty() && inputs.len() > 1 {
        warnings.push(format!(
            "clock agreement not checked for {} (the target sent no Date header to its probes)",
            unprobed.join(", ")
        ));
    }
    let mut worst: Option<(f64, String)> = None;
    for (n, a) in probed.iter().enumerate() {
        for b in &probed[n + 1..] {
            let (oa, ob) = (
                a.record.meta.clock.target_offset?,
                b.record.meta.clock.target_offset?,
            );
            let d = oa.least_difference_ms(&ob);
            if worst.as_ref().is_none_or(|w| d > w.0) {
                worst = Some((d, format!("{} and {}", id(a), id(b))));
            }
        }
    }
    if let Some((d, pair)) = &worst {
        if *d > CLOCK_BOUND_MS {
            warnings.push(format!(
                "the clocks of {pair} disagree by at least {d:.0} ms (bound {CLOCK_BOUND_MS:.0} ms, measured against the target's Date header): the common window is uncertain by as much; synchronise the machines' clocks (NTP)"
            ));
        }
    }
    worst.map(|w| w.0)
}

/// Merges the workers' files. Errors only for histograms that cannot be added (other bounds).
pub fn merge(inputs: &[Input]) -> anyhow::Result<MergeReport> {
    let mut latency = new_hist();
    let mut service = new_hist();
    let mut lag = new_hist();
    let mut errors = ErrorCounts::default();
    let (mut requests, mut ok) = (0, 0);
    let mut problems = Vec::new();
    for i in inputs {
        let r = &i.record;
        let add = |into: &mut hdrhistogram::Histogram<u64>, h: &hdrhistogram::Histogram<u64>| {
            into.add(h).map_err(|e| {
                crate::error::usage(format!(
                    "{}: its histograms cannot be added to the others' ({e:?})",
                    i.file
                ))
            })
        };
        add(&mut latency, &r.latency)?;
        add(&mut service, &r.service)?;
        add(&mut lag, &r.lag)?;
        if let Some(s) = &r.meta.summary {
            requests += s.requests;
            ok += s.ok;
            errors.add(&s.error_kinds);
            if s.errors > 0 {
                problems.push(format!(
                    "worker {} ({}): {} of {} requests failed (connect {}, io {}, timeout {}, protocol {}, status {}, body {})",
                    r.meta.worker_id, i.file, s.errors, s.requests, s.error_kinds.connect, s.error_kinds.io,
                    s.error_kinds.timeout, s.error_kinds.protocol, s.error_kinds.status, s.error_kinds.body
                ));
            }
        }
        if let Some(f) = &r.meta.failure {
            problems.push(format!(
                "worker {} ({}) failed: {f}",
                r.meta.worker_id, i.file
            ));
        }
    }
    let mut warnings = Vec::new();
    let common = common_window(inputs).unwrap_or_else(|why| {
        problems.push(why);
        None
    });
    if let Some(w) = common.as_ref().filter(|w| w.share_of_longest < 0.9) {
        warnings.push(format!(
            "the common window is {:.0}% of the longest worker window: the workers overlapped only partly, so the summed throughput overstates the load at any one time",
            w.share_of_longest * 100.0
        ));
    }
    let clock_disagreement_ms = clock_warnings(inputs, &mut warnings);
    let workers: Vec<WorkerRow> = inputs.iter().map(|i| row(&i.file, &i.record)).collect();
    let rates: Vec<f64> = workers.iter().filter_map(|w| w.rate_rps).collect();
    let total_rps = workers.iter().map(|w| w.rps).sum();
    let open = !rates.is_empty();
    let merged = WorkerRow {
        file: String::new(),
        worker_id: "merged".into(),
        requests,
        ok,
        errors: errors.total(),
        error_kinds: errors,
        rps: total_rps,
        rate_rps: open.then(|| rates.iter().sum()),
        window_s: common.as_ref().map_or(0.0, |w| w.seconds),
        measured_start: common.as_ref().map(|w| w.start.clone()),
        measured_end: common.as_ref().map(|w| w.end.clone()),
        start_lag_ms: workers
            .iter()
            .filter_map(|w| w.start_lag_ms)
            .reduce(f64::max),
        latency_us: latency_us(&latency),
        failure: None,
    };
    Ok(MergeReport {
        total_intended_rps: merged.rate_rps,
        merged,
        workers,
        merged_service_us: open.then(|| latency_us(&service)),
        merged_lag_us: open.then(|| latency_us(&lag)),
        total_rps,
        common_window: common,
        clock_bound_ms: CLOCK_BOUND_MS,
        clock_disagreement_ms,
        warnings,
        problems,
    })
}

#[cfg(test)]
mod tests;
