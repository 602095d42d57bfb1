//! # cratebox-runtime: the flow of one container run
//!
//! The chapter crates each own one kernel idea; this crate strings them
//! together in the order a run needs them, and undoes them in reverse:
//!
//! ```text
//! spawn container (sets up) ─► create cgroup (limits) ─► add it to the cgroup ─► start
//!                                                                               │
//! remove cgroup ◄── read stats ◄────────────────────── wait for the command ◄───┘
//! ```
//!
//! Chapter 3 is where it begins; chapter 4 adds images and containers;
//! later chapters add the network.
//!
//! | file | what | chapter |
//! |---|---|---|
//! | `lib.rs` | [`run_limited`]: a container in a cgroup, start to end; [`explain`] | 3 |
//! | [`layered`] | [`layered::run_on_layers`]: a command on an image's layers, for `run` and a build's `RUN` | 4 |
//! | [`containers`] | container records and their writable layers | 4 |
//! | [`engine`] | the state root: images, unpacked layers, containers; run, commit, rmi | 4 |
//! | [`demo`] | the demo root file system as the image `demo:latest` | 4 |
//! | [`error`] | [`EngineError`]: every engine failure, with its exit code | 4 |
//! | [`supervisor`] | one process per running container: output, exit, restarts | 6 |
//! | [`logs`] | the container's output in docker's json-file format | 6 |
//! | [`lifecycle`] | create, stop, kill, wait, rm: a container's states | 6 |
//! | [`exec`] | a command in a running container: its namespaces, cgroup, env | 6 |
//! | [`attach`] | `attach`: a socket per detached container, frames, Ctrl-P Ctrl-Q | 6 |
//! | [`cp`] | files between a container and the host, resolved inside its root | 6 |
//! | [`health`] | HEALTHCHECK: a check run through exec, healthy or not | 6 |
//! | [`volumes`] | `-v`, `--mount`, `--tmpfs`; named and anonymous volumes | 6 |
//! | [`security`] | a container's security options, checked at create, kept in its record | 9 |
//! | [`slirp`] | `--network slirp4netns`: a network without root | 9 |

pub mod attach;
pub mod containers;
pub mod cp;
pub mod demo;
pub mod engine;
pub mod error;
pub mod exec;
pub mod foreground;
pub mod health;
pub mod layered;
pub mod lifecycle;
pub mod logs;
pub mod net;
pub mod pump;
pub mod security;
pub mod slirp;
pub mod supervisor;
pub mod volumes;

pub use error::EngineError;

use cratebox_cgroups::{
    create, unique_name, AnyCgroup, Cgroup, CgroupError, Hierarchies, Limits, Stats,
};
use cratebox_sandbox::{spawn, ContainerConfig, ContainerError, Started};
use nix::unistd::Pid;
use thiserror::Error;

/// How a container run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// The command's exit code (128 + signal when killed).
    pub code: i32,
    /// What it used, read just before its cgroup was removed.
    pub stats: Stats,
}

/// Why a run failed before the command could finish.
#[derive(Debug, Error)]
pub enum RunError {
    /// Setting up or tearing down the cgroup failed.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// Starting the container failed.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// Plugging the container into its network failed (chapter 7).
    #[error("{0}")]
    Network(String),
    /// Preparing the directories the container needs failed.
    #[error("cannot prepare {path}: {source}")]
    Prepare {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl RunError {
    /// The exit code for a command-line program: the container's own
    /// (125/126/127) or 125 for ours.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Container(error) => error.exit_code(),
            RunError::Cgroup(_) | RunError::Prepare { .. } | RunError::Network(_) => {
                cratebox_sandbox::report::SETUP_FAILED
            }
        }
    }
}

// ANCHOR: run_limited
/// Run a container inside a new cgroup with `limits`. The container's first
/// process joins the cgroup while it still waits for its go-ahead, so not
/// one instruction of the command runs unlimited; its own setup (mounts,
/// hostname) runs meanwhile, side by side with the cgroup's.
pub fn run_limited(config: &ContainerConfig, limits: &Limits) -> Result<RunOutcome, RunError> {
    let running = start_limited(config, limits)?;
    let ran = running.container.wait().map_err(RunError::from);
    let stats = running.cgroup.finish();
    Ok(RunOutcome {
        code: ran?,
        stats: stats?,
    })
}
// ANCHOR_END: run_limited

/// A container started by [`start_limited`]: its command runs.
#[derive(Debug)]
pub struct Running {
    /// The container.
    pub container: Started,
    /// Its cgroup, to be read and removed once it ends.
    pub cgroup: ContainerCgroup,
}

/// The cgroup of a running container.
#[derive(Debug)]
pub struct ContainerCgroup(AnyCgroup);

impl ContainerCgroup {
    /// What the container used so far.
    pub fn stats(&self) -> Stats {
        self.0.stats()
    }

    /// The cgroup itself.
    pub fn cgroup(&self) -> &AnyCgroup {
        &self.0
    }

    /// Take over a container's cgroup again (after an execve).
    pub fn adopt(cgroup: AnyCgroup) -> ContainerCgroup {
        ContainerCgroup(cgroup)
    }

    /// Read what was used, then remove the cgroup.
    pub fn finish(self) -> Result<Stats, RunError> {
        let stats = self.0.stats();
        self.0.remove()?;
        Ok(stats)
    }
}

// ANCHOR: start_limited
/// The first half of [`run_limited`]: spawn, make the cgroup, join it,
/// let the command start. Returns once the command runs (or could not
/// start); nothing is left behind on an error.
pub fn start_limited(config: &ContainerConfig, limits: &Limits) -> Result<Running, RunError> {
    start_limited_with(config, limits, |_| Ok(()))
}

// ANCHOR: start_limited_with
/// [`start_limited`], with `between` run once the container's first
/// process exists and is in its cgroup, before its command starts: where
/// chapter 7 plugs it into its network. If `between` fails, the container
/// never runs its command.
pub fn start_limited_with(
    config: &ContainerConfig,
    limits: &Limits,
    between: impl FnOnce(Pid) -> Result<(), RunError>,
) -> Result<Running, RunError> {
    // The child sets up its mounts while we make its cgroup.
    let container = spawn(config)?;
    // Chapter 9: the host's cgroup tree is not a rootless user's to write,
    // but the subtree systemd delegates to the user is. Without one, a
    // rootless container that asks for no limits gets no cgroup at all.
    let unlimited = Limits {
        collect_stats: limits.collect_stats,
        ..Limits::default()
    };
    let made = match cratebox_sandbox::rootless::in_user_namespace() {
        false => create(&Hierarchies::detect(), &unique_name(), limits),
        true => match Hierarchies::delegated() {
            Some(own) => create(&own, &unique_name(), limits),
            None if *limits == unlimited => Ok(AnyCgroup::Unlimited),
            None => Err(cratebox_cgroups::CgroupError::Rootless),
        },
    };
    let cgroup = match made {
        Ok(cgroup) => cgroup,
        Err(error) => {
            container.abort();
            return Err(error.into());
        }
    };
    if let Err(error) = cgroup.add_task(container.pid()) {
        container.abort();
        let _ = cgroup.remove();
        return Err(error.into());
    }
    if let Err(error) = between(container.pid()) {
        // The child's own failure, if it failed first, says more.
        let reported = container.abort_reporting();
        let _ = cgroup.remove();
        return Err(reported.map_or(error, RunError::from));
    }
    match container.go() {
        Ok(container) => Ok(Running {
            container,
            cgroup: ContainerCgroup(cgroup),
        }),
        Err(error) => {
            let _ = cgroup.remove();
            Err(error.into())
        }
    }
}
// ANCHOR_END: start_limited_with
// ANCHOR_END: start_limited

// ANCHOR: explain
/// What to tell the user about how the run ended, beyond its exit code:
/// the OOM killer, and forks refused by the pids limit.
pub fn explain(outcome: &RunOutcome, limits: &Limits) -> Vec<String> {
    let mut lines = Vec::new();
    if outcome.stats.oom_kills > 0 {
        let limit = limits
            .memory
            .map(cratebox_cgroups::limits::human_size)
            .unwrap_or_else(|| "unknown".into());
        if outcome.code == 137 {
            lines.push(format!("killed: out of memory (limit {limit})"));
        } else {
            lines.push(format!(
                "out of memory: the kernel killed a process of the container (limit {limit})"
            ));
        }
    }
    if outcome.stats.pids_limit_hits > 0 {
        let limit = limits
            .pids
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unknown".into());
        lines.push(format!(
            "pids limit reached: {} attempts to start a process were refused (limit {limit})",
            outcome.stats.pids_limit_hits
        ));
    }
    lines
}
// ANCHOR_END: explain

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_and_pids_are_explained() {
        let limits = Limits {
            memory: Some(32 << 20),
            pids: Some(20),
            ..Limits::default()
        };
        let outcome = RunOutcome {
            code: 137,
            stats: Stats {
                oom_kills: 1,
                pids_limit_hits: 3,
                ..Stats::default()
            },
        };
        insta::assert_snapshot!(explain(&outcome, &limits).join("\n"), @r"
        killed: out of memory (limit 32MiB)
        pids limit reached: 3 attempts to start a process were refused (limit 20)
        ");
        let quiet = RunOutcome {
            code: 0,
            stats: Stats::default(),
        };
        assert!(explain(&quiet, &limits).is_empty());
    }
}
