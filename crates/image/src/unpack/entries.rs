//! Making one tar entry into a file, directory, link, device or whiteout
//! inside the destination, and never anywhere else.
//!
//! Paths arrive cleaned by [`changeset::role`] (no leading `/`, no `..`),
//! so one way out of the destination is left: a symlink made by an earlier
//! entry, as in `evil -> /etc` followed by `evil/passwd`. The rule is that
//! no directory on the way to an entry may be a symlink; the symlink
//! itself is fine, since its target is resolved inside the container.
//! Hard links get the same walk for their target, which must be a regular
//! file this layer already unpacked.
//!
//! The walk looks at each directory with `lstat`. That is sound here
//! because the destination is a fresh private directory that only this
//! unpack writes to, so nothing can swap a directory for a symlink between
//! the check and the write. `openat2(2)` with `RESOLVE_IN_ROOT` would also
//! survive a concurrent writer, but every operation (mknod, chown,
//! utimens, xattrs) would then go through file descriptors: more code than
//! this threat calls for.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{makedev, mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use tar::{Entry, EntryType};

use super::{io_error, is_whiteout, UnpackError, OPAQUE_XATTR};
use crate::changeset::{self, ChangesetError, Role};

/// Owner, permissions, time and xattrs of one entry.
#[derive(Debug)]
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// The state of one unpack.
pub(super) struct Unpacker<'a> {
    pub(super) dest: &'a Path,
    /// Directory mtimes, set last: creating a child changes its parent's.
    /// A map, so a directory named twice gets its later entry's time.
    pub(super) dir_times: BTreeMap<PathBuf, i64>,
    /// A layer, or a plain archive.
    pub(super) kind: ArchiveKind,
}

/// What a tar is: an image layer, or a user's archive (ADD's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArchiveKind {
    /// A layer: `.wh.` names are deletions.
    Layer,
    /// A plain archive: a `.wh.` name is refused (the layer it goes into
    /// would read it as a deletion), and absolute paths are taken as
    /// relative, as tar does.
    Plain,
}

impl Unpacker<'_> {
    /// Unpack one tar entry named `name`.
    pub(super) fn entry<R: Read>(
        &mut self,
        entry: &mut Entry<R>,
        name: &str,
    ) -> Result<(), UnpackError> {
        let raw = PathBuf::from(OsStr::from_bytes(&entry.path_bytes()));
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            // PAX defaults for the whole archive, not a file.
            return Ok(());
        }
        let role = match self.kind {
            // Unpacked into a layer, a `.wh.` name would come back as a
            // deletion, so an archive may not hold one.
            // A leading `/` is dropped, as tar does.
            ArchiveKind::Plain => match changeset::role(raw.strip_prefix("/").unwrap_or(&raw))? {
                Role::Put(path) => Role::Put(path),
                _ => return Err(ChangesetError::WhiteoutInArchive { path: raw }.into()),
            },
            ArchiveKind::Layer => changeset::role(&raw)?,
        };
        match role {
            Role::Delete(path) => self.whiteout(&path, name),
            Role::Opaque(dir) => {
                self.make_dirs(&dir, name)?;
                self.set_opaque(&self.dest.join(&dir), name)
            }
            Role::Put(path) if path.as_os_str().is_empty() => match kind {
                // The root's own attributes belong to the container's upper dir.
                EntryType::Directory => Ok(()),
                _ => Err(ChangesetError::RootNotDirectory { path: raw }.into()),
            },
            Role::Put(path) => self.put(entry, &path, name),
        }
    }

    /// A whiteout for `path`: the 0/0 device overlayfs reads as "deleted".
    fn whiteout(&mut self, path: &Path, name: &str) -> Result<(), UnpackError> {
        self.make_dirs(path.parent().unwrap_or(Path::new("")), name)?;
        let full = self.dest.join(path);
        match self.lstat(&full, name)? {
            None => mknod(&full, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
                .map_err(|e| io_error(name, "make whiteout", &full, e.into())),
            // This layer also has the name as a directory: keep its content,
            // hide the lower layers' (what the spec's two passes give).
            Some(meta) if meta.is_dir() => self.set_opaque(&full, name),
            // This layer's own entry already hides the lower one.
            Some(_) => Ok(()),
        }
    }

    /// Create a file, directory, link or device entry at `path`.
    fn put<R: Read>(
        &mut self,
        entry: &mut Entry<R>,
        path: &Path,
        name: &str,
    ) -> Result<(), UnpackError> {
        self.make_dirs(path.parent().unwrap_or(Path::new("")), name)?;
        let meta = read_meta(entry, name)?;
        let full = self.dest.join(path);
        let existing = self.lstat(&full, name)?;
        let header = entry.header();
        let major = header.device_major().ok().flatten().unwrap_or(0);
        let minor = header.device_minor().ok().flatten().unwrap_or(0);
        let device = makedev(major.into(), minor.into());
        match header.entry_type() {
            EntryType::Directory => match existing {
                Some(m) if m.is_dir() => {}
                Some(m) => {
                    let was_whiteout = is_whiteout(&m);
                    self.clear(&full, &m, name)?;
                    self.mkdir(&full, name)?;
                    if was_whiteout {
                        self.set_opaque(&full, name)?;
                    }
                }
                None => self.mkdir(&full, name)?,
            },
            EntryType::Regular | EntryType::Continuous => {
                self.clear_any(&full, existing, name)?;
                write_file(entry, &full, name)?;
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default();
                self.clear_any(&full, existing, name)?;
                symlink(OsStr::from_bytes(&target), &full)
                    .map_err(|e| io_error(name, "create symlink", &full, e))?;
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().unwrap_or_default();
                let source = self.link_source(&target, name)?;
                self.clear_any(&full, existing, name)?;
                // A hard link shares its target's inode, metadata included.
                return fs::hard_link(&source, &full)
                    .map_err(|e| io_error(name, "create hard link", &full, e));
            }
            kind @ (EntryType::Char | EntryType::Block | EntryType::Fifo) => {
                let (flag, dev) = match kind {
                    EntryType::Char if device == 0 => {
                        return Err(UnpackError::DeviceZero { entry: name.into() })
                    }
                    EntryType::Char => (SFlag::S_IFCHR, device),
                    EntryType::Block => (SFlag::S_IFBLK, device),
                    _ => (SFlag::S_IFIFO, 0),
                };
                self.clear_any(&full, existing, name)?;
                mknod(&full, flag, Mode::empty(), dev)
                    .map_err(|e| io_error(name, "create device", &full, e.into()))?;
            }
            kind => {
                let kind = format!("{kind:?}");
                return Err(UnpackError::Unsupported {
                    entry: name.into(),
                    kind,
                });
            }
        }
        self.set_meta(&full, &meta, name)
    }

    /// Owner, then mode (chown clears setuid bits), then xattrs (chown
    /// clears file capabilities), then times, none through a symlink.
    fn set_meta(&mut self, full: &Path, meta: &Meta, name: &str) -> Result<(), UnpackError> {
        std::os::unix::fs::lchown(full, Some(meta.uid), Some(meta.gid))
            .map_err(|e| io_error(name, "chown", full, e))?;
        let stat = fs::symlink_metadata(full).map_err(|e| io_error(name, "stat", full, e))?;
        if !stat.file_type().is_symlink() {
            fs::set_permissions(full, fs::Permissions::from_mode(meta.mode))
                .map_err(|e| io_error(name, "chmod", full, e))?;
        }
        for (key, value) in &meta.xattrs {
            xattr::set(full, key, value).map_err(|e| io_error(name, "set xattr on", full, e))?;
        }
        if stat.is_dir() {
            self.dir_times.insert(full.to_path_buf(), meta.mtime);
            return Ok(());
        }
        set_mtime(full, meta.mtime).map_err(|e| io_error(name, "set mtime of", full, e))
    }

    pub(super) fn set_dir_times(&mut self) -> Result<(), UnpackError> {
        // Children sort after parents: in reverse, each parent's time is
        // the last change made to it.
        for (dir, mtime) in self.dir_times.iter().rev() {
            let entry = dir.strip_prefix(self.dest).unwrap_or(dir);
            let entry = entry.display().to_string();
            // A later entry of the layer may have replaced the directory.
            if !self.lstat(dir, &entry)?.is_some_and(|m| m.is_dir()) {
                continue;
            }
            set_mtime(dir, *mtime).map_err(|e| io_error(&entry, "set mtime of", dir, e))?;
        }
        Ok(())
    }

    // ANCHOR: make_dirs
    /// Make sure every component of `rel` is a real directory inside
    /// `dest`, creating missing ones (mode 0755, as tar does). A symlink on
    /// the way is refused: it is the one way a relative path could lead
    /// outside. A whiteout on the way becomes an opaque directory, and a
    /// file becomes a directory, which is what the spec's rules give.
    fn make_dirs(&self, rel: &Path, name: &str) -> Result<(), UnpackError> {
        let mut full = self.dest.to_path_buf();
        for component in rel.components() {
            full.push(component);
            match self.lstat(&full, name)? {
                Some(m) if m.is_dir() => {}
                Some(m) if m.file_type().is_symlink() => {
                    let symlink = full.strip_prefix(self.dest).unwrap_or(&full).into();
                    return Err(UnpackError::ThroughSymlink {
                        entry: name.into(),
                        symlink,
                    });
                }
                Some(m) => {
                    self.clear(&full, &m, name)?;
                    self.mkdir(&full, name)?;
                    if is_whiteout(&m) {
                        self.set_opaque(&full, name)?;
                    }
                }
                None => self.mkdir(&full, name)?,
            }
        }
        Ok(())
    }
    // ANCHOR_END: make_dirs

    /// The file a hard link entry may point at: relative, no `..`, already
    /// unpacked from this layer as a regular file, reached without symlinks.
    fn link_source(&self, target: &[u8], name: &str) -> Result<PathBuf, UnpackError> {
        let bad = |reason| UnpackError::BadHardlink {
            entry: name.into(),
            target: String::from_utf8_lossy(target).into_owned(),
            reason,
        };
        let rel = match changeset::clean_path(Path::new(OsStr::from_bytes(target))) {
            Ok(rel) => rel,
            Err(ChangesetError::Absolute { .. }) => return Err(bad("its target is absolute")),
            Err(_) => return Err(bad("its target has a .. component")),
        };
        let mut full = self.dest.to_path_buf();
        let count = rel.components().count();
        for (i, component) in rel.components().enumerate() {
            full.push(component);
            match self.lstat(&full, name)? {
                Some(m) if m.file_type().is_symlink() => {
                    return Err(bad("its target's path goes through a symlink"))
                }
                Some(m) if i + 1 < count && m.is_dir() => {}
                Some(m) if i + 1 == count && m.is_file() => return Ok(full),
                _ => break,
            }
        }
        Err(bad(
            "its target is not a regular file earlier in this layer",
        ))
    }

    fn lstat(&self, full: &Path, name: &str) -> Result<Option<Metadata>, UnpackError> {
        match fs::symlink_metadata(full) {
            Ok(meta) => Ok(Some(meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(name, "stat", full, e)),
        }
    }

    fn mkdir(&self, full: &Path, name: &str) -> Result<(), UnpackError> {
        fs::create_dir(full).map_err(|e| io_error(name, "create directory", full, e))?;
        fs::set_permissions(full, fs::Permissions::from_mode(0o755))
            .map_err(|e| io_error(name, "chmod", full, e))
    }

    /// Remove what an earlier entry of this layer put at `full`. Removing
    /// never follows symlinks: a symlink is removed, not its target.
    fn clear(&self, full: &Path, existing: &Metadata, name: &str) -> Result<(), UnpackError> {
        let result = if existing.is_dir() {
            fs::remove_dir_all(full)
        } else {
            fs::remove_file(full)
        };
        result.map_err(|e| io_error(name, "replace", full, e))
    }

    fn clear_any(
        &self,
        full: &Path,
        existing: Option<Metadata>,
        name: &str,
    ) -> Result<(), UnpackError> {
        existing.map_or(Ok(()), |m| self.clear(full, &m, name))
    }

    fn set_opaque(&self, full: &Path, name: &str) -> Result<(), UnpackError> {
        xattr::set(full, OPAQUE_XATTR, b"y").map_err(|e| io_error(name, "mark opaque", full, e))
    }
}

/// Write a regular file's content, insisting on as many bytes as the
/// header promised: the tar reader hands a cut-off stream over as a short
/// file, not as an error.
fn write_file<R: Read>(entry: &mut Entry<R>, full: &Path, name: &str) -> Result<(), UnpackError> {
    // create_new: O_EXCL, which also refuses to follow a symlink at `full`.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(full)
        .map_err(|e| io_error(name, "create", full, e))?;
    let expected = entry.size();
    let mut buf = vec![0u8; 64 * 1024];
    let mut written = 0;
    loop {
        let n = match entry.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(UnpackError::Corrupt {
                    at: format!("entry {name:?}"),
                    source,
                })
            }
        };
        file.write_all(&buf[..n])
            .map_err(|e| io_error(name, "write", full, e))?;
        written += n as u64;
    }
    if written != expected {
        let message =
            format!("the entry should hold {expected} bytes, the stream ends after {written}");
        let source = io::Error::new(io::ErrorKind::UnexpectedEof, message);
        return Err(UnpackError::Corrupt {
            at: format!("entry {name:?}"),
            source,
        });
    }
    Ok(())
}

/// Mode, owner and time from the header, overridden by PAX records where
/// present, and xattrs from PAX `SCHILY.xattr.NAME` records.
fn read_meta<R: Read>(entry: &mut Entry<R>, name: &str) -> Result<Meta, UnpackError> {
    let corrupt = |source| UnpackError::Corrupt {
        at: format!("entry {name:?}"),
        source,
    };
    let header = entry.header();
    let mut meta = Meta {
        mode: header.mode().map_err(corrupt)? & 0o7777,
        uid: header.uid().map_err(corrupt)? as u32,
        gid: header.gid().map_err(corrupt)? as u32,
        mtime: header.mtime().map_err(corrupt)? as i64,
        xattrs: Vec::new(),
    };
    let Some(records) = entry.pax_extensions().map_err(corrupt)? else {
        return Ok(meta);
    };
    for record in records {
        let record = record.map_err(corrupt)?;
        let (Ok(key), value) = (record.key(), record.value_bytes()) else {
            continue;
        };
        // Whole seconds: PAX times may have a fraction, which is dropped.
        let text = String::from_utf8_lossy(value);
        let number = text.split('.').next().unwrap_or("").parse::<i64>().ok();
        let id = number.and_then(|n| u32::try_from(n).ok());
        match key {
            "uid" => meta.uid = id.unwrap_or(meta.uid),
            "gid" => meta.gid = id.unwrap_or(meta.gid),
            "mtime" => meta.mtime = number.unwrap_or(meta.mtime),
            _ => {
                let Some(xattr) = key.strip_prefix("SCHILY.xattr.") else {
                    continue;
                };
                if xattr.starts_with("trusted.overlay.") {
                    let (entry, name) = (name.to_string(), xattr.to_string());
                    return Err(UnpackError::OverlayXattr { entry, name });
                }
                meta.xattrs.push((xattr.to_string(), value.to_vec()));
            }
        }
    }
    Ok(meta)
}

fn set_mtime(full: &Path, mtime: i64) -> io::Result<()> {
    let time = TimeSpec::new(mtime, 0);
    utimensat(None, full, &time, &time, UtimensatFlags::NoFollowSymlink).map_err(io::Error::from)
}
