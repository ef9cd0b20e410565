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
        let log = std::fs::File::create(o.log).map_err(|e| {
            usage(format!(
                "cannot create Envoy's log file {} ({e})",
                o.log.display()
            ))
        })?;
        let mut cmd = Command::new(o.binary);
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
        let child = cmd
            .spawn()
            .map_err(|e| usage(format!("cannot start Envoy {} ({e})", o.binary.display())))?;
        Ok(Envoy {
            pid: child.id(),
            child,
            admin_port: o.admin_port,
            log_path: o.log.to_path_buf(),
            processor: None,
        })
    }

    /// Waits until `/ready` answers 200. An Envoy that exits, or is not ready in time, gives an
    /// error quoting the end of its log (and is stopped).
    pub fn wait_ready(&mut self, o: &StartOptions) -> anyhow::Result<()> {
        let envoy = self;
        let deadline = Instant::now() + o.ready_timeout;
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
            if Instant::now() >= deadline {
                envoy.stop();
                return Err(usage(format!(
                    "Envoy was not ready on admin port {} within {:?}; last lines of {}:\n{}",
                    o.admin_port,
                    o.ready_timeout,
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

    /// True while Envoy (and its external processor, if it has one) runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
            && self.processor.as_mut().is_none_or(|p| p.is_running())
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
