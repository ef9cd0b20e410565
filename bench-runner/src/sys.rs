//! Operating-system helpers: interruption flag, CPU pinning, per-process CPU time, loopback ports,
//! children that die with the runner, the runner's identity, output folders checked before any work,
//! what else is using the CPUs ([`busy`]), and whether stdout takes colours.

pub mod busy;

use std::io::IsTerminal;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
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

/// Whether what is printed to stdout may carry colours: never with `NO_COLOR` set (and not empty,
/// as no-color.org says), always with `CLICOLOR_FORCE` set (and not `0`), else when stdout is a
/// terminal other than `TERM=dumb`.
pub fn stdout_colours() -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if set("CLICOLOR_FORCE") {
        return true;
    }
    std::io::stdout().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
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
    // The rename would replace what is there: never a device, a pipe or a folder.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(std::io::Error::other(format!(
            "{} exists and is not a regular file",
            path.display()
        )));
    }
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
    let mut cmd = std::process::Command::new(prog);
    let out = die_with_runner(cmd.args(args)).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Makes a child that starts no processes of its own (Envoy, `envoy --version`, wrk) die with the
/// runner: SIGKILL when the thread that spawns it exits (PR_SET_PDEATHSIG), so spawn it from a thread
/// that outlives it. A runner that died between fork and exec makes the spawn fail.
pub fn die_with_runner(cmd: &mut Command) -> &mut Command {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    cmd
}

/// The guard of [`tree_command`]: the program runs in the background of a shell that, on SIGTERM,
/// kills its whole process group (itself, the program and everything the program started).
const TREE_GUARD: &str = r#"trap 'kill -KILL 0' TERM; "$@" & wait $!"#;

/// A command for a program that starts processes of its own (compilers, `npm`, `pip`): it runs under
/// a small `sh` guard, in a process group of its own; the guard gets SIGTERM when the runner dies
/// (PR_SET_PDEATHSIG) and then SIGKILLs the group. Wait for it with [`wait_tree`].
pub fn tree_command(prog: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", TREE_GUARD, "bench-runner-guard"]).arg(prog);
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    cmd
}

/// Spawns a [`tree_command`] and waits for it; Ctrl-C stops its whole group (the error is then
/// `ErrorKind::Interrupted`, and the caller's next [`check_interrupted`] ends the command).
pub fn wait_tree(cmd: &mut Command) -> std::io::Result<std::process::ExitStatus> {
    let mut child = cmd.spawn()?;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if interrupted() {
            // SAFETY: signalling the guard's own process group (its pid is the group id).
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGTERM) };
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "interrupted",
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. With the pid
/// and the boot id it names one process, even after its pid is reused.
pub fn start_ticks(pid: u32) -> Option<u64> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?).map(|s| s.1)
}

/// (state, start time) from a /proc/PID/stat line. The command name (field 2) may hold spaces and
/// parentheses, so fields are counted after its last `)`.
pub fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // the state is field 3, the start time field 22
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// This boot's id (/proc/sys/kernel/random/boot_id); empty where it cannot be read.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// True while `pid` is the live process that started at `start_ticks` (false for a dead pid, a
/// zombie, or a pid reused by a later process).
pub fn process_is(pid: u32, start_ticks: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| parse_stat(&s))
        .is_some_and(|(state, start)| start == start_ticks && !matches!(state, 'Z' | 'X' | 'x'))
}

/// Checks an output folder before any work: `flag DIR` must be a folder (or not exist yet) without
/// any of `taken` (the files a finished run leaves), and writable (tried by creating a file there;
/// folders created for the check are removed again).
pub fn check_out_dir(flag: &str, dir: &Path, taken: &[&str]) -> anyhow::Result<()> {
    let bad = |why: String| crate::error::usage(format!("{flag} {}: {why}", dir.display()));
    if dir.exists() && !dir.is_dir() {
        return Err(bad("is a file, not a folder; give a new folder".into()));
    }
    if let Some(f) = taken.iter().find(|f| dir.join(f).exists()) {
        return Err(bad(format!("a {f} is already there; choose a new folder")));
    }
    // The first missing ancestor is what the check creates (and removes).
    let mut created = None;
    let mut d = dir;
    while !d.as_os_str().is_empty() && !d.exists() {
        created = Some(d.to_path_buf());
        d = d.parent().unwrap_or(Path::new(""));
    }
    let probe = dir.join(format!(".bench-runner-probe-{}", std::process::id()));
    let tried = std::fs::create_dir_all(dir).and_then(|()| std::fs::File::create(&probe));
    let _ = std::fs::remove_file(&probe);
    if let Some(c) = &created {
        let _ = std::fs::remove_dir_all(c);
    }
    tried.map(drop).map_err(|e| {
        bad(format!(
            "cannot write there ({e}); choose a writable folder"
        ))
    })
}

/// Checks an output file before any work: `flag FILE` must not be a folder, and its folder must
/// exist or be creatable, and take a new file (as [`check_out_dir`] checks it).
pub fn check_out_file(flag: &str, file: &Path) -> anyhow::Result<()> {
    if std::fs::metadata(file).is_ok_and(|m| !m.is_file()) {
        return Err(crate::error::usage(format!(
            "{flag} {}: is a folder or a device, not a file; give a file name",
            file.display()
        )));
    }
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    check_out_dir(flag, dir, &[]).map_err(|e| {
        crate::error::usage(format!(
            "{e} (the folder of {})",
            file.file_name().unwrap_or_default().to_string_lossy()
        ))
    })
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

/// A clean-up that runs when its owner is done with it and also when the runner dies any death
/// (SIGKILL included): `sh -c SCRIPT` in a process group of its own (Ctrl-C at the terminal does not
/// reach it), blocked reading its stdin, a pipe whose only writer is this handle. Dropping the handle
/// closes the pipe and waits for the script; the kernel closes it when the runner dies. The script
/// starts with its arguments as `$1`, `$2`, ... and must begin by reading stdin (`read -r _`).
pub struct CleanupGuard {
    child: Option<std::process::Child>,
    /// How long a drop waits for the script.
    pub wait: std::time::Duration,
}

impl CleanupGuard {
    pub fn spawn(script: &str, args: &[&std::ffi::OsStr]) -> std::io::Result<CleanupGuard> {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script, "bench-runner-cleanup"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setpgid(0, 0);
                Ok(())
            });
        }
        Ok(CleanupGuard {
            child: Some(cmd.spawn()?),
            wait: std::time::Duration::from_secs(120),
        })
    }

    /// The script's process id (tests check that it ends).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        drop(child.stdin.take());
        let deadline = std::time::Instant::now() + self.wait;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: signalling the script's own process group (its pid is the group id).
        unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = child.wait();
    }
}

/// CPU time (ns) consumed so far by one thread `tid` of process `pid`
/// (/proc/<pid>/task/<tid>/schedstat, first field).
pub fn thread_cpu_ns(pid: u32, tid: u32) -> std::io::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))?;
    s.split_whitespace()
        .next()
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| std::io::Error::other("unreadable schedstat"))
}

/// The threads of `pid` whose name (/proc/<pid>/task/<tid>/comm) starts with `prefix`, by thread id.
pub fn threads_named(pid: u32, prefix: &str) -> Vec<u32> {
    let mut out: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let tid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            comm.trim_end().starts_with(prefix).then_some(tid)
        })
        .collect();
    out.sort_unstable();
    out
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
    let v = cpu_line(stat)?;
    Some((v[7], v.iter().sum()))
}

/// The first eight fields of /proc/stat's `cpu ` line (user nice system idle iowait irq softirq
/// steal), clock ticks.
pub fn cpu_line(stat: &str) -> Option<[u64; 8]> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|x| x.parse().ok())
        .collect();
    v.try_into().ok()
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
mod process_tests {
    use super::*;

    #[test]
    fn the_start_time_is_field_22_even_with_spaces_and_parentheses_in_the_name() {
        let stat =
            "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_stat(stat), Some(('S', 987654)));
        assert_eq!(parse_stat("4242 (x) Z 1 2"), None);
        let me = std::process::id();
        let t = start_ticks(me).unwrap();
        assert!(process_is(me, t));
        assert!(
            !process_is(me, t + 1),
            "another start time is another process"
        );
    }

    #[test]
    fn a_tree_dies_with_the_thread_that_started_it() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild");
        let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
        // The guard's parent-death signal fires when this thread ends: once the grandchild runs.
        let file = pid_file.clone();
        let mut guard = std::thread::spawn(move || {
            let mut cmd = tree_command("sh");
            let child = cmd.args(["-c", script.as_str()]).spawn().unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !std::fs::read_to_string(&file).is_ok_and(|s| s.ends_with('\n')) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no grandchild started"
                );
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            child
        })
        .join()
        .unwrap();
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let started = start_ticks(pid);
        let status = guard.wait().unwrap();
        assert!(
            !status.success(),
            "the guard was killed, not finished: {status}"
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while started.is_some_and(|t| process_is(pid, t)) {
            assert!(
                std::time::Instant::now() < deadline,
                "sleep {pid} outlived its guard"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[test]
    fn an_atomic_write_never_replaces_a_device_pipe_or_folder() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(write_atomic(&fifo, b"x").is_err());
        assert!(write_atomic(dir.path(), b"x").is_err());
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        write_atomic(&dir.path().join("f"), b"x").unwrap();
        write_atomic(&dir.path().join("f"), b"y").unwrap();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"y");
    }

    #[test]
    fn out_folders_and_files_are_checked_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let e = check_out_dir("--out", &file, &[]).unwrap_err();
        assert!(e.to_string().contains("is a file"), "{e}");
        std::fs::write(dir.path().join("results.json"), "{}").unwrap();
        let e = check_out_dir("--out", dir.path(), &["results.json"]).unwrap_err();
        assert!(
            e.to_string().contains("results.json is already there"),
            "{e}"
        );
        let new = dir.path().join("a/b");
        check_out_dir("--out", &new, &["results.json"]).unwrap();
        assert!(
            !dir.path().join("a").exists(),
            "the check leaves nothing behind"
        );
        let e = check_out_dir("--out", &file.join("x"), &[]).unwrap_err();
        assert!(e.to_string().contains("cannot write there"), "{e}");
        assert!(check_out_file("--out", dir.path()).is_err());
        let e = check_out_file("--out", &file.join("x.json")).unwrap_err();
        assert!(e.to_string().contains("is a file, not a folder"), "{e}");
        let e = check_out_file("--out", &file.join("sub/x.json")).unwrap_err();
        assert!(e.to_string().contains("cannot write there"), "{e}");
        check_out_file("--out", &new.join("x.json")).unwrap();
        assert!(
            !dir.path().join("a").exists(),
            "the check leaves nothing behind"
        );
        check_out_file("--out", &dir.path().join("x.json")).unwrap();
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
