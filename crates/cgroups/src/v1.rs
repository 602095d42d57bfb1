//! cgroup v1: one tree per controller, so a container's cgroup is one
//! directory in each tree, all with the same name.
//!
//! ```text
//! /sys/fs/cgroup/memory/cratebox/4242-1/   memory.limit_in_bytes  cgroup.procs
//! /sys/fs/cgroup/cpu/cratebox/4242-1/      cpu.cfs_quota_us       cgroup.procs
//! /sys/fs/cgroup/pids/cratebox/4242-1/     pids.max               cgroup.procs
//! ```
//!
//! A process must be added to each of them separately.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::unistd::Pid;

use crate::fs::{make_dir, read_file, read_key, read_number, remove_dir, write_file};
use crate::limits::Limits;
use crate::plan::{v1_writes, V1Host};
use crate::stats::Stats;
use crate::{Cgroup, CgroupError, PARENT};

/// A container's cgroups, one per v1 hierarchy it joined.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct V1Cgroup {
    /// Controller name → the container's directory in that hierarchy.
    dirs: BTreeMap<String, PathBuf>,
}

impl V1Cgroup {
    /// Create `MOUNT/cratebox/name` in the hierarchy of each controller in
    /// `mounts` (controller → mount point). Co-mounted controllers share a
    /// directory.
    pub fn create(mounts: &BTreeMap<String, PathBuf>, name: &str) -> Result<V1Cgroup, CgroupError> {
        let mut dirs = BTreeMap::new();
        let mut made: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
        for (controller, mount) in mounts {
            let dir = match made.get(mount) {
                Some(dir) => dir.clone(),
                None => match make_dir(&mount.join(PARENT), name) {
                    Ok(dir) => {
                        made.insert(mount.clone(), dir.clone());
                        dir
                    }
                    Err(error) => {
                        // Undo the hierarchies done so far.
                        for dir in made.values() {
                            let _ = remove_dir(dir);
                        }
                        return Err(error);
                    }
                },
            };
            dirs.insert(controller.clone(), dir);
        }
        Ok(V1Cgroup { dirs })
    }

    /// The container's directory for `controller`.
    pub fn dir(&self, controller: &str) -> Option<&Path> {
        self.dirs.get(controller).map(PathBuf::as_path)
    }

    /// Each distinct directory once.
    fn unique_dirs(&self) -> Vec<&PathBuf> {
        let mut dirs: Vec<&PathBuf> = self.dirs.values().collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    fn host(&self) -> Result<V1Host, CgroupError> {
        let swap_accounting = self
            .dir("memory")
            .is_some_and(|d| d.join("memory.memsw.limit_in_bytes").exists());
        let cpuset_mems = match self.dir("cpuset").and_then(Path::parent) {
            Some(parent) => read_file(&parent.join("cpuset.mems"))?,
            None => String::new(),
        };
        Ok(V1Host {
            swap_accounting,
            cpuset_mems,
        })
    }
}

impl Cgroup for V1Cgroup {
    fn apply(&self, limits: &Limits) -> Result<(), CgroupError> {
        // The shared parent of a v1 cpuset needs its own cpus and mems
        // before any child can have some.
        if let Some(parent) = self.dir("cpuset").and_then(Path::parent) {
            if read_file(&parent.join("cpuset.cpus"))?.is_empty() {
                let top = parent.parent().unwrap_or(parent);
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    write_file(parent, file, &read_file(&top.join(file))?)?;
                }
            }
        }
        let host = self.host()?;
        for write in v1_writes(limits, &host)? {
            let dir = self
                .dir(write.controller)
                .ok_or(CgroupError::NoController(write.controller))?;
            if !write.required && !dir.join(write.file).exists() {
                continue;
            }
            write_file(dir, write.file, &write.value)?;
        }
        Ok(())
    }

    fn add_task(&self, pid: Pid) -> Result<(), CgroupError> {
        for dir in self.unique_dirs() {
            write_file(dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    fn stats(&self) -> Stats {
        let at = |controller: &str, file: &str| self.dir(controller).map(|d| d.join(file));
        let number =
            |controller: &str, file: &str| at(controller, file).and_then(|p| read_number(&p));
        let key = |controller: &str, file: &str, k: &str| {
            at(controller, file).and_then(|p| read_key(&p, k))
        };
        Stats {
            memory_peak: number("memory", "memory.max_usage_in_bytes"),
            oom_kills: key("memory", "memory.oom_control", "oom_kill").unwrap_or(0),
            // cpuacct counts nanoseconds; it may share a hierarchy with cpu.
            cpu_time: number("cpuacct", "cpuacct.usage").map(Duration::from_nanos),
            pids_peak: number("pids", "pids.peak"),
            pids_limit_hits: key("pids", "pids.events", "max").unwrap_or(0),
        }
    }

    fn remove(&self) -> Result<(), CgroupError> {
        let mut first_error = None;
        for dir in self.unique_dirs() {
            if let Err(error) = remove_dir(dir) {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
