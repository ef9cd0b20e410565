//! `plugins` mode: both sides' builds (the base revision's from a git worktree through the content
//! cache, the new side's from the working tree's cached build or another worktree), which
//! implementations are identical and which are measured, and their listeners paired
//! (`<variant>@base`, `<variant>@new`).

use super::{new_run, side_variant, state_dir, AbOptions, Prepared};
use crate::bench::measure::Pairing;
use crate::bench::variants::Variant;
use crate::envoy::locate;
use crate::error::usage;
use crate::paths::Project;
use crate::plugins::revision::{self, Revision, Worktree};
use crate::plugins::{Built, Plugin, Unavailable};
use crate::results::ab::{BuildInfo, Implementation, Pair, Side, IDENTICAL_BUILD, MODE_PLUGINS};
use crate::results::{Profile, Skipped};
use std::path::Path;

/// One side's build of one implementation, and where it came from.
struct SideBuild {
    result: Result<Built, Unavailable>,
    source_hash: String,
    origin: &'static str,
}

/// Builds `plugin` of a revision's tree: the working tree's build when the sources are the same
/// (one build serves both), else through the content cache (built in the worktree when missing).
fn build_side(
    project: &Project,
    plugin: &Plugin,
    current: &[Plugin],
    current_built: &[Built],
    current_missing: &[Unavailable],
    side: &str,
) -> SideBuild {
    let source_hash = plugin.source_hash();
    let here = current.iter().find(|c| c.name == plugin.name);
    if let Some(c) = here.filter(|c| c.source_hash() == source_hash) {
        let result = match current_built.iter().find(|b| b.name == c.name) {
            Some(b) => Ok(b.clone()),
            None => Err(current_missing
                .iter()
                .find(|u| u.name == c.name)
                .cloned()
                .unwrap_or(Unavailable {
                    name: c.name.clone(),
                    reason: "not built".into(),
                })),
        };
        return SideBuild {
            result,
            source_hash,
            origin: "current tree",
        };
    }
    eprintln!(
        "{side}: plugin {} differs from the working tree's; building it in the worktree (unless cached) ...",
        plugin.name
    );
    let result = revision::build_cached(
        project,
        plugin,
        here.map(|c| c.dir.as_path()),
        &state_dir(project, side),
    );
    let origin = match &result {
        Ok(b) if !b.rebuilt => "cache",
        _ => "built",
    };
    SideBuild {
        result,
        source_hash,
        origin,
    }
}

fn info(b: &SideBuild) -> Option<BuildInfo> {
    b.result.as_ref().ok().map(|x| BuildInfo {
        sha256: x.sha256.clone(),
        bytes: x.bytes,
        source_hash: b.source_hash.clone(),
        origin: b.origin.into(),
        file: None,
    })
}

fn side(label: &str, rev: Option<&Revision>, envoy: &crate::results::EnvoyInfo) -> Side {
    Side {
        label: label.into(),
        revision: rev.cloned(),
        tree: if rev.is_some() {
            "revision"
        } else {
            "worktree"
        }
        .into(),
        envoy: envoy.clone(),
    }
}

/// The base (and new) revision's builds, the identical ones set apart, the rest paired as listeners.
pub(super) fn prepare(
    project: &Project,
    o: &AbOptions,
    profile: &Profile,
    out: &Path,
    base_spec: &str,
    new_spec: Option<&str>,
) -> anyhow::Result<Prepared> {
    let base_rev = revision::resolve(&project.root, "--base", base_spec)?;
    let new_rev = new_spec
        .map(|s| revision::resolve(&project.root, "--new", s))
        .transpose()?;
    let current = crate::plugins::discover_all(project)?;
    revision::remove_stale(project);
    let base_wt = Worktree::add(project, &base_rev, "base")?;
    let new_wt = new_rev
        .as_ref()
        .map(|r| Worktree::add(project, r, "new"))
        .transpose()?;
    let base_plugins = revision::discover_worktree(&base_wt)?;
    let new_plugins = match &new_wt {
        Some(wt) => revision::discover_worktree(wt)?,
        None => current.clone(),
    };
    let new_label = new_rev
        .as_ref()
        .map_or("the working tree".to_string(), |r| {
            format!("--new {}", r.spec)
        });
    let names: Vec<String> = match &o.only {
        Some(only) => {
            for n in only {
                if !new_plugins.iter().any(|p| &p.name == n) {
                    return Err(usage(format!(
                        "--only {n}: {new_label} has no implementation `{n}` (plugins/{n}/plugin.toml)"
                    )));
                }
                if !base_plugins.iter().any(|p| &p.name == n) {
                    return Err(usage(format!(
                        "--only {n}: --base {} ({}) has no implementation `{n}` (plugins/{n}/plugin.toml); leave it out of --only",
                        base_rev.spec,
                        short(&base_rev.commit)
                    )));
                }
            }
            only.clone()
        }
        None => new_plugins.iter().map(|p| p.name.clone()).collect(),
    };
    // Every name is checked against both trees before Envoy is located (or installed).
    let envoy = locate::locate(o.envoy.as_deref(), project, true)?;
    eprintln!(
        "envoy {} ({}, {})",
        envoy.version,
        envoy.path.display(),
        envoy.found_via
    );
    let mut skipped = Vec::new();
    let mut measured: Vec<String> = Vec::new();
    for n in &names {
        if base_plugins.iter().any(|p| &p.name == n) {
            measured.push(n.clone());
        } else {
            skipped.push(Skipped {
                variant: format!("{n}-*"),
                reason: format!(
                    "new implementation: --base {} ({}) has no plugins/{n}",
                    base_rev.spec,
                    short(&base_rev.commit)
                ),
            });
        }
    }
    // The working tree's builds, through the cached, locked build (nothing rebuilt when unchanged).
    let (current_built, current_missing) = if new_wt.is_none()
        || measured
            .iter()
            .any(|n| current.iter().any(|c| &c.name == n))
    {
        crate::plugins::prepare_all(
            project,
            Some(
                &measured
                    .iter()
                    .filter(|n| current.iter().any(|c| &c.name == *n))
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
            false,
        )?
    } else {
        (vec![], vec![])
    };
    let mut implementations = Vec::new();
    let mut to_measure: Vec<(Built, Built)> = Vec::new();
    let mut identical: Vec<Built> = Vec::new();
    for n in &measured {
        crate::sys::check_interrupted()?;
        let bp = base_plugins.iter().find(|p| &p.name == n).expect("listed");
        let np = new_plugins.iter().find(|p| &p.name == n).expect("listed");
        let nb = build_side(
            project,
            np,
            &current,
            &current_built,
            &current_missing,
            "new",
        );
        let bb = if bp.source_hash() == nb.source_hash {
            SideBuild {
                result: nb.result.clone(),
                source_hash: nb.source_hash.clone(),
                origin: "same sources as new",
            }
        } else {
            build_side(
                project,
                bp,
                &current,
                &current_built,
                &current_missing,
                "base",
            )
        };
        crate::sys::check_interrupted()?;
        let mut imp = Implementation {
            name: n.clone(),
            kind: np.manifest.kind.clone(),
            language: np.manifest.language.clone(),
            base: info(&bb),
            new: info(&nb),
            status: "measured".into(),
            reason: None,
        };
        match (&bb.result, &nb.result) {
            (Err(b), Err(_)) => {
                imp.status = "skipped".into();
                imp.reason = Some(b.reason.clone());
                skipped.push(Skipped {
                    variant: format!("{n}-*"),
                    reason: b.reason.clone(),
                });
            }
            (Err(b), Ok(_)) => {
                return Err(usage(format!(
                    "--base {} ({}): plugin {n} does not build there: {}",
                    base_rev.spec,
                    short(&base_rev.commit),
                    b.reason
                )))
            }
            (Ok(_), Err(u)) => {
                return Err(usage(format!(
                    "{new_label}: plugin {n} does not build: {}",
                    u.reason
                )))
            }
            (Ok(b), Ok(x)) if b.sha256 == x.sha256 && !o.measure_identical => {
                imp.status = IDENTICAL_BUILD.into();
                identical.push(x.clone());
            }
            (Ok(b), Ok(x)) if b.sha256 == x.sha256 => {
                imp.reason = Some(
                    "identical builds, measured as asked (--measure-identical): any change found is noise"
                        .into(),
                );
                to_measure.push((b.clone(), x.clone()));
            }
            (Ok(b), Ok(x)) => to_measure.push((b.clone(), x.clone())),
        }
        implementations.push(imp);
    }
    // The builds are in the content cache or the working tree: the worktrees can go.
    drop(new_wt);
    drop(base_wt);

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
    let mut variants: Vec<Variant> = Vec::new();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut listed: Vec<Pair> = Vec::new();
    for w in &profile.workloads {
        for x in &identical {
            for v in Variant::of(x, &present, w) {
                listed.push(pair_of(&v, x, None));
            }
        }
        for (b, n) in &to_measure {
            for (bv, nv) in Variant::of(b, &present, w)
                .into_iter()
                .zip(Variant::of(n, &present, w))
            {
                let (bv, nv) = (side_variant(bv, "base"), side_variant(nv, "new"));
                let mut p = pair_of(&nv, n, Some((&bv.info.id, &nv.info.id)));
                p.variant = nv.info.id.trim_end_matches("@new").to_string();
                listed.push(p);
                pairs.push((variants.len(), variants.len() + 1));
                variants.push(bv);
                variants.push(nv);
            }
        }
    }
    let envoy_info = super::envoy_info(&envoy, &runtimes);
    let mut run = new_run(
        MODE_PLUGINS,
        profile,
        &o.gate,
        side("base", Some(&base_rev), &envoy_info),
        side("new", new_rev.as_ref(), &envoy_info),
    );
    run.implementations = implementations;
    run.pairs = listed;
    run.skipped = skipped;
    for i in &run.implementations {
        if i.status == IDENTICAL_BUILD {
            eprintln!("{}: identical build on both sides, not measured", i.name);
        }
    }
    if !pairs.is_empty() {
        eprintln!(
            "measuring {} pair(s) of listeners ({}), both builds in each of {} Envoy processes",
            pairs.len(),
            run.pairs
                .iter()
                .filter(|p| p.base.is_some())
                .map(|p| p.variant.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            profile.processes
        );
    }
    Ok(Prepared {
        run,
        variants,
        pairing: Pairing::Pairs(pairs),
        envoy,
        alternate: None,
        runtimes,
        own: vec![],
    })
}

/// The listed pair of a variant of implementation `b` (`ids`: its base and new listeners).
fn pair_of(v: &Variant, b: &Built, ids: Option<(&String, &String)>) -> Pair {
    Pair {
        variant: v.info.id.clone(),
        implementation: b.name.clone(),
        workload: v.info.workload.clone(),
        runtime: v.info.runtime.clone(),
        base: ids.map(|x| x.0.clone()),
        new: ids.map(|x| x.1.clone()),
    }
}

fn short(commit: &str) -> String {
    commit.chars().take(12).collect()
}
