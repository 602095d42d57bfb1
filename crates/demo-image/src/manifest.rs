//! The manifest: a record of every entry a build wrote, and the check that a
//! rootfs still matches it.
//!
//! An image lives in a directory of its own, `rootfs/` beside
//! `manifest.json`:
//!
//! ```text
//! <state root>/demo/
//!     manifest.json   what the build wrote, kept outside the tree it describes
//!     rootfs/         the root filesystem containers see
//! ```
//!
//! The manifest sits *outside* the rootfs so that nothing running inside a
//! container can see or edit it, and so that it is not itself one of the
//! entries it lists. [`verify`] therefore reads `rootfs/../manifest.json`.
//!
//! Verifying compares kinds, sizes, modes and link targets, not contents:
//! that catches a deleted `/bin/sh`, an interrupted copy or a replaced
//! symlink in a few hundred `lstat(2)` calls, where hashing would read every
//! byte on every container start. It is a cache check, not tamper-proofing.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::commands;
use crate::layout::TOOLS_FINGERPRINT;

/// Bumped whenever the image's contents or this format change, so images
/// built by an older cratebox are rebuilt instead of half-trusted.
/// (2: the manifest records the list of commands the image was built to
/// offer; images of format 1 lacked most of the host source's commands.)
pub const FORMAT_VERSION: u32 = 2;

/// The manifest's file name, beside the rootfs.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Where an image's programs came from (the data-only twin of [`crate::Source`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Busybox,
    HostBinaries,
}

/// What kind of filesystem object an entry is; `lstat(2)` semantics, so a
/// symlink is a symlink, not what it points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
}

/// One entry of the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Absolute path as seen inside the container, e.g. `/bin/sh`.
    pub path: PathBuf,
    pub kind: EntryKind,
    /// Bytes for a file; 0 for directories and symlinks, whose sizes depend on
    /// the filesystem rather than on what we wrote.
    pub size: u64,
    /// Permission bits including setuid/setgid/sticky (e.g. `0o1777` for `/tmp`).
    pub mode: u32,
    /// Where a symlink points, exactly as written; `None` otherwise.
    pub target: Option<PathBuf>,
}

/// Everything a build wrote, and with what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`] of the build that wrote it.
    pub format: u32,
    pub source: SourceKind,
    /// `build.rs`'s fingerprint of the embedded tools at build time.
    pub tools_fingerprint: String,
    /// The names on [`crate::COMMANDS`] at build time. An image built
    /// against another list may lack a command this cratebox's README runs,
    /// so [`crate::verify`] refuses it and [`crate::ensure`] rebuilds it.
    pub commands: Vec<String>,
    /// Sorted by path, the root `/` first.
    pub entries: Vec<Entry>,
}

/// Why a manifest could not be written, or a rootfs does not match it.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path} is not a valid manifest: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} has format {found}, this cratebox writes format {expected}")]
    Format {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{path} was built with other tools (fingerprint {found}, now {expected})")]
    Fingerprint {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{path} was built for another list of commands")]
    Commands {
        path: PathBuf,
        found: Vec<String>,
        expected: Vec<String>,
    },
    #[error("{rootfs} has no {entry}")]
    Missing { rootfs: PathBuf, entry: PathBuf },
    #[error("{entry} in {rootfs} should be a {expected:?}, found a {found:?}")]
    Kind {
        rootfs: PathBuf,
        entry: PathBuf,
        expected: EntryKind,
        found: EntryKind,
    },
    #[error("{entry} in {rootfs} should have {expected} bytes, has {found}")]
    Size {
        rootfs: PathBuf,
        entry: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("{entry} in {rootfs} should have mode {expected:o}, has {found:o}")]
    Mode {
        rootfs: PathBuf,
        entry: PathBuf,
        expected: u32,
        found: u32,
    },
    #[error("{entry} in {rootfs} should point to {expected:?}, points to {found:?}")]
    Target {
        rootfs: PathBuf,
        entry: PathBuf,
        expected: Option<PathBuf>,
        found: Option<PathBuf>,
    },
    #[error("{path} is neither a file, a directory nor a symlink")]
    Special { path: PathBuf },
}

/// Where the manifest of the image whose tree is `rootfs` lives.
pub fn manifest_path(rootfs: &Path) -> PathBuf {
    rootfs
        .parent()
        .unwrap_or(Path::new("/"))
        .join(MANIFEST_FILE)
}

impl Manifest {
    /// Describe the tree at `rootfs` as it is now.
    pub fn scan(rootfs: &Path, source: SourceKind) -> Result<Manifest, ManifestError> {
        let mut entries = Vec::new();
        scan_dir(rootfs, Path::new("/"), &mut entries)?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Manifest {
            format: FORMAT_VERSION,
            source,
            tools_fingerprint: TOOLS_FINGERPRINT.to_string(),
            commands: commands::names(),
            entries,
        })
    }

    /// Write the manifest to `path` and flush it to disk: it is what makes a
    /// published image trusted, so it must not be lost in a crash.
    pub fn save(&self, path: &Path) -> Result<(), ManifestError> {
        let write_error = |source| ManifestError::Write {
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_vec_pretty(self).map_err(|e| write_error(e.into()))?;
        let mut file = fs::File::create(path).map_err(write_error)?;
        io::Write::write_all(&mut file, &json).map_err(write_error)?;
        file.sync_all().map_err(write_error)
    }

    /// Read the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let bytes = fs::read(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| ManifestError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// The manifest of the image at `rootfs` and its identity, when it is of
/// this crate's format, tools and list of commands; the entries are not
/// checked (see [`verify`]). What a copy of the image needs to know
/// whether it is still current, at the cost of one read.
pub(crate) fn current(rootfs: &Path) -> Result<(Manifest, String), ManifestError> {
    let path = manifest_path(rootfs);
    let bytes = fs::read(&path).map_err(|source| ManifestError::Read {
        path: path.clone(),
        source,
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|source| ManifestError::Parse {
            path: path.clone(),
            source,
        })?;
    check_header(&path, &manifest)?;
    Ok((manifest, identity_of(&bytes)))
}

/// Check the rootfs at `rootfs` against `rootfs/../manifest.json`, and
/// return the manifest: it must be this crate's format with today's tools
/// and list of commands, and every entry it lists must still be there with
/// the same kind, size, mode and link target. Entries added since (files a
/// container wrote to `/tmp`) are allowed.
pub fn verify(rootfs: &Path) -> Result<Manifest, ManifestError> {
    let path = manifest_path(rootfs);
    let manifest = Manifest::load(&path)?;
    check_header(&path, &manifest)?;
    manifest
        .entries
        .iter()
        .try_for_each(|expected| check_entry(rootfs, expected))?;
    Ok(manifest)
}

/// Format version, tools and list of commands: what makes a manifest
/// today's.
fn check_header(path: &Path, manifest: &Manifest) -> Result<(), ManifestError> {
    let path = path.to_path_buf();
    if manifest.format != FORMAT_VERSION {
        return Err(ManifestError::Format {
            path,
            found: manifest.format,
            expected: FORMAT_VERSION,
        });
    }
    if manifest.tools_fingerprint != TOOLS_FINGERPRINT {
        return Err(ManifestError::Fingerprint {
            path,
            found: manifest.tools_fingerprint.clone(),
            expected: TOOLS_FINGERPRINT.to_string(),
        });
    }
    if manifest.commands != commands::names() {
        return Err(ManifestError::Commands {
            path,
            found: manifest.commands.clone(),
            expected: commands::names(),
        });
    }
    Ok(())
}

/// `sha256:` and the digest of the bytes of `rootfs/../manifest.json`.
pub(crate) fn identity(rootfs: &Path) -> Result<String, ManifestError> {
    let path = manifest_path(rootfs);
    let bytes = fs::read(&path).map_err(|source| ManifestError::Read { path, source })?;
    Ok(identity_of(&bytes))
}

/// `sha256:` and the digest of a manifest's bytes.
fn identity_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

fn check_entry(rootfs: &Path, expected: &Entry) -> Result<(), ManifestError> {
    let on_disk = host_path(rootfs, &expected.path);
    let metadata = match fs::symlink_metadata(&on_disk) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ManifestError::Missing {
                rootfs: rootfs.to_path_buf(),
                entry: expected.path.clone(),
            })
        }
        Err(source) => {
            return Err(ManifestError::Read {
                path: on_disk,
                source,
            })
        }
    };
    let found = describe(&on_disk, &expected.path, &metadata)?;
    let (rootfs, entry) = (rootfs.to_path_buf(), expected.path.clone());
    if found.kind != expected.kind {
        return Err(ManifestError::Kind {
            rootfs,
            entry,
            expected: expected.kind,
            found: found.kind,
        });
    }
    if found.size != expected.size {
        return Err(ManifestError::Size {
            rootfs,
            entry,
            expected: expected.size,
            found: found.size,
        });
    }
    if found.mode != expected.mode {
        return Err(ManifestError::Mode {
            rootfs,
            entry,
            expected: expected.mode,
            found: found.mode,
        });
    }
    if found.target != expected.target {
        return Err(ManifestError::Target {
            rootfs,
            entry,
            expected: expected.target.clone(),
            found: found.target,
        });
    }
    Ok(())
}

/// The host path of `inside` (an absolute path in the image) under `rootfs`.
fn host_path(rootfs: &Path, inside: &Path) -> PathBuf {
    rootfs.join(inside.strip_prefix("/").unwrap_or(inside))
}

/// Add `dir` (known inside the image as `inside`) and everything below it.
fn scan_dir(dir: &Path, inside: &Path, entries: &mut Vec<Entry>) -> Result<(), ManifestError> {
    let read_error = |source| ManifestError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let metadata = fs::symlink_metadata(dir).map_err(read_error)?;
    entries.push(describe(dir, inside, &metadata)?);
    for child in fs::read_dir(dir).map_err(read_error)? {
        let child = child.map_err(read_error)?;
        let child_inside = inside.join(child.file_name());
        let metadata = child.metadata().map_err(read_error)?;
        if metadata.is_dir() {
            scan_dir(&child.path(), &child_inside, entries)?;
        } else {
            entries.push(describe(&child.path(), &child_inside, &metadata)?);
        }
    }
    Ok(())
}

/// The entry for one object, from its `lstat(2)` metadata.
fn describe(path: &Path, inside: &Path, metadata: &fs::Metadata) -> Result<Entry, ManifestError> {
    let file_type = metadata.file_type();
    let mode = metadata.permissions().mode() & 0o7777;
    let (kind, size, target) = if file_type.is_symlink() {
        let target = fs::read_link(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        (EntryKind::Symlink, 0, Some(target))
    } else if file_type.is_dir() {
        (EntryKind::Dir, 0, None)
    } else if file_type.is_file() {
        (EntryKind::File, metadata.size(), None)
    } else {
        return Err(ManifestError::Special {
            path: path.to_path_buf(),
        });
    };
    Ok(Entry {
        path: inside.to_path_buf(),
        kind,
        size,
        mode,
        target,
    })
}
