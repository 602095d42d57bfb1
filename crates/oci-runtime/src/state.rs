//! What `create` leaves under `--root` for the other commands: one
//! directory per container, holding
//!
//! ```text
//! /run/cratebox-runtime/ID/
//!   state.json   the record below: pid, bundle, cgroup, hooks still to run
//!   exec.fifo    while it exists, the container is "created": its process
//!                waits to read a byte from it, which `start` writes
//! ```
//!
//! The status is never stored; it is read from the world each time
//! ([`Record::status`]), so it cannot go stale when a process dies.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use cratebox_sandbox::process::ProcessStamp;
use nix::unistd::Pid;
use oci_spec::runtime::Hooks;
use serde::{Deserialize, Serialize};

use crate::cgroup::ContainerCgroup;
use crate::lifecycle::Status;
use crate::RuntimeError;

/// Where containers live when `--root` is not given.
pub const DEFAULT_ROOT: &str = "/run/cratebox-runtime";

/// The file whose presence means "created, not started".
pub const FIFO: &str = "exec.fifo";

/// A container's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Its id.
    pub id: String,
    /// Its process, stamped as chapter 6 stamps a supervisor: pid, start
    /// time and boot. A pid is reused after a process ends; the stamp
    /// is not.
    pub process: ProcessStamp,
    /// The bundle it was created from.
    pub bundle: PathBuf,
    /// `annotations` of its config.
    pub annotations: BTreeMap<String, String>,
    /// When it was created, RFC 3339.
    pub created: String,
    /// Its cgroup.
    pub cgroup: ContainerCgroup,
    /// Its hooks, as they were at `create` (a later change to the
    /// bundle's config must not change them).
    pub hooks: Option<Hooks>,
    /// Whether it has its own PID namespace (then killing its first
    /// process ends all of it).
    pub own_pid_namespace: bool,
    /// Whether its config named a process (without one, `start` fails).
    #[serde(default = "yes")]
    pub has_process: bool,
}

fn yes() -> bool {
    true
}

/// The spec's `state` document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciState {
    /// The spec version.
    pub oci_version: String,
    /// The container's id.
    pub id: String,
    /// Its status.
    pub status: Status,
    /// Its process (0 once stopped).
    pub pid: i32,
    /// Its bundle.
    pub bundle: PathBuf,
    /// Its config's annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub annotations: BTreeMap<String, String>,
    /// When it was created (an extension runc also has).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created: Option<String>,
}

/// Refuse ids that could escape `--root` or confuse a path.
pub fn check_id(id: &str) -> Result<(), RuntimeError> {
    let ok = !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 1024
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(RuntimeError::BadId(id.to_string()))
    }
}

impl Record {
    /// The container's directory under `root`.
    pub fn dir(root: &Path, id: &str) -> PathBuf {
        root.join(id)
    }

    /// Read the record of `id`.
    pub fn load(root: &Path, id: &str) -> Result<Record, RuntimeError> {
        check_id(id)?;
        let path = Self::dir(root, id).join("state.json");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(if Self::dir(root, id).exists() {
                    RuntimeError::Refused {
                        id: id.to_string(),
                        refusal: crate::lifecycle::Refusal::StillCreating,
                    }
                } else {
                    RuntimeError::NoSuchContainer(id.to_string())
                });
            }
            Err(e) => return Err(RuntimeError::io(path, e)),
        };
        serde_json::from_str(&text).map_err(|e| {
            RuntimeError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })
    }

    /// Write the record (to a new file renamed over the old one, so a
    /// reader never sees half of it).
    pub fn save(&self, root: &Path) -> Result<(), RuntimeError> {
        let dir = Self::dir(root, &self.id);
        let text = serde_json::to_string_pretty(self).expect("a record serializes");
        let temporary = dir.join(".state.json");
        fs::write(&temporary, text).map_err(|e| RuntimeError::io(&temporary, e))?;
        fs::rename(&temporary, dir.join("state.json")).map_err(|e| RuntimeError::io(&temporary, e))
    }

    /// The container's process, as the host numbers it.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.process.pid as i32)
    }

    /// Whether the container's process is still the one we started (and
    /// not a zombie).
    pub fn alive(&self) -> bool {
        self.process.is_alive()
    }

    // ANCHOR: status
    /// The status, read from the world: no process → stopped; a process
    /// and the fifo → created; a process without it → running.
    pub fn status(&self, root: &Path) -> Status {
        if !self.alive() {
            Status::Stopped
        } else if Self::dir(root, &self.id).join(FIFO).exists() {
            Status::Created
        } else {
            Status::Running
        }
    }
    // ANCHOR_END: status

    /// The spec's state document for this record.
    pub fn oci_state(&self, status: Status) -> OciState {
        OciState {
            oci_version: crate::OCI_VERSION.to_string(),
            id: self.id.clone(),
            status,
            pid: if status == Status::Stopped {
                0
            } else {
                self.pid().as_raw()
            },
            bundle: self.bundle.clone(),
            annotations: self.annotations.clone(),
            created: Some(self.created.clone()),
        }
    }
}

/// Every container id under `root`, sorted.
pub fn list(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = fs::read_dir(root)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_leave_the_root_are_refused() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b", "a\0b"] {
            assert!(check_id(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["abc", "libpod-3f2a", "k8s_pod:1", "a.b-c_d"] {
            assert!(check_id(good).is_ok(), "{good:?} refused");
        }
    }
}
