//! Chapter 6: volumes, bind mounts and tmpfs mounts.
//!
//! A container's writable layer goes when the container goes. Data that
//! must outlive it lives elsewhere, mounted into it:
//!
//! ```text
//! -v /srv/site:/www:ro          a bind mount: a host directory, as it is
//! -v data:/var/lib/db           a named volume: $CRATEBOX_ROOT/volumes/data/_data
//! -v /var/cache                 an anonymous volume (a random name; rm -v removes it)
//! --mount type=volume,src=data,dst=/var/lib/db,readonly
//! --tmpfs /run:size=64m         memory, gone with the container
//! ```
//!
//! A new, empty volume is filled with what the image has at its mount
//! point, as docker does; a bind mount shows the host's directory as it
//! is. `-v` creates a missing host directory; `--mount` refuses it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::containers::{now, valid_name};

// ANCHOR: mount_spec
/// One mount of a container, as `-v`, `--mount` or `--tmpfs` said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// What to mount.
    pub kind: MountKind,
    /// Where, inside the container (absolute).
    pub target: String,
    /// Read-only inside.
    pub readonly: bool,
}

/// What a [`MountSpec`] mounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum MountKind {
    /// A host path.
    Bind {
        /// The host path (absolute).
        source: PathBuf,
        /// Create it when missing (`-v`); `--mount` refuses instead.
        create: bool,
    },
    /// A volume under the state root.
    Volume {
        /// Its name; anonymous volumes get a random one.
        name: String,
        /// Made for this container alone (`-v /path`, an image's VOLUME).
        anonymous: bool,
    },
    /// A tmpfs.
    Tmpfs {
        /// `size=...,mode=...` as given (or empty).
        options: String,
    },
}
// ANCHOR_END: mount_spec

/// A `-v`, `--mount` or `--tmpfs` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {flag} {value:?}: {why}")]
pub struct MountFlagError {
    /// The flag.
    pub flag: &'static str,
    /// What was given.
    pub value: String,
    /// What is wrong, and the form expected.
    pub why: String,
}

fn flag_error(flag: &'static str, value: &str, why: impl Into<String>) -> MountFlagError {
    MountFlagError {
        flag,
        value: value.to_string(),
        why: why.into(),
    }
}

// ANCHOR: parse_volume
/// `-v SOURCE:TARGET[:ro|rw]` or `-v TARGET`: a SOURCE that starts with
/// `/` is a host path (bind mount), anything else a volume's name; a
/// TARGET alone is an anonymous volume. `anonymous_name` names it.
// ANCHOR: parse_volume_kind
pub fn parse_volume(value: &str, anonymous_name: &str) -> Result<MountSpec, MountFlagError> {
    let bad = |why: &str| flag_error("-v", value, why);
    let parts: Vec<&str> = value.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err(bad("use SOURCE:TARGET[:ro], or TARGET alone")),
    };
    if !target.starts_with('/') {
        return Err(bad("the path inside the container must be absolute"));
    }
    let readonly = match mode {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => return Err(bad(&format!("unknown mode {other:?}: use ro or rw"))),
    };
    let kind = match source {
        None => MountKind::Volume {
            name: anonymous_name.to_string(),
            anonymous: true,
        },
        Some(path) if path.starts_with('/') => MountKind::Bind {
            source: PathBuf::from(path),
            create: true,
        },
        Some(name) if valid_name(name) => MountKind::Volume {
            name: name.to_string(),
            anonymous: false,
        },
        Some(_) => {
            return Err(bad(
                "a volume name has letters, digits and _ . -; a host path starts with /",
            ))
        }
    };
    // ANCHOR_END: parse_volume_kind
    Ok(MountSpec {
        kind,
        target: target.to_string(),
        readonly,
    })
}
// ANCHOR_END: parse_volume

/// `--mount type=bind|volume|tmpfs,source=...,target=...[,readonly]`, with
/// docker's other spellings (`src`, `dst`, `destination`, `ro`,
/// `readonly=true`) and `tmpfs-size`, `tmpfs-mode`.
pub fn parse_mount(value: &str, anonymous_name: &str) -> Result<MountSpec, MountFlagError> {
    let bad = |why: String| flag_error("--mount", value, why);
    let (mut kind, mut source, mut target, mut readonly) = ("volume", None, None, false);
    let mut tmpfs = Vec::new();
    for field in value.split(',') {
        let (key, val) = match field.split_once('=') {
            Some((key, val)) => (key, Some(val)),
            None => (field, None),
        };
        match (key, val) {
            ("type", Some(t @ ("bind" | "volume" | "tmpfs"))) => kind = t,
            ("type", _) => return Err(bad("type must be bind, volume or tmpfs".into())),
            ("source" | "src", Some(v)) => source = Some(v),
            ("target" | "destination" | "dst", Some(v)) => target = Some(v),
            ("readonly" | "ro", None | Some("true" | "1")) => readonly = true,
            ("readonly" | "ro", Some("false" | "0")) => readonly = false,
            ("tmpfs-size", Some(size)) => tmpfs.push(format!("size={size}")),
            ("tmpfs-mode", Some(mode)) => tmpfs.push(format!("mode={mode}")),
            _ => return Err(bad(format!("unknown field {field:?}"))),
        }
    }
    let target = target.ok_or_else(|| bad("target=PATH is required".into()))?;
    if !target.starts_with('/') {
        return Err(bad("the target must be an absolute path".into()));
    }
    let kind = match (kind, source) {
        ("bind", Some(path)) if path.starts_with('/') => MountKind::Bind {
            source: PathBuf::from(path),
            create: false,
        },
        ("bind", _) => return Err(bad("a bind mount needs source=/ABSOLUTE/PATH".into())),
        ("volume", None) => MountKind::Volume {
            name: anonymous_name.to_string(),
            anonymous: true,
        },
        ("volume", Some(name)) if valid_name(name) => MountKind::Volume {
            name: name.to_string(),
            anonymous: false,
        },
        ("volume", Some(_)) => return Err(bad("invalid volume name".into())),
        (_, Some(_)) => return Err(bad("a tmpfs takes no source".into())),
        (_, None) => MountKind::Tmpfs {
            options: tmpfs.join(","),
        },
    };
    Ok(MountSpec {
        kind,
        target: target.to_string(),
        readonly,
    })
}

/// `--tmpfs TARGET[:OPTIONS]`, e.g. `/run:size=64m,mode=755`.
pub fn parse_tmpfs(value: &str) -> Result<MountSpec, MountFlagError> {
    let (target, options) = value.split_once(':').unwrap_or((value, ""));
    if !target.starts_with('/') {
        return Err(flag_error("--tmpfs", value, "the path must be absolute"));
    }
    Ok(MountSpec {
        kind: MountKind::Tmpfs {
            options: options.to_string(),
        },
        target: target.to_string(),
        readonly: false,
    })
}

/// A volume's record: `volumes/<name>/volume.json`, its data in `_data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Its name.
    pub name: String,
    /// When it was made (RFC 3339).
    pub created: String,
    /// Made for one container, removed with it by `rm -v`.
    pub anonymous: bool,
}

/// Why a volume operation failed.
#[derive(Debug, Error)]
pub enum VolumeError {
    /// No such volume.
    #[error("no volume {0}: see `volume ls`")]
    NotFound(String),
    /// In use by a container.
    #[error("volume {volume} is in use by container {container}: remove the container first")]
    InUse {
        /// The volume.
        volume: String,
        /// The container using it.
        container: String,
    },
    /// A bind mount's source is missing (`--mount` does not create it).
    #[error("bind source path does not exist: {0}: create it, or use -v, which does")]
    MissingSource(PathBuf),
    /// A file operation failed.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// What.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> VolumeError {
    let path = path.to_path_buf();
    move |source| VolumeError::Io { what, path, source }
}

/// The volumes directory.
#[derive(Debug, Clone)]
pub struct Volumes {
    root: PathBuf,
}

impl Volumes {
    /// `root`, created if missing.
    pub fn open(root: &Path) -> Result<Volumes, VolumeError> {
        fs::create_dir_all(root).map_err(io_err("create", root))?;
        Ok(Volumes {
            root: root.to_path_buf(),
        })
    }

    /// Where a volume's data is.
    pub fn data(&self, name: &str) -> PathBuf {
        self.root.join(name).join("_data")
    }

    /// Make a volume unless it exists; returns it.
    pub fn create(&self, name: &str, anonymous: bool) -> Result<Volume, VolumeError> {
        if let Ok(volume) = self.get(name) {
            return Ok(volume);
        }
        let dir = self.root.join(name);
        fs::create_dir_all(dir.join("_data")).map_err(io_err("create", &dir))?;
        let volume = Volume {
            name: name.to_string(),
            created: now(),
            anonymous,
        };
        let path = dir.join("volume.json");
        let temp = dir.join("volume.json.tmp");
        let text = serde_json::to_string_pretty(&volume).unwrap_or_default();
        fs::write(&temp, text).map_err(io_err("write", &temp))?;
        fs::rename(&temp, &path).map_err(io_err("write", &path))?;
        Ok(volume)
    }

    /// A volume by name.
    pub fn get(&self, name: &str) -> Result<Volume, VolumeError> {
        let path = self.root.join(name).join("volume.json");
        let text = fs::read_to_string(&path).map_err(|_| VolumeError::NotFound(name.into()))?;
        serde_json::from_str(&text).map_err(|_| VolumeError::NotFound(name.into()))
    }

    /// Every volume, by name.
    pub fn list(&self) -> Result<Vec<Volume>, VolumeError> {
        let mut volumes: Vec<Volume> = fs::read_dir(&self.root)
            .map_err(io_err("read", &self.root))?
            .flatten()
            .filter_map(|entry| self.get(&entry.file_name().to_string_lossy()).ok())
            .collect();
        volumes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(volumes)
    }

    /// Delete a volume and its data (the caller checked it is unused).
    pub fn remove(&self, name: &str) -> Result<(), VolumeError> {
        self.get(name)?;
        let dir = self.root.join(name);
        fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))
    }
}

/// Whether a directory is empty (or missing).
pub fn is_empty_dir(path: &Path) -> bool {
    fs::read_dir(path).map_or(true, |mut entries| entries.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_flags_as_docker_reads_them() {
        let lines: Vec<String> = [
            "/srv/site:/www:ro",
            "data:/var/lib/db",
            "/var/cache",
            "/a:/b:rw",
            "data:relative",
            "/a:/b:z",
            "bad name:/x",
            "a:b:c:d",
        ]
        .iter()
        .map(|v| format!("-v {v}: {:?}", parse_volume(v, "ANON")))
        .collect();
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn mount_flags_as_docker_reads_them() {
        let lines: Vec<String> = [
            "type=bind,source=/srv,target=/srv,readonly",
            "type=volume,src=data,dst=/data",
            "type=volume,destination=/cache",
            "type=tmpfs,target=/run,tmpfs-size=64m,tmpfs-mode=1777",
            "type=bind,source=relative,target=/x",
            "type=nfs,target=/x",
            "source=/x",
            "type=volume,target=/x,color=blue",
        ]
        .iter()
        .map(|v| format!("--mount {v}: {:?}", parse_mount(v, "ANON")))
        .collect();
        insta::assert_snapshot!(lines.join("\n"));
        assert_eq!(
            parse_tmpfs("/run:size=64m").map(|m| m.kind),
            Ok(MountKind::Tmpfs {
                options: "size=64m".into()
            })
        );
        assert!(parse_tmpfs("run").is_err());
    }
}
