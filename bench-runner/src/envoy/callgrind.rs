//! valgrind's callgrind as an instruction counter for a process the runner owns: the command prefix
//! that starts a program under it with instrumentation off, `callgrind_control` (instrumentation on,
//! zero, dump) and the counts read back from a dump's files. Finding or installing valgrind is here
//! too: it is a requirement like the plugins' toolchains, installed with apt-get when the runner is
//! root.

use crate::error::usage;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The Debian package that has `valgrind` and `callgrind_control`.
pub const PACKAGE: &str = "valgrind";

/// What to do where valgrind is missing.
pub fn fix() -> String {
    format!("apt-get install -y {PACKAGE} (the runner does it itself when it runs as root on Debian/Ubuntu); valgrind runs on Linux only")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// `valgrind --version` (e.g. `valgrind-3.19.0`) of the valgrind the runner finds
/// ([`crate::callgrind::valgrind`], the one locator: `$VALGRIND` or the PATH) when
/// `callgrind_control` is on the PATH too; else the fix.
pub fn available() -> Result<String, String> {
    if !on_path("callgrind_control") {
        return Err(fix());
    }
    crate::callgrind::valgrind()
        .map(|v| v.version)
        .map_err(|_| fix())
}

/// The valgrind program the [`wrapper`] starts: the one [`available`] found (located, not run:
/// the wrapper is built for every counted process).
fn program() -> String {
    crate::callgrind::valgrind_path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "valgrind".into())
}

/// [`available`], installing the package first when it is missing and the runner is root with
/// apt-get (as the runner installs the other toolchains it can); says so on stderr.
pub fn ensure() -> Result<String, String> {
    if let Ok(v) = available() {
        return Ok(v);
    }
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !on_path("apt-get") {
        return Err(fix());
    }
    eprintln!("valgrind not found: installing it (apt-get install -y {PACKAGE}) ...");
    let apt = |args: &[&str]| {
        let mut cmd = crate::sys::tree_command("apt-get");
        cmd.args(["-o", "DPkg::Lock::Timeout=300"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null());
        crate::sys::wait_tree(&mut cmd).is_ok_and(|s| s.success())
    };
    if !apt(&["install", "-y", "-qq", PACKAGE]) {
        apt(&["update", "-qq"]);
        apt(&["install", "-y", "-qq", PACKAGE]);
    }
    available().map_err(|_| {
        format!(
            "apt-get install -y {PACKAGE} did not give valgrind; {}",
            fix()
        )
    })
}

/// The command prefix that starts a program under callgrind with instrumentation off until
/// [`Control::instrumentation_on`], one dump file per thread, written to `out_file` (dumps go to
/// `<out_file>.<n>-<thread>`, the final one at exit to `<out_file>-<thread>`) and valgrind's own
/// messages to `log`.
pub fn wrapper(out_file: &Path, log: &Path) -> Vec<String> {
    let mut w: Vec<String> = vec![];
    if no_aslr() {
        // Address-space randomisation off (`setarch -R`, same process): hash seeds taken from
        // addresses and the layout of the heap are then the same in every process, which is
        // what makes two processes' counts agree.
        w.extend(["setarch".into(), "-R".into()]);
    }
    w.extend([
        program(),
        "--tool=callgrind".into(),
        "--instr-atstart=no".into(),
        "--separate-threads=yes".into(),
        format!("--callgrind-out-file={}", out_file.display()),
        format!("--log-file={}", log.display()),
    ]);
    w
}

/// Whether `setarch -R` is there to run a program without address-space randomisation.
pub fn no_aslr() -> bool {
    on_path("setarch") && std::env::var_os("BENCH_INSTR_ASLR").is_none()
}

/// One thread's count in one dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCount {
    /// callgrind's thread number (1: the main thread, then in creation order).
    pub thread: u32,
    /// Instructions executed (callgrind's `Ir`) between the last zero and the dump.
    pub instructions: u64,
}

/// The thread number, the dump's trigger (`dump HINT` for `callgrind_control -d HINT`) and the
/// instructions (`totals:`, written last, so a file without it is not complete yet) of one dump file.
pub fn parse_dump(text: &str) -> Option<(u32, String, u64)> {
    let mut thread = None;
    let mut trigger = None;
    let mut totals = None;
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("thread:") {
            thread = t.trim().parse().ok();
        } else if let Some(t) = line.strip_prefix("desc: Trigger:") {
            trigger = Some(t.trim().to_string());
        } else if let Some(t) = line.strip_prefix("totals:") {
            totals = t.split_whitespace().next().and_then(|x| x.parse().ok());
        }
    }
    Some((thread.unwrap_or(1), trigger?, totals?))
}

/// `callgrind_control` for one process under callgrind (run with the [`wrapper`] and `out_file`).
pub struct Control {
    pub pid: u32,
    pub out_file: PathBuf,
}

/// How long one `callgrind_control` call may take before the count is given up on.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(60);

impl Control {
    fn run(&self, args: &[&str]) -> anyhow::Result<()> {
        let mut cmd = Command::new("callgrind_control");
        cmd.args(args)
            .arg(self.pid.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = crate::sys::die_with_runner(&mut cmd)
            .spawn()
            .map_err(|e| usage(format!("cannot run callgrind_control ({e}); {}", fix())))?;
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                let out = child.wait_with_output()?;
                if status.success() {
                    return Ok(());
                }
                anyhow::bail!(
                    "callgrind_control {} {} failed ({status}): {}",
                    args.join(" "),
                    self.pid,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            if start.elapsed() > CONTROL_TIMEOUT || crate::sys::interrupted() {
                let _ = child.kill();
                let _ = child.wait();
                crate::sys::check_interrupted()?;
                anyhow::bail!(
                    "callgrind_control {} {} did not answer within {} s",
                    args.join(" "),
                    self.pid,
                    CONTROL_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Turns instrumentation on (it starts off: start-up and warm-up are not simulated in full).
    pub fn instrumentation_on(&self) -> anyhow::Result<()> {
        self.run(&["-i", "on"])
    }

    /// Sets every thread's counts to zero.
    pub fn zero(&self) -> anyhow::Result<()> {
        self.run(&["-z"])
    }

    /// Dumps every thread's counts since the last zero and returns them (the dump's files are read
    /// and removed). `hint` names the dump (letters, digits, `-`, `_`).
    pub fn dump(&self, hint: &str) -> anyhow::Result<Vec<ThreadCount>> {
        self.run(&["-d", hint])?;
        let want = format!("dump {hint}");
        let dir = self.out_file.parent().unwrap_or(Path::new("."));
        let stem = format!(
            "{}.",
            self.out_file
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
        );
        // The dump is written before callgrind_control answers; a file being written is waited for.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut counts = Vec::new();
            let mut incomplete = false;
            let mut files = Vec::new();
            for e in std::fs::read_dir(dir)?.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if !name.starts_with(&stem) {
                    continue;
                }
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                match parse_dump(&text) {
                    Some((thread, trigger, instructions)) if trigger == want => {
                        counts.push(ThreadCount {
                            thread,
                            instructions,
                        });
                        files.push(e.path());
                    }
                    Some(_) => files.push(e.path()),
                    None => incomplete = true,
                }
            }
            if !counts.is_empty() && !incomplete {
                for f in files {
                    let _ = std::fs::remove_file(f);
                }
                counts.sort_by_key(|c| c.thread);
                return Ok(counts);
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "callgrind wrote no complete dump `{hint}` for pid {} under {}",
                    self.pid,
                    dir.display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npid: 24403\ncmd:  envoy -c x.json\npart: 1\nthread: 7\n\n\ndesc: I1 cache: \ndesc: Timerange: Basic block 0 - 17538381\ndesc: Trigger: dump rust-v8-mock-w0\n\npositions: line\nevents: Ir\nsummary: 74620717\n\n\nob=(4) /usr/lib/libm.so.6\nfn=(1) f\n56 18\n\ntotals: 74620785\n";

    #[test]
    fn a_dump_file_gives_its_thread_trigger_and_totals() {
        assert_eq!(
            parse_dump(DUMP),
            Some((7, "dump rust-v8-mock-w0".into(), 74620785))
        );
        // Being written: no totals yet.
        let cut = &DUMP[..DUMP.find("totals").unwrap()];
        assert_eq!(parse_dump(cut), None);
        assert_eq!(parse_dump(""), None);
    }

    #[test]
    fn the_wrapper_counts_nothing_until_told_and_separates_threads() {
        let w = wrapper(Path::new("/t/cg"), Path::new("/t/vg.log"));
        assert!(
            w.iter()
                .any(|x| x == "valgrind" || x.ends_with("/valgrind")),
            "{w:?}"
        );
        for a in [
            "--tool=callgrind",
            "--instr-atstart=no",
            "--separate-threads=yes",
            "--callgrind-out-file=/t/cg",
        ] {
            assert!(w.iter().any(|x| x == a), "{a} in {w:?}");
        }
    }
}
