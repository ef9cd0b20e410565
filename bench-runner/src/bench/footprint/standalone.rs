//! `bench-runner footprint`: the footprint phase alone, written as a run folder whose results.json
//! holds only `memory` and `cold_start` (no rounds), with its report.

use super::*;
use crate::results::{self, EnvoyInfo, Results, RunnerBuild};

/// What `footprint` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct FootprintOptions {
    pub profile: ProfileName,
    pub only: Option<Vec<String>>,
    pub out: Option<PathBuf>,
    pub envoy: Option<PathBuf>,
    pub repetitions: Option<usize>,
    pub concurrency: Option<Vec<u32>>,
    pub seed: u64,
    /// Plugins of your own (`--plugin`, ...), their requests and the answer that counts.
    pub own: Option<crate::bench::own::OwnPlan>,
}

/// Flags to settings, every one checked before anything starts.
fn plan(project: &Project, a: &FootprintOptions) -> anyhow::Result<(FootprintSettings, PathBuf)> {
    let mut s = settings(a.profile);
    if let Some(n) = a.repetitions {
        if n == 0 {
            return Err(usage(
                "--repetitions must be at least 1 (2 or more for an interval)",
            ));
        }
        s.repetitions = n;
    }
    if let Some(cs) = &a.concurrency {
        if cs.is_empty() || cs.iter().any(|&c| c == 0 || c > 64) {
            return Err(usage(
                "--concurrency: give worker counts from 1 to 64, comma-separated (e.g. 1,2,4)",
            ));
        }
        let mut cs = cs.clone();
        cs.sort_unstable();
        cs.dedup();
        s.concurrencies = cs;
    }
    plugins::check_only(project, only(a).as_deref(), true)?;
    let out = match &a.out {
        Some(o) => o.clone(),
        None => project.results_dir().join(format!(
            "{}-footprint",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )),
    };
    crate::sys::check_out_dir("--out", &out, &["results.json"])?;
    Ok((s, out))
}

/// The suite's implementations to measure: `--only`, and with plugins of your own none without it.
fn only(a: &FootprintOptions) -> Option<Vec<String>> {
    match (&a.only, &a.own) {
        (None, Some(_)) => Some(vec![]),
        (o, _) => o.clone(),
    }
}

/// A results.json holding only the footprint sections.
fn standalone_results(
    started_at: String,
    envoy: &EnvoyBin,
    runtimes: Vec<String>,
    a: &FootprintOptions,
    skipped: Vec<Skipped>,
    (memory, cold): (MemorySection, ColdStartSection),
) -> anyhow::Result<Results> {
    let mut profile = crate::results::profile::profile(a.profile);
    profile.only = only(a);
    profile.seed = a.seed;
    let v = serde_json::json!({
        "schema_version": results::SCHEMA_VERSION,
        "suite_version": env!("CARGO_PKG_VERSION"),
        "started_at": started_at,
        "finished_at": crate::sys::now_rfc3339(),
        "status": "complete",
        "host": results::host_info(None, None),
        "envoy": EnvoyInfo {
            version: envoy.version.clone(),
            version_line: envoy.version_line.clone(),
            path: envoy.path.display().to_string(),
            found_via: envoy.found_via.clone(),
            runtimes,
            concurrency: 1,
        },
        "runner": RunnerBuild::current(),
        "profile": profile,
        "variants": [],
        "rounds": [],
        "skipped": skipped,
        "notes": ["`bench-runner footprint` measures memory and start-up only; `bench-runner run` measures the per-request overheads too, and this phase after them."],
    });
    let mut r: Results = serde_json::from_value(v)?;
    r.memory = Some(memory);
    r.cold_start = Some(cold);
    Ok(r)
}

/// `bench-runner footprint`.
pub fn command(project: &Project, a: &FootprintOptions) -> anyhow::Result<u8> {
    let (s, out) = plan(project, a)?;
    let started_at = crate::sys::now_rfc3339();
    let envoy = envoy_bin(project, a.envoy.as_deref())?;
    std::fs::create_dir_all(&out).map_err(|e| {
        usage(format!(
            "cannot create run folder {} ({e}); check --out",
            out.display()
        ))
    })?;
    let only = only(a);
    let (mut variants, skipped, runtimes) =
        standalone_variants(project, &envoy, only.as_deref(), &out)?;
    // Plugins of your own: ready and probed as in `run`, then variants like any other; every
    // listener is sent their requests through the runner's upstream (the first answer as stated
    // is the start-up's end).
    let own = match &a.own {
        Some(plan) => {
            let present: Vec<&str> = crate::envoy::runtimes::KNOWN_RUNTIMES
                .into_iter()
                .filter(|rt| runtimes.iter().any(|r| r == rt))
                .collect();
            let own = crate::bench::own::prepare(project, &envoy, plan, &present, &out)?;
            variants.extend(own.variants(&present));
            own.attach(&mut variants);
            Some(own)
        }
        None => None,
    };
    let sections = measure(project, &envoy, &variants, s, a.seed, &out)?;
    let mut results = standalone_results(started_at, &envoy, runtimes, a, skipped, sections)?;
    if let Some(own) = &own {
        results.own = Some(own.section());
        results.notes.extend(crate::bench::own::notes(own));
    }
    let json = out.join("results.json");
    results.write(&json)?;
    crate::report::write_all(&results, &out)?;
    print!("{}", crate::report::footprint::tables(&results));
    eprintln!(
        "wrote {} and {}",
        json.display(),
        out.join("report.md").display()
    );
    Ok(0)
}
