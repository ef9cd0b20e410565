//! The measurement profiles (quick, default, full): rounds, workloads and phase windows.

use crate::results::{CpuPhase, Phase, Profile};
use clap::ValueEnum;

/// The workloads a run can measure (`--workloads`).
pub const WORKLOADS: [&str; 2] = ["mock", "headers"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileName {
    /// For CI and smoke tests: about a minute of measuring.
    Quick,
    /// What `cargo run -p bench-runner` does: both workloads over 8 Envoy processes, the instruction
    /// counts, then the footprint (docs/results.md gives its measured wall time).
    Default,
    /// Longer windows and more rounds, and the in-process micro-benchmarks.
    Full,
}

/// The settings of a named profile.
pub fn profile(name: ProfileName) -> Profile {
    // processes, rounds (in all), workloads, latency window s, CPU passes per round, saturation burst
    // requests, fixed-rate burst requests
    let (processes, rounds, workloads, window, slices, requests, fixed): (
        usize,
        usize,
        &[&str],
        f64,
        usize,
        u64,
        u64,
    ) = match name {
        // One round per process: the processes are the units of every interval, so many processes
        // with one round each give more degrees of freedom than few with several (measured:
        // results/measurements/estimator-experiments-20261201).
        ProfileName::Quick => (6, 6, &["mock"], 0.5, 1, 1000, 200),
        // 8 processes and 2 CPU passes (12 and 3 until 2026-12-06): with the instruction counts
        // carrying the precise per-request comparison, the default run fits in 10 minutes
        // (results/measurements/default-profile-20261206 shows what precision that costs).
        ProfileName::Default => (8, 8, &WORKLOADS, 1.0, 2, 2000, 400),
        ProfileName::Full => (12, 36, &WORKLOADS, 2.0, 6, 2000, 800),
    };
    Profile {
        name: format!("{name:?}").to_lowercase(),
        processes,
        rounds,
        workloads: workloads.iter().map(|s| s.to_string()).collect(),
        latency: Phase {
            connections: 4,
            rate: Some(2000.0),
            warmup_s: if name == ProfileName::Quick {
                0.15
            } else {
                0.2
            },
            window_s: window,
        },
        cpu: CpuPhase {
            slices,
            requests,
            connections: 16,
            warmup_ms: 10,
            fixed_requests: fixed,
        },
        timeout_s: 5.0,
        seed: 1,
        pin: true,
        only: None,
        protocol: "http/1.1".into(),
        spin: 0,
        cpu_thread: None,
    }
}
