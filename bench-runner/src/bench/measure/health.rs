//! The run's health: what says whether its figures can be trusted (windows that fell behind, the A/A
//! null check, other work on the CPUs at the start, CPU steal, stalls), recorded in results.json and
//! printed at the end.

use super::*;
use crate::results::{BusyProcess, OtherCpu};

/// How long the start looks at what else uses the CPUs.
pub(super) const BUSY_WINDOW: Duration = Duration::from_secs(1);

/// What the machine was doing as the run started.
pub(super) struct AtStart {
    load: f64,
    steal: Option<(u64, u64)>,
    other: Option<OtherCpu>,
}

/// Reads the load average and the steal counter, then watches the CPUs for [`BUSY_WINDOW`]: what
/// other processes use them now (the runner's own processes left out), which is what competes with
/// the run; the load average still holds a build that ended a minute ago.
pub(super) fn at_start() -> AtStart {
    let (load, steal) = (loadavg(), crate::sys::cpu_steal_ticks());
    let other = crate::sys::busy::measure(BUSY_WINDOW).map(|b| OtherCpu {
        seconds: b.seconds,
        cpus: b.cpus,
        all_cpus: b.all_cpus,
        runner_cpus: b.runner_cpus,
        other_cpus: b.other_cpus,
        top: b
            .top
            .into_iter()
            .map(|(pid, command, cpus)| BusyProcess { pid, command, cpus })
            .collect(),
    });
    AtStart { load, steal, other }
}

/// The 1-minute load average (recorded beside the figures; not judged, see [`at_start`]).
pub(super) fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// CPU steal since `start`, % of all CPU time (/proc/stat; 0 on bare metal).
pub(super) fn steal_pct(start: Option<(u64, u64)>) -> Option<f64> {
    let ((s0, t0), (s1, t1)) = (start?, crate::sys::cpu_steal_ticks()?);
    let total = t1.checked_sub(t0).filter(|t| *t > 0)?;
    Some(s1.saturating_sub(s0) as f64 / total as f64 * 100.0)
}

/// How long the stall probe spins on every CPU, before the processes start and after they stopped.
pub(super) const STALL_PROBE: Duration = Duration::from_millis(500);

/// Spins on every CPU at once (one pinned thread each, at most 8) for `d`: how often and for how long
/// the machine takes a CPU away. On a busy host or a VM with noisy neighbours the gaps are what the
/// latency tails measure, whatever the plugin.
pub(super) fn probe_stalls(when: &str, d: Duration) -> Vec<CpuStalls> {
    let cpus = crate::sys::online_cpus().min(8);
    let threads: Vec<_> = (0..cpus)
        .map(|cpu| {
            std::thread::spawn(move || {
                let _ = crate::sys::pin_to_cpu(0, cpu);
                crate::sys::spin_gaps(d)
            })
        })
        .collect();
    threads
        .into_iter()
        .enumerate()
        .filter_map(|(cpu, t)| Some((cpu, t.join().ok()?)))
        .map(|(cpu, g)| CpuStalls {
            when: when.into(),
            cpu,
            seconds: g.span_ns as f64 / 1e9,
            gaps_over_50us: g.over_50us,
            gaps_over_1ms: g.over_1ms,
            max_gap_us: g.max_ns as f64 / 1e3,
            lost_pct: 100.0 * g.lost_ns as f64 / g.span_ns.max(1) as f64,
        })
        .collect()
}

/// The health of `results` as measured so far.
pub(super) fn health(results: &Results, start: &AtStart, stalls: Vec<CpuStalls>) -> Health {
    let arms: Vec<&LoadSummary> = results
        .rounds
        .iter()
        .filter(|r| r.variant != results::BASELINE)
        .flat_map(|r| std::iter::once(&r.latency).chain(r.paired_baseline.as_ref()))
        .collect();
    let fell = arms
        .iter()
        .filter(|s| s.schedule.as_ref().is_some_and(|x| x.fell_behind))
        .count();
    let aa = results
        .variants
        .iter()
        .find(|v| v.id == results::BASELINE_AA)
        .and_then(|v| v.overhead.as_ref())
        .map(|o| o.p50);
    let cpus = crate::sys::online_cpus();
    let loadavg_end = loadavg();
    let steal = steal_pct(start.steal);
    let mut warnings = Vec::new();
    if let Some(e) = aa {
        if e.has_interval() && !e.contains(0.0) {
            warnings.push(format!(
                "the A/A check failed: two identical no-plugin listeners differ by {:+.1} µs p50 [{:+.1}, {:+.1}]; the machine was too noisy (or the load generator biased) to trust differences of this size",
                e.estimate, e.ci95_low, e.ci95_high
            ));
        }
    }
    if !arms.is_empty() && fell * 20 > arms.len() {
        warnings.push(format!(
            "{fell} of {} latency windows fell behind their schedule (their latency includes queueing): the machine could not keep the rate",
            arms.len()
        ));
    }
    // Other work at the start, measured (the load average right after a build still holds the
    // build, and at the end it counts the run's own threads).
    if let Some(w) = start.other.as_ref().and_then(OtherCpu::warning) {
        warnings.push(w);
    }
    let kept = results::stalled_kept(&results.rounds);
    if kept > 0 {
        warnings.push(format!(
            "{kept} latency window(s) were still stalled after {} retries and are in the estimates: the added latency of their Envoy processes includes the stall (see `rounds[].paired_baseline.schedule` in results.json)",
            results::STALL_RETRIES
        ));
    }
    if let Some(s) = steal.filter(|s| *s >= 5.0) {
        warnings.push(format!(
            "CPU steal was {s:.1}% of all CPU time: the VM's host took CPU time from this run"
        ));
    }
    if let Some(w) = stalls
        .iter()
        .max_by(|a, b| a.lost_pct.total_cmp(&b.lost_pct))
    {
        if w.lost_pct >= 2.0 {
            warnings.push(format!(
                "the machine took {:.1}% of CPU {}'s time away in gaps over 50 µs (longest {:.1} ms, {} over 1 ms in {:.1} s, {}): latency tails measure such stalls more than the plugins",
                w.lost_pct, w.cpu, w.max_gap_us / 1e3, w.gaps_over_1ms, w.seconds, w.when
            ));
        }
    }
    Health {
        stalls,
        windows_measured_again: Some(results.rounds.iter().map(|r| r.stalled_windows.len()).sum()),
        windows: arms.len(),
        windows_fell_behind: fell,
        aa_p50: aa,
        loadavg_start: start.load,
        loadavg_end,
        cpus,
        steal_pct: steal,
        other_cpu_at_start: start.other.clone(),
        warnings,
        phases: Vec::new(),
    }
}

/// The run's phases as they end, each with the wall time since the previous one ended.
pub(super) struct Laps {
    last: std::time::Instant,
    pub(super) phases: Vec<PhaseTime>,
}

impl Laps {
    pub(super) fn start() -> Self {
        Laps {
            last: std::time::Instant::now(),
            phases: Vec::new(),
        }
    }

    /// Ends phase `name` now.
    pub(super) fn lap(&mut self, name: &str) {
        let now = std::time::Instant::now();
        self.phases.push(PhaseTime {
            phase: name.into(),
            seconds: (now - self.last).as_secs_f64(),
        });
        self.last = now;
    }
}
