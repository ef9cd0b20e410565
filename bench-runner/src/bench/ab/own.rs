//! `own` mode (`--base-plugin OLD --new-plugin NEW`): two builds of a plugin of your own, each made
//! ready and probed as in `run` (both must answer your requests as stated), then loaded side by
//! side in each Envoy process (`<variant>@base`, `<variant>@new`, one VM each) and paired as the
//! `plugins` mode pairs two revisions' builds. Identical files are said so and not measured unless
//! `--measure-identical`.

use super::{new_run, side_variant, AbOptions, Prepared};
use crate::bench::measure::Pairing;
use crate::bench::own::OwnRun;
use crate::envoy::locate;
use crate::error::usage;
use crate::paths::Project;
use crate::results::ab::{BuildInfo, Implementation, Pair, Side, IDENTICAL_BUILD, MODE_OWN};
use crate::results::Profile;
use std::path::Path;

fn build(r: &OwnRun) -> Option<BuildInfo> {
    let p = r.plugins.first()?;
    Some(BuildInfo {
        sha256: p.sha256.clone()?,
        bytes: p.bytes?,
        source_hash: p.sha256.clone()?,
        origin: "file".into(),
        file: Some(p.file_name()),
    })
}

fn side(label: &str, envoy: &crate::results::EnvoyInfo) -> Side {
    Side {
        label: label.into(),
        revision: None,
        tree: "file".into(),
        envoy: envoy.clone(),
    }
}

pub(super) fn prepare(
    project: &Project,
    o: &AbOptions,
    profile: &Profile,
    out: &Path,
) -> anyhow::Result<Prepared> {
    let Some([base_plan, new_plan]) = &o.own else {
        return Err(anyhow::anyhow!("ab: no plugins of your own to compare"));
    };
    let envoy = locate::locate(o.envoy.as_deref(), project, true)?;
    eprintln!(
        "envoy {} ({}, {})",
        envoy.version,
        envoy.path.display(),
        envoy.found_via
    );
    std::fs::create_dir_all(out).map_err(|e| {
        usage(format!(
            "cannot create {} ({e}); check --out",
            out.display()
        ))
    })?;
    let runtimes = crate::envoy::runtimes::probe_runtimes(project, &envoy, out)?;
    let present: Vec<&str> = crate::envoy::runtimes::KNOWN_RUNTIMES
        .into_iter()
        .filter(|rt| runtimes.iter().any(|r| r == rt))
        .collect();
    // The upstreams are threads of the runner: started on the load generator's CPU, as in `run`.
    if let (_, Some(c)) = crate::sys::pinning(profile.pin) {
        let _ = crate::sys::pin_to_cpu(0, c);
    }
    let base = crate::bench::own::prepare(project, &envoy, base_plan, &present, &out.join("base"))?;
    let new = crate::bench::own::prepare(project, &envoy, new_plan, &present, &out.join("new"))?;
    let (bi, ni) = (build(&base), build(&new));
    let p = &new.plugins[0].spec;
    let mut imp = Implementation {
        name: p.name.clone(),
        kind: p.kind.name().into(),
        language: "unstated".into(),
        base: bi.clone(),
        new: ni.clone(),
        status: "measured".into(),
        reason: None,
    };
    let identical = bi.as_ref().map(|b| &b.sha256) == ni.as_ref().map(|b| &b.sha256);
    let mut variants = vec![];
    let mut pairs = vec![];
    let mut listed = vec![];
    if identical && !o.measure_identical {
        imp.status = IDENTICAL_BUILD.into();
        eprintln!("{}: identical files on both sides, not measured", imp.name);
    } else {
        if identical {
            imp.reason = Some(
                "identical files, measured as asked (--measure-identical): any change found is noise"
                    .into(),
            );
        }
        for (bv, nv) in base
            .variants(&present)
            .into_iter()
            .zip(new.variants(&present))
        {
            let (bv, mut nv) = (side_variant(bv, "base"), side_variant(nv, "new"));
            // One upstream per Envoy: both builds forward to the base side's.
            nv.upstream = Some(base.upstream.port());
            listed.push(Pair {
                variant: nv.info.id.trim_end_matches("@new").to_string(),
                implementation: imp.name.clone(),
                workload: nv.info.workload.clone(),
                runtime: nv.info.runtime.clone(),
                base: Some(bv.info.id.clone()),
                new: Some(nv.info.id.clone()),
            });
            pairs.push((variants.len(), variants.len() + 1));
            variants.push(bv);
            variants.push(nv);
        }
        eprintln!(
            "measuring {} pair(s) of listeners of {} (base {} sha256 {}, new {} sha256 {}), both in each of {} Envoy processes",
            pairs.len(),
            imp.name,
            base.plugins[0].file_name(),
            short(&bi),
            new.plugins[0].file_name(),
            short(&ni),
            profile.processes
        );
    }
    let envoy_info = super::envoy_info(&envoy, &runtimes);
    let mut run = new_run(
        MODE_OWN,
        profile,
        &o.gate,
        side("base", &envoy_info),
        side("new", &envoy_info),
    );
    run.implementations = vec![imp];
    run.pairs = listed;
    run.notes.push(format!(
        "Two builds of a plugin of your own, both sent the stated requests ({} of them, cycled) through the runner's upstream and held to the stated answer ({}); each build was probed before any load.",
        new.exchange.requests.len(),
        new.exchange.expect.describe()
    ));
    Ok(Prepared {
        run,
        variants,
        pairing: Pairing::Pairs(pairs),
        envoy,
        alternate: None,
        runtimes,
        own: vec![base, new],
    })
}

fn short(b: &Option<BuildInfo>) -> String {
    b.as_ref()
        .map_or("-".into(), |b| b.sha256.chars().take(12).collect())
}
