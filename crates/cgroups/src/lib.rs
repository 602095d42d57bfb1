//! # cratebox-cgroups: limiting what a container may use
//!
//! Namespaces decide what a container can *see*; control groups decide how
//! much it can *use*. A cgroup is a directory in a special file system;
//! writing `33554432` to its `memory.max` caps every process in it at 32 MiB,
//! and writing a pid to its `cgroup.procs` puts that process in.
//!
//! Linux has two interfaces for this, and real machines run either or a mix
//! (see the book's chapter 3 for pictures of both), so this crate has:
//!
//! | file | what |
//! |---|---|
//! | [`limits`] | docker's flag values parsed: `-m 32m`, `--cpus 1.5`, ... (pure) |
//! | [`plan`] | the files to write for v2 and for v1 (pure, snapshot-tested) |
//! | [`detect`] | which hierarchies are mounted and which controllers each offers |
//! | [`v2`], [`v1`] | the two implementations of the [`Cgroup`] trait |
//! | [`stats`] | peak memory, CPU time, pids, OOM kills, read back at the end |
//! | [`stale`] | removing cgroups that a crashed run left behind |
//!
//! The flow in chapter 3: [`create`] a cgroup for the container (picking v1
//! or v2 per host), [`Cgroup::apply`] the limits, [`Cgroup::add_task`] the
//! container's first process *before* it runs the command, wait, read
//! [`Cgroup::stats`], [`Cgroup::remove`].

pub mod detect;
mod fs;
pub mod limits;
pub mod plan;
pub mod stale;
pub mod stats;
pub mod v1;
pub mod v2;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use nix::unistd::Pid;
use thiserror::Error;

pub use detect::{Hierarchies, Version};
pub use limits::Limits;
pub use stats::Stats;
pub use v1::V1Cgroup;
pub use v2::V2Cgroup;

/// The directory, in each hierarchy, that holds every container's cgroup.
pub const PARENT: &str = "cratebox";

// ANCHOR: cgroup_trait
/// What every cgroup implementation can do. One trait, two worlds: the
/// caller never needs to know which version it got.
pub trait Cgroup {
    /// Write the limits to the cgroup's files.
    fn apply(&self, limits: &Limits) -> Result<(), CgroupError>;
    /// Move process `pid` (and, from then on, its future children) in.
    fn add_task(&self, pid: Pid) -> Result<(), CgroupError>;
    /// What the processes used so far, and what the kernel did to them.
    fn stats(&self) -> Stats;
    /// Kill whatever is still inside and delete the cgroup.
    fn remove(&self) -> Result<(), CgroupError>;
}
// ANCHOR_END: cgroup_trait

/// Why a cgroup could not be set up or torn down.
#[derive(Debug, Error)]
pub enum CgroupError {
    /// A limit needs a controller neither hierarchy offers.
    #[error("{flag} needs the {controller} cgroup controller, which this host does not offer ({offered}): leave {flag} out")]
    Unavailable {
        /// The flag that asked for it.
        flag: &'static str,
        /// The controller.
        controller: &'static str,
        /// What the host has.
        offered: String,
    },
    /// Limits for a rootless container, which has no cgroup of its own.
    #[error("a rootless container cannot be given limits here: no cgroup v2 subtree is delegated to this user (systemd does it on a cgroup v2 host, in user@UID.service); run it as root, or without --memory, --cpus, --cpu-shares, --pids-limit and --cpuset-cpus")]
    Rootless,
    /// No cgroup file system is mounted at all.
    #[error("no cgroup file system is mounted: mount cgroup2 on /sys/fs/cgroup (or run without limits in chapter 2)")]
    NoHierarchy,
    /// The plan named a controller this cgroup did not join.
    #[error("internal: the {0} controller was not joined")]
    NoController(&'static str),
    /// A flag value that does not fit the others.
    #[error(transparent)]
    Limit(#[from] limits::LimitError),
    /// mkdir failed.
    #[error("cannot create cgroup {path}: {source}")]
    Create {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing a value failed (the kernel refuses bad values with EINVAL).
    #[error("cannot write {value:?} to {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What we tried to write.
        value: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Processes would not leave.
    #[error("cgroup {0} still has processes after killing them")]
    Busy(PathBuf),
    /// rmdir failed.
    #[error("cannot remove cgroup {path}: {source}")]
    Remove {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A cgroup of either version (kept in a container's record while it
/// runs, so the supervisor can remove it after an execve).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AnyCgroup {
    /// cgroup v1: a directory per hierarchy.
    V1(V1Cgroup),
    /// cgroup v2: one directory.
    V2(V2Cgroup),
    /// None at all (chapter 9): a rootless container that asked for no
    /// limits. It is counted in no cgroup of its own, and has no
    /// statistics.
    Unlimited,
}

impl AnyCgroup {
    fn inner(&self) -> Option<&dyn Cgroup> {
        match self {
            AnyCgroup::V1(cgroup) => Some(cgroup),
            AnyCgroup::V2(cgroup) => Some(cgroup),
            AnyCgroup::Unlimited => None,
        }
    }

    /// Which version this is (`None`: no cgroup).
    pub fn version(&self) -> Option<Version> {
        match self {
            AnyCgroup::V1(_) => Some(Version::V1),
            AnyCgroup::V2(_) => Some(Version::V2),
            AnyCgroup::Unlimited => None,
        }
    }
}

impl Cgroup for AnyCgroup {
    fn apply(&self, limits: &Limits) -> Result<(), CgroupError> {
        match self.inner() {
            Some(cgroup) => cgroup.apply(limits),
            // Statistics alone ask for nothing to be written.
            None if Limits {
                collect_stats: false,
                ..limits.clone()
            } == Limits::default() =>
            {
                Ok(())
            }
            None => Err(CgroupError::Rootless),
        }
    }
    fn add_task(&self, pid: Pid) -> Result<(), CgroupError> {
        self.inner().map_or(Ok(()), |cgroup| cgroup.add_task(pid))
    }
    fn stats(&self) -> Stats {
        self.inner()
            .map_or_else(Stats::default, |cgroup| cgroup.stats())
    }
    fn remove(&self) -> Result<(), CgroupError> {
        self.inner().map_or(Ok(()), |cgroup| cgroup.remove())
    }
}

/// The flag that asks for each controller, for error messages.
fn flag_for(controller: &str) -> &'static str {
    match controller {
        "memory" => "--memory",
        "cpu" => "--cpus/--cpu-shares",
        "pids" => "--pids-limit",
        _ => "--cpuset-cpus",
    }
}

// ANCHOR: create
/// Make a cgroup named `name` for a container with `limits`, in whichever
/// version offers what the limits need, and apply them. It joins the
/// statistics controllers too when asked to (`--stats`) and the host has
/// them, so statistics work without limits.
pub fn create(
    hierarchies: &Hierarchies,
    name: &str,
    limits: &Limits,
) -> Result<AnyCgroup, CgroupError> {
    plan::check(limits)?;
    let required = plan::required_controllers(limits);
    let version = hierarchies.choose(&required).ok_or_else(|| {
        let missing = required
            .iter()
            .find(|c| !hierarchies.offers(Version::V2, c) && !hierarchies.offers(Version::V1, c));
        match missing {
            Some(controller) => CgroupError::Unavailable {
                flag: flag_for(controller),
                controller,
                offered: hierarchies.describe(),
            },
            None => CgroupError::NoHierarchy,
        }
    })?;
    // ANCHOR: create_cgroup
    // Remove what crashed runs left, before adding ours.
    stale::remove_stale(hierarchies);
    // Join only what is used: every hierarchy joined is a mkdir now and an
    // rmdir later. The statistics need memory, cpu (cpuacct in v1) and pids.
    let stats = limits.collect_stats;
    let wanted = |c: &str| {
        required.contains(c)
            || (stats && (detect::STATS_CONTROLLERS.contains(&c) || c == "cpuacct"))
    };
    let cgroup = match version {
        Version::V2 => {
            let v2 = hierarchies.v2.as_ref().ok_or(CgroupError::NoHierarchy)?;
            let controllers: BTreeSet<String> = v2
                .controllers
                .iter()
                .filter(|c| wanted(c))
                .cloned()
                .collect();
            AnyCgroup::V2(V2Cgroup::create(&v2.path, name, &controllers)?)
        }
        Version::V1 => {
            let mounts: BTreeMap<String, PathBuf> = hierarchies
                .v1
                .iter()
                .filter(|(c, _)| wanted(c))
                .map(|(c, m)| (c.clone(), m.clone()))
                .collect();
            AnyCgroup::V1(V1Cgroup::create(&mounts, name)?)
        }
    };
    if let Err(error) = cgroup.apply(limits) {
        let _ = cgroup.remove();
        return Err(error);
    }
    Ok(cgroup)
    // ANCHOR_END: create_cgroup
}
// ANCHOR_END: create

/// A name for a new container's cgroup: the supervising process's pid (so
/// [`stale`] can tell when its owner is gone) and a counter.
pub fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
