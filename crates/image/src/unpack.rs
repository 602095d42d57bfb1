//! Extracting a layer tar into a directory that overlayfs will use as a
//! lower layer, without trusting the tar.
//!
//! The layer's regular entries become files as any tar extractor makes
//! them. Its whiteouts ([`crate::changeset`]) become what overlayfs reads:
//!
//! ```text
//! in the tar                 in the layer directory
//! etc/.wh.motd               etc/motd           character device 0/0
//! var/www/.wh..wh..opq       var/www/           xattr trusted.overlay.opaque=y
//! ```
//!
//! A layer comes from a registry, which is to say from anyone. A tar entry
//! can name `/etc/passwd`, `../../etc/passwd`, or `evil/passwd` after an
//! earlier `evil -> /etc`, and a naive extractor running as root writes the
//! host's files. So every entry's path is checked before anything is
//! written, and an offending entry stops the unpack with an error naming it.
//!
//! This file reads the stream (gzip or not, hashed, checked to its end);
//! `unpack/entries.rs` makes each entry, and explains how it keeps them
//! inside the destination.

use std::fs::Metadata;
use std::io::{self, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use sha2::{Digest as _, Sha256};
use std::sync::mpsc;
use std::thread;
use tar::Entry;
use thiserror::Error;

use crate::changeset::ChangesetError;

mod entries;
use entries::{ArchiveKind, Unpacker};

/// The xattr overlayfs reads to treat a lower directory as opaque.
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// What was unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackStats {
    /// `sha256:` and the hex digest of the uncompressed tar: the layer's
    /// diff_id, which the image config lists.
    pub diff_id: String,
    /// Tar entries processed, whiteouts included.
    pub entries: usize,
    /// Size of the uncompressed tar.
    pub bytes: u64,
}

/// Why a layer was not unpacked. The caller deletes the destination.
#[derive(Debug, Error)]
pub enum UnpackError {
    /// A path that the spec's rules refuse (absolute, `..`, a bad whiteout).
    #[error(transparent)]
    Refused(#[from] ChangesetError),
    /// The gzip or tar stream is damaged or ends early.
    #[error("layer stream is truncated or corrupt at {at}: {source}")]
    Corrupt {
        /// Where: the entry being read, or the one after which it broke.
        at: String,
        /// What the decoder said.
        #[source]
        source: io::Error,
    },
    /// The tar ends without its two zero blocks: a download cut off
    /// exactly between two entries.
    #[error("layer stream is truncated: it ends after entry {after:?} without tar's end-of-archive blocks")]
    NoEnd {
        /// The last entry read.
        after: String,
    },
    /// An entry's parent directory is a symlink made by this layer.
    #[error("refusing entry {entry:?}: its parent {symlink:?} is a symlink, and writing through it could land outside the layer")]
    ThroughSymlink {
        /// The entry.
        entry: String,
        /// The symlink on its way.
        symlink: PathBuf,
    },
    /// A hard link that does not point at a file of this layer.
    #[error("refusing hard link {entry:?} -> {target:?}: {reason}")]
    BadHardlink {
        /// The link.
        entry: String,
        /// Its target as written.
        target: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A 0/0 character device entry: overlayfs would read it as a whiteout.
    #[error("refusing entry {entry:?}: a 0/0 character device means \"deleted\" to overlayfs; a layer says that with a .wh. file")]
    DeviceZero {
        /// The entry.
        entry: String,
    },
    /// A PAX xattr in overlayfs's namespace: a layer must not forge
    /// overlayfs's bookkeeping (redirects, opaque marks) directly.
    #[error("refusing entry {entry:?}: it sets xattr {name}, which belongs to overlayfs")]
    OverlayXattr {
        /// The entry.
        entry: String,
        /// The xattr.
        name: String,
    },
    /// A tar entry type with no place in a layer (GNU sparse, volume labels).
    #[error("refusing entry {entry:?}: tar entry type {kind} is not supported in a layer")]
    Unsupported {
        /// The entry.
        entry: String,
        /// Its type, as the tar crate names it.
        kind: String,
    },
    /// A file system operation failed.
    #[error("entry {entry:?}: cannot {what} {path}: {source}")]
    Io {
        /// The entry being unpacked.
        entry: String,
        /// The operation.
        what: &'static str,
        /// The file it was done to.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
}

// ANCHOR: open_layer
/// The uncompressed tar stream of a layer blob: gzip, zstd or plain tar.
/// The compression is recognised by its magic bytes rather than trusted
/// from a media type. Multi-member gzip (concatenated streams) is read
/// whole, as Go's gzip reader does, since that is what produced most
/// layers.
pub fn open_layer<'a>(mut reader: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut magic = [0u8; 4];
    let mut seen = 0;
    while seen < magic.len() {
        match reader.read(&mut magic[seen..]) {
            Ok(0) => break,
            Ok(n) => seen += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    // Put the peeked bytes back in front of the rest.
    let whole = io::Cursor::new(magic).take(seen as u64).chain(reader);
    if seen >= 2 && magic[..2] == GZIP_MAGIC {
        Ok(Box::new(MultiGzDecoder::new(whole)))
    } else if seen == 4 && magic == ZSTD_MAGIC {
        let decoder = ruzstd::decoding::StreamingDecoder::new(whole)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(whole))
    }
}
// ANCHOR_END: open_layer

// ANCHOR: unpack_layer
/// Unpack one layer blob (tar or tar+gzip) into `dest`, a fresh empty
/// directory, in the form overlayfs reads as a lower layer. Returns the
/// layer's diff_id, computed from the same bytes that were unpacked.
pub fn unpack_layer(reader: impl Read, dest: &Path) -> Result<UnpackStats, UnpackError> {
    unpack(reader, dest, ArchiveKind::Layer)
}

/// Unpack a plain tar archive (gzipped or not) into `dest` with the same
/// checks as a layer, for Dockerfile's ADD of a local tarball. The one
/// difference: an entry named `.wh.*` is refused rather than taken as a
/// deletion, since a user's tarball deletes nothing (and the layer the
/// files go into could not hold such a name anyway).
pub fn unpack_archive(reader: impl Read, dest: &Path) -> Result<UnpackStats, UnpackError> {
    unpack(reader, dest, ArchiveKind::Plain)
}

fn unpack(reader: impl Read, dest: &Path, kind: ArchiveKind) -> Result<UnpackStats, UnpackError> {
    let start = "the start of the layer".to_string();
    let tar = open_layer(reader).map_err(|source| UnpackError::Corrupt {
        at: start.clone(),
        source,
    })?;
    let mut stream = Tally::new(tar);
    let mut unpacker = Unpacker {
        dest,
        dir_times: Default::default(),
        kind,
    };
    let mut last = start;
    let mut entries = 0;
    // Where the last entry's data ended: a complete tar has its zero blocks after that.
    let mut end_of_last = 0;

    // ANCHOR: unpack_entries
    let mut archive = tar::Archive::new(&mut stream);
    let iter = archive.entries().map_err(|source| UnpackError::Corrupt {
        at: last.clone(),
        source,
    })?;
    for entry in iter {
        let mut entry = entry.map_err(|source| UnpackError::Corrupt {
            at: format!("the entry after {last:?}"),
            source,
        })?;
        last = entry_name(&entry);
        end_of_last = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
        unpacker.entry(&mut entry, &last)?;
        entries += 1;
    }
    if stream.bytes <= end_of_last {
        return Err(UnpackError::NoEnd { after: last });
    }
    // Read to the very end: the diff_id covers the trailing zeros, and
    // gzip only checks its CRC once its trailer is read.
    io::copy(&mut stream, &mut io::sink()).map_err(|source| UnpackError::Corrupt {
        at: format!("the end, after {last:?}"),
        source,
    })?;
    unpacker.set_dir_times()?;
    let bytes = stream.bytes;
    Ok(UnpackStats {
        diff_id: stream.digest(),
        entries,
        bytes,
    })
    // ANCHOR_END: unpack_entries
}
// ANCHOR_END: unpack_layer

/// The entry's path as the tar wrote it, for messages.
fn entry_name<R: Read>(entry: &Entry<R>) -> String {
    String::from_utf8_lossy(&entry.path_bytes()).into_owned()
}

/// Hashes and counts the uncompressed stream on its way into the tar
/// reader. Like `digest::HashingReader`, but its count can be read while
/// the stream is still in use, which the end-of-archive check needs.
///
/// The hashing itself runs on a second thread, fed in 1 MiB chunks: sha256
/// of a big layer costs about as much CPU as writing its files, and on a
/// machine with two cores the two can overlap instead of adding up.
struct Tally<R> {
    inner: R,
    bytes: u64,
    pending: Vec<u8>,
    chunks: Option<mpsc::SyncSender<Vec<u8>>>,
    hasher: Option<thread::JoinHandle<Sha256>>,
}

const CHUNK: usize = 1 << 20;

impl<R: Read> Tally<R> {
    fn new(inner: R) -> Self {
        // A few chunks in flight at most: the reader never runs far ahead.
        let (chunks, incoming) = mpsc::sync_channel::<Vec<u8>>(4);
        let hasher = thread::spawn(move || {
            let mut hasher = Sha256::new();
            for chunk in incoming {
                hasher.update(&chunk);
            }
            hasher
        });
        Tally {
            inner,
            bytes: 0,
            pending: Vec::with_capacity(CHUNK),
            chunks: Some(chunks),
            hasher: Some(hasher),
        }
    }

    fn flush(&mut self) {
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK));
        if let Some(chunks) = &self.chunks {
            // The hashing thread only stops when the sender is dropped.
            let _ = chunks.send(chunk);
        }
    }

    /// `sha256:<hex>` of everything read.
    fn digest(mut self) -> String {
        self.flush();
        drop(self.chunks.take());
        let hasher = self
            .hasher
            .take()
            .and_then(|worker| worker.join().ok())
            .unwrap_or_default();
        format!("sha256:{}", hex::encode(hasher.finalize()))
    }
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        self.bytes += n as u64;
        if self.pending.len() >= CHUNK {
            self.flush();
        }
        Ok(n)
    }
}

/// A 0/0 character device: overlayfs's whiteout.
pub fn is_whiteout(meta: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.file_type().is_char_device() && meta.rdev() == 0
}

pub(crate) fn io_error(
    entry: &str,
    what: &'static str,
    path: &Path,
    source: io::Error,
) -> UnpackError {
    let (entry, path) = (entry.to_string(), path.to_path_buf());
    UnpackError::Io {
        entry,
        what,
        path,
        source,
    }
}
