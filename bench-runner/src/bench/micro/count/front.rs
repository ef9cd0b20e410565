//! The count's front ends: `micro --instructions` (flags checked into settings, the run folder) and
//! `run`'s phase (its settings, its time estimate, a note instead of a failure).

use super::*;
use crate::bench::micro::{CountOptions, MicroOptions};

/// valgrind for a count, or why not (with the fix).
pub fn valgrind() -> Result<callgrind::Valgrind, String> {
    callgrind::valgrind()
}

/// The count's settings from the flags, checked before any work (each bad flag named).
pub fn settings_from_options(
    c: &CountOptions,
    valgrind: &str,
) -> anyhow::Result<InstructionSettings> {
    let workloads = c
        .workloads
        .clone()
        .unwrap_or_else(|| COUNT_WORKLOADS.iter().map(|s| s.to_string()).collect());
    if let Some(bad) = workloads
        .iter()
        .find(|w| !COUNT_WORKLOADS.contains(&w.as_str()))
    {
        return Err(usage(format!(
            "--workloads: `{bad}` cannot be counted; choose from {}",
            COUNT_WORKLOADS.join(", ")
        )));
    }
    if workloads.is_empty() {
        return Err(usage("--workloads: name at least one workload"));
    }
    for (flag, v, lo, hi) in [
        ("--requests", c.requests, 1, 100_000),
        ("--windows", c.windows as u64, 1, 50),
        ("--warmup-requests", c.warmup_requests, 0, 1_000_000),
        ("--body-bytes", c.body_bytes as u64, 0, 1 << 20),
        ("--spin", c.spin, 0, 10_000_000),
    ] {
        if !(lo..=hi).contains(&v) {
            return Err(usage(format!("{flag} must be in [{lo}, {hi}] (got {v})")));
        }
    }
    if workloads.iter().any(|w| w == "body") && c.body_bytes == 0 {
        return Err(usage(
            "--body-bytes 0 leaves the body workload without a body; give at least 1 byte or leave body out of --workloads",
        ));
    }
    Ok(settings(
        workloads,
        c.requests,
        c.windows,
        c.warmup_requests,
        c.spin,
        c.body_bytes,
        valgrind,
    ))
}

/// The engines to count on: every one unless `--engines` names some (checked).
pub fn engines_from(a: &MicroOptions) -> anyhow::Result<Vec<String>> {
    let all = plugin_host::EngineKind::ALL
        .map(|k| k.id().to_string())
        .to_vec();
    let Some(e) = &a.engines else {
        return Ok(all);
    };
    if let Some(bad) = e.iter().find(|x| !all.contains(x)) {
        return Err(usage(format!(
            "--engines: unknown engine `{bad}`; choose from {}",
            all.join(", ")
        )));
    }
    Ok(e.clone())
}

/// The micro section of a count: its engines and modules, no timed figure, the counts.
pub fn micro_section(
    built: &[Built],
    engines: &[String],
    profile: crate::results::profile::ProfileName,
    counted: InstructionSection,
) -> crate::results::micro::MicroSection {
    use crate::results::micro::{MicroEngine, MicroModule, MicroSection, MicroSettings};
    let mut settings = MicroSettings::for_profile(profile);
    settings.engines = engines.to_vec();
    settings.benchmarks = vec![];
    settings.workloads = counted.settings.workloads.clone();
    let failed = |name: &str, engine: &str| {
        counted
            .skipped
            .iter()
            .find(|k| k.variant == format!("{name}-{engine}"))
            .map(|k| k.reason.clone())
    };
    MicroSection {
        host: "plugin-host (in-process proxy-wasm ABI 0.2.1 host; wasmtime 48, wasmi 2) under valgrind's callgrind".into(),
        engines: engines
            .iter()
            .filter_map(|id| plugin_host::EngineKind::from_id(id))
            .map(|k| MicroEngine {
                id: k.id().into(),
                description: k.description().into(),
            })
            .collect(),
        modules: built
            .iter()
            .filter(|b| b.is_wasm())
            .flat_map(|b| {
                engines.iter().map(move |e| MicroModule {
                    implementation: b.name.clone(),
                    engine: e.clone(),
                    wasm_sha256: b.sha256.clone(),
                    wasm_bytes: b.bytes,
                    compile_ms: None,
                    error: failed(&b.name, e),
                })
            })
            .collect(),
        settings,
        entries: vec![],
        skipped: vec![],
        instructions: Some(counted),
    }
}

/// `bench-runner micro --instructions`.
pub fn command(
    project: &crate::paths::Project,
    a: &MicroOptions,
    c: &CountOptions,
) -> anyhow::Result<u8> {
    for (given, flag) in [
        (a.benchmarks.is_some(), "--benchmarks"),
        (a.batches.is_some(), "--batches"),
        (a.batch_ms.is_some(), "--batch-ms"),
    ] {
        if given {
            return Err(usage(format!(
                "{flag} times the plugins; --instructions counts them instead: leave one of the two out"
            )));
        }
    }
    // Every flag and the output folder first, then valgrind, then the work.
    let engines = engines_from(a)?;
    let mut s = settings_from_options(c, "")?;
    let started_at = crate::sys::now_rfc3339();
    let out = match &a.out {
        Some(o) => o.clone(),
        None => project.results_dir().join(format!(
            "{}-micro-instructions",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )),
    };
    crate::sys::check_out_dir("--out", &out, &["results.json"])?;
    crate::plugins::check_only(project, a.only.as_deref(), false)?;
    let vg = valgrind().map_err(|why| usage(format!("--instructions needs valgrind: {why}")))?;
    s.valgrind = vg.version.clone();
    let (built, missing) = crate::plugins::build_all(project, a.only.as_deref(), a.rebuild)?;
    let skipped: Vec<Skipped> = missing
        .iter()
        .map(|m| {
            eprintln!("skipping {}: {}", m.name, m.reason);
            Skipped::unavailable(m)
        })
        .collect();
    if !built.iter().any(Built::is_wasm) {
        return Err(usage(
            "no Wasm plugin could be built (see above); `bench-runner doctor` lists the fixes",
        ));
    }
    let counted = count(&built, &engines, &s, &vg.path, &own_exe()?, |w| {
        eprintln!("micro: {w}")
    })?;
    let section = micro_section(&built, &engines, a.profile, counted);
    let mut profile = crate::results::profile::profile(a.profile);
    profile.only = a.only.clone();
    let results = crate::results::micro::standalone_results(
        started_at,
        profile,
        section,
        skipped,
        "not used: `micro --instructions` counts in-process",
        vec![format!(
            "`bench-runner micro --instructions` counts each plugin's instructions in-process under {} (callgrind); counts do not depend on the machine's load, and leave out the kernel.",
            vg.version
        )],
    )?;
    std::fs::create_dir_all(&out).map_err(|e| {
        usage(format!(
            "cannot create run folder {} ({e}); check --out",
            out.display()
        ))
    })?;
    let json_path = out.join("results.json");
    results.write(&json_path)?;
    crate::report::write_all(&results, &out)?;
    if let Some(i) = results.micro.as_ref().and_then(|m| m.instructions.as_ref()) {
        print!("{}", crate::report::breakdown::summary_table(i));
    }
    eprintln!(
        "wrote {} and {}",
        json_path.display(),
        out.join("report.md").display()
    );
    Ok(0)
}

/// What `run` counts after its timed micro-benchmarks: the profile's workloads on every engine, with
/// fewer requests than `micro --instructions` (counts of a warm VM hardly move between windows).
pub const RUN_COUNT: CountOptions = CountOptions {
    workloads: None,
    requests: 100,
    windows: 2,
    warmup_requests: 50,
    spin: 0,
    body_bytes: 0,
};

/// What the `run` path will count, for its time estimate: (module, engine) pairs, and module bytes
/// over the pairs whose engine compiles; nothing when valgrind is missing (then nothing is counted).
pub fn plan(built: &[Built]) -> (usize, u64) {
    if valgrind().is_err() {
        return (0, 0);
    }
    let wasm: Vec<&Built> = built.iter().filter(|b| b.is_wasm()).collect();
    let engines = plugin_host::EngineKind::ALL;
    let jit = engines
        .iter()
        .filter(|k| **k != plugin_host::EngineKind::Wasmi)
        .count() as u64;
    (
        wasm.len() * engines.len(),
        wasm.iter().map(|b| b.bytes).sum::<u64>() * jit,
    )
}

/// The `run` path: every built Wasm module counted on every engine under the profile's workloads
/// (those that can be counted). valgrind missing, or a failure, is a note, never a failed run.
pub fn for_run(
    built: &[Built],
    workloads: &[String],
    notes: &mut Vec<String>,
) -> Option<InstructionSection> {
    let vg = match valgrind() {
        Ok(v) => v,
        Err(why) => {
            eprintln!("instruction counts SKIPPED: {why}");
            notes.push(format!(
                "in-process instruction counts: skipped, {why}; then `bench-runner micro --instructions` counts them"
            ));
            return None;
        }
    };
    let mut c = RUN_COUNT;
    c.workloads = Some(
        workloads
            .iter()
            .filter(|w| COUNT_WORKLOADS.contains(&w.as_str()) && *w != "body")
            .cloned()
            .collect(),
    );
    let engines: Vec<String> = plugin_host::EngineKind::ALL
        .iter()
        .map(|k| k.id().to_string())
        .collect();
    let counted = settings_from_options(&c, &vg.version).and_then(|s| {
        eprintln!(
            "in-process instruction counts (plugin-host under {}): {} module(s) x {} engine(s)",
            vg.version,
            built.iter().filter(|b| b.is_wasm()).count(),
            engines.len()
        );
        count(built, &engines, &s, &vg.path, &own_exe()?, |w| {
            eprintln!("  {w}")
        })
    });
    match counted {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("in-process instruction counts failed: {e:#}");
            notes.push(format!(
                "The in-process instruction counts did not complete: {e:#}"
            ));
            None
        }
    }
}
