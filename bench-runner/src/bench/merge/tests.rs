//! Merging workers' files in-process: against one histogram that recorded every sample, and the
//! warnings and problems on made-up clocks and failures.

use super::*;
use crate::load::clock::Offset;
use crate::load::worker::{render, rfc3339, WorkerClock, WorkerMeta, FORMAT};
use crate::load::{LoadOutcome, Pace};
use std::time::Duration;

fn at(s: f64) -> String {
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    rfc3339(if s >= 0.0 {
        base + Duration::from_secs_f64(s)
    } else {
        base - Duration::from_secs_f64(-s)
    })
}

/// A worker that measured `samples` (ns) between `from` and `to` s, its clock `offset` ms off.
fn worker(id: &str, samples: &[u64], from: f64, to: f64, offset: f64) -> Input {
    let mut o = LoadOutcome::empty();
    for &v in samples {
        o.latency.record(v).unwrap();
        o.service.record(v / 2 + 1).unwrap();
        o.lag.record(1000).unwrap();
    }
    o.ok = samples.len() as u64;
    o.sends = o.ok;
    o.window = Duration::from_secs_f64(to - from);
    let meta = WorkerMeta {
        format: FORMAT,
        worker_id: id.into(),
        target: "http://127.0.0.1:1/".into(),
        http2: false,
        connections: 1,
        rate_rps: Some(100.0),
        warmup_s: 0.0,
        duration_s: Some(to - from),
        planned_requests: Some(o.ok),
        clock: WorkerClock {
            planned_start: Some(at(0.0)),
            origin: Some(at(0.0)),
            actual_start: Some(at(0.0)),
            start_lag_ms: Some(0.0),
            measured_start: Some(at(from)),
            measured_end: Some(at(to)),
            wall_start: at(-1.0),
            wall_end: at(to + 1.0),
            monotonic_s: to + 2.0,
            wall_minus_monotonic_ms: 0.0,
            target_offset: Some(Offset {
                lo_ms: offset - 10.0,
                hi_ms: offset + 10.0,
                probes: 9,
            }),
        },
        summary: Some(o.summarize(Pace::Open { rate: 100.0 })),
        failure: None,
    };
    let text = render(&meta, Some((&o.latency, &o.service, &o.lag))).unwrap();
    Input {
        file: format!("{id}.hlog"),
        record: crate::load::worker::parse(&text).unwrap(),
    }
}

/// A deterministic spread of latencies over four orders of magnitude, ns.
fn samples(n: usize) -> Vec<u64> {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            20_000 + (x % 1000) * (x % 1000) * (1 + x % 7)
        })
        .collect()
}

#[test]
fn merged_percentiles_are_those_of_one_recorder_fed_every_sample() {
    let all = samples(30_000);
    let mut reference = new_hist();
    for &v in &all {
        reference.record(v).unwrap();
    }
    // three workers of unequal shares, through their files
    let parts = [&all[..5_000], &all[5_000..17_000], &all[17_000..]];
    let inputs: Vec<Input> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| worker(&format!("w{i}"), p, 1.0, 11.0, 0.0))
        .collect();
    let r = merge(&inputs).unwrap();
    assert_eq!(r.merged.latency_us, latency_us(&reference));
    assert_eq!(r.merged.ok, 30_000);
    assert_eq!(r.total_intended_rps, Some(300.0));
    assert!((r.common_window.as_ref().unwrap().seconds - 10.0).abs() < 1e-6);
    assert!(r.problems.is_empty() && r.warnings.is_empty(), "{r:?}");
    assert_eq!(r.clock_disagreement_ms, Some(0.0));
    // each worker's own row is its own histogram's
    let mut one = new_hist();
    for &v in parts[1] {
        one.record(v).unwrap();
    }
    assert_eq!(r.workers[1].latency_us, latency_us(&one));
    assert!(format(&r).contains("merged 3 worker(s): 30000 requests"));
}

#[test]
fn clocks_apart_windows_apart_and_failed_workers_are_said() {
    let s = samples(100);
    // one clock 500 ms off: a warning naming both workers and the bound; no problem
    let r = merge(&[
        worker("a", &s, 1.0, 5.0, 0.0),
        worker("b", &s, 1.0, 5.0, 500.0),
    ])
    .unwrap();
    assert!(r.problems.is_empty(), "{r:?}");
    let w = r.warnings.join("\n");
    assert!(
        w.contains("disagree by at least 480 ms") && w.contains("bound 100 ms"),
        "{w}"
    );
    assert!(w.contains("a (a.hlog) and b (b.hlog)"), "{w}");

    // windows apart: a problem (no common window), percentiles still merged
    let r = merge(&[
        worker("a", &s, 1.0, 2.0, 0.0),
        worker("b", &s, 3.0, 4.0, 0.0),
    ])
    .unwrap();
    assert!(r.common_window.is_none());
    assert!(
        r.problems.iter().any(|p| p.contains("do not overlap")),
        "{r:?}"
    );
    assert_eq!(r.merged.ok, 200);

    // a worker that failed before measuring stays, named
    let mut dead = worker("dead", &[], 1.0, 5.0, 0.0);
    dead.record.meta.summary = None;
    dead.record.meta.failure = Some("connect refused".into());
    dead.record.meta.clock.planned_start = None;
    let r = merge(&[worker("a", &s, 1.0, 5.0, 0.0), dead]).unwrap();
    assert_eq!(r.workers.len(), 2);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("worker dead (dead.hlog) failed: connect refused")),
        "{r:?}"
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("one --start-at")),
        "{r:?}"
    );
}
