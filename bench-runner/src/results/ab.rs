//! `ab.json` of an `ab` run: two builds of each implementation (or two Envoy binaries) measured side
//! by side, the engine's raw run they come from, and per implementation and workload the change with
//! its interval and a verdict. Documented field by field in `results/ab.schema.json`. The
//! comparisons are always derived from the saved rounds ([`derive`]), so `report` re-renders them.
//!
//! How a change is computed. In `plugins` mode both builds are listeners of every Envoy process:
//! each process gives one difference per figure, new minus base: the p50 (p99) of the new build's
//! pooled latency windows minus the base build's side of the same interleaved windows; the CPU per
//! request of each CPU pass (both sides measured twice per pass, reference-candidate-candidate-
//! reference) as the mean of the new build's slices minus the mean of the base's, the median over a
//! process's passes. In `envoy` mode the processes alternate between the two Envoy binaries (ABAB),
//! and each pair of processes gives one difference of each variant's figures against the no-plugin
//! baseline of its own process (the baseline's own row: its absolute figures). The differences are
//! combined with a trimmed mean and its calibrated interval ([`crate::stats::robust`]: one stalled
//! process cannot wipe out a comparison). Instructions per request (when counted) are compared
//! exactly, against a relative threshold.
//!
//! The gate: p50 and CPU at saturation (and instructions) only. Their first gate is Holm's test at 5%
//! family-wise over every gated time figure of the run (one-sided, regressions and improvements each),
//! the second the noise threshold. p99 and the fixed-rate CPU are shown with their intervals and never
//! gated (p99's spread between processes is about ten times its threshold on this kind of machine).

use crate::results::{units, EnvoyInfo, Host, PooledLatency, Profile, Results, RoundRecord};
use crate::results::{RunnerBuild, Skipped, BASELINE};
use crate::stats::robust::{trimmed_interval, trimmed_one_sided_p, Trim};
use crate::stats::{mean, median, Estimate};
use serde::{Deserialize, Serialize};

mod family;
use family::family_wise;

pub const AB_SCHEMA_VERSION: u32 = 1;

/// Two builds of the plugins in the same Envoy processes.
pub const MODE_PLUGINS: &str = "plugins";
/// The same builds in two Envoy binaries, processes alternating.
pub const MODE_ENVOY: &str = "envoy";
/// Two builds of a plugin of your own (`--base-plugin`/`--new-plugin`), side by side.
pub const MODE_OWN: &str = "own";

pub const REGRESSED: &str = "regressed";
pub const IMPROVED: &str = "improved";
pub const UNCHANGED: &str = "unchanged";
pub const IDENTICAL_BUILD: &str = "identical build";
/// A metric shown beside the gated ones.
pub const NOT_GATED: &str = "not gated";
/// A pair with no figures (an implementation that could not be measured).
pub const NOT_COMPARED: &str = "not compared";

/// Holm's family-wise level over the gated time figures.
pub const FAMILY_ALPHA: f64 = 0.05;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AbRun {
    pub schema_version: u32,
    pub suite_version: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// running, complete, interrupted or failed.
    pub status: String,
    pub host: Host,
    pub runner: RunnerBuild,
    /// [`MODE_PLUGINS`] or [`MODE_ENVOY`].
    pub mode: String,
    pub base: Side,
    pub new: Side,
    /// The engine's settings (processes, windows, CPU passes); `cpu_thread` says which of Envoy's
    /// threads the CPU figures are.
    pub profile: Profile,
    pub gate: Gate,
    pub implementations: Vec<Implementation>,
    /// Per implementation, workload and runtime: which listeners are compared.
    pub pairs: Vec<Pair>,
    /// The engine's run (every window, slice and process the comparisons come from); null when
    /// nothing needed measuring (every build identical) or the run stopped before its first round.
    pub results: Option<Results>,
    /// Which Envoy each process of `results` ran: `base` or `new` (`envoy` mode; empty otherwise:
    /// every process ran both builds).
    #[serde(default)]
    pub process_sides: Vec<String>,
    pub instructions: InstructionSection,
    /// Derived from `results` and `instructions` (recomputed by `report`).
    pub comparisons: Vec<Comparison>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
    /// Where the wall time went: `prepare` (worktrees, builds, Envoy, the load check), `measure`,
    /// `count` (instructions).
    #[serde(default)]
    pub phases: Vec<crate::results::PhaseTime>,
}

impl AbRun {
    /// The whole wall time, s.
    pub fn wall_s(&self) -> f64 {
        self.phases.iter().map(|p| p.seconds).sum()
    }
}

/// One side of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Side {
    /// `base` or `new`.
    pub label: String,
    /// The git revision whose plugins this side ran; null for the working tree.
    pub revision: Option<crate::plugins::revision::Revision>,
    /// What the side's plugins are: `revision` (built from a git worktree of it) or `worktree`
    /// (the working tree, uncommitted changes included).
    pub tree: String,
    pub envoy: EnvoyInfo,
}

/// The gate's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// Noise thresholds of the gated time figures, µs.
    pub p50_us: f64,
    pub cpu_us: f64,
    /// Shown with p99 (not gated), µs.
    pub p99_us: f64,
    /// Instructions per request, % of the base's count.
    pub instructions_pct: f64,
    pub family_alpha: f64,
    /// Gated time figures in the family (set by [`derive`]).
    pub family: usize,
    /// How processes are combined.
    pub estimator: String,
}

impl Gate {
    pub fn new(p50_us: f64, cpu_us: f64, p99_us: f64, instructions_pct: f64) -> Gate {
        Gate {
            p50_us,
            cpu_us,
            p99_us,
            instructions_pct,
            family_alpha: FAMILY_ALPHA,
            family: 0,
            estimator: "trimmed mean over Envoy processes (about 10% at each end, at least one from 5 processes), Yuen's standard error, calibrated critical values (stats::robust)".into(),
        }
    }
}

/// An implementation's two builds and what became of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Implementation {
    pub name: String,
    pub kind: String,
    pub language: String,
    pub base: Option<BuildInfo>,
    pub new: Option<BuildInfo>,
    /// `measured`, `identical build` or `skipped`.
    pub status: String,
    pub reason: Option<String>,
}

/// One build of an implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// SHA-256 and size of what Envoy loads (module, shared object, processor, Lua template).
    pub sha256: String,
    pub bytes: u64,
    /// SHA-256 over the plugin's manifest and sources.
    pub source_hash: String,
    /// `current tree` (the working tree's cached build), `cache` (built before from the same
    /// sources) or `built` (built in the revision's worktree by this run); `file`: a plugin of your
    /// own as given (its `source_hash` is then the file's sha256).
    pub origin: String,
    /// A plugin of your own: the file's name (what reports call it, with its sha256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The listeners of one compared variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// The variant as `run` names it (`rust-v8-mock`).
    pub variant: String,
    pub implementation: String,
    pub workload: String,
    pub runtime: Option<String>,
    /// The base's and the new build's listener ids in `results` (`plugins` mode:
    /// `rust-v8-mock@base`, `rust-v8-mock@new`; `envoy` mode: the variant's id, in processes of
    /// each side); null for an identical build (not measured).
    pub base: Option<String>,
    pub new: Option<String>,
}

/// Instructions per request, counted under callgrind (the instruction-count phase); when not
/// counted, why.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InstructionSection {
    /// `counted` or `not counted`.
    pub status: String,
    pub reason: Option<String>,
    pub counts: Vec<InstructionCount>,
    /// The counting phase's own record (`results.json`'s `instructions`): every process and window;
    /// one per Envoy in `envoy` mode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raw: Vec<crate::results::instructions::InstructionsSection>,
}

/// One listener's count on one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionCount {
    pub variant: String,
    /// `base` or `new`.
    pub side: String,
    /// Instructions per request of Envoy's worker thread (plus, for an ext_proc listener, its
    /// processor's): the mean over Envoy processes of each process's median window.
    pub per_request: f64,
    /// Each process's figure.
    pub windows: Vec<f64>,
}

/// One compared variant: its figures and verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub variant: String,
    pub implementation: String,
    pub workload: String,
    pub runtime: Option<String>,
    /// regressed, improved, unchanged, identical build or not compared.
    pub verdict: String,
    pub metrics: Vec<MetricChange>,
    /// Processes (`plugins` mode) or process pairs (`envoy` mode) the intervals are over.
    pub units: usize,
    pub note: Option<String>,
}

/// One figure of one comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricChange {
    /// `p50_us`, `cpu_us_per_req` (Envoy's worker thread), `processor_cpu_us_per_req` (an ext_proc
    /// variant's external processor), `instructions_per_req` (gated); `p99_us`,
    /// `fixed_cpu_us_per_req` (shown).
    pub metric: String,
    pub gated: bool,
    /// What the figure is: `added_vs_base` (both builds in one process), `overhead_vs_no_plugin`
    /// (envoy mode: each side's overhead in its own process) or `absolute` (the baseline's row).
    pub quantity: String,
    /// Mean over units of each side's absolute figure.
    #[serde(with = "crate::stats::nan_as_null")]
    pub base: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub new: f64,
    /// New minus base, with its 95% interval (instructions: exact, no interval).
    pub change: Estimate,
    /// The change as % of the base's figure.
    #[serde(with = "crate::stats::nan_as_null")]
    pub change_pct: f64,
    /// The per-unit differences the interval is over.
    pub per_unit: Vec<f64>,
    /// One-sided p-values (the trimmed mean's calibrated test) of a worse and a better figure.
    #[serde(with = "crate::stats::nan_as_null")]
    pub p_worse: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub p_better: f64,
    /// The noise threshold, in the change's unit (instructions: %).
    pub threshold: f64,
    pub verdict: String,
}

/// The per-unit differences of one pair, per figure.
#[derive(Debug, Clone, Default, PartialEq)]
struct PairUnits {
    p50: Vec<f64>,
    p99: Vec<f64>,
    cpu: Vec<f64>,
    fixed_cpu: Vec<f64>,
    /// An ext_proc variant's external processor, saturation (empty for every other variant).
    processor: Vec<f64>,
    /// Each side's absolute figures per unit: (base, new): p50, p99, CPU, fixed-rate CPU, processor.
    abs: [(Vec<f64>, Vec<f64>); 5],
    quantity: &'static str,
}

/// Saturation or fixed-rate slices of a record.
fn slices(r: &RoundRecord, fixed: bool) -> &[f64] {
    if fixed {
        &r.fixed_cpu_slices_us_per_req
    } else {
        &r.cpu_slices_us_per_req
    }
}

/// One process's CPU difference new - base: per pass, the mean of the new build's slices minus the
/// mean of the base's (each side has the same number of slices per pass, measured around each
/// other); the median over the process's passes.
fn cpu_difference(base: &[&RoundRecord], new: &[&RoundRecord], fixed: bool) -> f64 {
    let mut diffs = Vec::new();
    for n in new {
        let Some(b) = base.iter().find(|b| b.round == n.round) else {
            continue;
        };
        let (ns, bs) = (slices(n, fixed), slices(b, fixed));
        if ns.is_empty() || ns.len() != bs.len() {
            continue;
        }
        // both sides have 2 slices per pass (ABBA), or 1 in a run of the `run` engine's order
        let per_pass = if ns.len() % 2 == 0 { 2 } else { 1 };
        for (nc, bc) in ns.chunks(per_pass).zip(bs.chunks(per_pass)) {
            diffs.push(mean(nc) - mean(bc));
        }
    }
    median(&diffs)
}

/// `plugins` mode: per process, the new listener against the base listener it was paired with.
fn plugin_units(r: &Results, base: &str, new: &str) -> PairUnits {
    let mut processes: Vec<usize> = r
        .rounds
        .iter()
        .filter(|x| x.variant == new)
        .map(|x| x.process)
        .collect();
    processes.sort_unstable();
    processes.dedup();
    let mut u = PairUnits {
        quantity: "added_vs_base",
        ..PairUnits::default()
    };
    for p in processes {
        let of = |v: &str| -> Vec<&RoundRecord> {
            r.rounds
                .iter()
                .filter(|x| x.process == p && x.variant == v)
                .collect()
        };
        let (b, n) = (of(base), of(new));
        let pool = |v: &str| -> Option<&PooledLatency> {
            r.pooled.iter().find(|x| x.process == p && x.variant == v)
        };
        let (lat_new, lat_base) =
            match pool(new).and_then(|x| Some((x, x.paired_baseline.as_ref()?))) {
                Some((x, b)) => (x.latency.latency_us.clone(), b.latency_us.clone()),
                None => continue,
            };
        u.p50.push(lat_new.p50 - lat_base.p50);
        u.p99.push(lat_new.p99 - lat_base.p99);
        u.cpu.push(cpu_difference(&b, &n, false));
        u.fixed_cpu.push(cpu_difference(&b, &n, true));
        let all = |recs: &[&RoundRecord], fixed: bool| -> f64 {
            median(
                &recs
                    .iter()
                    .flat_map(|x| slices(x, fixed).iter().copied())
                    .collect::<Vec<_>>(),
            )
        };
        let processor = |recs: &[&RoundRecord]| -> Vec<(usize, f64)> {
            recs.iter()
                .filter_map(|x| Some((x.round, x.processor_cpu_us_per_req?)))
                .collect()
        };
        let (pb, pn) = (processor(&b), processor(&n));
        let proc_diff: Vec<f64> = pn
            .iter()
            .filter_map(|(round, y)| Some(y - pb.iter().find(|(r2, _)| r2 == round)?.1))
            .collect();
        let mid = |v: &[(usize, f64)]| median(&v.iter().map(|x| x.1).collect::<Vec<_>>());
        if !proc_diff.is_empty() {
            u.processor.push(median(&proc_diff));
        }
        let pushes = [
            (lat_base.p50, lat_new.p50),
            (lat_base.p99, lat_new.p99),
            (all(&b, false), all(&n, false)),
            (all(&b, true), all(&n, true)),
            (mid(&pb), mid(&pn)),
        ];
        for (slot, (x, y)) in u.abs.iter_mut().zip(pushes) {
            slot.0.push(x);
            slot.1.push(y);
        }
    }
    u
}

/// `envoy` mode: per pair of processes (base, new), the difference of the variant's figures against
/// each process's own no-plugin baseline (the baseline's own row: its absolute figures).
fn envoy_units(r: &Results, sides: &[String], id: &str) -> PairUnits {
    let u = units(&r.rounds, &r.pooled, id);
    let reference = id == BASELINE;
    let at = |v: &[f64], p: usize| -> f64 {
        u.processes
            .iter()
            .position(|x| *x == p)
            .and_then(|i| v.get(i).copied())
            .unwrap_or(f64::NAN)
    };
    let mut out = PairUnits {
        quantity: if reference {
            "absolute"
        } else {
            "overhead_vs_no_plugin"
        },
        ..PairUnits::default()
    };
    let figures: [(&[f64], &[f64]); 4] = [
        (&u.p50, &u.abs_p50),
        (&u.p99, &u.abs_p99),
        (&u.cpu, &u.abs_cpu),
        (&u.fixed_cpu, &u.abs_fixed_cpu),
    ];
    let pairs = sides.len() / 2;
    for k in 0..pairs {
        let (pb, pn) = (2 * k, 2 * k + 1);
        if sides[pb] != "base" || sides[pn] != "new" {
            continue;
        }
        if !(u.processes.contains(&pb) && u.processes.contains(&pn)) {
            continue;
        }
        for (i, (over, abs)) in figures.iter().enumerate() {
            let v = if reference { *abs } else { *over };
            let d = at(v, pn) - at(v, pb);
            match i {
                0 => out.p50.push(d),
                1 => out.p99.push(d),
                2 => out.cpu.push(d),
                _ => out.fixed_cpu.push(d),
            }
            out.abs[i].0.push(at(v, pb));
            out.abs[i].1.push(at(v, pn));
        }
    }
    out
}

fn time_metric(
    metric: &str,
    gated: bool,
    quantity: &str,
    per_unit: &[f64],
    abs: &(Vec<f64>, Vec<f64>),
    threshold: f64,
) -> MetricChange {
    let change = trimmed_interval(per_unit, Trim::Ab);
    let (up, down) = trimmed_one_sided_p(per_unit, Trim::Ab).unwrap_or((f64::NAN, f64::NAN));
    let base = mean(&crate::stats::finite(&abs.0));
    MetricChange {
        metric: metric.into(),
        gated,
        quantity: quantity.into(),
        base,
        new: mean(&crate::stats::finite(&abs.1)),
        change,
        change_pct: 100.0 * change.estimate / base,
        per_unit: per_unit.to_vec(),
        p_worse: up,
        p_better: down,
        threshold,
        verdict: if gated { UNCHANGED } else { NOT_GATED }.into(),
    }
}

/// The instruction figure of a pair from the counts, when both sides were counted.
fn instruction_metric(run: &AbRun, pair: &Pair) -> Option<MetricChange> {
    let count = |side: &str, id: &Option<String>| {
        let id = id.as_ref()?;
        run.instructions
            .counts
            .iter()
            .find(|c| c.side == side && &c.variant == id)
    };
    let (b, n) = (count("base", &pair.base)?, count("new", &pair.new)?);
    let change = n.per_request - b.per_request;
    let pct = 100.0 * change / b.per_request;
    let t = run.gate.instructions_pct;
    Some(MetricChange {
        metric: "instructions_per_req".into(),
        gated: true,
        quantity: "added_vs_base".into(),
        base: b.per_request,
        new: n.per_request,
        change: Estimate {
            estimate: change,
            ci95_low: change,
            ci95_high: change,
        },
        change_pct: pct,
        per_unit: vec![],
        p_worse: f64::NAN,
        p_better: f64::NAN,
        threshold: t,
        verdict: if pct > t {
            REGRESSED
        } else if pct < -t {
            IMPROVED
        } else {
            UNCHANGED
        }
        .into(),
    })
}

/// Recomputes every comparison from the saved rounds, the counts and the gate.
pub fn derive(run: &mut AbRun) {
    let mut comparisons = Vec::with_capacity(run.pairs.len());
    for pair in &run.pairs {
        let mut c = Comparison {
            variant: pair.variant.clone(),
            implementation: pair.implementation.clone(),
            workload: pair.workload.clone(),
            runtime: pair.runtime.clone(),
            verdict: NOT_COMPARED.into(),
            metrics: vec![],
            units: 0,
            note: None,
        };
        let (Some(base), Some(new)) = (&pair.base, &pair.new) else {
            c.verdict = IDENTICAL_BUILD.into();
            comparisons.push(c);
            continue;
        };
        let u = match (&run.results, run.mode.as_str()) {
            (Some(r), MODE_ENVOY) => envoy_units(r, &run.process_sides, new),
            (Some(r), _) => plugin_units(r, base, new),
            (None, _) => PairUnits::default(),
        };
        c.units = crate::stats::finite(&u.p50).len();
        if c.units > 0 {
            let g = &run.gate;
            c.metrics = vec![
                time_metric("p50_us", true, u.quantity, &u.p50, &u.abs[0], g.p50_us),
                time_metric(
                    "cpu_us_per_req",
                    true,
                    u.quantity,
                    &u.cpu,
                    &u.abs[2],
                    g.cpu_us,
                ),
                time_metric("p99_us", false, u.quantity, &u.p99, &u.abs[1], g.p99_us),
                time_metric(
                    "fixed_cpu_us_per_req",
                    false,
                    u.quantity,
                    &u.fixed_cpu,
                    &u.abs[3],
                    g.cpu_us,
                ),
            ];
            if !u.processor.is_empty() {
                // an ext_proc variant's cost is mostly its processor's: gated like Envoy's CPU
                c.metrics.push(time_metric(
                    "processor_cpu_us_per_req",
                    true,
                    u.quantity,
                    &u.processor,
                    &u.abs[4],
                    g.cpu_us,
                ));
            }
        }
        c.metrics.extend(instruction_metric(run, pair));
        if c.units < 2 && !c.metrics.is_empty() {
            c.note = Some(format!(
                "{} unit(s) measured: a time interval needs at least 2",
                c.units
            ));
        }
        comparisons.push(c);
    }
    run.gate.family = family_wise(&mut comparisons);
    for c in &mut comparisons {
        if c.verdict == IDENTICAL_BUILD || c.metrics.is_empty() {
            continue;
        }
        let gated = || c.metrics.iter().filter(|m| m.gated);
        c.verdict = if gated().any(|m| m.verdict == REGRESSED) {
            REGRESSED
        } else if gated().any(|m| m.verdict == IMPROVED) {
            IMPROVED
        } else {
            UNCHANGED
        }
        .into();
    }
    run.comparisons = comparisons;
}

impl AbRun {
    /// True when some comparison regressed (the exit status 1).
    pub fn regressed(&self) -> bool {
        self.comparisons.iter().any(|c| c.verdict == REGRESSED)
    }

    pub fn write(&self, path: &std::path::Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        crate::sys::write_atomic(path, text.as_bytes())?;
        Ok(())
    }

    /// Reads an ab.json (or the folder holding one); a usage error naming the file otherwise.
    pub fn load(path: &std::path::Path) -> anyhow::Result<AbRun> {
        let path = if path.is_dir() {
            path.join("ab.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| crate::error::usage(format!("cannot read {} ({e})", path.display())))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| crate::error::usage(format!("{} is not JSON: {e}", path.display())))?;
        if v.get("schema_version").and_then(|x| x.as_u64()) != Some(AB_SCHEMA_VERSION as u64) {
            return Err(crate::error::usage(format!(
                "{}: not an ab.json of schema_version {AB_SCHEMA_VERSION}",
                path.display()
            )));
        }
        serde_json::from_value(v).map_err(|e| {
            crate::error::usage(format!(
                "{} does not match the ab schema: {e}",
                path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(metric: &str, gated: bool, change: f64, p_worse: f64, threshold: f64) -> MetricChange {
        MetricChange {
            metric: metric.into(),
            gated,
            quantity: "added_vs_base".into(),
            base: 10.0,
            new: 10.0 + change,
            change: Estimate {
                estimate: change,
                ci95_low: change - 1.0,
                ci95_high: change + 1.0,
            },
            change_pct: 10.0 * change,
            per_unit: vec![],
            p_worse,
            p_better: 1.0 - p_worse,
            threshold,
            verdict: if gated { UNCHANGED } else { NOT_GATED }.into(),
        }
    }

    fn c(variant: &str, metrics: Vec<MetricChange>) -> Comparison {
        Comparison {
            variant: variant.into(),
            implementation: variant.into(),
            workload: "mock".into(),
            runtime: None,
            verdict: NOT_COMPARED.into(),
            metrics,
            units: 6,
            note: None,
        }
    }

    /// Holm over the gated time figures, then the threshold: a clear change beyond it regresses, one
    /// within it does not, a p-value that survives alone but not among the family does not, and an
    /// ungated figure never counts.
    #[test]
    fn a_figure_regresses_only_through_holm_and_its_threshold() {
        let mut cs = vec![
            c(
                "a",
                vec![
                    m("p50_us", true, 30.0, 1e-6, 2.0),
                    m("p99_us", false, 500.0, 1e-9, 25.0),
                ],
            ),
            c("b", vec![m("cpu_us_per_req", true, 1.0, 1e-6, 2.0)]),
            c("c", vec![m("p50_us", true, 30.0, 0.03, 2.0)]),
            c("d", vec![m("cpu_us_per_req", true, -30.0, 1.0 - 1e-6, 2.0)]),
        ];
        assert_eq!(family_wise(&mut cs), 4, "p99 is not in the family");
        let v = |i: usize| cs[i].metrics[0].verdict.clone();
        assert_eq!(v(0), REGRESSED);
        assert_eq!(cs[0].metrics[1].verdict, NOT_GATED);
        assert_eq!(v(1), UNCHANGED, "significant but within the threshold");
        assert_eq!(
            v(2),
            UNCHANGED,
            "p = 0.03: below 0.05 alone, above Holm's third step, 0.05 / 2"
        );
        assert_eq!(v(3), IMPROVED);
    }

    #[test]
    fn identical_builds_and_instructions_have_their_own_verdicts() {
        let pair = |v: &str, measured: bool| Pair {
            variant: v.into(),
            implementation: v.into(),
            workload: "mock".into(),
            runtime: None,
            base: measured.then(|| format!("{v}@base")),
            new: measured.then(|| format!("{v}@new")),
        };
        let count = |v: &str, side: &str, x: f64| InstructionCount {
            variant: format!("{v}@{side}"),
            side: side.into(),
            per_request: x,
            windows: vec![x],
        };
        let mut run = AbRun {
            schema_version: AB_SCHEMA_VERSION,
            suite_version: String::new(),
            started_at: String::new(),
            finished_at: None,
            status: "complete".into(),
            host: crate::results::host_info(None, None),
            runner: RunnerBuild::current(),
            mode: MODE_PLUGINS.into(),
            base: side(),
            new: side(),
            profile: crate::results::profile::profile(crate::results::profile::ProfileName::Quick),
            gate: Gate::new(2.0, 2.0, 25.0, 1.0),
            implementations: vec![],
            pairs: vec![pair("same", false), pair("more", true), pair("tiny", true)],
            results: None,
            process_sides: vec![],
            instructions: InstructionSection {
                status: "counted".into(),
                reason: None,
                counts: vec![
                    count("more", "base", 100_000.0),
                    count("more", "new", 102_000.0),
                    count("tiny", "base", 100_000.0),
                    count("tiny", "new", 100_500.0),
                ],
                raw: vec![],
            },
            comparisons: vec![],
            skipped: vec![],
            notes: vec![],
            phases: vec![],
        };
        derive(&mut run);
        let verdicts: Vec<&str> = run.comparisons.iter().map(|c| c.verdict.as_str()).collect();
        assert_eq!(verdicts, [IDENTICAL_BUILD, REGRESSED, UNCHANGED]);
        assert!(run.regressed());
        let m = &run.comparisons[1].metrics[0];
        assert_eq!(
            (m.metric.as_str(), m.change.estimate),
            ("instructions_per_req", 2000.0)
        );
        assert!((m.change_pct - 2.0).abs() < 1e-12);
        assert_eq!(run.gate.family, 0, "instructions are not in Holm's family");
    }

    fn side() -> Side {
        Side {
            label: "base".into(),
            revision: None,
            tree: "worktree".into(),
            envoy: EnvoyInfo {
                version: "1.40.0".into(),
                version_line: String::new(),
                path: String::new(),
                found_via: String::new(),
                runtimes: vec![],
                concurrency: 1,
            },
        }
    }
}
