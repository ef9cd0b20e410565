//! What a run measures: the plugins built, `--only` checked, the runtimes probed and the variants
//! listed, with what is skipped and why.

use super::*;

/// Builds the plugins (`--only` was checked with the other flags), creates the run folder, probes the runtimes and lists the
/// variants (each plugin on each runtime this Envoy has, per workload), recording what is skipped.
pub(super) fn matrix(
    project: &Project,
    args: &RunOptions,
    profile: &Profile,
    envoy_bin: &EnvoyBin,
    out: &Path,
) -> anyhow::Result<Matrix> {
    let only = profile.only.clone();
    let (built, unavailable) = plugins::prepare_all(project, only.as_deref(), args.rebuild)?;
    let mut skipped: Vec<Skipped> = Vec::new();
    for u in &unavailable {
        eprintln!("skipping {}: {}", u.name, u.reason);
        skipped.push(Skipped::unavailable(u));
    }
    for p in plugins::discover_all(project)? {
        if only.as_ref().is_none_or(|o| o.contains(&p.name)) {
            for s in &p.manifest.skipped {
                skipped.push(Skipped {
                    variant: s.variant.clone(),
                    reason: s.reason.clone(),
                });
            }
        }
    }
    std::fs::create_dir_all(out).map_err(|e| {
        usage(format!(
            "cannot create run folder {} ({e}); check --out",
            out.display()
        ))
    })?;
    let runtimes = crate::envoy::runtimes::probe_runtimes(project, envoy_bin, out)?;
    let wasm_runtimes: Vec<String> = runtimes
        .iter()
        .filter(|r| r.as_str() != "null")
        .cloned()
        .collect();
    eprintln!("wasm runtimes in this Envoy: {}", wasm_runtimes.join(", "));

    // The baseline first (every window's partner), then the A/A listener, measured like a variant.
    let mut variants = vec![Variant::baseline(), Variant::baseline_aa()];
    let present: Vec<&str> = crate::envoy::runtimes::KNOWN_RUNTIMES
        .into_iter()
        .filter(|rt| wasm_runtimes.iter().any(|r| r == rt))
        .collect();
    for w in &super::suite_workloads(profile) {
        for b in &built {
            variants.extend(Variant::of(b, &present, w));
            if !b.is_wasm() {
                continue;
            }
            for rt in crate::envoy::runtimes::KNOWN_RUNTIMES {
                if !present.contains(&rt) {
                    skipped.push(Skipped {
                        variant: format!("{}-{rt}-{w}", b.name),
                        reason: format!(
                            "runtime {rt} is not compiled into this Envoy {} (it has: {}); use --envoy with a build that has it",
                            envoy_bin.version,
                            runtimes.join(", ")
                        ),
                    });
                }
            }
        }
    }

    if profile.spin > 0 {
        for v in variants.iter_mut().filter(|v| v.config.is_object()) {
            v.config["spin"] = serde_json::json!(profile.spin);
        }
    }
    Ok(Matrix {
        built,
        variants,
        skipped,
        runtimes,
        wasm_runtimes,
    })
}
