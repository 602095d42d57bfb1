//! ADD's two extras over COPY: local archives are unpacked, URLs fetched.
//!
//! Whether a file is an archive is decided by its *content*, not its name:
//! the first bytes say whether it is compressed (gzip `1f 8b`, bzip2 `BZh`,
//! xz `fd 37 7a 58 5a 00`), and a tar has `ustar` at byte 257 of its
//! (decompressed) first block. Anything else is copied as a plain file.
//! The unpacking is the hardened one of chapter 4 (no entry may land
//! outside the destination), in its plain-archive mode: a `.wh.` name in
//! a user's tarball is a file, not a whiteout.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use cratebox_image::unpack::{unpack_archive, UnpackError};
use thiserror::Error;

/// Why ADD could not unpack or fetch something.
#[derive(Debug, Error)]
pub enum ArchiveError {
    /// The archive could not be opened.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The archive.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The archive's content was refused or broken.
    #[error("cannot unpack {name}: {source}")]
    Unpack {
        /// The archive's file name.
        name: String,
        /// What was wrong.
        #[source]
        source: UnpackError,
    },
    /// The server could not be reached, or answered with an error.
    #[error("cannot download {url}: {why}")]
    Fetch {
        /// The URL.
        url: String,
        /// The HTTP client's message (its error type is large and says
        /// nothing more useful).
        why: String,
    },
    /// The download could not be written.
    #[error("cannot save the download of {url} as {path}: {source}")]
    Save {
        /// The URL.
        url: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// The compression an archive was found to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
}

// ANCHOR: detect
/// What `head` (the first bytes of a file) says about its compression.
pub fn compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(b"BZh") {
        Compression::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Compression::Xz
    } else {
        Compression::None
    }
}
// ANCHOR_END: detect

/// The file's contents, decompressed as its first bytes say.
fn open(path: &Path) -> io::Result<Box<dyn Read>> {
    let mut head = [0u8; 6];
    let mut file = File::open(path)?;
    let n = file.read(&mut head)?;
    let file = BufReader::new(File::open(path)?);
    Ok(match compression(&head[..n]) {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        Compression::Xz => Box::new(xz2::read::XzDecoder::new_multi_decoder(file)),
    })
}

/// Whether the file is a tar archive, compressed or not.
pub fn is_archive(path: &Path) -> bool {
    let Ok(mut reader) = open(path) else {
        return false;
    };
    let mut block = [0u8; 512];
    let mut seen = 0;
    while seen < block.len() {
        match reader.read(&mut block[seen..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen += n,
        }
    }
    seen == block.len() && &block[257..262] == b"ustar"
}

/// Unpack the archive at `path` into `dest`, a directory of the new layer.
pub fn extract(path: &Path, dest: &Path) -> Result<(), ArchiveError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let reader = open(path).map_err(|source| ArchiveError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    unpack_archive(reader, dest)
        .map(|_| ())
        .map_err(|source| ArchiveError::Unpack {
            name: name.into_owned(),
            source,
        })
}

// ANCHOR: download
/// Fetch `url` into `dir`, as the file name the URL ends with. Returns the
/// file's path. A status other than 2xx is an error naming it.
pub fn download(url: &str, dir: &Path) -> Result<PathBuf, ArchiveError> {
    let name = url_file_name(url).unwrap_or("download");
    let response = ureq::get(url).call().map_err(|e| ArchiveError::Fetch {
        url: url.to_string(),
        why: e.to_string(),
    })?;
    let path = dir.join(name);
    let save_error = |source| ArchiveError::Save {
        url: url.to_string(),
        path: path.clone(),
        source,
    };
    let mut file = File::create(&path).map_err(save_error)?;
    io::copy(&mut response.into_reader(), &mut file)
        .and_then(|_| file.flush())
        .map_err(save_error)?;
    Ok(path)
}
// ANCHOR_END: download

/// The last path segment of a URL, if it has one.
pub fn url_file_name(url: &str) -> Option<&str> {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let after_host = without_query.split_once("://").map(|(_, rest)| rest)?;
    let path = after_host.split_once('/').map(|(_, path)| path)?;
    path.rsplit('/').next().filter(|name| !name.is_empty())
}

/// Whether an ADD source is a URL rather than a path.
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_by_magic() {
        assert_eq!(compression(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(compression(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(
            compression(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Compression::Xz
        );
        assert_eq!(compression(b"hello"), Compression::None);
        assert_eq!(compression(b""), Compression::None);
    }

    #[test]
    fn file_names_of_urls() {
        assert_eq!(
            url_file_name("http://127.0.0.1:80/a/b.tar.gz?x=1"),
            Some("b.tar.gz")
        );
        assert_eq!(url_file_name("https://example.org/"), None);
        assert_eq!(url_file_name("https://example.org"), None);
    }
}
