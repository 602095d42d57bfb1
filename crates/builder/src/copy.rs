//! COPY and ADD: which files, their checksum, and the layer they make.
//!
//! A COPY runs in three parts. First its sources are found: paths or globs
//! in the build context (minus what `.dockerignore` excludes), or in
//! another stage's image with `--from`. A source may never leave the
//! context: `../x` is refused, and symlinks are followed only *inside*
//! it. Then their [`checksum`] is computed, which is all the cache needs to
//! decide. Only on a cache miss are the files copied, into an empty
//! directory laid out like the image (the "staging" directory); that
//! directory, written out as a tar, is the new layer.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{lchown, symlink, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;
use sha2::{Digest as _, Sha256};

use thiserror::Error;

use crate::checksum::{EntryKind, SourceEntry};
use crate::ignore::Ignore;
use crate::tree::{clean, Found, LastLink, Tree, TreeError};

/// Why a COPY or ADD could not find or copy its files.
#[derive(Debug, Error)]
pub enum CopyError {
    /// A source that climbs out of where it is copied from.
    #[error("{pattern} is outside {origin}: only files inside it can be copied (move the file into the context)")]
    Outside {
        /// The source as written.
        pattern: String,
        /// "the build context" or "--from=...".
        origin: String,
    },
    /// A source that matches nothing.
    #[error("{pattern}: no such file in {origin}{}", if *.ignore_applies { " (or excluded by .dockerignore)" } else { "" })]
    NoSuchFile {
        /// The source as written.
        pattern: String,
        /// Where it was looked for.
        origin: String,
        /// Whether `.dockerignore` may be why.
        ignore_applies: bool,
    },
    /// A glob the pattern syntax rejects.
    #[error("bad pattern {pattern:?}: {why}")]
    BadPattern {
        /// The component as written.
        pattern: String,
        /// What the glob parser said.
        why: &'static str,
    },
    /// A path that cannot be resolved inside its tree.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// A source that cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file on the host.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A destination under something that is not a directory.
    #[error("/{0} is not a directory in the image, so nothing can be copied under it")]
    NotADirectory(PathBuf),
    /// Writing into the new layer failed.
    #[error("cannot copy {from} to /{to}: {source}")]
    Write {
        /// The source, inside its origin.
        from: PathBuf,
        /// The destination, inside the image.
        to: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A directory of the new layer could not be made.
    #[error("cannot create {path}: {source}")]
    MakeDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// Where COPY reads from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub tree: Tree,
    /// `.dockerignore`, for the build context only.
    pub ignore: Option<Ignore>,
    /// What to call it in messages: "the build context" or "stage build".
    pub name: String,
}

/// One source found: a file, directory or link inside the origin.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its path inside the origin, symlinks resolved.
    pub rel: PathBuf,
    /// Its name as written (the last component), for `dest/NAME`.
    pub name: OsString,
    pub found: Found,
}

const GLOB_CHARS: &[char] = &['*', '?', '['];

// ANCHOR: sources
/// The sources a COPY names: each written path or glob, found in the
/// origin. A path that climbs out (`../x`), matches nothing, or is
/// excluded by `.dockerignore` is an error naming it.
pub fn find_sources(origin: &Origin, written: &[String]) -> Result<Vec<Source>, CopyError> {
    let mut sources = Vec::new();
    for pattern in written {
        let Some(rel) = clean(pattern) else {
            return Err(CopyError::Outside {
                pattern: pattern.clone(),
                origin: origin.name.clone(),
            });
        };
        let before = sources.len();
        if pattern.contains(GLOB_CHARS) {
            glob(origin, &rel, &mut sources)?;
        } else if let Some(source) = find(origin, &rel)? {
            sources.push(source);
        }
        if sources.len() == before {
            return Err(CopyError::NoSuchFile {
                pattern: pattern.clone(),
                origin: origin.name.clone(),
                ignore_applies: origin.ignore.is_some(),
            });
        }
    }
    Ok(sources)
}
// ANCHOR_END: sources

/// One path, following symlinks inside the origin.
fn find(origin: &Origin, rel: &Path) -> Result<Option<Source>, CopyError> {
    let resolved = origin.tree.resolve(rel, LastLink::Follow)?;
    if origin.ignore.as_ref().is_some_and(|i| i.ignored(&resolved)) {
        return Ok(None);
    }
    let name = rel
        .file_name()
        .map(OsString::from)
        .unwrap_or_else(|| OsString::from("."));
    Ok(origin.tree.lookup(&resolved).map(|found| Source {
        rel: resolved,
        name,
        found,
    }))
}

/// Every path matching a glob, one component at a time (`*` never
/// matches a `/`), in sorted order.
fn glob(origin: &Origin, pattern: &Path, out: &mut Vec<Source>) -> Result<(), CopyError> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let mut matches = vec![PathBuf::new()];
    for component in pattern.components() {
        let text = component.as_os_str().to_string_lossy();
        let compiled = glob::Pattern::new(&text).map_err(|e| CopyError::BadPattern {
            pattern: text.to_string(),
            why: e.msg,
        })?;
        let mut next = Vec::new();
        for dir in &matches {
            let dir = origin.tree.resolve(dir, LastLink::Follow)?;
            for (name, _) in origin.tree.children(&dir) {
                if compiled.matches_with(&name.to_string_lossy(), options) {
                    next.push(dir.join(name));
                }
            }
        }
        matches = next;
    }
    for rel in matches {
        if let Some(source) = find(origin, &rel)? {
            out.push(source);
        }
    }
    Ok(())
}

/// Everything a source holds, as (path relative to the source, entry):
/// the source itself first as "", then for a directory its contents,
/// depth first, sorted, minus what `.dockerignore` excludes.
pub fn walk(origin: &Origin, source: &Source) -> Vec<(PathBuf, Found)> {
    let mut out = vec![(PathBuf::new(), source.found.clone())];
    if source.found.meta.is_dir() {
        walk_dir(origin, &source.rel, &PathBuf::new(), &mut out);
    }
    out
}

fn walk_dir(origin: &Origin, base: &Path, rel: &Path, out: &mut Vec<(PathBuf, Found)>) {
    for (name, found) in origin.tree.children(&base.join(rel)) {
        let child = rel.join(&name);
        let ignore = origin.ignore.as_ref();
        let ignored = ignore.is_some_and(|i| i.ignored(&base.join(&child)));
        if !found.meta.is_dir() {
            if !ignored {
                out.push((child, found));
            }
            continue;
        }
        // An ignored directory may still hold an exception (`!dir/keep`):
        // look inside, and keep the directory if anything in it is kept.
        if ignored && !ignore.is_some_and(Ignore::has_exceptions) {
            continue;
        }
        let mut inside = Vec::new();
        walk_dir(origin, base, &child, &mut inside);
        if !ignored || !inside.is_empty() {
            out.push((child, found));
            out.extend(inside);
        }
    }
}

/// How copied files are owned and moded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ownership {
    /// `Some` to set every owner (`--chown`, or root for the context);
    /// `None` keeps the source's (`--from` another stage).
    pub owner: Option<(u32, u32)>,
    /// `--chmod`: permission bits for everything copied.
    pub mode: Option<u32>,
}

impl Ownership {
    fn of(&self, found: &Found) -> (u32, u32, u32) {
        let (uid, gid) = self.owner.unwrap_or((found.meta.uid(), found.meta.gid()));
        let mode = self.mode.unwrap_or(found.meta.mode() & 0o7777);
        (uid, gid, mode)
    }
}

// ANCHOR: entries
/// The checksum records of a source: what the cache compares. Paths are
/// named as they will be under the destination (a file by its name, a
/// directory's contents by their path inside it).
pub fn entries(
    origin: &Origin,
    source: &Source,
    ownership: &Ownership,
) -> Result<Vec<SourceEntry>, CopyError> {
    let mut out = Vec::new();
    for (rel, found) in walk(origin, source) {
        let path = match (source.found.meta.is_dir(), rel.as_os_str().is_empty()) {
            (false, _) => PathBuf::from(&source.name),
            (true, true) => PathBuf::from("."),
            (true, false) => rel,
        };
        let kind = if found.meta.is_dir() {
            EntryKind::Dir
        } else if found.meta.is_symlink() {
            let target = fs::read_link(&found.host).map_err(|source| CopyError::Read {
                path: found.host.clone(),
                source,
            })?;
            EntryKind::Symlink {
                target: target.to_string_lossy().into_owned(),
            }
        } else if found.meta.is_file() {
            EntryKind::File {
                sha256: sha256_file(&found.host)?,
            }
        } else {
            continue;
        };
        let (uid, gid, mode) = ownership.of(&found);
        out.push(SourceEntry {
            path: path.to_string_lossy().into_owned(),
            kind,
            mode,
            uid,
            gid,
        });
    }
    Ok(out)
}
// ANCHOR_END: entries

/// The sha256 of a file's contents, in hex.
pub fn sha256_file(path: &Path) -> Result<String, CopyError> {
    let read_error = |source| CopyError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(read_error)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The new layer's directory, and the image it goes on top of.
#[derive(Debug)]
pub struct Staging {
    /// The empty directory the copies go into: the new layer.
    pub root: PathBuf,
    /// The image so far with `root` on top: where destinations are
    /// resolved and parent directories looked up.
    pub image: Tree,
}

impl Staging {
    /// A staging directory `root` over the image with unpacked `lowers`.
    pub fn new(root: &Path, lowers: &[PathBuf]) -> Staging {
        let mut layers = lowers.to_vec();
        layers.push(root.to_path_buf());
        Staging {
            root: root.to_path_buf(),
            image: Tree::layers(&layers),
        }
    }

    // ANCHOR: destination
    /// Resolve a destination inside the image, symlinks followed (`/bin/x`
    /// is `/usr/bin/x` when `/bin -> usr/bin`), and make its parent
    /// directories in the staging directory. Parents the image already has
    /// are made with the image's owner and mode, so the new layer does not
    /// change them; missing ones are made `0755` and owned by `owner` (root,
    /// or `--chown`'s user), as docker does.
    pub fn destination(
        &self,
        dest: &Path,
        last: LastLink,
        owner: (u32, u32),
    ) -> Result<PathBuf, CopyError> {
        let resolved = self.image.resolve(dest, last)?;
        let mut prefix = PathBuf::new();
        let parents: Vec<_> = resolved
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .collect();
        for component in parents {
            prefix.push(component);
            let at = self.root.join(&prefix);
            if fs::symlink_metadata(&at).is_ok() {
                continue;
            }
            if self.image.lookup(&prefix).is_some_and(|f| !f.meta.is_dir()) {
                return Err(CopyError::NotADirectory(prefix));
            }
            let (uid, gid, mode) = self.dir_like_image(&prefix, owner);
            make_dir(&at, uid, gid, mode)?;
        }
        Ok(resolved)
    }
    // ANCHOR_END: destination

    /// Owner and mode for a directory made at `rel` in the new layer: the
    /// image's own, when it has a directory there (so the layer changes
    /// nothing about it: `/tmp` stays 1777), else `0755` and `owner`.
    pub fn dir_like_image(&self, rel: &Path, owner: (u32, u32)) -> (u32, u32, u32) {
        match self.image.lookup(rel) {
            Some(found) if found.meta.is_dir() => (
                found.meta.uid(),
                found.meta.gid(),
                found.meta.mode() & 0o7777,
            ),
            _ => (owner.0, owner.1, 0o755),
        }
    }

    /// Whether `rel` is a directory in the image (or the staging area).
    pub fn is_dir(&self, rel: &Path) -> bool {
        self.image
            .resolve(rel, LastLink::Follow)
            .ok()
            .and_then(|r| self.image.lookup(&r))
            .is_some_and(|f| f.meta.is_dir())
    }

    // ANCHOR: copy
    /// Copy a source to `target` (relative, resolved), a directory's
    /// contents into it.
    pub fn copy(
        &self,
        origin: &Origin,
        source: &Source,
        target: &Path,
        ownership: &Ownership,
    ) -> Result<(), CopyError> {
        for (rel, found) in walk(origin, source) {
            let to = match rel.as_os_str().is_empty() {
                true => self.root.join(target),
                false => self.root.join(target).join(&rel),
            };
            let (uid, gid, mode) = ownership.of(&found);
            if rel.as_os_str().is_empty() && found.meta.is_dir() {
                // A directory's *contents* are copied: the destination
                // keeps its own metadata, or is made like a parent.
                let (uid, gid, mode) =
                    self.dir_like_image(target, ownership.owner.unwrap_or((0, 0)));
                make_dir(&to, uid, gid, mode)?;
                continue;
            }
            let fail = |source_error: io::Error| CopyError::Write {
                from: source.rel.clone(),
                to: target.join(&rel),
                source: source_error,
            };
            let kind = found.meta.file_type();
            if kind.is_dir() {
                make_dir(&to, uid, gid, mode)?;
            } else if kind.is_file() {
                place_file(&found.host, &to, uid, gid, mode).map_err(fail)?;
            } else if kind.is_symlink() {
                remove_existing(&to).map_err(fail)?;
                symlink(fs::read_link(&found.host).map_err(fail)?, &to).map_err(fail)?;
                lchown(&to, Some(uid), Some(gid)).map_err(fail)?;
            } else {
                // Devices, pipes and sockets are not copied, as docker does.
                continue;
            }
            keep_mtime(&to, &found);
        }
        Ok(())
    }
    // ANCHOR_END: copy
}

/// Make a directory (or fix the one there) with this owner and mode.
pub fn make_dir(path: &Path, uid: u32, gid: u32, mode: u32) -> Result<(), CopyError> {
    let fail = |source: io::Error| CopyError::MakeDir {
        path: path.to_path_buf(),
        source,
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            fs::remove_file(path).map_err(fail)?;
            fs::create_dir(path).map_err(fail)?;
        }
        Err(_) => fs::create_dir(path).map_err(fail)?,
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(fail)?;
    lchown(path, Some(uid), Some(gid)).map_err(fail)
}

/// Put a copy of the file `from` at `to` as a new file, with this owner
/// and mode. Whatever was at `to` (a symlink included) is replaced, never
/// followed: an earlier source may have put a link to a host path there.
pub fn place_file(from: &Path, to: &Path, uid: u32, gid: u32, mode: u32) -> io::Result<()> {
    remove_existing(to)?;
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(to)?;
    io::copy(&mut File::open(from)?, &mut out)?;
    out.set_permissions(fs::Permissions::from_mode(mode))?;
    std::os::unix::fs::fchown(&out, Some(uid), Some(gid))
}

fn remove_existing(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(_) => Ok(()),
    }
}

/// Copies keep their modification time, as docker's do.
fn keep_mtime(path: &Path, found: &Found) {
    let mtime = TimeSpec::new(found.meta.mtime(), found.meta.mtime_nsec());
    let _ = utimensat(None, path, &mtime, &mtime, UtimensatFlags::NoFollowSymlink);
}
