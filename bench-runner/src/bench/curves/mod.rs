//! `curves`: how each implementation's per-request cost grows with the work. A point is a variant
//! (an implementation in `headers` mode with `header_count = h`, or in `body` mode with a request
//! body of b bytes) measured by the run engine exactly like `run`'s variants ([`measure_given`]):
//! the same Envoy processes, paired windows against the no-plugin baseline, CPU slices in both
//! regimes and estimator. Points are grouped by body size, one engine run per group, and every
//! listener of a group is sent the same body, the baseline's included (with a body, the no-plugin
//! route runs Envoy's buffer filter, so that the body is read before `direct_response` answers;
//! [`BODY_BASELINE_NOTE`]): a body point's overhead
//! is the plugin's work on the body, not the bytes on the wire. Then a line per implementation,
//! axis and figure ([`crate::results::curves::fit`]).

mod plan;
pub use crate::results::curves::{body_id, derive, header_id};
pub use plan::*;

use crate::bench::measure::{measure_given, Given};
use crate::bench::variants::Variant;
use crate::envoy::{locate, EnvoyBin};
use crate::paths::Project;
use crate::results::curves::{CurvesPlan, CurvesRun, Group, PluginHash, CURVES_SCHEMA_VERSION};
use crate::results::{EnvoyInfo, RunnerBuild, Skipped};
use std::path::{Path, PathBuf};

/// How a body group's baseline gets the same bytes (recorded in curves.json's notes).
pub const BODY_BASELINE_NOTE: &str = "Every listener of a group is sent the group's request body, the baseline's included; with a body the baseline (no plugin) runs Envoy's buffer filter so that the whole body is read before its direct_response answers (a bare direct_response answers at the headers and Envoy closes the HTTP/1.1 connection, connection: close).";

/// What the run measures once Envoy is found.
struct Prepared {
    envoy: EnvoyBin,
    groups: Vec<(usize, Vec<Variant>)>,
    run: CurvesRun,
}

/// `curves`: the plan (printed first), every group in turn (curves.json rewritten after each), the
/// report. Returns the folder.
pub fn run(project: &Project, o: &CurvesOptions) -> anyhow::Result<PathBuf> {
    let out = o.out.clone().unwrap_or_else(|| {
        project.results_dir().join(format!(
            "{}-curves",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    crate::sys::check_out_dir("--out", &out, &["curves.json"])?;
    crate::plugins::check_only(project, o.only.as_deref(), true)?;
    let mut p = prepare(project, o, &out)?;
    announce(&p, o);
    let json = out.join("curves.json");
    let clock = std::time::Instant::now();
    let total = p.groups.len();
    let mut outcome = Ok(());
    for (gi, (body, variants)) in p.groups.iter().enumerate() {
        eprintln!(
            "group {}/{total}: request body {} B, {} listeners (baseline, A/A, {} points)",
            gi + 1,
            body,
            variants.len(),
            variants.len() - 2
        );
        let g = Given {
            project,
            envoy: &p.envoy,
            variants,
            runtimes: &p.run.envoy.runtimes,
            skipped: &[],
            profile: &p.run.profile,
            out: &out.join("groups").join(format!("body-{body}")),
            base_port: o.base_port,
            pairing: crate::bench::measure::Pairing::Baseline,
            alternate_envoy: None,
        };
        let (results, step) = measure_given(&g);
        p.run.groups.push(Group {
            body_bytes: *body,
            results,
        });
        derive(&mut p.run);
        p.run.write(&json)?;
        let done = clock.elapsed().as_secs_f64();
        eprintln!(
            "group {}/{total} done ({} so far, ~{} left)",
            gi + 1,
            crate::bench::estimate::human(done),
            crate::bench::estimate::human(done / (gi + 1) as f64 * (total - gi - 1) as f64)
        );
        if step.is_err() {
            outcome = step;
            break;
        }
    }
    finish(p.run, outcome, &out)
}

fn finish(mut run: CurvesRun, outcome: anyhow::Result<()>, out: &Path) -> anyhow::Result<PathBuf> {
    run.status = crate::error::status_of(&outcome).into();
    run.finished_at = Some(crate::sys::now_rfc3339());
    run.write(&out.join("curves.json"))?;
    // The report from the file as `report DIR` reads it (serde_json's float parsing may differ from
    // the values in memory in the last bit): a re-render gives the same report.
    let mut run = CurvesRun::load(&out.join("curves.json"))?;
    derive(&mut run);
    crate::report::growth::write_all(&run, out)?;
    match outcome {
        Ok(()) => {
            print!("{}", crate::report::growth::fits_table(&run));
            eprintln!("wrote {}", out.join("curves.json").display());
            Ok(out.to_path_buf())
        }
        Err(e) => {
            eprintln!(
                "{}: kept {} finished group(s) in {}",
                run.status,
                run.groups.len(),
                out.join("curves.json").display()
            );
            Err(e)
        }
    }
}

/// Envoy located, plugins built, runtimes probed, the groups' variants made, curves.json started.
fn prepare(project: &Project, o: &CurvesOptions, out: &Path) -> anyhow::Result<Prepared> {
    let profile = curves_profile(o);
    let envoy = locate::locate(o.envoy.as_deref(), project, true)?;
    eprintln!("envoy {} ({})", envoy.version, envoy.path.display());
    let (built, unavailable) = crate::plugins::prepare_all(project, o.only.as_deref(), o.rebuild)?;
    let mut skipped: Vec<Skipped> = unavailable.iter().map(Skipped::unavailable).collect();
    std::fs::create_dir_all(out).map_err(|e| {
        crate::error::usage(format!(
            "cannot create {} ({e}); check --out",
            out.display()
        ))
    })?;
    let runtimes = crate::envoy::runtimes::probe_runtimes(project, &envoy, out)?;
    let wasm_runtime = crate::envoy::runtimes::KNOWN_RUNTIMES
        .into_iter()
        .find(|rt| runtimes.iter().any(|r| r == rt))
        .map(String::from);
    let mut kept = Vec::new();
    for b in built {
        match (&wasm_runtime, b.is_wasm()) {
            (None, true) => skipped.push(Skipped {
                variant: format!("{}-*", b.name),
                reason: format!("no Wasm runtime in this Envoy {}", envoy.version),
            }),
            _ => kept.push(b),
        }
    }
    let rt = wasm_runtime.clone().unwrap_or_else(|| "-".into());
    let groups = groups(&kept, &rt, &o.headers, &o.bodies);
    let (envoy_cpu, load_cpu) = crate::sys::pinning(profile.pin);
    let run = CurvesRun {
        schema_version: CURVES_SCHEMA_VERSION,
        suite_version: env!("CARGO_PKG_VERSION").into(),
        started_at: crate::sys::now_rfc3339(),
        finished_at: None,
        status: "running".into(),
        host: crate::results::host_info(envoy_cpu, load_cpu),
        envoy: EnvoyInfo {
            version: envoy.version.clone(),
            version_line: envoy.version_line.clone(),
            path: envoy.path.display().to_string(),
            found_via: envoy.found_via.clone(),
            runtimes,
            concurrency: 1,
        },
        runner: RunnerBuild::current(),
        profile,
        wasm_runtime: rt,
        plan: CurvesPlan {
            implementations: kept.iter().map(|b| b.name.clone()).collect(),
            headers: o.headers.clone(),
            body_bytes: o.bodies.clone(),
        },
        plugins: kept.iter().map(plugin_hash).collect(),
        groups: vec![],
        points: vec![],
        fits: vec![],
        skipped,
        notes: vec![BODY_BASELINE_NOTE.into()],
    };
    Ok(Prepared { envoy, groups, run })
}

fn plugin_hash(b: &crate::plugins::Built) -> PluginHash {
    PluginHash {
        name: b.name.clone(),
        language: b.language.clone(),
        kind: b.kind.clone(),
        sha256: b.sha256.clone(),
        bytes: b.bytes,
    }
}

/// Prints the plan: points x implementations, groups, the profile and the estimated wall time.
fn announce(p: &Prepared, o: &CurvesOptions) {
    let n = p.run.plan.implementations.len();
    let listeners: usize = p.groups.iter().map(|g| g.1.len()).sum();
    let wasm_bytes: u64 = p
        .run
        .plugins
        .iter()
        .filter(|b| b.kind == crate::plugins::WASM_KIND)
        .map(|b| b.bytes)
        .sum();
    eprintln!(
        "curves: {n} implementations x ({} header + {} body points) = {} points, in {} groups (one Envoy run per body size, its baseline sent the same body); {} Envoy processes per group ({} rounds in all); estimated ~{}",
        o.headers.len(),
        o.bodies.len(),
        n * (o.headers.len() + o.bodies.len()),
        p.groups.len(),
        p.run.profile.processes,
        p.run.profile.rounds,
        crate::bench::estimate::human(estimate_s(
            &p.run.profile,
            p.groups.len(),
            listeners,
            wasm_bytes,
            p.run.host.cores
        ))
    );
}

/// The groups: one per body size (0 first when there are header points: they are sent no body),
/// each its baseline, the A/A listener, then every implementation's points of that size.
pub fn groups(
    built: &[crate::plugins::Built],
    runtime: &str,
    headers: &[usize],
    bodies: &[usize],
) -> Vec<(usize, Vec<Variant>)> {
    let mut sizes: Vec<usize> = bodies.to_vec();
    if !headers.is_empty() {
        sizes.push(0);
    }
    sizes.sort_unstable();
    sizes.dedup();
    sizes
        .into_iter()
        .map(|size| {
            let mut vs = vec![Variant::baseline(), Variant::baseline_aa()];
            for b in built {
                if size == 0 {
                    vs.extend(headers.iter().filter_map(|&h| header_point(b, runtime, h)));
                }
                if bodies.contains(&size) {
                    vs.extend(body_point(b, runtime, size));
                }
            }
            for v in &mut vs {
                v.body_bytes = size;
            }
            (size, vs)
        })
        .collect()
}

fn one(b: &crate::plugins::Built, runtime: &str, workload: &str) -> Option<Variant> {
    Variant::of(b, &[runtime], workload).into_iter().next()
}

fn header_point(b: &crate::plugins::Built, runtime: &str, h: usize) -> Option<Variant> {
    let mut v = one(b, runtime, "headers")?;
    v.config["header_count"] = serde_json::json!(h);
    v.info.id = header_id(&b.name, h);
    Some(v)
}

fn body_point(b: &crate::plugins::Built, runtime: &str, bytes: usize) -> Option<Variant> {
    let mut v = one(b, runtime, "mock")?;
    let content = crate::bench::variants::MOCK_BODY;
    v.config = serde_json::json!({ "mode": "body", "content": content });
    v.expect_body =
        crate::plugins::config::body_reply(content, &crate::load::http1::pattern_body(bytes));
    v.info.id = body_id(&b.name, bytes);
    v.info.workload = "body".into();
    Some(v)
}
