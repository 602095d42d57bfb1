//! Finding the cgroup hierarchies, controller by controller.
//!
//! A machine runs cgroup v2 ("unified": one tree at /sys/fs/cgroup, every
//! controller in it), cgroup v1 (one tree per controller, e.g.
//! /sys/fs/cgroup/memory), or a hybrid of both, where v1 trees own the
//! controllers and a v2 tree with none sits at /sys/fs/cgroup/unified.
//! Rather than guess from paths, read the mount table and ask each tree.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every cgroup hierarchy mounted here, and which controllers each offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hierarchies {
    /// The cgroup2 mount and the controllers its root offers.
    pub v2: Option<V2Mount>,
    /// Each v1 controller and the mount of its hierarchy (co-mounted
    /// controllers, like cpu,cpuacct, share one).
    pub v1: BTreeMap<String, PathBuf>,
}

/// The unified hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Mount {
    /// Where it is mounted.
    pub path: PathBuf,
    /// What its root's cgroup.controllers lists.
    pub controllers: BTreeSet<String>,
}

/// Which interface a container's cgroup uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// One directory per controller hierarchy.
    V1,
    /// One directory for everything.
    V2,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        })
    }
}

/// The controllers whose statistics `--stats` reports; a container joins
/// them when they are there even if it sets no limit in them.
pub const STATS_CONTROLLERS: [&str; 3] = ["memory", "cpu", "pids"];

impl Hierarchies {
    /// Read this process's mount table.
    pub fn detect() -> Hierarchies {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Hierarchies::from_mountinfo(&mountinfo, |path| {
            fs::read_to_string(path.join("cgroup.controllers")).unwrap_or_default()
        })
    }

    // ANCHOR: delegated
    /// For a rootless process (chapter 9): the subtree of the cgroup v2
    /// tree that is its own, as systemd *delegates* one to each user
    /// (`user@1000.service`), as a hierarchy of its own whose root is
    /// that subtree. It is the topmost ancestor of this process's cgroup
    /// that belongs to it; `None` on a v1 host, or where none does.
    pub fn delegated() -> Option<Hierarchies> {
        use std::os::unix::fs::MetadataExt;
        let v2 = Hierarchies::detect().v2?;
        let cgroup = fs::read_to_string("/proc/self/cgroup").ok()?;
        let own = cgroup.lines().find_map(|line| line.strip_prefix("0::"))?;
        let me = nix::unistd::getuid().as_raw();
        let mut dir = v2.path.clone();
        for part in own.split('/').filter(|part| !part.is_empty()) {
            dir.push(part);
            if fs::metadata(&dir).ok()?.uid() == me {
                let controllers = fs::read_to_string(dir.join("cgroup.controllers"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                return Some(Hierarchies {
                    v2: Some(V2Mount {
                        path: dir,
                        controllers,
                    }),
                    v1: BTreeMap::new(),
                });
            }
        }
        None
    }
    // ANCHOR_END: delegated

    /// Parse mountinfo text; `controllers_of` reads a v2 root's
    /// cgroup.controllers (a parameter so tests need no real cgroupfs).
    pub fn from_mountinfo(
        mountinfo: &str,
        controllers_of: impl Fn(&Path) -> String,
    ) -> Hierarchies {
        let mut found = Hierarchies::default();
        for line in mountinfo.lines() {
            // id parent dev root mountpoint options [optional...] - fstype source superoptions
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let Some(mount_point) = left.split_whitespace().nth(4) else {
                continue;
            };
            let mut right = right.split_whitespace();
            let (fstype, super_options) = (right.next(), right.nth(1).unwrap_or(""));
            let mount_point = PathBuf::from(mount_point);
            match fstype {
                Some("cgroup2") if found.v2.is_none() => {
                    let controllers = controllers_of(&mount_point)
                        .split_whitespace()
                        .map(str::to_string)
                        .collect();
                    found.v2 = Some(V2Mount {
                        path: mount_point,
                        controllers,
                    });
                }
                Some("cgroup") => {
                    for option in super_options.split(',') {
                        if [
                            "memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices",
                            "freezer",
                        ]
                        .contains(&option)
                        {
                            found
                                .v1
                                .entry(option.to_string())
                                .or_insert_with(|| mount_point.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        found
    }

    /// Whether `version` offers `controller`.
    pub fn offers(&self, version: Version, controller: &str) -> bool {
        match version {
            Version::V2 => self
                .v2
                .as_ref()
                .is_some_and(|v2| v2.controllers.contains(controller)),
            Version::V1 => self.v1.contains_key(controller),
        }
    }

    // ANCHOR: choose
    /// The version to use: one that offers every `required` controller;
    /// of two that do, the one with more of the statistics controllers;
    /// v2 on a tie. `None` when neither offers them all.
    pub fn choose(&self, required: &BTreeSet<&str>) -> Option<Version> {
        let usable = |v: Version| {
            let has_tree = match v {
                Version::V2 => self.v2.is_some(),
                Version::V1 => !self.v1.is_empty(),
            };
            has_tree && required.iter().all(|c| self.offers(v, c))
        };
        let stats_offered = |v: Version| {
            STATS_CONTROLLERS
                .iter()
                .filter(|c| self.offers(v, c))
                .count()
        };
        match (usable(Version::V2), usable(Version::V1)) {
            (true, true) if stats_offered(Version::V1) > stats_offered(Version::V2) => {
                Some(Version::V1)
            }
            (true, _) => Some(Version::V2),
            (false, true) => Some(Version::V1),
            (false, false) => None,
        }
    }
    // ANCHOR_END: choose

    /// One line for an error message: what each version offers here.
    pub fn describe(&self) -> String {
        let v2 = match &self.v2 {
            Some(v2) if v2.controllers.is_empty() => "cgroup v2 with no controllers".to_string(),
            Some(v2) => format!(
                "cgroup v2 with {}",
                v2.controllers.iter().cloned().collect::<Vec<_>>().join(" ")
            ),
            None => "no cgroup v2".to_string(),
        };
        let v1 = if self.v1.is_empty() {
            "no cgroup v1".to_string()
        } else {
            format!(
                "cgroup v1 with {}",
                self.v1.keys().cloned().collect::<Vec<_>>().join(" ")
            )
        };
        format!("{v2}; {v1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const UNIFIED: &str = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

    fn required(names: &[&'static str]) -> BTreeSet<&'static str> {
        names.iter().copied().collect()
    }

    #[test]
    fn hybrid_host_uses_v1_for_everything() {
        let h = Hierarchies::from_mountinfo(HYBRID, |_| String::new());
        assert_eq!(
            h.v1.get("memory"),
            Some(&PathBuf::from("/sys/fs/cgroup/memory"))
        );
        assert!(!h.v1.contains_key("name=systemd"));
        assert_eq!(h.choose(&required(&[])), Some(Version::V1));
        assert_eq!(h.choose(&required(&["memory", "pids"])), Some(Version::V1));
        assert_eq!(h.choose(&required(&["cpuset"])), None);
        insta::assert_snapshot!(h.describe(), @"cgroup v2 with no controllers; cgroup v1 with cpu cpuacct memory pids");
    }

    #[test]
    fn unified_host_uses_v2() {
        let h = Hierarchies::from_mountinfo(UNIFIED, |_| {
            "cpuset cpu io memory hugetlb pids\n".to_string()
        });
        assert!(h.v1.is_empty());
        assert_eq!(
            h.choose(&required(&["memory", "cpu", "cpuset"])),
            Some(Version::V2)
        );
        assert_eq!(h.choose(&required(&["rdma"])), None);
    }

    #[test]
    fn no_cgroups_at_all_cannot_limit() {
        let h = Hierarchies::from_mountinfo("", |_| String::new());
        assert_eq!(h.choose(&required(&[])), None);
    }
}
