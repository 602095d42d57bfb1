//! Containers on disk: a record and a writable layer each.
//!
//! ```text
//! $CRATEBOX_ROOT/containers/<id>/
//! ├── container.json   name, image, command, status
//! ├── upper/           the container's changes (overlayfs upper dir)
//! ├── work/            overlayfs's scratch space
//! └── merged/          where the root is mounted, inside the container only
//! ```
//!
//! The image is never written to: every change the container makes lands in
//! its upper/, so many containers of one image each see only their own
//! changes, and removing a container leaves the image as it was.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use cratebox_cgroups::Limits;
use cratebox_sandbox::process::{is_alive, ProcessStamp};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::layered::WritableLayer;

/// What happened to a container, as `ps -a` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "state")]
pub enum Status {
    /// Made, not started.
    Created,
    /// Its supervising process is `pid`.
    Running {
        /// The supervising process on the host.
        pid: u32,
    },
    /// Ended with this exit code.
    Exited {
        /// The exit code.
        code: i32,
    },
}

/// A container's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 64 hex digits; `ps` shows 12.
    pub id: String,
    /// Unique name, given with `--name` or made up.
    pub name: String,
    /// The image as named when the container was made.
    pub image: String,
    /// The image's manifest digest: what the container really runs.
    pub image_digest: String,
    /// The command it runs.
    pub command: Vec<String>,
    /// When it was made (RFC 3339).
    pub created: String,
    /// What happened to it.
    pub status: Status,
    /// How to run it again (chapter 6's containers; chapter 4's run once
    /// and have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Spec>,
    /// What its supervisor recorded about its runs (chapter 6).
    #[serde(default)]
    pub state: RunState,
}

// ANCHOR: spec
// ANCHOR: spec_run
/// Everything `run` was told, kept so that `start` and `--restart` run the
/// container again the same way, and `inspect` can show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Spec {
    /// `NAME=value`: the image's Env, then `-e` and `--env-file`.
    pub env: Vec<String>,
    /// `-w`, else the image's WorkingDir.
    pub working_dir: Option<String>,
    /// `-u`, else the image's User.
    pub user: Option<String>,
    /// `--hostname` (docker's default: the short id).
    pub hostname: String,
    /// `--userns`: root inside is not root outside.
    pub user_namespace: bool,
    /// Chapter 3's limits.
    pub limits: Limits,
    /// `-i`: keep stdin open.
    pub open_stdin: bool,
    /// `-t`: a terminal for the container.
    pub tty: bool,
    /// `--restart`.
    pub restart: RestartPolicy,
    /// `--rm`: remove the container when it ends.
    pub auto_remove: bool,
    /// The image's StopSignal, if any (SIGTERM otherwise).
    pub stop_signal: Option<String>,
    /// `-v`, `--mount`, `--tmpfs`, and the image's VOLUMEs, in order.
    pub mounts: Vec<crate::volumes::MountSpec>,
    /// The health check: the image's HEALTHCHECK, or `--health-cmd`.
    pub health: Option<crate::health::HealthConfig>,
    /// `--network`, `-p` and `-P` (chapter 7).
    pub network: crate::net::NetworkSpec,
    /// `--privileged`, `--cap-add`, `--security-opt`, ... (chapter 9).
    pub security: crate::security::SecuritySpec,
}
// ANCHOR_END: spec_run

/// `--restart no|on-failure[:N]|always`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "name")]
pub enum RestartPolicy {
    /// Never restart (the default).
    #[default]
    No,
    /// Restart when it exits with a code other than 0, at most
    /// `max` times (0: no limit).
    OnFailure {
        /// The most restarts; 0 for no limit.
        max: u32,
    },
    /// Restart whenever it ends, unless it was stopped.
    Always,
}

/// What the supervisor records as the container runs: the processes (to
/// signal them and to tell whether they still exist), the times, how the
/// last run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunState {
    /// The supervisor, while there is one.
    pub supervisor: Option<ProcessStamp>,
    /// The container's first process (its init), while it runs.
    pub init: Option<ProcessStamp>,
    /// When the last run started (RFC 3339).
    pub started_at: Option<String>,
    /// When the last run ended (RFC 3339).
    pub finished_at: Option<String>,
    /// Whether the kernel's OOM killer killed a process of the last run.
    pub oom_killed: bool,
    /// How many times `--restart` restarted it.
    pub restart_count: u32,
    /// `stop`, `kill` or `rm -f` asked it to end: not to be restarted.
    pub stopping: bool,
    /// Why the last start failed, if it did.
    pub error: Option<String>,
    /// What the health checks of the current run found.
    pub health: Option<crate::health::Health>,
    /// The cgroup of the current run, for the supervisor to read and
    /// remove when it ends.
    pub cgroup: Option<cratebox_cgroups::AnyCgroup>,
    /// Its place on each of its networks, while it runs (chapter 7).
    pub networks: Vec<crate::net::Attached>,
}
// ANCHOR_END: spec

impl Record {
    /// The status, correcting "running" when its supervisor is gone (a
    /// crash or a kill -9): such a container ended, with an unknown code.
    pub fn live_status(&self) -> Status {
        let alive = |pid| match &self.state.supervisor {
            Some(stamp) => stamp.is_alive(),
            None => is_alive(pid),
        };
        match self.status {
            Status::Running { pid } if !alive(pid) => Status::Exited { code: -1 },
            ref other => other.clone(),
        }
    }

    /// Whether it runs now.
    pub fn is_running(&self) -> bool {
        matches!(self.live_status(), Status::Running { .. })
    }

    /// The first 12 digits of the id, as `ps` shows it.
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }
}

/// A lock on one container (or on all, for creating one): held while a
/// record is read, changed and written back, so that two commands at
/// once (a `stop` and an `rm -f`, the supervisor and a `kill`) never
/// write over each other. Released when dropped.
#[derive(Debug)]
pub struct Lock(#[allow(dead_code)] Flock<fs::File>);

/// Why a container operation failed.
#[derive(Debug, Error)]
pub enum ContainerStoreError {
    /// No container with that name or id.
    #[error("no container {0}: see `ps -a`")]
    NotFound(String),
    /// An id prefix that more than one container's id starts with.
    #[error("{prefix} matches {count} containers: give more of the id, or the name")]
    Ambiguous {
        /// What was given.
        prefix: String,
        /// How many matched.
        count: usize,
    },
    /// Name already taken.
    #[error(
        "the name {0} is already used by a container: pick another with --name, or `rm` that one"
    )]
    NameTaken(String),
    /// Not a name docker would accept.
    #[error("invalid container name {0:?}: use letters, digits and _ . - (starting with a letter or digit)")]
    BadName(String),
    /// Refused while running.
    #[error("container {0} is running: stop it first")]
    Running(String),
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A record that cannot be read.
    #[error("container record {path} is damaged: {why}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        why: String,
    },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ContainerStoreError {
    let path = path.to_path_buf();
    move |source| ContainerStoreError::Io { what, path, source }
}

/// The containers directory.
#[derive(Debug, Clone)]
pub struct Containers {
    root: PathBuf,
}

impl Containers {
    /// The directory at `root`, created if missing.
    pub fn open(root: &Path) -> Result<Containers, ContainerStoreError> {
        fs::create_dir_all(root).map_err(io_err("cannot create", root))?;
        Ok(Containers {
            root: root.to_path_buf(),
        })
    }

    /// A container's writable layer: its upper, work and merged dirs.
    pub fn dirs(&self, id: &str) -> WritableLayer {
        WritableLayer::at(&self.root.join(id))
    }

    // ANCHOR: create
    /// Make a new container: a record and three empty directories. The cost
    /// does not depend on the image's size.
    pub fn create(
        &self,
        name: Option<&str>,
        image: &str,
        image_digest: &str,
        command: Vec<String>,
    ) -> Result<Record, ContainerStoreError> {
        self.create_with(name, image, image_digest, command, None)
    }

    /// [`Containers::create`], with chapter 6's spec.
    pub fn create_with(
        &self,
        name: Option<&str>,
        image: &str,
        image_digest: &str,
        command: Vec<String>,
        spec: Option<Spec>,
    ) -> Result<Record, ContainerStoreError> {
        let id = random_id()?;
        // Two `run --name web` at once: the second must see the first's
        // record, so looking and writing happen under one lock.
        let _all = self.lock_all()?;
        let name = match name {
            Some(name) => {
                if !valid_name(name) {
                    return Err(ContainerStoreError::BadName(name.to_string()));
                }
                if self.list()?.iter().any(|r| r.name == name) {
                    return Err(ContainerStoreError::NameTaken(name.to_string()));
                }
                name.to_string()
            }
            None => format!("box-{}", &id[..8]),
        };
        // ANCHOR: create_record
        let record = Record {
            id: id.clone(),
            name,
            image: image.to_string(),
            image_digest: image_digest.to_string(),
            command,
            created: now(),
            status: Status::Created,
            spec,
            state: RunState::default(),
        };
        let dirs = self.dirs(&id);
        dirs.create().map_err(io_err("cannot create", &dirs.dir))?;
        self.save(&record)?;
        Ok(record)
        // ANCHOR_END: create_record
    }
    // ANCHOR_END: create

    /// Write a record (atomically: temp file and rename).
    pub fn save(&self, record: &Record) -> Result<(), ContainerStoreError> {
        let path = self.root.join(&record.id).join("container.json");
        let temp = path.with_extension("tmp");
        let text =
            serde_json::to_string_pretty(record).map_err(|e| ContainerStoreError::Damaged {
                path: path.clone(),
                why: e.to_string(),
            })?;
        fs::write(&temp, text).map_err(io_err("cannot write", &temp))?;
        fs::rename(&temp, &path).map_err(io_err("cannot write", &path))
    }

    /// Lock one container's record.
    pub fn lock(&self, id: &str) -> Result<Lock, ContainerStoreError> {
        lock_file(&self.root.join(id).join("lock"))
    }

    /// Lock the set of containers (creating one, renaming one).
    pub fn lock_all(&self) -> Result<Lock, ContainerStoreError> {
        lock_file(&self.root.join(".lock"))
    }

    /// Read a container's record as it is now.
    pub fn get(&self, id: &str) -> Result<Record, ContainerStoreError> {
        let path = self.root.join(id).join("container.json");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ContainerStoreError::NotFound(id.to_string()))
            }
            Err(e) => return Err(io_err("cannot read", &path)(e)),
        };
        serde_json::from_str(&text).map_err(|e| ContainerStoreError::Damaged {
            path,
            why: e.to_string(),
        })
    }

    // ANCHOR: update
    /// Change a record under its lock: read it fresh, let `change` edit
    /// it, write it back atomically. Returns the record as written.
    pub fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut Record),
    ) -> Result<Record, ContainerStoreError> {
        let _lock = self.lock(id)?;
        let mut record = self.get(id)?;
        change(&mut record);
        self.save(&record)?;
        Ok(record)
    }
    // ANCHOR_END: update

    /// The directory of a container's files.
    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// The container's log, in docker's json-file format.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.root.join(id).join(format!("{id}-json.log"))
    }

    /// Every container, oldest first.
    pub fn list(&self) -> Result<Vec<Record>, ContainerStoreError> {
        let mut records = Vec::new();
        for entry in fs::read_dir(&self.root)
            .map_err(io_err("cannot read", &self.root))?
            .flatten()
        {
            let path = entry.path().join("container.json");
            if let Ok(text) = fs::read_to_string(&path) {
                let record: Record =
                    serde_json::from_str(&text).map_err(|e| ContainerStoreError::Damaged {
                        path: path.clone(),
                        why: e.to_string(),
                    })?;
                records.push(record);
            }
        }
        records.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
        Ok(records)
    }

    /// Find a container by name, full id or id prefix (a name wins over
    /// a prefix, as in docker; a prefix of several ids is an error).
    pub fn find(&self, key: &str) -> Result<Record, ContainerStoreError> {
        let records = self.list()?;
        if let Some(named) = records.iter().find(|r| r.name == key || r.id == key) {
            return Ok(named.clone());
        }
        let matches: Vec<&Record> = records
            .iter()
            .filter(|r| !key.is_empty() && r.id.starts_with(key))
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(ContainerStoreError::NotFound(key.to_string())),
            several => Err(ContainerStoreError::Ambiguous {
                prefix: key.to_string(),
                count: several.len(),
            }),
        }
    }

    /// Give a container a new name, unique as at creation.
    pub fn rename(&self, record: &Record, name: &str) -> Result<(), ContainerStoreError> {
        if !valid_name(name) {
            return Err(ContainerStoreError::BadName(name.to_string()));
        }
        let _all = self.lock_all()?;
        if self.list()?.iter().any(|r| r.name == name) {
            return Err(ContainerStoreError::NameTaken(name.to_string()));
        }
        self.update(&record.id, |r| r.name = name.to_string())?;
        Ok(())
    }

    /// Delete a container and its writable layer. Refused while it runs.
    pub fn remove(&self, record: &Record) -> Result<(), ContainerStoreError> {
        if matches!(record.live_status(), Status::Running { .. }) {
            return Err(ContainerStoreError::Running(record.name.clone()));
        }
        let dir = self.root.join(&record.id);
        fs::remove_dir_all(&dir).map_err(io_err("cannot remove", &dir))
    }
}

/// The time now, as records keep it: RFC 3339, in UTC, to the nanosecond.
pub fn now() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

/// docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// Take an exclusive flock(2) on `path`, creating the file; waits for
/// whoever holds it.
fn lock_file(path: &Path) -> Result<Lock, ContainerStoreError> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| match e.kind() {
            // The container's directory is gone: it was removed.
            io::ErrorKind::NotFound => ContainerStoreError::NotFound(
                path.parent()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            _ => io_err("cannot lock", path)(e),
        })?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map(Lock)
        .map_err(|(_, errno)| io_err("cannot lock", path)(errno.into()))
}

/// 32 random bytes from the kernel, as 64 hex digits, like docker's ids.
pub fn random_id() -> Result<String, ContainerStoreError> {
    let mut bytes = [0u8; 32];
    let path = Path::new("/dev/urandom");
    io::Read::read_exact(
        &mut fs::File::open(path).map_err(io_err("cannot open", path))?,
        &mut bytes,
    )
    .map_err(io_err("cannot read", path))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(containers: &Containers, id: &str, name: &str) {
        let record = Record {
            id: id.repeat(64 / id.len()),
            name: name.into(),
            image: "demo:latest".into(),
            image_digest: String::new(),
            command: vec!["true".into()],
            created: "2026-11-29T22:00:00Z".into(),
            status: Status::Exited { code: 0 },
            spec: None,
            state: RunState::default(),
        };
        fs::create_dir_all(containers.root.join(&record.id)).expect("a temp dir is writable");
        containers.save(&record).expect("a temp dir is writable");
    }

    #[test]
    fn containers_are_found_by_name_id_or_unambiguous_prefix() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let containers = Containers::open(dir.path()).expect("a temp dir is writable");
        record(&containers, "ab12", "web");
        record(&containers, "ab34", "db");
        let found = |key: &str| containers.find(key).map(|r| r.name);
        assert_eq!(found("web").ok().as_deref(), Some("web"));
        assert_eq!(found("ab3").ok().as_deref(), Some("db"));
        assert_eq!(found(&"ab12".repeat(16)).ok().as_deref(), Some("web"));
        assert!(matches!(
            containers.find("ab"),
            Err(ContainerStoreError::Ambiguous { count: 2, .. })
        ));
        assert!(matches!(
            containers.find("cd"),
            Err(ContainerStoreError::NotFound(_))
        ));
    }
}
