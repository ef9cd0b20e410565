//! The footprint phase (issue 16, parts 3 and 4): per implementation, Envoy's memory with the plugin
//! loaded at each `--concurrency` minus the no-plugin Envoy's at the same concurrency (the cost of
//! the module and of every worker's VM), its growth over a bounded load, and the start-up time (to
//! `/ready` and to the first plugin reply) beside the module's bytes. Every variant of the run's
//! list (one workload: each implementation on each runtime, whatever its kind) gets an Envoy process
//! of its own per concurrency and repetition, in a shuffled order; the repetitions are the units of
//! every interval. `run` performs it after its rounds; `bench-runner footprint` alone.

use crate::bench::progress::{Progress, Step};
use crate::bench::variants::Variant;
use crate::envoy::{locate, EnvoyBin};
use crate::error::usage;
use crate::paths::Project;
use crate::plugins;
use crate::results::footprint::{
    self, ColdStartSection, FootprintSample, FootprintSettings, FootprintVariant, MemorySection,
};
use crate::results::profile::ProfileName;
use crate::results::{Skipped, BASELINE};
use crate::stats::Rng;
use std::path::{Path, PathBuf};

mod probe;
mod standalone;
pub use probe::read_memory;
pub use standalone::{command, FootprintOptions};

/// The workload whose reply proves the plugin ran (a local reply: no upstream involved).
pub const WORKLOAD: &str = "mock";

/// The footprint settings of a profile: quick 1 and 2 workers, 2 repetitions; default 1, 2, 4 and
/// 3; full 1, 2, 4 and 10.
pub fn settings(profile: ProfileName) -> FootprintSettings {
    let (concurrencies, repetitions, load_requests) = match profile {
        ProfileName::Quick => (vec![1, 2], 2, 500),
        // 3, not 5: every Go process takes 3-7 s to start (V8 compiling 3.7-6 MB); 1 and 4 workers
        // only (the per-worker slope's two ends), so that the default run stays within 10 minutes
        ProfileName::Default => (vec![1, 4], 3, 1000),
        ProfileName::Full => (vec![1, 2, 4], 10, 4000),
    };
    FootprintSettings {
        concurrencies,
        repetitions,
        workload: WORKLOAD.into(),
        load_requests,
        load_rate: 2000.0,
        load_connections: 4,
    }
}

/// The variants the footprint measures from a run's list: the baseline, then each implementation
/// once per runtime, in its [`WORKLOAD`] variant when it has one (the suite's), else its first (a
/// plugin of your own has only its `own` workload).
pub fn select(variants: &[Variant]) -> Vec<Variant> {
    let key = |v: &Variant| (v.info.implementation().to_string(), v.info.runtime.clone());
    let mut out: Vec<Variant> = Vec::new();
    for v in variants {
        if v.info.id == crate::results::BASELINE_AA {
            continue;
        }
        if v.info.id == BASELINE {
            out.push(v.clone());
            continue;
        }
        match out
            .iter()
            .position(|o| o.info.id != BASELINE && key(o) == key(v))
        {
            None => out.push(v.clone()),
            Some(i) if v.info.workload == WORKLOAD && out[i].info.workload != WORKLOAD => {
                out[i] = v.clone()
            }
            Some(_) => {}
        }
    }
    out
}

/// What every sample needs.
pub(super) struct Ctx<'a> {
    pub(super) project: &'a Project,
    pub(super) envoy: &'a EnvoyBin,
    /// Where each process's config and log go (`<run>/footprint/`).
    pub(super) dir: PathBuf,
    pub(super) settings: FootprintSettings,
}

fn info(v: &Variant) -> FootprintVariant {
    FootprintVariant {
        id: v.info.id.clone(),
        implementation: v.info.implementation().to_string(),
        language: v.info.language.clone(),
        runtime: v.info.runtime.clone(),
        module_bytes: probe::module_bytes(v),
    }
}

/// Measures `variants` (the baseline among them) with `settings`: repetition by repetition, every
/// concurrency, the variants in a fresh order each time. Logs and configs go to `<out>/footprint/`.
pub fn measure(
    project: &Project,
    envoy: &EnvoyBin,
    variants: &[Variant],
    settings: FootprintSettings,
    seed: u64,
    out: &Path,
) -> anyhow::Result<(MemorySection, ColdStartSection)> {
    let variants = select(variants);
    if !variants.iter().any(|v| v.info.id == BASELINE) {
        return Err(anyhow::anyhow!(
            "footprint: the variant list has no baseline"
        ));
    }
    let dir = out.join("footprint");
    std::fs::create_dir_all(&dir).map_err(|e| {
        usage(format!(
            "cannot create {} ({e}); check --out",
            dir.display()
        ))
    })?;
    let ctx = Ctx {
        project,
        envoy,
        dir,
        settings,
    };
    let s = &ctx.settings;
    let repetition_s = planned_s(&variants, s) / s.repetitions.max(1) as f64;
    let label = |r: usize| format!("repetition {}/{}", r + 1, s.repetitions);
    let progress = Progress::announce(
        "footprint",
        &format!(
            "{} variants (with the baseline) x --concurrency {} x {} repetitions, one Envoy each (logs {})",
            variants.len(),
            s.concurrencies
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            s.repetitions,
            ctx.dir.display()
        ),
        (0..s.repetitions)
            .map(|r| Step::new(label(r), repetition_s))
            .collect(),
    );
    let mut rng = Rng::new(seed ^ 0xf007);
    let mut samples: Vec<FootprintSample> = Vec::new();
    let per_repetition = s.concurrencies.len() * variants.len();
    for r in 0..s.repetitions {
        progress.step(&label(r));
        let mut done = 0;
        for &c in &s.concurrencies {
            let mut order: Vec<&Variant> = variants.iter().collect();
            rng.shuffle(&mut order);
            for v in order {
                samples.push(probe::sample(&ctx, v, c, r)?);
                done += 1;
                progress.within(done as f64 / per_repetition as f64);
            }
        }
    }
    progress.finish();
    let notes = vec![format!(
        "Each figure is the mean over {} repetitions (each a new Envoy process per variant and concurrency) with a Student's t 95% interval; \"added\" is the variant's Envoy minus the no-plugin Envoy of the same repetition and concurrency; the per-worker cost is the slope of a least-squares line over the concurrency per repetition. Start-up: medians with an order-statistic interval. Envoy 1.40's admin exposes no V8 heap figure (its `wasm.*` stats count VMs: `wasm.envoy.wasm.runtime.v8.active`, kept per sample in `wasm_stats`; `/memory` is tcmalloc's heap, which V8's own mappings are not part of), so V8's memory is inside the RSS figures only. Measured one process at a time while nothing else of the run ran; start-up times depend on how busy the machine was, RSS hardly.",
        s.repetitions
    )];
    let infos = variants.iter().map(info).collect();
    Ok(footprint::sections(
        ctx.settings.clone(),
        infos,
        samples,
        notes,
    ))
}

/// What measuring `variants` (from [`select`]) with `s` will take: one Envoy per sample, each its
/// start (a Wasm module compiled), the bounded load, the RSS reads and the stop.
pub fn planned_s(variants: &[Variant], s: &FootprintSettings) -> f64 {
    let sample_s = |v: &Variant| {
        let wasm = matches!(v.kind, crate::bench::variants::Kind::Wasm { .. });
        crate::bench::estimate::envoy_start_s(if wasm {
            v.info.wasm_bytes.unwrap_or(0)
        } else {
            0
        }) + s.load_requests as f64 / s.load_rate
            + 0.1
    };
    (s.repetitions * s.concurrencies.len()) as f64 * variants.iter().map(sample_s).sum::<f64>()
}

/// The phase inside `run`, after its rounds.
pub fn for_run(
    project: &Project,
    envoy: &EnvoyBin,
    variants: &[Variant],
    profile: ProfileName,
    seed: u64,
    out: &Path,
) -> anyhow::Result<(MemorySection, ColdStartSection)> {
    measure(project, envoy, variants, settings(profile), seed, out)
}

/// The variants of a standalone footprint: the baseline and every implementation built (the
/// missing ones recorded as skipped) on each Wasm runtime of this Envoy.
fn standalone_variants(
    project: &Project,
    envoy: &EnvoyBin,
    only: Option<&[String]>,
    out: &Path,
) -> anyhow::Result<(Vec<Variant>, Vec<Skipped>, Vec<String>)> {
    let (built, unavailable) = plugins::prepare_all(project, only, false)?;
    let skipped: Vec<Skipped> = unavailable
        .iter()
        .map(|u| {
            eprintln!("skipping {}: {}", u.name, u.reason);
            Skipped::unavailable(u)
        })
        .collect();
    let runtimes = crate::envoy::runtimes::probe_runtimes(project, envoy, out)?;
    let present: Vec<&str> = crate::envoy::runtimes::KNOWN_RUNTIMES
        .into_iter()
        .filter(|rt| runtimes.iter().any(|r| r == rt))
        .collect();
    let mut variants = vec![Variant::baseline()];
    for b in &built {
        variants.extend(Variant::of(b, &present, WORKLOAD));
    }
    Ok((variants, skipped, runtimes))
}

/// Finds Envoy as `run` does.
fn envoy_bin(project: &Project, path: Option<&Path>) -> anyhow::Result<EnvoyBin> {
    let b = locate::locate(path, project, true)?;
    eprintln!(
        "envoy {} ({}, {})",
        b.version,
        b.path.display(),
        b.found_via
    );
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::own::{OwnKind, OwnPlugin, OwnSpec};
    use crate::plugins::Built;
    use std::sync::Arc;

    fn built(name: &str, kind: &str) -> Built {
        Built {
            name: name.into(),
            language: "x".into(),
            description: String::new(),
            kind: kind.into(),
            module: format!("{name}.out").into(),
            sha256: "ab".into(),
            bytes: 2,
            rebuilt: false,
            note: None,
            workload_notes: Default::default(),
        }
    }

    #[test]
    fn each_implementation_once_per_runtime_in_its_mock_variant_else_its_first() {
        let rust = built("rust", crate::plugins::WASM_KIND);
        let lua = built("lua", crate::plugins::LUA_KIND);
        let own = Arc::new(OwnPlugin {
            spec: OwnSpec {
                name: "auth".into(),
                given: "--plugin auth.wasm".into(),
                kind: OwnKind::Wasm {
                    root_id: String::new(),
                    vm_config: Default::default(),
                },
                file: Some("auth.wasm".into()),
                build: None,
                configuration: String::new(),
            },
            sha256: Some("cd".into()),
            bytes: Some(3),
            script: None,
            port: None,
            pid: None,
        });
        let x = Arc::new(crate::load::request::Exchange::get_exact("ok"));
        let list = vec![
            Variant::baseline(),
            Variant::baseline_aa(),
            Variant::wasm(&rust, "v8", "headers").unwrap(),
            Variant::wasm(&rust, "v8", "mock").unwrap(),
            Variant::lua(&lua, "headers").unwrap(),
            Variant::own(&own, Some("v8"), x),
        ];
        let ids: Vec<String> = select(&list).into_iter().map(|v| v.info.id).collect();
        assert_eq!(
            ids,
            ["baseline", "rust-v8-mock", "lua-headers", "auth-v8-own"]
        );
    }
}
