//! What else used the CPUs as a run started (a field of [`super::Health`]).

use serde::{Deserialize, Serialize};

/// Other work on the machine in the moment before the Envoy processes started: /proc/stat's busy
/// time (user, system, interrupts; not idle, iowait or steal) over `seconds`, minus the runner's
/// own processes (it and its descendants), in CPUs (1.0 = one CPU busy the whole window).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OtherCpu {
    pub seconds: f64,
    pub cpus: usize,
    pub all_cpus: f64,
    pub runner_cpus: f64,
    pub other_cpus: f64,
    /// The other processes that used the most (at most 3, each over 0.05 CPU), most first.
    /// Processes that started and ended inside the window count in `other_cpus` unnamed.
    pub top: Vec<BusyProcess>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BusyProcess {
    pub pid: u32,
    pub command: String,
    pub cpus: f64,
}

/// Other work above this many CPUs at the start makes the run warn: a CPU-bound process beside it
/// uses about 1; an idle machine's daemons and timers well under 0.1.
pub const OTHER_CPU_WARN: f64 = 0.25;

impl OtherCpu {
    /// "yes (pid 4242) 0.98, cc1 (pid 77) 0.30" or "none named" when the work was too short-lived.
    pub fn named(&self) -> String {
        if self.top.is_empty() {
            return "processes too short-lived to name".into();
        }
        self.top
            .iter()
            .map(|p| format!("{} (pid {}) {:.2}", p.command, p.pid, p.cpus))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The warning when other work competed with the run at its start.
    pub fn warning(&self) -> Option<String> {
        (self.other_cpus >= OTHER_CPU_WARN).then(|| {
            format!(
                "other processes used {:.2} of {} CPUs in the {:.1} s before the Envoy processes started (top, in CPUs: {}): they compete with Envoy and the load generator; stop them and run again",
                self.other_cpus,
                self.cpus,
                self.seconds,
                self.named()
            )
        })
    }
}
