//! The measurement profiles (quick, default, full): rounds, workloads and phase windows.

use crate::results::{CpuPhase, Phase, Profile};
use clap::ValueEnum;

/// The workloads a run can measure (`--workloads`).
pub const WORKLOADS: [&str; 2] = ["mock", "headers"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileName {
    /// For CI and smoke tests: under 60 s of measuring.
    Quick,
    /// What `cargo run -p bench-runner` does: about 5 minutes.
    Default,
    /// Longer windows and more rounds.
    Full,
}

/// The settings of a named profile.
pub fn profile(name: ProfileName) -> Profile {
    let (rounds, workloads, lat_window, sat_window, cpu_slices): (usize, &[&str], f64, f64, usize) =
        match name {
            ProfileName::Quick => (5, &["mock"], 0.8, 0.5, 10),
            ProfileName::Default => (8, &WORKLOADS, 1.2, 0.8, 12),
            ProfileName::Full => (20, &WORKLOADS, 3.0, 2.0, 30),
        };
    Profile {
        name: format!("{name:?}").to_lowercase(),
        rounds,
        workloads: workloads.iter().map(|s| s.to_string()).collect(),
        latency: Phase {
            connections: 4,
            rate: Some(2000.0),
            warmup_s: 0.3,
            window_s: lat_window,
        },
        saturation: Phase {
            connections: 16,
            rate: None,
            warmup_s: 0.2,
            window_s: sat_window,
        },
        cpu: Some(CpuPhase {
            slices: cpu_slices,
            requests: 2000,
            connections: 16,
            warmup_ms: 10,
        }),
        timeout_s: 5.0,
        seed: 1,
        pin: true,
        only: None,
        protocol: "http/1.1".into(),
        spin: 0,
    }
}
