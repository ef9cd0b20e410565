//! `ab`: two builds side by side in the same Envoy processes, so that their difference needs no
//! baseline from another day or machine.
//!
//! - `plugins` mode (`--base REV [--new REV]`): the base revision's plugins are built in a git
//!   worktree ([`crate::plugins::revision`]; unchanged sources are not rebuilt, identical builds are
//!   said so and not measured), and both builds of every changed implementation are listeners of
//!   every Envoy process (`rust-v8-mock@base`, `rust-v8-mock@new`), measured by the run engine with
//!   [`Pairing::Pairs`]: each latency window interleaves `@new` with `@base`, each CPU pass measures
//!   base, new, new, base (or the mirror), and the CPU is Envoy's worker thread's.
//! - `envoy` mode (`--base-envoy PATH|VERSION --new-envoy PATH|VERSION`): the same builds in two Envoy
//!   binaries, the processes alternating base and new (ABAB), each pair of processes one unit.
//!
//! Both end in ab.json ([`crate::results::ab`]: the comparisons and their verdicts are derived from
//! its saved rounds), report.md with a chart, and the exit status: 1 when a gated figure regressed.

mod builds;
mod envoys;
pub mod instructions;
mod own;

use crate::bench::measure::{measure_given, Given, Pairing};
use crate::bench::variants::Variant;
use crate::envoy::EnvoyBin;
use crate::error::usage;
use crate::paths::Project;
use crate::results::ab::{AbRun, Gate, InstructionSection, Side, AB_SCHEMA_VERSION};
use crate::results::profile::{profile, ProfileName};
use crate::results::{EnvoyInfo, Profile, RunnerBuild, Skipped, CPU_THREAD_WORKER};
use std::path::PathBuf;

/// What `ab` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct AbOptions {
    /// `--base REV`: the revision whose plugins are the base (plugins mode).
    pub base: Option<String>,
    /// `--new REV`, or `worktree` (the default): the working tree.
    pub new: Option<String>,
    /// `--base-envoy` / `--new-envoy`: PATH or VERSION (envoy mode).
    pub base_envoy: Option<String>,
    pub new_envoy: Option<String>,
    pub only: Option<Vec<String>>,
    pub profile: ProfileName,
    pub processes: Option<usize>,
    pub workloads: Option<Vec<String>>,
    pub out: Option<PathBuf>,
    /// Envoy of the plugins mode (`--envoy`); else as `run` finds it.
    pub envoy: Option<PathBuf>,
    pub seed: u64,
    pub no_pin: bool,
    pub base_port: Option<u16>,
    pub gate: Gate,
    /// Measure identical builds too (an A/A of the whole pipeline: the null benchmark).
    pub measure_identical: bool,
    /// `--base-plugin`/`--new-plugin`: two builds of a plugin of your own, with the requests and
    /// the answer stated for both.
    pub own: Option<[crate::bench::own::OwnPlan; 2]>,
}

/// The working tree, as `--new` names it.
pub const WORKTREE: &str = "worktree";

/// Which comparison the flags ask for.
#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Plugins { base: String, new: Option<String> },
    Envoy { base: String, new: String },
    Own,
}

/// The flags turned into a plan; every bad combination is a usage error naming the flag.
struct Plan {
    mode: Mode,
    profile: Profile,
    out: PathBuf,
}

fn plan(project: &Project, o: &AbOptions) -> anyhow::Result<Plan> {
    let mode = match (&o.base, &o.base_envoy, &o.new_envoy) {
        _ if o.own.is_some() => {
            if o.base.is_some() || o.new.is_some() || o.base_envoy.is_some() || o.new_envoy.is_some() {
                return Err(usage(
                    "--base-plugin/--new-plugin (two builds of your plugin) is a comparison of its own: drop --base/--new/--base-envoy/--new-envoy",
                ));
            }
            if o.only.is_some() {
                return Err(usage(
                    "--only names the suite's implementations; with --base-plugin/--new-plugin ab compares your two builds only",
                ));
            }
            Mode::Own
        }
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(usage(
                "--base (plugins of two revisions) and --base-envoy/--new-envoy (two Envoys) are two kinds of comparison: give one of them",
            ))
        }
        (Some(b), None, None) => Mode::Plugins {
            base: b.clone(),
            new: o.new.clone().filter(|n| n != WORKTREE),
        },
        (None, Some(b), Some(n)) => {
            if o.new.is_some() {
                return Err(usage(
                    "--new names a plugin revision; with --base-envoy/--new-envoy both sides run the working tree's plugins",
                ));
            }
            if o.envoy.is_some() {
                return Err(usage(
                    "--envoy: with --base-envoy and --new-envoy each side names its own Envoy",
                ));
            }
            Mode::Envoy {
                base: b.clone(),
                new: n.clone(),
            }
        }
        (None, Some(_), None) => return Err(usage("--base-envoy needs --new-envoy")),
        (None, None, Some(_)) => return Err(usage("--new-envoy needs --base-envoy")),
        (None, None, None) => {
            return Err(usage(
                "give --base REV (the plugins of a git revision against the working tree's, e.g. --base HEAD~1), --base-envoy and --new-envoy (PATH or VERSION, e.g. 1.39.3), or --base-plugin and --new-plugin (two builds of your plugin)",
            ))
        }
    };
    let mut p = profile(o.profile);
    if let Some(n) = o.processes {
        if n < 2 {
            return Err(usage(
                "--processes must be at least 2 (the processes are the units of every interval)",
            ));
        }
        p.processes = n;
        p.rounds = n;
    }
    if matches!(mode, Mode::Envoy { .. }) && p.processes % 2 == 1 {
        return Err(usage(format!(
            "--processes {}: with --base-envoy/--new-envoy the processes alternate base and new; give an even number",
            p.processes
        )));
    }
    p.processes = p.processes.min(p.rounds);
    if let Some(w) = &o.workloads {
        if mode == Mode::Own {
            return Err(usage(
                "--workloads: with --base-plugin/--new-plugin the workload is your stated requests (--request)",
            ));
        }
        crate::bench::measure::check_workloads(w)?;
        p.workloads = w.clone();
    }
    if mode == Mode::Own {
        p.workloads = vec![crate::results::own::OWN_WORKLOAD.into()];
    }
    crate::bench::measure::check_base_port(o.base_port)?;
    p.seed = o.seed;
    p.pin = !o.no_pin;
    p.only = o.only.clone();
    p.cpu_thread = Some(CPU_THREAD_WORKER.into());
    crate::plugins::check_only(project, o.only.as_deref(), true)?;
    let out = match &o.out {
        Some(d) => d.clone(),
        None => project.results_dir().join(format!(
            "{}-ab",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )),
    };
    crate::sys::check_out_dir("--out", &out, &["ab.json"])?;
    Ok(Plan {
        mode,
        profile: p,
        out,
    })
}

pub(crate) fn envoy_info(e: &EnvoyBin, runtimes: &[String]) -> EnvoyInfo {
    EnvoyInfo {
        version: e.version.clone(),
        version_line: e.version_line.clone(),
        path: e.path.display().to_string(),
        found_via: e.found_via.clone(),
        runtimes: runtimes.to_vec(),
        concurrency: 1,
    }
}

/// What both modes hand to the measurement: the listeners and how they pair, the Envoys, and the
/// ab.json being filled.
pub(crate) struct Prepared {
    pub run: AbRun,
    pub variants: Vec<Variant>,
    pub pairing: Pairing,
    pub envoy: EnvoyBin,
    pub alternate: Option<EnvoyBin>,
    pub runtimes: Vec<String>,
    /// Plugins of your own: their upstreams (and processors), alive while they are measured.
    pub own: Vec<crate::bench::own::OwnRun>,
}

/// The ab.json of a run that is starting.
pub(crate) fn new_run(mode: &str, profile: &Profile, gate: &Gate, base: Side, new: Side) -> AbRun {
    let (envoy_cpu, load_cpu) = crate::sys::pinning(profile.pin);
    AbRun {
        schema_version: AB_SCHEMA_VERSION,
        suite_version: env!("CARGO_PKG_VERSION").into(),
        started_at: crate::sys::now_rfc3339(),
        finished_at: None,
        status: "running".into(),
        host: crate::results::host_info(envoy_cpu, load_cpu),
        runner: RunnerBuild::current(),
        mode: mode.into(),
        base,
        new,
        profile: profile.clone(),
        gate: gate.clone(),
        implementations: vec![],
        pairs: vec![],
        results: None,
        process_sides: vec![],
        instructions: InstructionSection::default(),
        comparisons: vec![],
        skipped: vec![],
        notes: vec![],
        phases: vec![],
    }
}

/// `ab`: plan, prepare (builds or Envoys), measure, count, judge, write. Returns the exit status:
/// 0, or 1 when a gated figure regressed.
pub fn run(project: &Project, o: &AbOptions) -> anyhow::Result<u8> {
    let plan = plan(project, o)?;
    let started = std::time::Instant::now();
    let mut lap = started;
    let mut phases = Vec::new();
    let mut laps = |name: &str, phases: &mut Vec<crate::results::PhaseTime>| {
        let now = std::time::Instant::now();
        phases.push(crate::results::PhaseTime {
            phase: name.into(),
            seconds: (now - lap).as_secs_f64(),
        });
        lap = now;
    };
    let prepared = match &plan.mode {
        Mode::Plugins { base, new } => {
            builds::prepare(project, o, &plan.profile, &plan.out, base, new.as_deref())?
        }
        Mode::Envoy { base, new } => {
            envoys::prepare(project, o, &plan.profile, &plan.out, base, new)?
        }
        Mode::Own => own::prepare(project, o, &plan.profile, &plan.out)?,
    };
    let Prepared {
        mut run,
        variants,
        pairing,
        envoy,
        alternate,
        runtimes,
        own: _own,
    } = prepared;
    laps("prepare", &mut phases);
    run.phases = phases.clone();
    let json = plan.out.join("ab.json");
    run.write(&json)?;
    let outcome = if variants.is_empty() {
        eprintln!("nothing to measure: every implementation's two builds are identical");
        Ok(())
    } else {
        measure(
            project,
            o,
            &plan,
            &mut run,
            &variants,
            pairing,
            &envoy,
            alternate.as_ref(),
            &runtimes,
        )
    };
    laps("measure", &mut phases);
    run.instructions = InstructionSection {
        status: "not counted".into(),
        reason: Some(if variants.is_empty() {
            "nothing measured: every build identical".into()
        } else {
            "the measurement did not finish".into()
        }),
        counts: vec![],
        raw: vec![],
    };
    let outcome = match outcome {
        Ok(()) if !variants.is_empty() => {
            let (section, counted) = instructions::count(&instructions::Counting {
                project,
                run: &run,
                variants: &variants,
                envoy: &envoy,
                alternate: alternate.as_ref(),
                out: &plan.out,
                seed: o.seed,
            });
            run.instructions = section;
            counted
        }
        other => other,
    };
    laps("count", &mut phases);
    run.phases = phases;
    run.status = crate::error::status_of(&outcome).into();
    run.finished_at = Some(crate::sys::now_rfc3339());
    crate::results::ab::derive(&mut run);
    run.write(&json)?;
    crate::report::ab::write_all(&run, &plan.out)?;
    match outcome {
        Ok(()) => {
            print!("{}", crate::report::ab::summary(&run));
            eprintln!("wrote {} and report.md", json.display());
            Ok(u8::from(run.regressed()))
        }
        Err(e) => {
            eprintln!(
                "{}: kept what was measured in {}",
                run.status,
                json.display()
            );
            Err(e)
        }
    }
}

/// The engine over the prepared listeners; the partial results are kept in `run` whatever happens.
#[allow(clippy::too_many_arguments)]
fn measure(
    project: &Project,
    o: &AbOptions,
    plan: &Plan,
    run: &mut AbRun,
    variants: &[Variant],
    pairing: Pairing,
    envoy: &EnvoyBin,
    alternate: Option<&EnvoyBin>,
    runtimes: &[String],
) -> anyhow::Result<()> {
    let skipped: Vec<Skipped> = run.skipped.clone();
    let engine_dir = plan.out.join("run");
    let g = Given {
        project,
        envoy,
        variants,
        runtimes,
        skipped: &skipped,
        profile: &plan.profile,
        out: &engine_dir,
        base_port: o.base_port,
        pairing,
        alternate_envoy: alternate,
    };
    let (results, outcome) = measure_given(&g);
    if !results.rounds.is_empty() {
        run.results = Some(results);
    }
    outcome
}

/// Where a side's plugin builds keep their stamps and logs (outside any worktree).
pub(crate) fn state_dir(project: &Project, side: &str) -> PathBuf {
    project.cache().join("ab").join("state").join(side)
}

/// `rust-v8-mock` -> `rust-v8-mock@base`, with the Wasm VM id made the side's own (two builds of one
/// module in one Envoy must not share a VM).
pub(crate) fn side_variant(mut v: Variant, side: &str) -> Variant {
    v.info.id = format!("{}@{side}", v.info.id);
    match &mut v.kind {
        crate::bench::variants::Kind::Wasm { built, .. }
        | crate::bench::variants::Kind::Lua { built }
        | crate::bench::variants::Kind::ExtProc { built }
        | crate::bench::variants::Kind::DynamicModule { built } => {
            built.name = format!("{}@{side}", built.name);
        }
        // A plugin of your own: the VM id (from its name) made the side's own.
        crate::bench::variants::Kind::Own { plugin, .. } => {
            let mut p = (**plugin).clone();
            p.spec.name = format!("{}-{side}", p.spec.name);
            *plugin = std::sync::Arc::new(p);
        }
        crate::bench::variants::Kind::Baseline => {}
    }
    v
}
