//! Instructions per request through Envoy, counted by valgrind's callgrind (issue 29): the figure that
//! does not move with the machine's load or the day, for the CI gate and for changes too small for
//! any time to resolve.
//!
//! The protocol, and why (measured: `results/measurements/instructions-*`):
//! - One Envoy (`--concurrency 1`) per group of listeners, under `valgrind --tool=callgrind
//!   --instr-atstart=no --separate-threads=yes`; a group is one implementation's variants (every
//!   workload) with a no-plugin `baseline` and the A/A listener `baseline-aa`. V8 reserves a large
//!   guard region per Wasm memory and valgrind caps the address space: with five modules in one
//!   Envoy under valgrind the fifth failed to instantiate, alone each loads.
//! - Start-up and a warm-up (`warmup` serial requests per listener, the JIT's tiers and Envoy's caches)
//!   run uninstrumented; then `callgrind_control -i on`.
//! - Per window, in a fresh seeded order of the listeners: a keep-alive connection is opened and one
//!   request sent on it (accepting the connection is not counted), `callgrind_control -z`, `requests`
//!   serial requests (each answer checked), `callgrind_control -d`. The figure is the thread with the
//!   most instructions, Envoy's worker; the other threads (the main thread's timers, whose work
//!   follows the wall time) are kept apart. An ext_proc variant's processor runs under callgrind too
//!   and is zeroed and dumped with Envoy; its count is reported beside Envoy's.
//! - Envoy keeps no `*_rq_time` histograms while counting: recording a latency into Envoy's
//!   histograms (circllhist) searches the histogram's bins, and under valgrind requests take
//!   milliseconds, so how many distinct latencies a window saw (the machine's load) moved the worker's
//!   count by about 0.2%. Without them two windows of the same listener agree to a few hundredths of
//!   a percent.
//! - Added instructions = the variant's median window minus the baseline's median window of the same
//!   process; the units of every interval and spread are the processes (`processes`, at least 2),
//!   which run `jobs` at a time: counts do not depend on the load.

mod process;

use crate::bench::variants::Variant;
use crate::envoy::EnvoyBin;
use crate::paths::Project;
use crate::results::instructions::{InstrProcess, InstrProtocol, InstructionsSection};
use std::path::Path;
use std::sync::Mutex;

pub use process::count_process;

/// Serial requests per window, windows per listener, warm-up, processes per group, processes at
/// once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Protocol {
    pub requests: u64,
    pub windows: usize,
    pub warmup: u64,
    pub processes: usize,
    pub jobs: usize,
}

/// The defaults of `instructions` and of the counting phase of `run`, chosen from the measured
/// spread (module docs).
pub const DEFAULT: Protocol = Protocol {
    requests: 500,
    windows: 3,
    warmup: 200,
    processes: 2,
    jobs: 2,
};

/// The bootstrap fields the counting Envoy gets on top of the run's: no request-time histograms.
pub const EXCLUDED_STATS: [&str; 1] = ["_rq_time"];

/// What is counted, as results.json says it.
pub const COUNTED: &str = "the instructions of Envoy's worker thread (the thread with the most instructions in the window; --concurrency 1), per request; the other threads and an ext_proc variant's external processor apart";

/// Listeners counted together in Envoy processes of their own (an implementation's variants); the
/// baseline and the A/A listener are added to every group.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub variants: Vec<Variant>,
}

/// One group per implementation, in the order the variants come (the baseline and the A/A listener
/// are left out: every group gets its own).
pub fn groups_by_implementation(variants: &[Variant]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for v in variants.iter().filter(|v| !is_reference(&v.info.id)) {
        let name = v.info.implementation().to_string();
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => g.variants.push(v.clone()),
            None => groups.push(Group {
                name,
                variants: vec![v.clone()],
            }),
        }
    }
    groups
}

/// What counting `variants` with `p` will take, in seconds, from what it took on the 2-core VM
/// (`results/baselines/ci`, `results/measurements/instructions-20261206b`): an Envoy under valgrind
/// is ready after about 3 s plus 5.5 s per MB of Wasm that V8 compiles there (a Go module: 20-35 s),
/// and each request under callgrind takes about 3 ms (twice that with an ext_proc processor under
/// valgrind too); `p.jobs` processes at a time.
pub fn planned_s(variants: &[Variant], p: &Protocol) -> f64 {
    let per_replicate: f64 = groups_by_implementation(variants)
        .iter()
        .map(|g| {
            let mut modules: Vec<(&str, u64)> = Vec::new();
            for v in &g.variants {
                if let (Some(sha), Some(b)) = (&v.info.wasm_sha256, v.info.wasm_bytes) {
                    if !modules.iter().any(|m| m.0 == sha) {
                        modules.push((sha, b));
                    }
                }
            }
            let mb = modules.iter().map(|m| m.1 as f64).sum::<f64>() / 1e6;
            let ext_proc = g
                .variants
                .iter()
                .any(|v| matches!(v.kind, crate::bench::variants::Kind::ExtProc { .. }));
            let listeners = (g.variants.len() + 2) as f64;
            let requests = listeners * (p.warmup + p.windows as u64 * p.requests) as f64;
            3.0 + 5.5 * mb + requests * if ext_proc { 0.006 } else { 0.003 }
        })
        .sum();
    per_replicate * p.processes as f64 / p.jobs.max(1) as f64
}

fn is_reference(id: &str) -> bool {
    id == crate::results::BASELINE || id == crate::results::BASELINE_AA
}

/// What counting needs.
pub struct Counting<'a> {
    pub project: &'a Project,
    pub envoy: &'a EnvoyBin,
    pub groups: Vec<Group>,
    pub protocol: Protocol,
    /// Folder for the processes' bootstraps, logs and (while counting) callgrind's dump files.
    pub out: &'a Path,
    pub seed: u64,
    /// valgrind's version line (from [`crate::envoy::callgrind::available`]).
    pub tool: String,
}

impl Counting<'_> {
    /// The protocol as results.json records it.
    pub fn record(&self) -> InstrProtocol {
        let w = crate::envoy::callgrind::wrapper(Path::new("OUT"), Path::new("LOG"));
        InstrProtocol {
            requests_per_window: self.protocol.requests,
            windows: self.protocol.windows,
            warmup_requests: self.protocol.warmup,
            processes: self.protocol.processes,
            jobs: self.protocol.jobs,
            counted: COUNTED.into(),
            valgrind: w,
            excluded_stats: EXCLUDED_STATS.iter().map(|s| format!("*{s}")).collect(),
        }
    }
}

/// The library entry point (also for `ab` and a user's own plugin): counts every group in
/// `protocol.processes` Envoy processes each, `jobs` at a time, and returns the section with the raw
/// windows and the per-variant summaries. `progress` is called after each process with the section
/// so far (to write partial results); the section's status says whether all went well, and the error
/// is returned beside it.
pub fn count(
    c: &Counting,
    mut progress: impl FnMut(&InstructionsSection) + Send,
) -> (InstructionsSection, anyhow::Result<()>) {
    let start = std::time::Instant::now();
    let mut queue: Vec<(usize, usize)> = Vec::new();
    for r in 0..c.protocol.processes {
        for g in 0..c.groups.len() {
            queue.push((g, r));
        }
    }
    queue.reverse();
    let queue = Mutex::new(queue);
    let done: Mutex<Vec<InstrProcess>> = Mutex::new(Vec::new());
    let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let section = |processes: Vec<InstrProcess>, status: &str| InstructionsSection {
        tool: c.tool.clone(),
        protocol: c.record(),
        status: status.into(),
        variants: crate::results::instructions::summarize(&processes),
        processes,
        wall_s: start.elapsed().as_secs_f64(),
        notes: vec![],
    };
    let progress = Mutex::new(&mut progress);
    std::thread::scope(|s| {
        for _ in 0..c.protocol.jobs.max(1) {
            s.spawn(|| loop {
                if failed.lock().unwrap().is_some() {
                    return;
                }
                let Some((g, r)) = queue.lock().unwrap().pop() else {
                    return;
                };
                match count_process(c, &c.groups[g], r) {
                    Ok(p) => {
                        let mut d = done.lock().unwrap();
                        d.push(p);
                        d.sort_by(|a, b| (a.replicate, &a.group).cmp(&(b.replicate, &b.group)));
                        (progress.lock().unwrap())(&section(d.clone(), "running"));
                    }
                    Err(e) => {
                        failed.lock().unwrap().get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    let processes = done.into_inner().unwrap();
    let outcome = match failed.into_inner().unwrap() {
        None => Ok(()),
        Some(e) => Err(e),
    };
    (
        section(processes, crate::error::status_of(&outcome)),
        outcome,
    )
}
