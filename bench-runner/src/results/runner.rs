//! Which runner wrote a results file: how it was compiled, and which process it was (to tell a
//! live run from a killed one).

use serde::{Deserialize, Serialize};

/// How the runner itself was compiled (an unoptimised load generator would measure itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunnerBuild {
    pub cargo_profile: String,
    pub opt_level: String,
    pub debug_assertions: bool,
    /// The runner process that wrote the file (absent in files of older runners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<RunnerProcess>,
}

impl RunnerBuild {
    pub fn current() -> RunnerBuild {
        RunnerBuild {
            cargo_profile: env!("BENCH_BUILD_PROFILE").to_string(),
            opt_level: env!("BENCH_BUILD_OPT_LEVEL").to_string(),
            debug_assertions: cfg!(debug_assertions),
            process: RunnerProcess::current(),
        }
    }
}

/// Which process a runner is, even after its pid is reused: pid, start time and boot. A reader of a
/// `running` results.json checks it to tell a live run from a killed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunnerProcess {
    pub pid: u32,
    /// Field 22 of /proc/PID/stat: the start time in clock ticks since boot.
    pub start_ticks: u64,
    /// /proc/sys/kernel/random/boot_id of the boot it ran in.
    pub boot_id: String,
}

impl RunnerProcess {
    /// This process; None where /proc cannot tell its start time.
    pub fn current() -> Option<RunnerProcess> {
        let pid = std::process::id();
        Some(RunnerProcess {
            pid,
            start_ticks: crate::sys::start_ticks(pid)?,
            boot_id: crate::sys::boot_id(),
        })
    }

    /// Why this runner is gone, judged on this machine (`hostname`: the run's host); None while it
    /// runs, and on another machine, which cannot tell.
    pub fn gone(&self, hostname: &str) -> Option<String> {
        if hostname != current_hostname() {
            return None;
        }
        let boot = crate::sys::boot_id();
        if !boot.is_empty() && !self.boot_id.is_empty() && boot != self.boot_id {
            return Some(format!(
                "runner pid {} is gone (the machine was rebooted since)",
                self.pid
            ));
        }
        (!crate::sys::process_is(self.pid, self.start_ticks))
            .then(|| format!("runner pid {} is gone", self.pid))
    }
}

pub(super) fn current_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
