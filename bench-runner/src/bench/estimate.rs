//! How long a run will take: from its plan (phase lengths, rounds, CPU slices, the in-process part)
//! and a short calibration of every variant's request time, announced before measuring and refined
//! after every round from the rounds already measured. Pure arithmetic, no clock.

use crate::results::Profile;

/// What one variant's closed-loop burst costs here: the fixed cost of a burst (connections, the load
/// thread's start) and the time per request, from two calibration bursts of different sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub per_burst_s: f64,
    pub per_request_s: f64,
}

impl Calibration {
    /// A line through two bursts `(requests, seconds)`; falls back to the larger burst's mean when
    /// the two are too close or noise makes a term negative.
    pub fn from_bursts(small: (u64, f64), large: (u64, f64)) -> Calibration {
        let (n0, t0) = (small.0 as f64, small.1.max(0.0));
        let (n1, t1) = (large.0 as f64, large.1.max(0.0));
        let slope = if n1 > n0 { (t1 - t0) / (n1 - n0) } else { 0.0 };
        let intercept = t0 - slope * n0;
        if slope > 0.0 && intercept >= 0.0 {
            Calibration {
                per_burst_s: intercept,
                per_request_s: slope,
            }
        } else {
            Calibration {
                per_burst_s: 0.0,
                per_request_s: if n1 > 0.0 { t1 / n1 } else { 0.0 },
            }
        }
    }
}

/// What a burst costs before one is measured: 20 ms per burst and 50 µs per request (the median
/// of 1/throughput at saturation over the variants of the committed default run
/// results/20261202T164118Z-default; the slowest, ext_proc headers, 151 µs).
pub const PRIOR: Calibration = Calibration {
    per_burst_s: 0.02,
    per_request_s: 50e-6,
};

/// One variant's interleaved latency window (fixed in length) in a round.
pub fn window_s(p: &Profile, c: &Calibration) -> f64 {
    p.latency.warmup_s + p.latency.window_s + c.per_burst_s
}

/// A round's CPU phase: `slices` passes over every variant, each a saturation burst of `requests`
/// requests (the calibration bursts have the slice's warm-up, so `per_burst_s` holds it) and a
/// fixed-rate burst of `fixed_requests` at the latency phase's rate.
pub fn cpu_phase_s(p: &Profile, calibrations: &[Calibration]) -> f64 {
    let phase = &p.cpu;
    let rate = p.latency.rate.unwrap_or(1000.0);
    let per_slice: f64 = calibrations
        .iter()
        .map(|c| {
            2.0 * c.per_burst_s
                + phase.requests as f64 * c.per_request_s
                + phase.fixed_requests as f64 / rate
        })
        .sum();
    phase.slices as f64 * per_slice
}

/// One round: every variant's window but the baseline's (it is every window's partner), then the CPU
/// phase.
pub fn round_s(p: &Profile, calibrations: &[Calibration]) -> f64 {
    calibrations
        .iter()
        .skip(1)
        .map(|c| window_s(p, c))
        .sum::<f64>()
        + cpu_phase_s(p, calibrations)
}

/// One round of `ab`'s pairing: one window per (reference, candidate) pair (the candidate's
/// calibration), and a CPU phase in which both sides of every pair get two slices per pass.
pub fn pairs_round_s(p: &Profile, calibrations: &[Calibration], pairs: &[(usize, usize)]) -> f64 {
    let of = |i: usize| {
        calibrations.get(i).copied().unwrap_or(Calibration {
            per_burst_s: 0.0,
            per_request_s: 0.0,
        })
    };
    let sides: Vec<Calibration> = pairs.iter().flat_map(|&(a, b)| [of(a), of(b)]).collect();
    pairs.iter().map(|&(_, b)| window_s(p, &of(b))).sum::<f64>() + 2.0 * cpu_phase_s(p, &sides)
}

/// The in-process part's plan: `figures` timed figures (module x engine x benchmark), each warmed up
/// and then timed in `batches` batches of about `batch_ms`, plus compiling each module on each engine.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MicroPlan {
    pub figures: usize,
    pub batches: usize,
    pub batch_ms: f64,
    pub warmup_ms: f64,
    /// Module bytes summed over every (module, engine) pair that is compiled.
    pub compiled_bytes: u64,
    /// (module, engine) pairs counted under callgrind (`micro.instructions`), 0 when not counting.
    pub count_probes: usize,
    /// Module bytes summed over the counted pairs whose engine compiles (Cranelift, Winch).
    pub count_jit_bytes: u64,
}

/// Seconds of a probe under callgrind beside compiling (valgrind's start, the requests of the run's
/// count), and per megabyte a JIT engine compiles under valgrind (Go's 3.7 MB module: 61 s on
/// Cranelift, 24 s on Winch, 9 s on wasmi, in `results/measurements/instructions-inproc-20261206/run-count`).
pub const COUNT_S_PER_PROBE: f64 = 6.0;
pub const COUNT_S_PER_JIT_MB: f64 = 10.0;

/// Seconds per megabyte of module per engine, averaged over the three engines (Cranelift about 0.7,
/// Winch 0.13, wasmi, which translates lazily, 0.01): the committed default run of 2026-11-26 spent
/// 8.5 s compiling 30.2 MB of (module, engine) pairs. Go's multi-megabyte modules dominate.
pub const COMPILE_S_PER_MB: f64 = 0.3;

pub fn micro_s(m: &MicroPlan) -> f64 {
    m.figures as f64 * (m.warmup_ms + m.batches as f64 * m.batch_ms) / 1000.0
        + m.compiled_bytes as f64 / 1e6 * COMPILE_S_PER_MB
        + m.count_probes as f64 * COUNT_S_PER_PROBE
        + m.count_jit_bytes as f64 / 1e6 * COUNT_S_PER_JIT_MB
}

/// The remaining time after `done` of `rounds` rounds took `elapsed_s`: the mean measured round for
/// the rest, plus what follows the rounds (`after_s`).
pub fn remaining_s(rounds: usize, done: usize, elapsed_s: f64, after_s: f64) -> f64 {
    if done == 0 {
        return after_s;
    }
    elapsed_s / done as f64 * rounds.saturating_sub(done) as f64 + after_s
}

/// Seconds from an Envoy's spawn to a plugin's first reply when it loads `wasm_bytes` of Wasm (V8
/// compiles the module at start; 0 for no module, Lua, an external processor or a native module).
/// From the committed default run results/20261202T164118Z-default (its footprint samples' median
/// first replies): no plugin 0.08 s, Go 3.7 MB 3.4 s, Higress Go 6.2 MB 5.4 s.
pub fn envoy_start_s(wasm_bytes: u64) -> f64 {
    0.15 + 0.85 * wasm_bytes as f64 / 1e6
}

/// "45 s", "4 min 05 s".
pub use crate::results::human_s as human;

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick profile with 2 rounds, 1.2 s windows after 0.2 s and 10 passes of 2000 + 400
    /// requests (the fixed-rate ones at 2000/s).
    fn profile() -> Profile {
        let mut p = crate::results::profile::profile(crate::results::profile::ProfileName::Quick);
        p.rounds = 2;
        p.latency.window_s = 1.2;
        p.latency.warmup_s = 0.2;
        p.latency.rate = Some(2000.0);
        p.cpu = crate::results::CpuPhase {
            slices: 10,
            requests: 2000,
            connections: 16,
            warmup_ms: 10,
            fixed_requests: 400,
        };
        p
    }

    #[test]
    fn two_bursts_give_the_fixed_cost_and_the_request_time() {
        let c = Calibration::from_bursts((20, 0.005 + 20.0 * 50e-6), (200, 0.005 + 200.0 * 50e-6));
        assert!((c.per_burst_s - 0.005).abs() < 1e-9, "{c:?}");
        assert!((c.per_request_s - 50e-6).abs() < 1e-12, "{c:?}");
        // noise that would make the fixed cost negative: the mean of the larger burst instead
        let c = Calibration::from_bursts((20, 0.0001), (200, 0.01));
        assert_eq!(c.per_burst_s, 0.0);
        assert!((c.per_request_s - 0.01 / 200.0).abs() < 1e-12);
    }

    #[test]
    fn a_round_is_every_window_plus_every_slice() {
        let c = Calibration {
            per_burst_s: 0.01,
            per_request_s: 50e-6,
        };
        let p = profile();
        // windows: the baseline has none, the other two 0.2 + 1.2 + 0.01 = 1.41 each; a pass per
        // variant: 2 x 0.01 + 2000 x 50e-6 + 400 / 2000 = 0.32, three variants, ten passes
        let r = round_s(&p, &[c, c, c]);
        assert!((r - (2.0 * 1.41 + 10.0 * 3.0 * 0.32)).abs() < 1e-9, "{r}");
    }

    #[test]
    fn the_rest_is_extrapolated_from_the_measured_rounds() {
        assert_eq!(remaining_s(8, 0, 0.0, 30.0), 30.0);
        assert!((remaining_s(8, 2, 80.0, 30.0) - (6.0 * 40.0 + 30.0)).abs() < 1e-9);
        assert_eq!(remaining_s(8, 8, 320.0, 0.0), 0.0);
    }

    #[test]
    fn micro_counts_batches_warmups_and_compiles() {
        let m = MicroPlan {
            figures: 10,
            batches: 15,
            batch_ms: 20.0,
            warmup_ms: 100.0,
            compiled_bytes: 2_000_000,
            ..Default::default()
        };
        assert!((micro_s(&m) - (10.0 * 0.4 + 2.0 * COMPILE_S_PER_MB)).abs() < 1e-9);
        let counted = MicroPlan {
            count_probes: 3,
            count_jit_bytes: 4_000_000,
            ..m
        };
        let more = 3.0 * COUNT_S_PER_PROBE + 4.0 * COUNT_S_PER_JIT_MB;
        assert!((micro_s(&counted) - micro_s(&m) - more).abs() < 1e-9);
    }

    #[test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(human(44.6), "45 s");
        assert_eq!(human(245.0), "4 min 05 s");
        assert_eq!(human(-1.0), "0 s");
    }
}
