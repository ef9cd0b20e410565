//! One Envoy process owned by the runner: its own process group, killed when the runner dies
//! (PR_SET_PDEATHSIG) and when this handle is dropped (success, error, Ctrl-C or panic unwinding).

use crate::error::usage;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Envoy {
    child: Child,
    pub pid: u32,
    pub admin_port: u16,
    pub log_path: PathBuf,
    /// The external processor of its ext_proc listeners, if it has any: stopped with it.
    pub processor: Option<super::extproc::Processor>,
    /// The processors of further processor binaries (two builds side by side, `ab`), stopped with it.
    pub more_processors: Vec<super::extproc::Processor>,
}

pub struct StartOptions<'a> {
    pub binary: &'a Path,
    pub config: &'a Path,
    pub log: &'a Path,
    pub admin_port: u16,
    /// CPU to pin Envoy to.
    pub cpu: Option<usize>,
    pub ready_timeout: Duration,
    pub log_level: &'a str,
    /// Envoy's `--concurrency` (worker threads); the measurement runs use 1.
    pub concurrency: u32,
}

/// When a starting Envoy is given up on. Several Envoy processes started at once on few CPUs (a run
/// starts all of its processes before measuring) compile their Wasm modules side by side, so how long
/// the first one takes depends on the machine and its load, not on a fault: the wait lasts the
/// timeout, and beyond it as long as Envoy keeps using CPU ([`READY_PROGRESS_NS`] within every
/// [`READY_IDLE`]), up to [`READY_CAP`] times the timeout. An Envoy that waits on nothing while not
/// ready (stuck) is given up on at the timeout.
#[derive(Debug, Clone, Copy)]
pub struct ReadyClock {
    start: Instant,
    timeout: Duration,
    progress_at: Instant,
    progress_cpu: u64,
}

/// CPU time (ns) that counts as work since the last progress.
pub const READY_PROGRESS_NS: u64 = 20_000_000;
/// Past the timeout, the longest stretch without that much CPU before Envoy is given up on.
pub const READY_IDLE: Duration = Duration::from_secs(15);
/// Past this many timeouts, a starting Envoy is given up on even while it works.
pub const READY_CAP: u32 = 10;

impl ReadyClock {
    pub fn new(start: Instant, timeout: Duration) -> Self {
        ReadyClock {
            start,
            timeout,
            progress_at: start,
            progress_cpu: 0,
        }
    }

    /// `None` while the wait goes on; else why it ends (for the error message). `cpu_ns`: Envoy's
    /// CPU time so far (all threads).
    pub fn expired(&mut self, now: Instant, cpu_ns: u64) -> Option<String> {
        if cpu_ns >= self.progress_cpu + READY_PROGRESS_NS {
            self.progress_cpu = cpu_ns;
            self.progress_at = now;
        }
        let waited = now.duration_since(self.start);
        if waited >= self.timeout * READY_CAP {
            return Some(format!(
                "after {:.0} s, though it was still using CPU (starting its Wasm modules?): the machine is too slow or too busy for this many processes; try fewer (`--processes N`) or stop other work",
                waited.as_secs_f64()
            ));
        }
        let idle = now.duration_since(self.progress_at);
        (waited >= self.timeout && idle >= READY_IDLE).then(|| {
            format!(
                "within {:.0} s (and it used almost no CPU in the last {:.0} s: stuck, not busy)",
                waited.as_secs_f64(),
                idle.as_secs_f64()
            )
        })
    }
}

/// The last `n` lines of a log file, indented, for error messages.
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A minimal HTTP/1.1 GET for the admin interface (bounded by `timeout`).
pub fn http_get(port: u16, path: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

impl Envoy {
    /// Starts Envoy and waits until `/ready` answers 200. An Envoy that exits, or is not ready in time,
    /// gives an error quoting the end of its log.
    pub fn start(o: &StartOptions) -> anyhow::Result<Envoy> {
        Envoy::start_with_args(o, &[])
    }

    /// As [`Envoy::start`], with extra command-line arguments (e.g. `--file-flush-interval-msec 100`).
    pub fn start_with_args(o: &StartOptions, extra: &[&str]) -> anyhow::Result<Envoy> {
        let mut envoy = Envoy::spawn_with_args(o, extra)?;
        envoy.wait_ready(o)?;
        Ok(envoy)
    }

    /// Starts Envoy without waiting for it (see [`Envoy::wait_ready`]): several can then start at
    /// once. Call it from the thread that keeps the process: the child dies with the thread that
    /// spawned it (its parent-death signal).
    pub fn spawn_with_args(o: &StartOptions, extra: &[&str]) -> anyhow::Result<Envoy> {
        Envoy::spawn_under(o, &[], extra)
    }

    /// As [`Envoy::spawn_with_args`], with Envoy's command line behind `wrapper` (a program and its
    /// arguments that exec Envoy in the same process, such as `valgrind --tool=callgrind ...`): the
    /// pid, process group and parent-death signal are then the wrapper's, which is Envoy.
    pub fn spawn_under(
        o: &StartOptions,
        wrapper: &[String],
        extra: &[&str],
    ) -> anyhow::Result<Envoy> {
        let log = std::fs::File::create(o.log).map_err(|e| {
            usage(format!(
                "cannot create Envoy's log file {} ({e})",
                o.log.display()
            ))
        })?;
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(o.binary);
                c
            }
            None => Command::new(o.binary),
        };
        cmd.arg("-c")
            .arg(o.config)
            .args(["--concurrency", &o.concurrency.to_string()])
            .args(["--disable-hot-restart", "-l", o.log_level])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let cpu = o.cpu;
        // Not pinned means every CPU, not the spawning thread's mask (the runner pins itself to the
        // load generator's CPU before it starts Envoy).
        let cpus = crate::sys::online_cpus();
        crate::sys::die_with_runner(&mut cmd);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                libc::setpgid(0, 0);
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                match cpu {
                    Some(c) => libc::CPU_SET(c, &mut set),
                    None => (0..cpus).for_each(|c| libc::CPU_SET(c, &mut set)),
                }
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| match wrapper.first() {
            Some(w) => usage(format!(
                "cannot start Envoy {} under {w} ({e})",
                o.binary.display()
            )),
            None => usage(format!("cannot start Envoy {} ({e})", o.binary.display())),
        })?;
        Ok(Envoy {
            pid: child.id(),
            child,
            admin_port: o.admin_port,
            log_path: o.log.to_path_buf(),
            processor: None,
            more_processors: vec![],
        })
    }

    /// Waits until `/ready` answers 200. An Envoy that exits, or is not ready in time, gives an
    /// error quoting the end of its log (and is stopped). "In time" is [`ReadyClock`]'s: the
    /// timeout, or longer while Envoy keeps using CPU (compiling its Wasm modules).
    pub fn wait_ready(&mut self, o: &StartOptions) -> anyhow::Result<()> {
        let envoy = self;
        let mut clock = ReadyClock::new(Instant::now(), o.ready_timeout);
        loop {
            if let Some(status) = envoy.child.try_wait()? {
                return Err(usage(format!(
                    "Envoy exited at start ({status}); last lines of {}:\n{}",
                    o.log.display(),
                    log_tail(o.log, 12)
                )));
            }
            if let Ok((200, _)) = http_get(o.admin_port, "/ready", Duration::from_millis(500)) {
                return Ok(());
            }
            let cpu = crate::sys::process_cpu_ns(envoy.pid).unwrap_or(0);
            if let Some(why) = clock.expired(Instant::now(), cpu) {
                envoy.stop();
                return Err(usage(format!(
                    "Envoy was not ready on admin port {} {why}; last lines of {}:\n{}",
                    o.admin_port,
                    o.log.display(),
                    log_tail(o.log, 12)
                )));
            }
            crate::sys::check_interrupted()?;
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn admin(&self, path: &str) -> std::io::Result<(u16, String)> {
        http_get(self.admin_port, path, Duration::from_secs(2))
    }

    /// Its external processors, the first as `processor`, the others in `more_processors`.
    pub fn set_processors(&mut self, processors: Vec<super::extproc::Processor>) {
        let mut it = processors.into_iter();
        self.processor = it.next();
        self.more_processors = it.collect();
    }

    /// The pid of the processor that runs `binary` (an ext_proc listener's), if any.
    pub fn processor_pid_of(&self, binary: &Path) -> Option<u32> {
        self.processor
            .iter()
            .chain(&self.more_processors)
            .find(|p| p.binary == binary)
            .map(|p| p.pid)
    }

    /// True while Envoy (and its external processors, if it has any) runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
            && self.processor.as_mut().is_none_or(|p| p.is_running())
            && self.more_processors.iter_mut().all(|p| p.is_running())
    }

    /// CPU time of its external processor, ns (None without one).
    pub fn processor_cpu_ns(&self) -> Option<u64> {
        self.processor.as_ref().map(|p| p.cpu_ns())
    }

    pub fn cpu_ns(&self) -> u64 {
        crate::sys::process_cpu_ns(self.pid).unwrap_or(0)
    }

    /// SIGTERM to the process group, SIGKILL after a grace period; always reaps the child.
    pub fn stop(&mut self) {
        if let Some(p) = self.processor.as_mut() {
            p.stop();
        }
        for p in &mut self.more_processors {
            p.stop();
        }
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pgid = self.pid as libc::pid_t;
        // SAFETY: signalling our own child's process group.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(120);

    #[test]
    fn a_working_envoy_gets_past_the_timeout_and_a_stuck_one_does_not() {
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        // compiling: 50 ms of CPU every second, well past the timeout
        let mut busy = ReadyClock::new(t0, T);
        for sec in 0..=600 {
            assert_eq!(busy.expired(s(sec), sec * 50_000_000), None, "at {sec} s");
        }
        // stuck: some CPU at first, none after 10 s
        let mut stuck = ReadyClock::new(t0, T);
        for sec in 0..T.as_secs() {
            assert_eq!(stuck.expired(s(sec), sec.min(10) * 50_000_000), None);
        }
        let why = stuck.expired(s(T.as_secs()), 10 * 50_000_000).unwrap();
        assert!(
            why.contains("within 120 s") && why.contains("stuck"),
            "{why}"
        );
        // a little CPU now and then (timers) is not work
        let mut idle = ReadyClock::new(t0, T);
        idle.expired(s(0), 30_000_000);
        assert!(idle.expired(s(T.as_secs()), 31_000_000).is_some());
    }

    #[test]
    fn even_a_working_envoy_is_given_up_on_at_the_cap() {
        let t0 = Instant::now();
        let mut c = ReadyClock::new(t0, T);
        let cap = T.as_secs() * READY_CAP as u64;
        for sec in (0..cap).step_by(5) {
            assert_eq!(
                c.expired(t0 + Duration::from_secs(sec), sec * 1_000_000_000),
                None
            );
        }
        let why = c
            .expired(t0 + Duration::from_secs(cap), cap * 1_000_000_000)
            .unwrap();
        assert!(
            why.contains("after 1200 s") && why.contains("--processes"),
            "{why}"
        );
    }
}
