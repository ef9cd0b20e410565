//! Instruction counting as a phase of `run` and as the `instructions` command: the run's variants
//! (every implementation and workload) handed to [`crate::bench::instructions::count`], the section
//! kept in results.json; without valgrind the phase is listed in `skipped` with the fix.

use super::*;
use crate::bench::instructions::{self, Counting, Protocol};

/// `skipped` entry of the counting phase.
pub const SKIPPED_VARIANT: &str = "instructions (counting phase)";

/// What `instructions` does, as plain values.
#[derive(Debug, Clone)]
pub struct InstrOptions {
    pub only: Option<Vec<String>>,
    pub workloads: Option<Vec<String>>,
    pub out: Option<PathBuf>,
    pub envoy: Option<PathBuf>,
    pub protocol: Protocol,
    pub seed: u64,
    pub spin: u32,
    pub rebuild: bool,
}

/// The counting protocol of a run's profile. Most of the phase is Envoy starting under valgrind (V8
/// compiling each module there: 30-50 s for a Go module), so the quick profile counts in one Envoy
/// process per implementation (CI gates on the count, which repeats between processes to 0.1-0.3%;
/// no interval) and the default one in two (the spread between them) with 250-request windows; the
/// full profile and `bench-runner instructions` use [`instructions::DEFAULT`].
pub fn protocol_of(profile: ProfileName) -> Protocol {
    match profile {
        ProfileName::Quick => Protocol {
            processes: 1,
            requests: 250,
            ..instructions::DEFAULT
        },
        ProfileName::Default => Protocol {
            requests: 250,
            ..instructions::DEFAULT
        },
        ProfileName::Full => instructions::DEFAULT,
    }
}

/// Checks the protocol's numbers (flag names in the messages).
pub fn check_protocol(p: &Protocol) -> anyhow::Result<()> {
    if p.requests == 0 {
        return Err(usage("--requests must be at least 1"));
    }
    if p.windows == 0 {
        return Err(usage("--windows must be at least 1"));
    }
    if p.processes == 0 {
        return Err(usage(
            "--processes must be at least 1 (2 or more for an interval)",
        ));
    }
    if p.requests > 100_000 || p.windows > 100 || p.processes > 100 {
        return Err(usage(
            "--requests at most 100000, --windows and --processes at most 100 (under valgrind a request takes milliseconds)",
        ));
    }
    Ok(())
}

/// The counting phase of a run, on `variants` (the matrix's): counts them, writing results.json after
/// every process. Without valgrind (none found, none installable) the phase is skipped with the fix.
#[allow(clippy::too_many_arguments)]
pub(super) fn phase(
    project: &Project,
    envoy_bin: &EnvoyBin,
    variants: &[Variant],
    protocol: Protocol,
    seed: u64,
    out: &Path,
    results: &mut Results,
) -> anyhow::Result<()> {
    let tool = match crate::envoy::callgrind::ensure() {
        Ok(v) => v,
        Err(fix) => {
            eprintln!("instruction counts: valgrind is missing, phase skipped (fix: {fix})");
            results.skipped.push(Skipped {
                variant: SKIPPED_VARIANT.into(),
                reason: format!("valgrind (callgrind) is not installed: {fix}"),
            });
            return Ok(());
        }
    };
    let counting = Counting {
        project,
        envoy: envoy_bin,
        groups: instructions::groups_by_implementation(variants),
        protocol,
        out,
        seed,
        tool,
    };
    eprintln!(
        "counting instructions under callgrind: {} implementations x {} Envoy processes, {} at a time ({} windows of {} requests per listener) ...",
        counting.groups.len(),
        protocol.processes,
        protocol.jobs,
        protocol.windows,
        protocol.requests
    );
    let json = out.join("results.json");
    let mut snapshot = results.clone();
    let (section, outcome) = instructions::count(&counting, |s| {
        eprintln!(
            "  counted {} of {} Envoy processes",
            s.processes.len(),
            counting.groups.len() * protocol.processes
        );
        snapshot.instructions = Some(s.clone());
        let _ = snapshot.write(&json);
    });
    results.instructions = Some(section);
    outcome
}

/// `bench-runner instructions`: the matrix, then only the counting phase; results.json and the report
/// in the run folder.
pub fn instructions_run(project: &Project, o: &InstrOptions) -> anyhow::Result<PathBuf> {
    check_protocol(&o.protocol)?;
    let args = RunOptions {
        profile: ProfileName::Default,
        only: o.only.clone(),
        out: Some(o.out.clone().unwrap_or_else(|| {
            project.results_dir().join(format!(
                "{}-instructions",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ))
        })),
        envoy: o.envoy.clone(),
        rounds: None,
        processes: None,
        workloads: o.workloads.clone(),
        rate: None,
        seed: o.seed,
        no_pin: true,
        base_port: None,
        rebuild: o.rebuild,
        spin: o.spin,
        save_baseline: None,
        http2: false,
        own: None,
    };
    let Plan {
        mut profile, out, ..
    } = plan(project, &args)?;
    let tool = crate::envoy::callgrind::ensure().map_err(|fix| {
        usage(format!(
            "instructions: valgrind (callgrind) is needed to count instructions: {fix}"
        ))
    })?;
    profile.name = "instructions".into();
    profile.rounds = 0;
    profile.processes = o.protocol.processes;
    let started_at = crate::sys::now_rfc3339();
    let envoy_bin = locate::locate(o.envoy.as_deref(), project, true)?;
    let m = matrix(project, &args, &profile, &envoy_bin, &out)?;
    let mut results = new_results(started_at, &envoy_bin, &m, &profile, None, None);
    results.notes.push(format!(
        "instruction counts only (`bench-runner instructions`, {tool}): no latency or CPU time was measured"
    ));
    let outcome = phase(
        project,
        &envoy_bin,
        &m.variants,
        o.protocol,
        o.seed,
        &out,
        &mut results,
    );
    results.finished_at = Some(crate::sys::now_rfc3339());
    results.status = crate::error::status_of(&outcome).into();
    let counted = results
        .instructions
        .as_ref()
        .is_some_and(|s| !s.processes.is_empty());
    if counted || outcome.is_ok() {
        results.write(&out.join("results.json"))?;
        crate::report::write_all(&results, &out)?;
        crate::paths::update_latest(project, &out);
    }
    outcome?;
    if let Some(s) = &results.instructions {
        print!("{}", crate::report::instructions::table(&results, s));
    }
    eprintln!("wrote {}", out.join("results.json").display());
    Ok(out)
}
