//! The curves plan from plain values: the bounds of the points (header counts, body sizes), the
//! profile, and the wall time estimate printed before measuring.

use crate::results::profile::{profile, ProfileName};
use crate::results::Profile;
use std::path::PathBuf;

/// The most headers a point adds: Envoy's default `max_headers_count` (100 per request).
pub const MAX_HEADERS: usize = 100;
/// The largest request body of a point: the load generator's and Envoy's default per-request
/// buffer limit (1 MiB).
pub const MAX_BODY_BYTES: usize = crate::load::MAX_BODY_BYTES;
pub const DEFAULT_HEADERS: [usize; 7] = [0, 1, 5, 10, 20, 50, 100];
pub const DEFAULT_BODIES: [usize; 5] = [0, 1024, 4096, 16384, 65536];

/// What `curves` does, as plain values (the command line is parsed in `commands::curves`).
#[derive(Debug, Clone)]
pub struct CurvesOptions {
    pub only: Option<Vec<String>>,
    /// Header counts, sorted, distinct.
    pub headers: Vec<usize>,
    /// Body sizes in bytes, sorted, distinct.
    pub bodies: Vec<usize>,
    pub profile: ProfileName,
    /// Envoy processes per group (one round each), overriding the profile's.
    pub processes: Option<usize>,
    pub out: Option<PathBuf>,
    pub envoy: Option<PathBuf>,
    pub seed: u64,
    pub rebuild: bool,
    pub no_pin: bool,
    pub base_port: Option<u16>,
}

/// The engine settings of a curves group. `quick` (the default): the quick profile with 4 Envoy
/// processes of one round each and 0.4 s latency windows, so that 7 implementations at the 12
/// default points take about 12 minutes on 2 cores (a third of it starting Envoys: each process
/// compiles every module, the Go ones 10 to 20 s each); `default` and `full` as for `run`.
pub fn curves_profile(o: &CurvesOptions) -> Profile {
    let mut p = profile(o.profile);
    if o.profile == ProfileName::Quick {
        p.processes = 4;
        p.rounds = 4;
        p.latency.window_s = 0.4;
    }
    if let Some(n) = o.processes {
        p.processes = n;
        p.rounds = n;
    }
    p.workloads = vec!["headers".into(), "body".into()];
    p.seed = o.seed;
    p.pin = !o.no_pin;
    p.only = o.only.clone();
    p
}

/// Seconds V8 takes to compile a MB of Wasm at Envoy start (the footprint measurement: Go's 3.7 MB
/// module 11 s, go-higress's 6.2 MB 19.6 s, Rust's 0.17 MB 0.6 s).
const COMPILE_S_PER_MB: f64 = 3.1;

/// A rough wall time before anything is measured: per listener and round its latency window and
/// CPU slices, plus per group the start of its Envoy processes, all at once on `cores` CPUs, each
/// compiling `wasm_bytes` of modules (the engine prints its calibrated figure per group).
pub fn estimate_s(
    p: &Profile,
    groups: usize,
    listeners: usize,
    wasm_bytes: u64,
    cores: usize,
) -> f64 {
    let rate = p.latency.rate.unwrap_or(2000.0);
    let slice = p.cpu.requests as f64 / 6000.0
        + p.cpu.fixed_requests as f64 / rate
        + 2.0 * p.cpu.warmup_ms as f64 / 1000.0
        + 0.05;
    let visit = p.latency.warmup_s + p.latency.window_s + 0.05 + p.cpu.slices as f64 * slice;
    let calibration = 1.1 * p.cpu.requests as f64 / 6000.0 + 0.1;
    let per_group_start =
        3.0 + p.processes as f64 * wasm_bytes as f64 / 1e6 * COMPILE_S_PER_MB / cores.max(1) as f64;
    listeners as f64 * (visit * p.rounds as f64 + calibration) + groups as f64 * per_group_start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_plan_is_estimated_at_10_to_15_minutes() {
        let o = CurvesOptions {
            only: None,
            headers: DEFAULT_HEADERS.to_vec(),
            bodies: DEFAULT_BODIES.to_vec(),
            profile: ProfileName::Quick,
            processes: None,
            out: None,
            envoy: None,
            seed: 1,
            rebuild: false,
            no_pin: false,
            base_port: None,
        };
        // 7 implementations: group 0 = 2 + 7 x 8, four more groups of 2 + 7; 10.3 MB of Wasm
        let t = estimate_s(&curves_profile(&o), 5, 58 + 4 * 9, 10_300_000, 2);
        assert!((600.0..=900.0).contains(&t), "{t}");
    }
}
