//! Operating-system helpers: interruption flag, CPU pinning, per-process CPU time, loopback ports.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Installs SIGINT/SIGTERM handlers that set a flag every long loop checks. A second signal while the
/// flag is already set terminates at once (children are still killed by PR_SET_PDEATHSIG).
pub fn install_signal_handlers() {
    let flag = INTERRUPTED
        .get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Order matters: the conditional shutdown is registered first so it sees the flag before this
        // signal sets it; it fires only on the second signal.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone());
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// Returns Err(Interrupted) once Ctrl-C was pressed.
pub fn check_interrupted() -> anyhow::Result<()> {
    if interrupted() {
        Err(crate::error::Error::Interrupted.into())
    } else {
        Ok(())
    }
}

/// CPUs online on the machine (not the calling thread's affinity, which pinning narrows to one).
pub fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as usize
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Pins the calling thread (pid 0) or a process to one CPU.
pub fn pin_to_cpu(pid: libc::pid_t, cpu: usize) -> std::io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes inside it; sched_setaffinity reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Pins every thread of process `pid` to `cpu` (threads it starts later inherit it from theirs).
pub fn pin_process(pid: u32, cpu: usize) -> std::io::Result<()> {
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let tid: libc::pid_t = match entry?.file_name().to_string_lossy().parse() {
            Ok(t) => t,
            Err(_) => continue,
        };
        match pin_to_cpu(tid, cpu) {
            // a thread that ended in between
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            other => other?,
        }
    }
    Ok(())
}

/// Total CPU time (ns) consumed so far by every thread of `pid`, from /proc/<pid>/task/*/schedstat.
/// Threads that exited in between are lost, which is fine for Envoy whose threads live for the run.
pub fn process_cpu_ns(pid: u32) -> std::io::Result<u64> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = entry?.path().join("schedstat");
        if let Ok(s) = std::fs::read_to_string(&path) {
            total += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(total)
}

/// Now, as RFC 3339 UTC to the second (the `started_at`/`finished_at` of results).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Asks the kernel for `n` distinct free ports on 127.0.0.1. All are held open until every one is
/// chosen, so they are distinct; another program could still take one before Envoy binds it, which
/// Envoy's start-up check reports by name.
pub fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// True when something already listens on (or holds) 127.0.0.1:port.
pub fn port_busy(port: u16) -> bool {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).is_err()
}

/// Writes `bytes` to `path` atomically (temp file in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Runs a command and returns its trimmed stdout if it exited 0.
pub fn command_output(argv: &[&str]) -> Option<String> {
    let (prog, args) = argv.split_first()?;
    let out = std::process::Command::new(prog).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// An exclusive advisory lock on a file, released on drop. Serialises installs and builds between
/// runner processes (e.g. tests running in parallel) that share the project's cache.
pub struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    pub fn acquire(path: &Path) -> std::io::Result<FileLock> {
        use std::os::unix::io::AsRawFd;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(FileLock { _file: f })
    }
}

/// CPUs for Envoy and the load generator: separate when there are at least two.
pub fn pinning(pin: bool) -> (Option<usize>, Option<usize>) {
    if pin && crate::sys::online_cpus() >= 2 {
        (Some(0), Some(1))
    } else {
        (None, None)
    }
}

/// The machine's aggregate CPU time from the `cpu` line of /proc/stat, in clock ticks: (steal, all
/// fields summed). None where /proc/stat cannot be read.
pub fn cpu_steal_ticks() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_steal(&text)
}

/// `cpu  user nice system idle iowait irq softirq steal guest guest_nice`: (steal, sum of the first
/// eight fields; guest time is already counted in user).
pub fn parse_cpu_steal(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|x| x.parse().ok())
        .collect();
    (v.len() == 8).then(|| (v[7], v.iter().sum()))
}

/// What a spin loop on one CPU saw: the gaps between consecutive clock reads longer than 50 µs are
/// times the CPU was taken away (interrupts, other threads, the hypervisor).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpinGaps {
    pub over_50us: u64,
    pub over_1ms: u64,
    pub max_ns: u64,
    /// Sum of the gaps over 50 µs.
    pub lost_ns: u64,
    pub span_ns: u64,
}

/// Spins on the calling thread for `d`, reading the monotonic clock, and tallies the gaps.
pub fn spin_gaps(d: std::time::Duration) -> SpinGaps {
    let start = std::time::Instant::now();
    let mut last = start;
    let mut g = SpinGaps::default();
    loop {
        let now = std::time::Instant::now();
        let gap = (now - last).as_nanos() as u64;
        last = now;
        if gap > 50_000 {
            g.over_50us += 1;
            g.lost_ns += gap;
            g.over_1ms += u64::from(gap > 1_000_000);
            g.max_ns = g.max_ns.max(gap);
        }
        if now - start >= d {
            g.span_ns = (now - start).as_nanos() as u64;
            return g;
        }
    }
}

#[cfg(test)]
mod steal_tests {
    #[test]
    fn a_sleep_inside_the_spin_is_a_gap() {
        // Spinning on this thread and sleeping on it cannot both happen; a gap is a clock jump between
        // two reads, so a spin that is short sees at most what the machine did to it: nothing invented.
        let g = super::spin_gaps(std::time::Duration::from_millis(20));
        assert!(g.span_ns >= 20_000_000, "{g:?}");
        assert!(g.lost_ns <= g.span_ns, "{g:?}");
        assert!(g.over_1ms <= g.over_50us, "{g:?}");
    }

    #[test]
    fn steal_is_the_eighth_field_of_the_cpu_line() {
        let stat = "cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 50 0 25 400 5 0 2 18 0 0\n";
        assert_eq!(super::parse_cpu_steal(stat), Some((35, 1000)));
        assert_eq!(super::parse_cpu_steal("cpu0 1 2 3\n"), None);
    }
}
