//! What a container used, read from its cgroup after it ended.

use std::fmt;
use std::time::Duration;

use crate::limits::human_size;

/// Usage and events of one cgroup. `None` where the host's cgroups do not
/// keep that number (e.g. no memory controller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Most memory in use at once, in bytes.
    pub memory_peak: Option<u64>,
    /// How many times the OOM killer killed a process of this cgroup.
    pub oom_kills: u64,
    /// CPU time used by all its processes together.
    pub cpu_time: Option<Duration>,
    /// Most processes at once.
    pub pids_peak: Option<u64>,
    /// How many fork/clone calls failed because of the pids limit.
    pub pids_limit_hits: u64,
}

impl fmt::Display for Stats {
    /// `memory peak 1.2MiB, cpu 0.52s, pids peak 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_na = |v: Option<String>| v.unwrap_or_else(|| "n/a".to_string());
        write!(
            f,
            "memory peak {}, cpu {}, pids peak {}",
            or_na(self.memory_peak.map(human_size)),
            or_na(self.cpu_time.map(|t| format!("{:.2}s", t.as_secs_f64()))),
            or_na(self.pids_peak.map(|p| p.to_string())),
        )
    }
}
