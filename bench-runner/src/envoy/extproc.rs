//! The external processor of `ext-proc` implementations (plugins/extproc-rust): one process per Envoy,
//! started before it with every ext_proc listener's configuration (one file each, in listener order),
//! on a loopback port it picks itself and prints. Owned like Envoy: its own process group, killed
//! when the runner dies (PR_SET_PDEATHSIG; spawn it from the thread that keeps Envoy) and when this
//! handle is dropped.

use crate::error::usage;
use std::io::BufRead;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a processor may take to validate its configurations and listen.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The line a processor prints once it serves: `listening 127.0.0.1:PORT`.
pub fn port_of(line: &str) -> Option<u16> {
    line.trim()
        .strip_prefix("listening 127.0.0.1:")
        .and_then(|p| p.parse().ok())
}

pub struct Processor {
    child: Child,
    /// The processor's pid (its CPU time is read from it); the child the runner spawned leads its
    /// process group.
    pub pid: u32,
    /// The binary it runs.
    pub binary: PathBuf,
    pub port: u16,
    pub log_path: PathBuf,
}

/// Writes configuration `i` of a processor beside its log (`<stem>-extproc-<i>.json`).
fn write_configs(dir: &Path, stem: &str, configs: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let path = dir.join(format!("{stem}-extproc-{i}.json"));
            crate::sys::write_atomic(&path, c.as_bytes())?;
            Ok(path)
        })
        .collect()
}

/// `processor --config F... --check`: Ok, or the processor's first stderr line (its one-line reason)
/// and how many lines it wrote there.
pub fn check(
    binary: &Path,
    dir: &Path,
    stem: &str,
    configs: &[String],
) -> anyhow::Result<Result<(), (String, usize)>> {
    let files = write_configs(dir, stem, configs)?;
    let mut cmd = Command::new(binary);
    for f in &files {
        cmd.arg("--config").arg(f);
    }
    let out = crate::sys::die_with_runner(&mut cmd)
        .arg("--check")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| usage(format!("cannot run {} ({e})", binary.display())))?;
    if out.status.success() {
        return Ok(Ok(()));
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    Ok(Err((lines.first().unwrap_or(&"").to_string(), lines.len())))
}

impl Processor {
    /// Starts the processor on `configs` and waits until it listens. A configuration it refuses
    /// gives a usage error quoting its one line.
    pub fn start(
        binary: &Path,
        dir: &Path,
        stem: &str,
        configs: &[String],
    ) -> anyhow::Result<Processor> {
        Processor::start_under(binary, &[], dir, stem, configs)
    }

    /// As [`Processor::start`], behind `wrapper` (a program that execs the processor in the same
    /// process, such as valgrind); the wait for its listening line is then longer.
    pub fn start_under(
        binary: &Path,
        wrapper: &[String],
        dir: &Path,
        stem: &str,
        configs: &[String],
    ) -> anyhow::Result<Processor> {
        let files = write_configs(dir, stem, configs)?;
        let (log_path, log) = create_log(dir, stem)?;
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        for f in &files {
            cmd.arg("--config").arg(f);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log);
        let mut child = spawn_owned(&mut cmd).map_err(|e| {
            usage(format!(
                "cannot start the external processor {} ({e}); build it with `bench-runner build`",
                binary.display()
            ))
        })?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut first);
            let _ = tx.send(first);
        });
        let mut p = Processor {
            pid: child.id(),
            binary: binary.to_path_buf(),
            child,
            port: 0,
            log_path,
        };
        match rx
            .recv_timeout(READY_TIMEOUT * if wrapper.is_empty() { 1 } else { 6 })
            .ok()
            .and_then(|l| port_of(&l))
        {
            Some(port) => {
                p.port = port;
                Ok(p)
            }
            None => {
                p.stop();
                let log = std::fs::read_to_string(&p.log_path).unwrap_or_default();
                let line = log.lines().next().unwrap_or("no output").to_string();
                Err(usage(format!(
                    "the external processor {} did not start: {line} (log {})",
                    binary.display(),
                    p.log_path.display()
                )))
            }
        }
    }

    /// Starts a processor of your own from its command line (`run --ext-proc CMD`): `{port}` in it
    /// and `$PORT` in its environment are a free loopback port, on which it must accept TCP within
    /// the ready timeout. Its output goes to `<dir>/<stem>-extproc.log`; it dies with the runner
    /// like every processor. A command that cannot start, exits or never listens is a usage error
    /// quoting the start of its log.
    pub fn start_command(argv: &[String], dir: &Path, stem: &str) -> anyhow::Result<Processor> {
        let port = crate::sys::free_ports(1)?[0];
        let (log_path, log) = create_log(dir, stem)?;
        let argv: Vec<String> = argv
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect();
        let (prog, args) = argv
            .split_first()
            .ok_or_else(|| usage("--ext-proc: an empty command"))?;
        // Under the guard of builds: the command may start processes of its own (a shell, an
        // interpreter), and the guard kills its whole group when the runner dies.
        let mut cmd = crate::sys::tree_command(prog);
        cmd.args(args)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = cmd.spawn().map_err(|e| {
            usage(format!(
                "--ext-proc: cannot start `{}` ({e}); check the command",
                argv.join(" ")
            ))
        })?;
        let mut p = Processor {
            pid: child.id(),
            binary: PathBuf::from(&argv[0]),
            child,
            port,
            log_path,
        };
        let deadline = std::time::Instant::now() + READY_TIMEOUT;
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                // The program is the guard's child: its CPU time is the processor's.
                if let Some(program) = first_child(p.pid) {
                    p.pid = program;
                }
                return Ok(p);
            }
            crate::sys::check_interrupted()?;
            let why = if !p.is_running() {
                Some("exited")
            } else if std::time::Instant::now() >= deadline {
                Some("did not listen")
            } else {
                None
            };
            if let Some(why) = why {
                p.stop();
                let log = std::fs::read_to_string(&p.log_path).unwrap_or_default();
                let first: Vec<&str> = log
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .take(2)
                    .collect();
                return Err(usage(format!(
                    "--ext-proc: `{}` {why} on 127.0.0.1:{port} within {READY_TIMEOUT:?} (it gets the port as {{port}} and $PORT): {} (log {})",
                    argv.join(" "),
                    if first.is_empty() { "no output".to_string() } else { first.join(" / ") },
                    p.log_path.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn cpu_ns(&self) -> u64 {
        crate::sys::process_cpu_ns(self.pid).unwrap_or(0)
    }

    /// SIGKILL to its process group (it holds no state worth a graceful stop); reaps it.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: signalling our own child's process group (the child leads it).
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Processor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A processor's log, `<dir>/<stem>-extproc.log`, created.
fn create_log(dir: &Path, stem: &str) -> anyhow::Result<(PathBuf, std::fs::File)> {
    let log_path = dir.join(format!("{stem}-extproc.log"));
    let log = std::fs::File::create(&log_path).map_err(|e| {
        usage(format!(
            "cannot create the processor's log {} ({e})",
            log_path.display()
        ))
    })?;
    Ok((log_path, log))
}

/// The first child of process `pid` (`/proc/PID/task/PID/children`), if any.
fn first_child(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Spawns `cmd` owned like Envoy: its own process group (so [`Processor::stop`] kills what it
/// started too) and dead with the runner (PR_SET_PDEATHSIG; spawn it from a thread that outlives it).
fn spawn_owned(cmd: &mut Command) -> std::io::Result<Child> {
    crate::sys::die_with_runner(cmd);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    cmd.spawn()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_listening_line_gives_the_port() {
        assert_eq!(super::port_of("listening 127.0.0.1:4312\n"), Some(4312));
        assert_eq!(super::port_of("listening [::1]:4312"), None);
        assert_eq!(super::port_of(""), None);
    }
}
