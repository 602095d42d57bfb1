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

use cratebox_sandbox::process::is_alive;
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
}

impl Record {
    /// The status, correcting "running" when its supervisor is gone (a
    /// crash or a kill -9): such a container ended, with an unknown code.
    pub fn live_status(&self) -> Status {
        match self.status {
            Status::Running { pid } if !is_alive(pid) => Status::Exited { code: -1 },
            ref other => other.clone(),
        }
    }
}

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
        let id = random_id()?;
        let name = match name {
            Some(name) => {
                if self.list()?.iter().any(|r| r.name == name) {
                    return Err(ContainerStoreError::NameTaken(name.to_string()));
                }
                name.to_string()
            }
            None => format!("box-{}", &id[..8]),
        };
        let record = Record {
            id: id.clone(),
            name,
            image: image.to_string(),
            image_digest: image_digest.to_string(),
            command,
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            status: Status::Created,
        };
        let dirs = self.dirs(&id);
        dirs.create().map_err(io_err("cannot create", &dirs.dir))?;
        self.save(&record)?;
        Ok(record)
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

    /// Delete a container and its writable layer. Refused while it runs.
    pub fn remove(&self, record: &Record) -> Result<(), ContainerStoreError> {
        if matches!(record.live_status(), Status::Running { .. }) {
            return Err(ContainerStoreError::Running(record.name.clone()));
        }
        let dir = self.root.join(&record.id);
        fs::remove_dir_all(&dir).map_err(io_err("cannot remove", &dir))
    }
}

/// 32 random bytes from the kernel, as 64 hex digits, like docker's ids.
fn random_id() -> Result<String, ContainerStoreError> {
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
