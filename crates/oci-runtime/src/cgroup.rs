//! `linux.cgroupsPath` and `linux.resources`: the container's cgroup.
//!
//! The path is the same in every hierarchy: `/libpod_parent/libpod-ID`
//! is `/sys/fs/cgroup/memory/libpod_parent/libpod-ID` on cgroup v1 (and
//! likewise under cpu, pids, devices, ...) and
//! `/sys/fs/cgroup/libpod_parent/libpod-ID` on v2. The resources become
//! files written in it; [`writes`] says which, for either version, and is
//! snapshot-tested; [`ContainerCgroup`] makes the directories, writes the
//! files, puts the container in and takes it all down again.
//!
//! `linux.resources.devices` is a list of allow and deny rules: the
//! v1 `devices` controller takes them as lines of `devices.allow` and
//! `devices.deny`; cgroup v2 has no such files, and takes them as an eBPF
//! program attached to the cgroup ([`crate::device_filter`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cratebox_cgroups::Hierarchies;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxResources};
use serde::{Deserialize, Serialize};

use crate::devices::Node;

/// One value for one file of the container's cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The v1 controller whose hierarchy has the file (v2: the same name,
    /// used only to check the controller is enabled).
    pub controller: &'static str,
    /// The file.
    pub file: &'static str,
    /// What to write.
    pub value: String,
    /// The field of `config.json` it comes from, for errors.
    pub field: &'static str,
}

/// Which cgroup interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Version {
    /// One hierarchy per controller.
    V1,
    /// One hierarchy.
    V2,
}

fn w(
    controller: &'static str,
    file: &'static str,
    value: impl ToString,
    field: &'static str,
) -> Write {
    Write {
        controller,
        file,
        value: value.to_string(),
        field,
    }
}

/// Refuse what no version can do, before anything is made. `Err` holds
/// the field and why.
pub fn check(resources: &LinuxResources) -> Result<(), (String, String)> {
    let refuse = |field: &str| {
        Err((
            field.to_string(),
            "not supported by cratebox-runtime; leave it out".to_string(),
        ))
    };
    if resources.block_io().is_some() {
        return refuse("linux.resources.blockIO");
    }
    if resources
        .hugepage_limits()
        .as_ref()
        .is_some_and(|h| !h.is_empty())
    {
        return refuse("linux.resources.hugepageLimits");
    }
    if resources.network().is_some() {
        return refuse("linux.resources.network");
    }
    if resources.rdma().as_ref().is_some_and(|r| !r.is_empty()) {
        return refuse("linux.resources.rdma");
    }
    if let Some(memory) = resources.memory() {
        if memory.kernel().is_some() {
            return refuse("linux.resources.memory.kernel");
        }
    }
    if let Some(cpu) = resources.cpu() {
        if cpu.idle().is_some_and(|i| i != 0) {
            return refuse("linux.resources.cpu.idle");
        }
        if cpu.burst().is_some() {
            return refuse("linux.resources.cpu.burst");
        }
    }
    for (index, rule) in resources
        .devices()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        if let Some(access) = rule.access() {
            if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
                return Err((
                    format!("linux.resources.devices[{index}].access"),
                    format!("{access:?}: use some of r, w and m"),
                ));
            }
        }
    }
    Ok(())
}

// ANCHOR: writes
/// The files to write for `resources`, in order. `Err` names a field that
/// this version cannot honour.
pub fn writes(
    resources: &LinuxResources,
    version: Version,
    nodes: &[Node],
) -> Result<Vec<Write>, String> {
    let mut out = Vec::new();
    let v2 = version == Version::V2;
    if let Some(memory) = resources.memory() {
        let limit = memory.limit();
        if v2 {
            if let Some(limit) = limit {
                out.push(w(
                    "memory",
                    "memory.max",
                    max_or(limit),
                    "linux.resources.memory.limit",
                ));
            }
            if let Some(low) = memory.reservation() {
                out.push(w(
                    "memory",
                    "memory.low",
                    max_or(low),
                    "linux.resources.memory.reservation",
                ));
            }
            if let Some(swap) = memory.swap() {
                // v1's swap limit counts memory and swap together; v2's
                // counts only swap.
                let value = match (swap, limit) {
                    (s, _) if s < 0 => "max".to_string(),
                    (s, Some(l)) if l > 0 => (s - l).max(0).to_string(),
                    (s, _) => s.to_string(),
                };
                out.push(w(
                    "memory",
                    "memory.swap.max",
                    value,
                    "linux.resources.memory.swap",
                ));
            }
            if memory.swappiness().is_some() {
                return Err("linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness; leave it out".into());
            }
            if memory.disable_oom_killer() == Some(true) {
                return Err("linux.resources.memory.disableOOMKiller: cgroup v2 cannot turn the OOM killer off; leave it out".into());
            }
            if memory.kernel_tcp().is_some() {
                return Err("linux.resources.memory.kernelTCP: cgroup v2 has no separate limit for TCP buffers; leave it out".into());
            }
        } else {
            if let Some(limit) = limit {
                out.push(w(
                    "memory",
                    "memory.limit_in_bytes",
                    limit,
                    "linux.resources.memory.limit",
                ));
            }
            if let Some(low) = memory.reservation() {
                out.push(w(
                    "memory",
                    "memory.soft_limit_in_bytes",
                    low,
                    "linux.resources.memory.reservation",
                ));
            }
            if let Some(swap) = memory.swap() {
                out.push(w(
                    "memory",
                    "memory.memsw.limit_in_bytes",
                    swap,
                    "linux.resources.memory.swap",
                ));
            }
            if let Some(swappiness) = memory.swappiness() {
                out.push(w(
                    "memory",
                    "memory.swappiness",
                    swappiness,
                    "linux.resources.memory.swappiness",
                ));
            }
            if memory.disable_oom_killer() == Some(true) {
                out.push(w(
                    "memory",
                    "memory.oom_control",
                    1,
                    "linux.resources.memory.disableOOMKiller",
                ));
            }
            if let Some(tcp) = memory.kernel_tcp() {
                out.push(w(
                    "memory",
                    "memory.kmem.tcp.limit_in_bytes",
                    tcp,
                    "linux.resources.memory.kernelTCP",
                ));
            }
        }
    }
    if let Some(cpu) = resources.cpu() {
        if v2 {
            if let Some(shares) = cpu.shares() {
                // The same mapping as runc and docker: shares 2..262144
                // onto weights 1..10000.
                let weight = 1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142;
                out.push(w("cpu", "cpu.weight", weight, "linux.resources.cpu.shares"));
            }
            if cpu.quota().is_some() || cpu.period().is_some() {
                let quota = match cpu.quota() {
                    Some(q) if q > 0 => q.to_string(),
                    _ => "max".to_string(),
                };
                let period = cpu.period().unwrap_or(100_000);
                out.push(w(
                    "cpu",
                    "cpu.max",
                    format!("{quota} {period}"),
                    "linux.resources.cpu.quota",
                ));
            }
            if cpu.realtime_runtime().is_some() || cpu.realtime_period().is_some() {
                return Err("linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time budget; leave it out".into());
            }
        } else {
            if let Some(shares) = cpu.shares() {
                out.push(w("cpu", "cpu.shares", shares, "linux.resources.cpu.shares"));
            }
            // The period first: a quota is checked against it.
            if let Some(period) = cpu.period() {
                out.push(w(
                    "cpu",
                    "cpu.cfs_period_us",
                    period,
                    "linux.resources.cpu.period",
                ));
            }
            if let Some(quota) = cpu.quota() {
                out.push(w(
                    "cpu",
                    "cpu.cfs_quota_us",
                    quota,
                    "linux.resources.cpu.quota",
                ));
            }
            if let Some(period) = cpu.realtime_period() {
                out.push(w(
                    "cpu",
                    "cpu.rt_period_us",
                    period,
                    "linux.resources.cpu.realtimePeriod",
                ));
            }
            if let Some(runtime) = cpu.realtime_runtime() {
                out.push(w(
                    "cpu",
                    "cpu.rt_runtime_us",
                    runtime,
                    "linux.resources.cpu.realtimeRuntime",
                ));
            }
        }
        if let Some(cpus) = cpu.cpus().as_ref().filter(|c| !c.is_empty()) {
            out.push(w("cpuset", "cpuset.cpus", cpus, "linux.resources.cpu.cpus"));
        }
        if let Some(mems) = cpu.mems().as_ref().filter(|m| !m.is_empty()) {
            out.push(w("cpuset", "cpuset.mems", mems, "linux.resources.cpu.mems"));
        }
    }
    if let Some(pids) = resources.pids() {
        out.push(w(
            "pids",
            "pids.max",
            max_or(pids.limit()),
            "linux.resources.pids.limit",
        ));
    }
    let rules = resources.devices().as_deref().unwrap_or_default();
    // v2 has no files for these: see [`crate::device_filter`].
    if !rules.is_empty() && !v2 {
        for rule in rules {
            let file = if rule.allow() {
                "devices.allow"
            } else {
                "devices.deny"
            };
            out.push(w(
                "devices",
                file,
                device_rule(rule),
                "linux.resources.devices",
            ));
        }
        for rule in own_nodes(nodes) {
            out.push(w(
                "devices",
                "devices.allow",
                device_rule(&rule),
                "linux.devices",
            ));
        }
    }
    if let Some(unified) = resources.unified() {
        if !unified.is_empty() {
            return Err("linux.resources.unified: raw cgroup v2 files are not supported; use the typed fields".into());
        }
    }
    Ok(out)
}
// ANCHOR_END: writes

/// `-1` (no limit) as v2 writes it.
fn max_or(value: i64) -> String {
    if value < 0 {
        "max".to_string()
    } else {
        value.to_string()
    }
}

/// A rule as v1's `devices.allow` reads it: `c 1:3 rwm`, `a *:* rwm`.
pub fn device_rule(rule: &LinuxDeviceCgroup) -> String {
    let kind = rule.typ().map_or("a", |t| match t.as_str() {
        "b" => "b",
        "c" | "u" => "c",
        _ => "a",
    });
    let number = |n: Option<i64>| {
        n.filter(|n| *n >= 0)
            .map_or("*".to_string(), |n| n.to_string())
    };
    let access = rule.access().clone().unwrap_or_else(|| "rwm".to_string());
    format!(
        "{kind} {}:{} {access}",
        number(rule.major()),
        number(rule.minor())
    )
}

/// Rules that keep the nodes the runtime itself makes in /dev usable,
/// whatever the config's rules say (runc adds the same), and the
/// pseudo-terminals: appended after the config's own.
pub fn own_nodes(nodes: &[Node]) -> Vec<LinuxDeviceCgroup> {
    let rule = |kind: &str, major: i64, minor: Option<i64>| {
        serde_json::from_value(serde_json::json!({
            "allow": true, "type": kind, "major": major, "minor": minor, "access": "rwm"
        }))
        .expect("a rule")
    };
    let mut rules: Vec<LinuxDeviceCgroup> = nodes
        .iter()
        .map(|n| {
            rule(
                if n.kind == 'b' { "b" } else { "c" },
                n.major as i64,
                Some(n.minor as i64),
            )
        })
        .collect();
    rules.push(rule("c", 136, None));
    rules.push(rule("c", 5, Some(2)));
    rules
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const RESOURCES: &str = r#"{
        "devices": [{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 136, "access": "rwm"}],
        "memory": {"limit": 268435456, "reservation": 134217728, "swap": 536870912},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
        "pids": {"limit": 64}
    }"#;

    fn table(version: Version) -> String {
        let resources: LinuxResources = serde_json::from_str(RESOURCES).expect("resources");
        let nodes = crate::devices::default_nodes();
        match writes(&resources, version, &nodes) {
            Ok(writes) => writes
                .iter()
                .map(|w| {
                    format!(
                        "{:<8} {:<28} {:<12} ({})\n",
                        w.controller, w.file, w.value, w.field
                    )
                })
                .collect(),
            Err(error) => error,
        }
    }

    #[test]
    fn files_for_v1() {
        insta::assert_snapshot!(table(Version::V1));
    }

    #[test]
    fn files_for_v2() {
        insta::assert_snapshot!(table(Version::V2));
    }
}
