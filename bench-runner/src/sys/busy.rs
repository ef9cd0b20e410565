//! What else is using the CPUs right now: the machine's busy time from /proc/stat over a short
//! window, minus the time of this process and its descendants (from /proc/PID/stat), and the other
//! processes that used the most. Unlike the load average, which still holds a build that finished a
//! minute ago, this says what competes with a run as it starts.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One process as /proc/PID/stat shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcTimes {
    pub pid: u32,
    pub ppid: u32,
    /// The command name (field 2, without its parentheses).
    pub comm: String,
    /// Start time in clock ticks since boot: with the pid, it names one process.
    pub start: u64,
    /// utime + stime, clock ticks.
    pub own: u64,
    /// cutime + cstime: children it has waited for, clock ticks.
    pub children: u64,
}

/// Parses one /proc/PID/stat line (the command name may hold spaces and parentheses: fields are
/// counted after its last `)`).
pub fn parse_proc_stat(stat: &str) -> Option<ProcTimes> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let pid = stat[..open].trim().parse().ok()?;
    let comm = stat.get(open + 1..close)?.to_string();
    // after the name: state (field 3), ppid (4), ... utime (14), stime (15), cutime (16),
    // cstime (17), ... starttime (22)
    let f: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    let num = |field: usize| -> Option<u64> { f.get(field - 3)?.parse().ok() };
    Some(ProcTimes {
        pid,
        ppid: num(4)? as u32,
        comm,
        start: num(22)?,
        own: num(14)? + num(15)?,
        children: num(16)? + num(17)?,
    })
}

/// `cpu  user nice system idle iowait irq softirq steal ...`: (busy, all) clock ticks, where busy
/// leaves out idle, iowait and steal (time the VM's host took is counted apart, as steal); and the
/// number of `cpuN` lines.
pub fn parse_cpu_busy(stat: &str) -> Option<(u64, u64, usize)> {
    let v = super::cpu_line(stat)?;
    let all: u64 = v.iter().sum();
    let busy = all - v[3] - v[4] - v[7];
    let cpus = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Some((busy, all, cpus.max(1)))
}

/// The machine and every process at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub busy: u64,
    pub all: u64,
    pub cpus: usize,
    pub procs: Vec<ProcTimes>,
}

/// Reads /proc/stat and every /proc/PID/stat now; None where /proc/stat cannot be read.
pub fn snapshot() -> Option<Snapshot> {
    let (busy, all, cpus) = parse_cpu_busy(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let procs = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|s| parse_proc_stat(&s))
        .collect();
    Some(Snapshot {
        busy,
        all,
        cpus,
        procs,
    })
}

/// What used the CPUs over a window, in CPUs (1.0 = one CPU busy the whole window).
#[derive(Debug, Clone, PartialEq)]
pub struct Busy {
    pub seconds: f64,
    pub cpus: usize,
    /// Everything (user, system, interrupts; not idle, iowait or steal).
    pub all_cpus: f64,
    /// The runner: this process and its descendants.
    pub runner_cpus: f64,
    /// Everything else: `all_cpus - runner_cpus`.
    pub other_cpus: f64,
    /// The other processes that used the most, most first: (pid, command name, CPUs), at most 3,
    /// each above 0.05 CPU. Processes that started and ended inside the window are counted in
    /// `other_cpus` but cannot be named here.
    pub top: Vec<(u32, String, f64)>,
}

/// Whether `pid` is `root` or descends from it, by the parents in `procs`.
fn descends(pid: u32, root: u32, parent: &BTreeMap<u32, u32>) -> bool {
    let mut p = pid;
    for _ in 0..64 {
        if p == root {
            return true;
        }
        match parent.get(&p) {
            Some(&pp) if pp != p && pp != 0 => p = pp,
            _ => return false,
        }
    }
    false
}

/// [`Busy`] between two snapshots `seconds` apart; `root` is the runner's pid (its descendants are
/// the runner too). Pure: the unit tests feed it made-up snapshots.
pub fn between(before: &Snapshot, after: &Snapshot, root: u32, seconds: f64) -> Busy {
    // Clock ticks one CPU had over the window, from /proc/stat itself (no assumption on USER_HZ).
    let per_cpu = (after.all.saturating_sub(before.all) as f64 / after.cpus as f64).max(1.0);
    let cpus_of = |ticks: u64| ticks as f64 / per_cpu;
    let parent: BTreeMap<u32, u32> = before
        .procs
        .iter()
        .chain(&after.procs)
        .map(|p| (p.pid, p.ppid))
        .collect();
    let earlier: BTreeMap<(u32, u64), &ProcTimes> =
        before.procs.iter().map(|p| ((p.pid, p.start), p)).collect();
    let mut runner = 0u64;
    let mut others: Vec<(u32, String, u64)> = Vec::new();
    for p in &after.procs {
        let was = earlier.get(&(p.pid, p.start));
        let own = p.own.saturating_sub(was.map_or(0, |w| w.own));
        let children = p.children.saturating_sub(was.map_or(0, |w| w.children));
        if descends(p.pid, root, &parent) {
            // children it reaped in the window were the runner's too
            runner += own + children;
        } else {
            others.push((p.pid, p.comm.clone(), own + children));
        }
    }
    let all = after.busy.saturating_sub(before.busy);
    others.sort_by_key(|o| std::cmp::Reverse(o.2));
    let top = others
        .into_iter()
        .map(|(pid, comm, t)| (pid, comm, cpus_of(t)))
        .filter(|x| x.2 > 0.05)
        .take(3)
        .collect();
    Busy {
        seconds,
        cpus: after.cpus,
        all_cpus: cpus_of(all),
        runner_cpus: cpus_of(runner.min(all)),
        other_cpus: cpus_of(all.saturating_sub(runner)),
        top,
    }
}

/// Measures what else uses the CPUs over `window` (this thread sleeps meanwhile); None where /proc
/// cannot be read.
pub fn measure(window: Duration) -> Option<Busy> {
    let t0 = Instant::now();
    let before = snapshot()?;
    std::thread::sleep(window);
    let after = snapshot()?;
    Some(between(
        &before,
        &after,
        std::process::id(),
        t0.elapsed().as_secs_f64(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: u32, ppid: u32, comm: &str, start: u64, own: u64, children: u64) -> ProcTimes {
        ProcTimes {
            pid,
            ppid,
            comm: comm.into(),
            start,
            own,
            children,
        }
    }

    #[test]
    fn proc_stat_lines_parse_with_odd_command_names() {
        let line = "4242 (my (odd) cmd) R 17 4242 17 0 -1 4194560 100 0 0 0 250 31 7 3 20 0 1 0 9876 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(
            parse_proc_stat(line),
            Some(p(4242, 17, "my (odd) cmd", 9876, 281, 10))
        );
        assert_eq!(parse_proc_stat("garbage"), None);
    }

    #[test]
    fn busy_leaves_out_idle_iowait_and_steal() {
        let stat = "cpu  100 5 50 1000 20 3 2 40 0 0\ncpu0 50 2 25 500 10 1 1 20 0 0\ncpu1 50 3 25 500 10 2 1 20 0 0\nintr 1\n";
        assert_eq!(parse_cpu_busy(stat), Some((160, 1220, 2)));
    }

    /// Two CPUs, 1 s at 100 ticks/s: 200 ticks in all between the snapshots.
    fn snap(busy: u64, procs: Vec<ProcTimes>) -> Snapshot {
        Snapshot {
            busy,
            all: 0,
            cpus: 2,
            procs,
        }
    }

    #[test]
    fn the_runner_and_its_descendants_are_left_out_and_others_are_named() {
        let root = 100;
        let mut before = snap(
            1000,
            vec![
                p(1, 0, "init", 1, 0, 0),
                p(root, 1, "bench-runner", 50, 500, 0),
                p(101, root, "envoy", 60, 10, 0),
                p(102, 101, "envoy-worker", 61, 0, 0),
                p(200, 1, "yes", 70, 300, 0),
            ],
        );
        before.all = 10_000;
        let mut after = snap(
            1000 + 60 + 95 + 3,
            vec![
                p(1, 0, "init", 1, 3, 0),
                // the runner used 0.2 CPU, one child 0.1, a grandchild 0.1, and it reaped a child
                // that used 0.1 (cutime)
                p(root, 1, "bench-runner", 50, 520, 10),
                p(101, root, "envoy", 60, 20, 0),
                p(102, 101, "envoy-worker", 61, 10, 0),
                // a CPU hog beside it: 0.95 CPU
                p(200, 1, "yes", 70, 395, 0),
            ],
        );
        after.all = 10_200;
        let b = between(&before, &after, root, 1.0);
        assert!((b.all_cpus - 1.58).abs() < 1e-9, "{b:?}");
        assert!((b.runner_cpus - 0.5).abs() < 1e-9, "{b:?}");
        assert!((b.other_cpus - 1.08).abs() < 1e-9, "{b:?}");
        assert_eq!(b.top.len(), 1, "{b:?}");
        assert_eq!((b.top[0].0, b.top[0].1.as_str()), (200, "yes"));
        assert!((b.top[0].2 - 0.95).abs() < 1e-9);
    }

    #[test]
    fn a_reused_pid_counts_from_zero() {
        let mut before = snap(0, vec![p(300, 1, "old", 5, 900, 0)]);
        before.all = 0;
        let mut after = snap(100, vec![p(300, 1, "new", 80, 100, 0)]);
        after.all = 200;
        let b = between(&before, &after, 1234, 1.0);
        assert_eq!(b.top, vec![(300, "new".to_string(), 1.0)]);
    }

    #[test]
    fn a_busy_child_of_this_process_is_the_runner_and_a_busy_stranger_is_not() {
        // this test process is the runner: a busy thread of its own is not "other" work
        let spin = std::thread::spawn(|| {
            let t = Instant::now();
            let mut x = 0u64;
            while t.elapsed() < Duration::from_millis(600) {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
            }
            x
        });
        let b = measure(Duration::from_millis(500)).expect("/proc is readable");
        spin.join().unwrap();
        assert!(b.runner_cpus > 0.0, "{b:?}");
        assert!(b.top.iter().all(|t| t.0 != std::process::id()), "{b:?}");
    }
}
