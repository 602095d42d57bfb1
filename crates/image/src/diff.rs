//! What a container changed, and that change as a new layer.
//!
//! A container writes only to its overlay's upper directory, so the upper
//! directory *is* the container's diff, already in a layer's shape:
//!
//! ```text
//! upper/etc/hostname      a file the container wrote    -> etc/hostname
//! upper/etc/motd          char device 0/0 (deleted)     -> etc/.wh.motd
//! upper/var/cache/        xattr trusted.overlay.opaque  -> var/cache/ + var/cache/.wh..wh..opq
//! ```
//!
//! [`changes`] reads it as `docker diff` prints it (`A`dded, `C`hanged,
//! `D`eleted), and [`write_layer`] turns it into a layer tar for `commit`,
//! the reverse of [`crate::unpack`]. Both look only at the upper directory
//! (and, for `changes`, at single paths in the lower ones), so they cost
//! what the container changed, not what the image holds.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{major, minor};
use tar::{EntryType, Header};
use thiserror::Error;

use crate::changeset::{OPAQUE_MARKER, WHITEOUT_PREFIX};
use crate::digest::HashingWriter;
use crate::unpack::{is_whiteout, OPAQUE_XATTR};

/// Why the upper directory could not be read or written out.
#[derive(Debug, Error)]
pub enum DiffError {
    /// A file operation failed.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// overlayfs recorded a directory rename or a metadata-only copy, which
    /// needs the lower layers to make sense and has no form in a tar.
    #[error("{path} carries {xattr}: overlayfs recorded a rename or a metadata-only copy, which a layer cannot express; mount the overlay with redirect_dir=off,metacopy=off")]
    Unsupported {
        /// The file in the upper directory.
        path: PathBuf,
        /// The xattr that says so.
        xattr: String,
    },
    /// A file whose name a layer would read as a deletion.
    #[error("{path} is named .wh.*, which a layer reserves for deletions: rename it")]
    ReservedName {
        /// The file, relative to the upper directory.
        path: PathBuf,
    },
    /// Writing the tar failed.
    #[error("cannot write the layer tar at {path}: {source}")]
    Write {
        /// The entry being written.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// New: not in the image.
    Added,
    /// In the image, and written to (or, for a directory, something in it was).
    Changed,
    /// In the image, and removed.
    Deleted,
}

/// One line of `docker diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The path inside the container, absolute: `/etc/hosts`.
    pub path: PathBuf,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = match self.kind {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        };
        write!(f, "{letter} {}", self.path.display())
    }
}

/// A layer written by [`write_layer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// `sha256:` and the hex digest of the tar: its diff_id.
    pub diff_id: String,
    /// Size of the tar.
    pub bytes: u64,
}

// ANCHOR: changes
/// The container's changes, sorted by path. `upper` is its overlay upper
/// directory, `lowers` the image's layer directories, base first (as
/// [`crate::overlay::overlay_options`] takes them).
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>, DiffError> {
    let mut changes = Vec::new();
    let mut note = |kind, path| changes.push(Change { kind, path });
    for (rel, meta) in walk(upper)? {
        let in_container = Path::new("/").join(&rel);
        if is_whiteout(&meta) {
            note(ChangeKind::Deleted, in_container);
            continue;
        }
        let full = upper.join(&rel);
        // Refuses renamed directories and metadata-only copies, which
        // would make this list wrong.
        xattr_records(&full)?;
        if in_lowers(lowers, &rel)? {
            note(ChangeKind::Changed, in_container.clone());
        } else {
            note(ChangeKind::Added, in_container.clone());
        }
        // An opaque directory deletes, silently, every lower child it lacks.
        if meta.is_dir() && is_opaque(&full)? {
            for name in lower_children(lowers, &rel)? {
                if lstat(&full.join(&name))?.is_none() && in_lowers(lowers, &rel.join(&name))? {
                    note(ChangeKind::Deleted, in_container.join(&name));
                }
            }
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}
// ANCHOR_END: changes

/// Whether `rel` is visible in the merged view of `lowers` (base first):
/// found in some layer, with no whiteout, file or opaque directory in a
/// layer above hiding it. Looks at one path per layer, top layer first.
fn in_lowers(lowers: &[PathBuf], rel: &Path) -> Result<bool, DiffError> {
    let depth = rel.components().count();
    'layers: for layer in lowers.iter().rev() {
        let mut full = layer.clone();
        let mut below_opaque = false;
        for (i, component) in rel.components().enumerate() {
            full.push(component);
            match lstat(&full)? {
                // Nothing here in this layer: lower layers decide, unless an
                // opaque directory above hides them.
                None if below_opaque => return Ok(false),
                None => continue 'layers,
                Some(meta) if is_whiteout(&meta) => return Ok(false),
                Some(_) if i + 1 == depth => return Ok(true),
                // A file or symlink hides whatever lower layers have under it.
                Some(meta) if !meta.is_dir() => return Ok(false),
                Some(_) => below_opaque |= is_opaque(&full)?,
            }
        }
    }
    Ok(false)
}

/// The names any lower layer has in directory `rel` (to be filtered with
/// [`in_lowers`], which also rules out names read through a symlink).
fn lower_children(lowers: &[PathBuf], rel: &Path) -> Result<BTreeSet<OsString>, DiffError> {
    let mut names = BTreeSet::new();
    for layer in lowers {
        let dir = layer.join(rel);
        if !lstat(&dir)?.is_some_and(|m| m.is_dir()) {
            continue;
        }
        let entries = fs::read_dir(&dir).map_err(io_error("read", &dir))?;
        for entry in entries {
            names.insert(entry.map_err(io_error("read", &dir))?.file_name());
        }
    }
    Ok(names)
}

// ANCHOR: write_layer
/// Write the upper directory `upper` as an uncompressed OCI layer tar to
/// `out`: whiteout devices become `.wh.NAME` files, opaque directories get
/// a `.wh..wh..opq` entry, and everything else goes in as it is, in sorted
/// order so the same changes always give the same bytes (and diff_id).
// ANCHOR: write_whiteouts
pub fn write_layer(upper: &Path, out: impl Write) -> Result<LayerInfo, DiffError> {
    let mut tar = tar::Builder::new(HashingWriter::new(out));
    // The first path of each multiply-linked file, to link the others to.
    let mut first_link: HashMap<(u64, u64), PathBuf> = HashMap::new();
    for (rel, meta) in walk(upper)? {
        let full = upper.join(&rel);
        let name = rel.file_name().map(|n| n.as_bytes()).unwrap_or_default();
        let write_error = |source| DiffError::Write {
            path: full.clone(),
            source,
        };
        let mut header = header_of(&meta);
        if is_whiteout(&meta) {
            let mut marker = WHITEOUT_PREFIX.as_bytes().to_vec();
            marker.extend_from_slice(name);
            let path = rel.with_file_name(std::ffi::OsStr::from_bytes(&marker));
            header.set_entry_type(EntryType::Regular);
            header.set_mode(0o600);
            tar.append_data(&mut header, path, io::empty())
                .map_err(write_error)?;
            continue;
        }
        // A real file called `.wh.x` would come back as "x deleted".
        if name.starts_with(WHITEOUT_PREFIX.as_bytes()) {
            return Err(DiffError::ReservedName { path: rel });
        }
        // ANCHOR_END: write_whiteouts
        let xattrs = xattr_records(&full)?;
        if !xattrs.is_empty() {
            let mut pax = Header::new_ustar();
            pax.set_entry_type(EntryType::XHeader);
            pax.set_size(xattrs.len() as u64);
            tar.append_data(&mut pax, "PaxHeader", &xattrs[..])
                .map_err(write_error)?;
        }
        let kind = meta.file_type();
        if kind.is_dir() {
            header.set_entry_type(EntryType::Directory);
            tar.append_data(&mut header, &rel, io::empty())
                .map_err(write_error)?;
            if is_opaque(&full)? {
                header.set_entry_type(EntryType::Regular);
                let marker = rel.join(OPAQUE_MARKER);
                tar.append_data(&mut header, marker, io::empty())
                    .map_err(write_error)?;
            }
        } else if kind.is_file() {
            if meta.nlink() > 1 {
                let inode = (meta.dev(), meta.ino());
                if let Some(target) = first_link.get(&inode) {
                    header.set_entry_type(EntryType::Link);
                    tar.append_link(&mut header, &rel, target)
                        .map_err(write_error)?;
                    continue;
                }
                first_link.insert(inode, rel.clone());
            }
            header.set_entry_type(EntryType::Regular);
            header.set_size(meta.len());
            // No more than the header promised, should the file grow
            // meanwhile (commit expects a stopped container, as docker's
            // pause does).
            let file = File::open(&full).map_err(io_error("open", &full))?;
            tar.append_data(&mut header, &rel, file.take(meta.len()))
                .map_err(write_error)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&full).map_err(io_error("read link", &full))?;
            header.set_entry_type(EntryType::Symlink);
            tar.append_link(&mut header, &rel, target)
                .map_err(write_error)?;
        } else if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() {
            let (entry_type, rdev) = if kind.is_char_device() {
                (EntryType::Char, meta.rdev())
            } else if kind.is_block_device() {
                (EntryType::Block, meta.rdev())
            } else {
                (EntryType::Fifo, 0)
            };
            header.set_entry_type(entry_type);
            header
                .set_device_major(major(rdev) as u32)
                .map_err(write_error)?;
            header
                .set_device_minor(minor(rdev) as u32)
                .map_err(write_error)?;
            tar.append_data(&mut header, &rel, io::empty())
                .map_err(write_error)?;
        }
        // Sockets are left out: a tar cannot hold one, nor can docker's.
    }
    let hashing = tar.into_inner().map_err(|source| DiffError::Write {
        path: upper.to_path_buf(),
        source,
    })?;
    let (diff_id, bytes, mut out) = hashing.finish();
    out.flush().map_err(|source| DiffError::Write {
        path: upper.to_path_buf(),
        source,
    })?;
    Ok(LayerInfo {
        diff_id: diff_id.to_string(),
        bytes,
    })
}
// ANCHOR_END: write_layer

/// A GNU tar header with `meta`'s mode, owner and time; type and size are
/// the caller's. GNU rather than ustar for its base-256 numbers (large
/// uids) and its long-name records, which the tar crate writes for us.
fn header_of(meta: &Metadata) -> Header {
    let mut header = Header::new_gnu();
    header.set_mode(meta.mode() & 0o7777);
    header.set_uid(meta.uid().into());
    header.set_gid(meta.gid().into());
    header.set_mtime(meta.mtime().max(0) as u64);
    header.set_size(0);
    header
}

/// The PAX records carrying `full`'s xattrs, skipping overlayfs's own
/// (`trusted.overlay.*`), and refusing the ones a tar cannot express.
fn xattr_records(full: &Path) -> Result<Vec<u8>, DiffError> {
    let mut records = Vec::new();
    let names = match xattr::list(full) {
        Ok(names) => names,
        Err(e) if e.kind() == io::ErrorKind::Unsupported => return Ok(records),
        Err(e) => return Err(io_error("list xattrs of", full)(e)),
    };
    for name in names {
        let name = name.to_string_lossy().into_owned();
        if name == "trusted.overlay.redirect" || name == "trusted.overlay.metacopy" {
            return Err(DiffError::Unsupported {
                path: full.into(),
                xattr: name,
            });
        }
        if name.starts_with("trusted.overlay.") {
            continue;
        }
        let value = xattr::get(full, &name).map_err(io_error("read xattr of", full))?;
        records.extend(pax_record(
            &format!("SCHILY.xattr.{name}"),
            &value.unwrap_or_default(),
        ));
    }
    Ok(records)
}

/// One PAX record, `LEN KEY=VALUE\n`, where LEN counts the whole record,
/// its own digits included.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // the space, '=' and '\n'
    let mut len = rest + 1;
    while rest + len.to_string().len() != len {
        len = rest + len.to_string().len();
    }
    let mut record = format!("{len} {key}=").into_bytes();
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

/// Every path under `root` (relative), depth first with names sorted, so a
/// directory comes before its children. Symlinks are not followed.
fn walk(root: &Path) -> Result<Vec<(PathBuf, Metadata)>, DiffError> {
    fn visit(root: &Path, rel: &Path, out: &mut Vec<(PathBuf, Metadata)>) -> Result<(), DiffError> {
        let dir = root.join(rel);
        let mut names = fs::read_dir(&dir)
            .map_err(io_error("read", &dir))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io_error("read", &dir))?;
        names.sort();
        for name in names {
            let rel = rel.join(name);
            let full = root.join(&rel);
            let meta = fs::symlink_metadata(&full).map_err(io_error("stat", &full))?;
            let is_dir = meta.is_dir();
            out.push((rel.clone(), meta));
            if is_dir {
                visit(root, &rel, out)?;
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(root, Path::new(""), &mut out)?;
    Ok(out)
}

/// Whether overlayfs treats directory `full` as opaque.
fn is_opaque(full: &Path) -> Result<bool, DiffError> {
    match xattr::get(full, OPAQUE_XATTR) {
        Ok(value) => Ok(value.as_deref() == Some(b"y")),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(false),
        Err(e) => Err(io_error("read xattrs of", full)(e)),
    }
}

fn lstat(full: &Path) -> Result<Option<Metadata>, DiffError> {
    match fs::symlink_metadata(full) {
        Ok(meta) => Ok(Some(meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("stat", full)(e)),
    }
}

fn io_error(what: &'static str, path: &Path) -> impl Fn(io::Error) -> DiffError {
    let path = path.to_path_buf();
    move |source| DiffError::Io {
        what,
        path: path.clone(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_its_own_digits() {
        assert_eq!(pax_record("a", b"b"), b"6 a=b\n");
        // 9 bytes without the length; "9 " would make 11, so it is "11 ".
        assert_eq!(pax_record("abc", b"xyz"), b"11 abc=xyz\n");
        let long = pax_record("SCHILY.xattr.user.k", &[b'v'; 95]);
        assert_eq!(long.len().to_string(), String::from_utf8_lossy(&long[..3]));
    }

    #[test]
    fn change_renders_as_docker_diff_prints_it() {
        let change = |kind| {
            Change {
                kind,
                path: "/etc/hosts".into(),
            }
            .to_string()
        };
        assert_eq!(change(ChangeKind::Added), "A /etc/hosts");
        assert_eq!(change(ChangeKind::Changed), "C /etc/hosts");
        assert_eq!(change(ChangeKind::Deleted), "D /etc/hosts");
    }
}
