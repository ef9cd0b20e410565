//! The instruction figure of `ab`'s verdict: instructions per request of every compared listener on
//! each side, counted under callgrind by the instruction-count phase ([`crate::bench::instructions`]).
//! `plugins` mode: both builds of an implementation are counted in the same Envoy processes (one group
//! per implementation, with the phase's own no-plugin listeners; an ext_proc build's in processes of
//! its own, as the phase runs one external processor per Envoy); `envoy` mode: the listeners are
//! counted under each Envoy. The figure is Envoy's worker thread's count per request plus, for an
//! ext_proc listener, its processor's; `results::ab::derive` compares base and new exactly against
//! the gate's relative threshold. Without valgrind the section says so, with the fix, and the
//! verdicts rest on the time figures.

use crate::bench::instructions::{self, Group};
use crate::bench::variants::Variant;
use crate::envoy::EnvoyBin;
use crate::paths::Project;
use crate::results::ab::{AbRun, InstructionCount, InstructionSection, MODE_ENVOY};
use crate::results::instructions::{InstrProcess, InstructionsSection};
use std::path::Path;

/// What counting needs: the run (its pairs and sides), the listeners as measured, the Envoy of each
/// side (`alternate`: the new side's, in `envoy` mode) and the folder for callgrind's files.
pub struct Counting<'a> {
    pub project: &'a Project,
    pub run: &'a AbRun,
    pub variants: &'a [Variant],
    pub envoy: &'a EnvoyBin,
    pub alternate: Option<&'a EnvoyBin>,
    pub out: &'a Path,
    pub seed: u64,
}

/// A listener's figure per process: the median over its windows of (worker + processor) / requests.
fn per_process(processes: &[InstrProcess], id: &str) -> Vec<f64> {
    processes
        .iter()
        .filter_map(|p| {
            let xs: Vec<f64> = p
                .windows
                .iter()
                .filter(|w| w.variant == id && w.requests > 0)
                .map(|w| (w.worker + w.processor.unwrap_or(0)) as f64 / w.requests as f64)
                .collect();
            (!xs.is_empty()).then(|| crate::stats::median(&xs))
        })
        .collect()
}

/// The counts of `ids` in one section, as ab.json keeps them.
fn counts(section: &InstructionsSection, ids: &[String], side: &str) -> Vec<InstructionCount> {
    ids.iter()
        .filter_map(|id| {
            let units = per_process(&section.processes, id);
            (!units.is_empty()).then(|| InstructionCount {
                variant: id.clone(),
                side: side.into(),
                per_request: crate::stats::mean(&units),
                windows: units,
            })
        })
        .collect()
}

/// One group per implementation of the compared listeners (both builds together in `plugins` mode).
fn groups(run: &AbRun, variants: &[Variant]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for p in &run.pairs {
        for id in [&p.base, &p.new].into_iter().flatten() {
            let Some(v) = variants.iter().find(|v| &v.info.id == id) else {
                continue;
            };
            if [crate::results::BASELINE, crate::results::BASELINE_AA].contains(&v.info.id.as_str())
            {
                continue;
            }
            // the counting phase runs one external processor per Envoy: each ext_proc build in
            // Envoy processes of its own
            let name = match (&v.kind, v.info.id.rsplit_once('@')) {
                (crate::bench::variants::Kind::ExtProc { .. }, Some((_, side))) => {
                    format!("{}@{side}", p.implementation)
                }
                _ => p.implementation.clone(),
            };
            match out.iter_mut().find(|g| g.name == name) {
                Some(g) if !g.variants.iter().any(|x| x.info.id == v.info.id) => {
                    g.variants.push(v.clone())
                }
                Some(_) => {}
                None => out.push(Group {
                    name,
                    variants: vec![v.clone()],
                }),
            }
        }
    }
    out
}

/// The counting protocol of an `ab` run: the phase's default, with one Envoy process per
/// implementation in the quick profile (both builds share it, so what differs between processes
/// cancels in their difference, and a quick ab of every implementation stays within about six
/// minutes on 2 cores).
pub fn protocol(profile: &crate::results::Profile) -> instructions::Protocol {
    let mut p = instructions::DEFAULT;
    if profile.name == "quick" {
        p.processes = 1;
    }
    p
}

/// Counts the instructions per request of every compared listener on both sides; the raw sections
/// are kept in the returned section. A failure of the counting phase leaves the section `not
/// counted` with the reason (the verdicts then rest on the time figures); only an interruption is
/// returned as an error.
pub fn count(c: &Counting) -> (InstructionSection, anyhow::Result<()>) {
    let tool = match crate::envoy::callgrind::ensure() {
        Ok(v) => v,
        Err(fix) => {
            eprintln!("instruction counts: valgrind is missing, not counted (fix: {fix})");
            let section = InstructionSection {
                status: "not counted".into(),
                reason: Some(format!("valgrind (callgrind) is not installed: {fix}")),
                ..InstructionSection::default()
            };
            return (section, Ok(()));
        }
    };
    let groups = groups(c.run, c.variants);
    let mut ids: Vec<String> = groups
        .iter()
        .flat_map(|g| g.variants.iter().map(|v| v.info.id.clone()))
        .collect();
    if c.run.mode == MODE_ENVOY {
        // the counting phase's own no-plugin listeners stand for the run's
        ids.extend([crate::results::BASELINE, crate::results::BASELINE_AA].map(String::from));
    }
    let sides: Vec<(&str, &EnvoyBin)> = match (c.run.mode.as_str(), c.alternate) {
        (MODE_ENVOY, Some(new)) => vec![("base", c.envoy), ("new", new)],
        _ => vec![("both", c.envoy)],
    };
    let mut section = InstructionSection {
        status: "counted".into(),
        reason: None,
        counts: vec![],
        raw: vec![],
    };
    for (side, envoy) in sides {
        eprintln!(
            "counting instructions under callgrind ({} implementation(s), Envoy {}) ...",
            groups.len(),
            envoy.version
        );
        let out = c.out.join("instructions").join(side);
        if let Err(e) = std::fs::create_dir_all(&out) {
            section.status = "not counted".into();
            section.reason = Some(format!("cannot create {} ({e})", out.display()));
            return (section, Ok(()));
        }
        let counting = instructions::Counting {
            project: c.project,
            envoy,
            groups: groups.clone(),
            protocol: protocol(&c.run.profile),
            out: &out,
            seed: c.seed,
            tool: tool.clone(),
        };
        let (raw, outcome) = instructions::count(&counting, |_| {});
        if side == "both" {
            for id in &ids {
                let label = if id.ends_with("@base") { "base" } else { "new" };
                section
                    .counts
                    .extend(counts(&raw, std::slice::from_ref(id), label));
            }
        } else {
            section.counts.extend(counts(&raw, &ids, side));
        }
        section.raw.push(raw);
        if let Err(e) = outcome {
            section.status = "not counted".into();
            section.counts.clear();
            // Ctrl-C may reach the phase as another error (an Envoy start it cut short)
            if crate::error::is_interrupted(&e) || crate::sys::interrupted() {
                section.reason = Some("interrupted".into());
                return (section, Err(crate::error::Error::Interrupted.into()));
            }
            section.reason = Some(format!("the counting phase failed: {e:#}"));
            eprintln!("instruction counts: {e:#}; the verdicts rest on the time figures");
            return (section, Ok(()));
        }
    }
    (section, Ok(()))
}
