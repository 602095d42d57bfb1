//! `linux.cgroupsPath` and `linux.resources`: the container's cgroup.
//!
//! The path is the same in every hierarchy: `/libpod_parent/libpod-ID`
//! is `/sys/fs/cgroup/memory/libpod_parent/libpod-ID` on cgroup v1 (and
//! likewise under cpu, pids, devices, ...) and
//! `/sys/fs/cgroup/libpod_parent/libpod-ID` on v2. The resources become
//! files written in it; [`crate::resources`] says which, for either
//! version; [`ContainerCgroup`] makes the directories, writes the files
//! (and on v2 attaches the device program), puts the container in and
//! takes it all down again.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cratebox_cgroups::Hierarchies;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

use crate::devices::Node;
pub use crate::resources::Version;
use crate::resources::{own_nodes, writes, Write};

/// The container's cgroup: a directory in each hierarchy, and those of
/// its parents that `create` made (removed again by `delete`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContainerCgroup {
    /// The container's directories: one per v1 hierarchy, or the v2 one.
    pub dirs: Vec<PathBuf>,
    /// The v1 controller of each directory (empty on v2).
    pub controllers: BTreeMap<String, PathBuf>,
    /// Every directory `create` made, parents before children.
    pub made: Vec<PathBuf>,
    /// Which interface.
    pub version: Option<Version>,
}

/// Which interface this host gives containers: v1 wherever v1 hierarchies
/// own controllers (a hybrid host too), v2 on a unified one.
pub fn host_version(hierarchies: &Hierarchies) -> Option<Version> {
    if !hierarchies.v1.is_empty() {
        Some(Version::V1)
    } else if hierarchies.v2.is_some() {
        Some(Version::V2)
    } else {
        None
    }
}

/// The cgroup path of this process in the hierarchy mounted at `mount`
/// (v1: the one with `controller`), from /proc/self/cgroup.
fn own_path(controller: Option<&str>) -> PathBuf {
    let text = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next(), parts.next());
        let matches = match controller {
            None => controllers == Some(""),
            Some(c) => controllers.is_some_and(|cs| cs.split(',').any(|x| x == c)),
        };
        if matches {
            return PathBuf::from(path.unwrap_or("/"));
        }
    }
    PathBuf::from("/")
}

impl ContainerCgroup {
    // ANCHOR: create
    /// Make the directories of `path` (relative paths are taken from the
    /// runtime's own cgroup) and write `resources` into them.
    pub fn create(
        path: &Path,
        resources: Option<&LinuxResources>,
        nodes: &[Node],
    ) -> Result<ContainerCgroup, String> {
        let hierarchies = Hierarchies::detect();
        let version = host_version(&hierarchies)
            .ok_or("no cgroup file system is mounted: mount cgroup2 on /sys/fs/cgroup")?;
        let writes = match resources {
            Some(resources) => writes(resources, version, nodes)?,
            None => Vec::new(),
        };
        let mut cgroup = ContainerCgroup {
            version: Some(version),
            ..ContainerCgroup::default()
        };
        let result = match version {
            Version::V1 => cgroup.make_v1(&hierarchies, path),
            Version::V2 => cgroup.make_v2(&hierarchies, path, &writes),
        }
        .and_then(|()| cgroup.apply(&writes))
        .and_then(|()| match (version, resources) {
            (Version::V2, Some(resources)) => cgroup.filter_devices(resources, nodes),
            _ => Ok(()),
        });
        if let Err(error) = result {
            // Nothing of ours is inside yet: remove only what was made
            // here, and never kill what another may have put in a
            // directory that was already there.
            for dir in cgroup.made.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
            return Err(error);
        }
        Ok(cgroup)
    }
    // ANCHOR_END: create

    fn within(mount: &Path, own: PathBuf, path: &Path) -> PathBuf {
        let relative = if path.is_absolute() {
            path.to_path_buf()
        } else {
            own.join(path)
        };
        mount.join(relative.strip_prefix("/").unwrap_or(&relative))
    }

    fn make_dirs(&mut self, dir: &Path, cpuset: bool) -> Result<(), String> {
        let mut missing = Vec::new();
        let mut at = dir;
        while !at.exists() {
            missing.push(at.to_path_buf());
            at = at.parent().ok_or("a cgroup path without a parent")?;
        }
        for new in missing.into_iter().rev() {
            fs::create_dir(&new)
                .map_err(|e| format!("cannot create cgroup {}: {e}", new.display()))?;
            self.made.push(new.clone());
            if cpuset {
                // A new v1 cpuset starts empty: give it its parent's CPUs
                // and memory nodes, or no process could join it.
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    let parent = new.parent().map(|p| p.join(file)).unwrap_or_default();
                    let value = fs::read_to_string(&parent).unwrap_or_default();
                    write_file(&new.join(file), value.trim())?;
                }
            }
        }
        Ok(())
    }

    fn make_v1(&mut self, hierarchies: &Hierarchies, path: &Path) -> Result<(), String> {
        let mut by_mount: BTreeMap<&PathBuf, PathBuf> = BTreeMap::new();
        for (controller, mount) in &hierarchies.v1 {
            let dir = match by_mount.get(mount) {
                Some(dir) => dir.clone(),
                None => {
                    let dir = Self::within(mount, own_path(Some(controller)), path);
                    self.make_dirs(&dir, controller == "cpuset")?;
                    self.dirs.push(dir.clone());
                    by_mount.insert(mount, dir.clone());
                    dir
                }
            };
            self.controllers.insert(controller.clone(), dir);
        }
        Ok(())
    }

    fn make_v2(
        &mut self,
        hierarchies: &Hierarchies,
        path: &Path,
        writes: &[Write],
    ) -> Result<(), String> {
        let mount = &hierarchies.v2.as_ref().ok_or("no cgroup2 mount")?.path;
        let dir = Self::within(mount, own_path(None), path);
        self.make_dirs(&dir, false)?;
        // Each controller a write needs must be enabled in every parent's
        // cgroup.subtree_control, from the top down.
        let mut needed: Vec<&str> = writes.iter().map(|w| w.controller).collect();
        needed.sort();
        needed.dedup();
        let mut parents: Vec<&Path> = dir
            .ancestors()
            .skip(1)
            .take_while(|p| p.starts_with(mount))
            .collect();
        parents.reverse();
        for parent in parents {
            let available =
                fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
            let enabled =
                fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
            for controller in &needed {
                if !available.split_whitespace().any(|c| c == *controller) {
                    let field = writes
                        .iter()
                        .find(|w| w.controller == *controller)
                        .map_or("", |w| w.field);
                    return Err(format!(
                        "{field}: the {controller} controller is not available in {}",
                        parent.display()
                    ));
                }
                if !enabled.split_whitespace().any(|c| c == *controller) {
                    write_file(
                        &parent.join("cgroup.subtree_control"),
                        &format!("+{controller}"),
                    )?;
                }
            }
        }
        self.dirs.push(dir);
        Ok(())
    }

    fn dir_for(&self, controller: &str) -> Option<&PathBuf> {
        match self.version {
            Some(Version::V2) => self.dirs.first(),
            _ => self.controllers.get(controller),
        }
    }

    fn apply(&self, writes: &[Write]) -> Result<(), String> {
        for write in writes {
            let dir = self.dir_for(write.controller).ok_or_else(|| {
                format!(
                    "{}: this host has no {} cgroup controller",
                    write.field, write.controller
                )
            })?;
            write_file(&dir.join(write.file), &write.value)
                .map_err(|e| format!("{}: {e}", write.field))?;
        }
        Ok(())
    }

    /// cgroup v2: the device rules, and the runtime's own nodes, as an
    /// eBPF program on the container's cgroup.
    fn filter_devices(&self, resources: &LinuxResources, nodes: &[Node]) -> Result<(), String> {
        let rules = resources.devices().as_deref().unwrap_or_default();
        if rules.is_empty() {
            return Ok(());
        }
        let mut all = rules.to_vec();
        all.extend(own_nodes(nodes));
        let dir = self.dirs.first().ok_or("no cgroup")?;
        crate::device_filter::attach(dir, &all).map_err(|e| format!("linux.resources.devices: {e}"))
    }

    /// Move `pid` into every directory.
    pub fn add(&self, pid: Pid) -> Result<(), String> {
        for dir in &self.dirs {
            write_file(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// The processes inside (from the first hierarchy that lists any).
    pub fn pids(&self) -> Vec<Pid> {
        for dir in &self.dirs {
            let text = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            let pids: Vec<Pid> = text
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .map(Pid::from_raw)
                .collect();
            if !pids.is_empty() {
                return pids;
            }
        }
        Vec::new()
    }

    /// Kill whatever is inside, then remove the container's directories
    /// (even if they were there before `create`: the engine may make
    /// them) and the parents `create` made, children first. A parent
    /// another container or the engine still uses stays.
    pub fn remove(&self) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut failure = None;
        let mut order: Vec<&PathBuf> = self.made.iter().chain(&self.dirs).collect();
        // Deepest first; each once.
        order.sort_by_key(|dir| std::cmp::Reverse(dir.components().count()));
        order.dedup();
        for dir in order {
            loop {
                match fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) && self.dirs.contains(dir) => {
                        if Instant::now() > deadline {
                            failure = Some(format!(
                                "cannot remove cgroup {}: processes will not leave",
                                dir.display()
                            ));
                            break;
                        }
                        for pid in self.pids() {
                            let _ = kill(pid, Signal::SIGKILL);
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    // A shared parent still in use by someone else.
                    Err(_) if !self.dirs.contains(dir) => break,
                    Err(e) => {
                        failure = Some(format!("cannot remove cgroup {}: {e}", dir.display()));
                        break;
                    }
                }
            }
        }
        failure
    }
}

fn write_file(path: &Path, value: &str) -> Result<(), String> {
    fs::write(path, value).map_err(|e| format!("cannot write {value:?} to {}: {e}", path.display()))
}
