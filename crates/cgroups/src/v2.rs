//! cgroup v2: one tree, one directory per cgroup, every controller's files
//! side by side in it.
//!
//! ```text
//! /sys/fs/cgroup/                      cgroup.subtree_control: +memory +cpu +pids
//! └── cratebox/                        cgroup.subtree_control: +memory +cpu +pids
//!     └── 4242-1/                      memory.max  cpu.max  pids.max  cgroup.procs
//! ```
//!
//! A controller is available in a cgroup only if its parent lists it in
//! cgroup.subtree_control, so we switch ours on at each level on the way down.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::unistd::Pid;

use crate::fs::{make_dir, read_key, read_number, remove_dir, write_file};
use crate::limits::Limits;
use crate::plan::v2_writes;
use crate::stats::Stats;
use crate::{Cgroup, CgroupError, PARENT};

/// A container's cgroup in the unified hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct V2Cgroup {
    path: PathBuf,
}

impl V2Cgroup {
    /// Create `root/cratebox/name`, switching `controllers` on for it.
    pub fn create(
        root: &Path,
        name: &str,
        controllers: &BTreeSet<String>,
    ) -> Result<V2Cgroup, CgroupError> {
        let enable: String = controllers.iter().map(|c| format!("+{c} ")).collect();
        let enable = enable.trim_end();
        let parent = root.join(PARENT);
        if !enable.is_empty() {
            write_file(root, "cgroup.subtree_control", enable)?;
        }
        let path = make_dir(&parent, name)?;
        if !enable.is_empty() {
            write_file(&parent, "cgroup.subtree_control", enable)?;
        }
        Ok(V2Cgroup { path })
    }

    /// The cgroup's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Cgroup for V2Cgroup {
    fn apply(&self, limits: &Limits) -> Result<(), CgroupError> {
        for write in v2_writes(limits) {
            if !write.required && !self.path.join(write.file).exists() {
                continue;
            }
            write_file(&self.path, write.file, &write.value)?;
        }
        Ok(())
    }

    fn add_task(&self, pid: Pid) -> Result<(), CgroupError> {
        write_file(&self.path, "cgroup.procs", &pid.to_string())
    }

    fn stats(&self) -> Stats {
        let at = |file: &str| self.path.join(file);
        Stats {
            // memory.peak is new (Linux 5.19); older kernels only say "now".
            memory_peak: read_number(&at("memory.peak"))
                .or_else(|| read_number(&at("memory.current"))),
            oom_kills: read_key(&at("memory.events"), "oom_kill").unwrap_or(0),
            cpu_time: read_key(&at("cpu.stat"), "usage_usec").map(Duration::from_micros),
            pids_peak: read_number(&at("pids.peak")),
            pids_limit_hits: read_key(&at("pids.events"), "max").unwrap_or(0),
        }
    }

    fn remove(&self) -> Result<(), CgroupError> {
        // cgroup.kill (Linux 5.14) kills every process inside at once.
        let _ = write_file(&self.path, "cgroup.kill", "1");
        remove_dir(&self.path)
    }
}
