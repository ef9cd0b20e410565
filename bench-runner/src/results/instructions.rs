//! The instruction counts of a run (`instructions`, and the counting phase of `run`): Envoy under
//! callgrind, per Envoy process and window the instructions of its worker thread (the figure), of its
//! other threads and of the variant's external processor, kept raw; and per variant the instructions
//! per request and the added instructions per request over the no-plugin listener of the same
//! process, with their spread between processes. Summaries are recomputed from the raw windows.

use crate::results::BASELINE;
use crate::stats::{self, Estimate};
use serde::{Deserialize, Serialize};

/// How the counts were taken (every setting that shaped them).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstrProtocol {
    /// Serial requests on one keep-alive connection between a zero and a dump.
    pub requests_per_window: u64,
    /// Windows per listener and process (each in a fresh shuffled order of the listeners).
    pub windows: usize,
    /// Requests per listener before instrumentation is turned on.
    pub warmup_requests: u64,
    /// Envoy processes per group of listeners (the units of the spread and the intervals).
    pub processes: usize,
    /// Processes counted at once (counts do not depend on the machine's load).
    pub jobs: usize,
    /// What is counted, in words.
    pub counted: String,
    /// valgrind and its arguments, as run.
    pub valgrind: Vec<String>,
    /// Stats Envoy was told not to keep while counting (time-valued histograms: see the docs).
    pub excluded_stats: Vec<String>,
}

/// One window: `requests` serial requests to one listener between a zero and a dump.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstrWindow {
    pub window: usize,
    /// Position in the window's shuffled order of listeners.
    pub order: usize,
    pub variant: String,
    pub requests: u64,
    /// callgrind's number of the thread with the most instructions (Envoy's worker).
    pub worker_thread: u32,
    /// Instructions of that thread over the window.
    pub worker: u64,
    /// Instructions of Envoy's other threads over the window.
    pub other_threads: u64,
    /// Instructions of the listener's external processor (every thread), for ext_proc variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor: Option<u64>,
    pub wall_s: f64,
}

/// One Envoy process under callgrind and the windows counted in it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstrProcess {
    /// The group of listeners it ran (an implementation), and which of its processes it was.
    pub group: String,
    pub replicate: usize,
    /// Its listeners (the baseline and the A/A listener first).
    pub variants: Vec<String>,
    /// From spawning to admin /ready, s.
    pub ready_s: f64,
    /// From spawning to the last dump, s.
    pub wall_s: f64,
    pub windows: Vec<InstrWindow>,
}

/// Per variant, over the processes that counted it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstrVariant {
    pub id: String,
    pub processes: usize,
    /// The worker thread's instructions per request: per process the median over its windows; mean
    /// over processes with a Student's t 95% interval.
    pub per_request: Estimate,
    /// Minus the no-plugin listener of the same process (null for the baseline itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<Estimate>,
    /// Each process's added instructions per request (the units of `added`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added_per_process: Vec<f64>,
    /// Envoy's other threads, per request (mean over processes of the per-process median).
    pub other_threads_per_request: f64,
    /// The external processor's instructions per request, for ext_proc variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_per_request: Option<f64>,
}

/// The counting phase's record in results.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstructionsSection {
    /// `valgrind-3.19.0` as it reports itself.
    pub tool: String,
    pub protocol: InstrProtocol,
    /// `complete`, `interrupted` or `failed` (what was counted before is kept).
    pub status: String,
    pub processes: Vec<InstrProcess>,
    pub variants: Vec<InstrVariant>,
    /// Wall time of the whole phase, s.
    pub wall_s: f64,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// What the counts leave out, said wherever they are shown.
pub const LEAVES_OUT: &str = "Instructions are counted by callgrind in user space: the kernel (syscalls, the loopback network stack), the external processor's socket round trip as time, and caches, branch prediction and memory stalls are not in them; they measure the work done, not its time.";

/// The median over one process's windows of `pick(window) / requests` for `variant`.
fn per_process(p: &InstrProcess, variant: &str, pick: fn(&InstrWindow) -> Option<u64>) -> f64 {
    let xs: Vec<f64> = p
        .windows
        .iter()
        .filter(|w| w.variant == variant && w.requests > 0)
        .filter_map(|w| pick(w).map(|x| x as f64 / w.requests as f64))
        .collect();
    if xs.is_empty() {
        f64::NAN
    } else {
        stats::median(&xs)
    }
}

/// Variant ids in the order the processes first list them.
fn ids(processes: &[InstrProcess]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in processes {
        for w in &p.windows {
            if !out.contains(&w.variant) {
                out.push(w.variant.clone());
            }
        }
    }
    out
}

/// Per variant: the worker's instructions per request and the added instructions over the baseline
/// of the same process, each a mean over processes with a t interval over them.
pub fn summarize(processes: &[InstrProcess]) -> Vec<InstrVariant> {
    ids(processes)
        .into_iter()
        .map(|id| {
            let mut per = Vec::new();
            let mut added = Vec::new();
            let mut other = Vec::new();
            let mut proc_ = Vec::new();
            for p in processes.iter().filter(|p| p.variants.contains(&id)) {
                let v = per_process(p, &id, |w| Some(w.worker));
                if !v.is_finite() {
                    continue;
                }
                per.push(v);
                other.push(per_process(p, &id, |w| Some(w.other_threads)));
                let pr = per_process(p, &id, |w| w.processor);
                if pr.is_finite() {
                    proc_.push(pr);
                }
                if id != BASELINE {
                    let b = per_process(p, BASELINE, |w| Some(w.worker));
                    if b.is_finite() {
                        added.push(v - b);
                    }
                }
            }
            InstrVariant {
                processes: per.len(),
                per_request: stats::unit_interval(&per),
                added: (id != BASELINE && !added.is_empty()).then(|| stats::unit_interval(&added)),
                added_per_process: added,
                other_threads_per_request: stats::mean(&other),
                processor_per_request: (!proc_.is_empty()).then(|| stats::mean(&proc_)),
                id,
            }
        })
        .collect()
}

impl InstrVariant {
    /// The largest minus the smallest process's added instructions per request, as % of the
    /// variant's instructions per request (None with fewer than 2 processes).
    pub fn spread_pct(&self) -> Option<f64> {
        let xs = stats::finite(&self.added_per_process);
        if xs.len() < 2 {
            return None;
        }
        let max = xs.iter().cloned().fold(f64::MIN, f64::max);
        let min = xs.iter().cloned().fold(f64::MAX, f64::min);
        Some(100.0 * (max - min) / self.per_request.estimate.abs())
    }
}

impl InstructionsSection {
    pub fn variant(&self, id: &str) -> Option<&InstrVariant> {
        self.variants.iter().find(|v| v.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(variant: &str, window: usize, worker: u64) -> InstrWindow {
        InstrWindow {
            window,
            order: 0,
            variant: variant.into(),
            requests: 1000,
            worker_thread: 7,
            worker,
            other_threads: 1000,
            processor: None,
            wall_s: 1.0,
        }
    }

    fn process(replicate: usize, base: u64, plugin: u64) -> InstrProcess {
        InstrProcess {
            group: "rust".into(),
            replicate,
            variants: vec!["baseline".into(), "rust-v8-mock".into()],
            ready_s: 1.0,
            wall_s: 2.0,
            windows: vec![
                window("baseline", 0, base),
                window("rust-v8-mock", 0, plugin),
                window("baseline", 1, base + 2000),
                window("rust-v8-mock", 1, plugin + 4000),
                window("baseline", 2, base + 1000),
                window("rust-v8-mock", 2, plugin + 2000),
            ],
        }
    }

    #[test]
    fn added_is_the_median_window_minus_the_same_process_baseline() {
        let ps = vec![
            process(0, 74_000_000, 94_000_000),
            process(1, 75_000_000, 95_200_000),
        ];
        let s = summarize(&ps);
        assert_eq!(s.len(), 2);
        let b = &s[0];
        assert_eq!((b.id.as_str(), b.added.is_none()), ("baseline", true));
        assert_eq!(b.per_request.estimate, (74_001.0 + 75_001.0) / 2.0);
        let r = &s[1];
        // medians: 94_002 - 74_001 and 95_202 - 75_001
        assert_eq!(r.added_per_process, vec![20_001.0, 20_201.0]);
        let a = r.added.unwrap();
        assert_eq!(a.estimate, 20_101.0);
        assert!(a.ci95_low < 20_001.0 && a.ci95_high > 20_201.0);
        let spread = r.spread_pct().unwrap();
        assert!((spread - 100.0 * 200.0 / 94_602.0).abs() < 1e-9, "{spread}");
        assert_eq!(r.other_threads_per_request, 1.0);
    }
}
