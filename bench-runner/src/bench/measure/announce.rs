//! What a run says before it measures: its plan from a prior calibration, then, once the first
//! Envoy process is calibrated, the time of every phase.

use super::*;

/// What the run will take, from its plan and the calibration: the rounds (every visit and every CPU
/// slice), then the in-process part; printed before measuring.
pub(super) struct Schedule {
    pub(super) round_s: f64,
    /// The footprint phase and the in-process part.
    pub(super) after_s: f64,
}

impl Schedule {
    pub(super) fn total_s(&self, rounds: usize) -> f64 {
        self.round_s * rounds as f64 + self.after_s
    }
}

/// What the counting phase after the rounds will take (estimated as if valgrind is there; without it
/// the phase is skipped).
fn counting_s(name: ProfileName, variants: &[Variant]) -> f64 {
    crate::bench::instructions::planned_s(variants, &super::counting::protocol_of(name))
}

/// What the footprint phase after the rounds will take (none in the quick profile).
fn footprint_s(name: ProfileName, variants: &[Variant]) -> f64 {
    if name == ProfileName::Quick {
        return 0.0;
    }
    crate::bench::footprint::planned_s(
        &crate::bench::footprint::select(variants),
        &crate::bench::footprint::settings(name),
    )
}

/// Before any Envoy starts: the plan and a first estimate of its time, from a prior calibration
/// (refined once the first Envoy process is calibrated, see [`announce`]): the start (every process
/// compiles its modules, on every CPU), the rounds, the footprint phase.
pub(super) fn plan_first(name: ProfileName, profile: &Profile, variants: &[Variant]) {
    let mut modules: Vec<(&str, u64)> = Vec::new();
    for v in variants {
        if let (crate::bench::variants::Kind::Wasm { .. }, Some(sha), Some(b)) =
            (&v.kind, &v.info.wasm_sha256, v.info.wasm_bytes)
        {
            if !modules.iter().any(|m| m.0 == sha) {
                modules.push((sha, b));
            }
        }
    }
    let per_process: f64 = modules.iter().map(|m| estimate::envoy_start_s(m.1)).sum();
    let cpus = crate::sys::online_cpus().clamp(1, profile.processes.max(1));
    let start_s =
        per_process.max(estimate::envoy_start_s(0)) * profile.processes as f64 / cpus as f64;
    let prior = vec![estimate::PRIOR; variants.len()];
    let rounds_s = estimate::round_s(profile, &prior) * profile.rounds as f64;
    let footprint_s = footprint_s(name, variants);
    let counting_s = counting_s(name, variants);
    eprintln!(
        "plan: start {} Envoy processes (~{}: each compiles its Wasm modules), {} rounds of {} variants (~{}), instruction counts under valgrind (~{}){}{}: ~{} before the in-process part; the estimate is refined once the first process is calibrated{}",
        profile.processes,
        estimate::human(start_s),
        profile.rounds,
        variants.len(),
        estimate::human(rounds_s),
        estimate::human(counting_s),
        if footprint_s > 0.0 {
            format!(", footprint (~{})", estimate::human(footprint_s))
        } else {
            String::new()
        },
        if name == ProfileName::Full {
            ", failure scenarios and lifecycle"
        } else {
            ""
        },
        estimate::human(start_s + rounds_s + counting_s + footprint_s),
        if name == ProfileName::Default {
            " (`--profile quick` measures the mock workload in 6 processes and counts it in one, no footprint or in-process part)"
        } else {
            ""
        }
    );
}

/// Prints the time estimate before measuring (every phase, the CPU phase and the in-process part).
pub(super) fn announce(
    name: ProfileName,
    profile: &Profile,
    variants: &[Variant],
    calibrations: &[Calibration],
    micro: &estimate::MicroPlan,
    out: &Path,
) -> Schedule {
    let footprint_s = footprint_s(name, variants);
    let counting_s = counting_s(name, variants);
    let schedule = Schedule {
        round_s: estimate::round_s(profile, calibrations),
        after_s: counting_s + footprint_s + estimate::micro_s(micro),
    };
    let total = schedule.total_s(profile.rounds);
    eprintln!(
        "measuring {} variants (with baseline and baseline-aa) x {} rounds over {} Envoy processes: ~{} ({} per round{}{}); results go to {}",
        variants.len(),
        profile.rounds,
        profile.processes,
        estimate::human(total),
        estimate::human(schedule.round_s),
        if profile.name == "full" {
            ", then the failure scenarios and the lifecycle (not in the estimate)"
        } else {
            ""
        },
        if profile.name == "quick" {
            format!(
                ", then ~{} counting instructions",
                estimate::human(counting_s)
            )
        } else {
            format!(
                ", then ~{} counting instructions, ~{} of footprint (memory, start-up) and ~{} in-process",
                estimate::human(counting_s),
                estimate::human(footprint_s),
                estimate::human(estimate::micro_s(micro))
            )
        },
        out.display()
    );
    schedule
}
