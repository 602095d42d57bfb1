//! # Exercise 15: when a COPY can come from the cache
//!
//! `docker build` keeps each step's result under a *cache key*, and a step
//! whose key it has seen before is not run again. For `RUN apt-get install
//! curl` the key is the command and the image it runs on: the builder
//! cannot know what a command reads. For a COPY it can, since it reads the
//! files itself, so the key also holds a checksum of them:
//!
//! ```text
//! COPY app /app   key = sha256(PARENT "\n" "COPY app /app" "\n" checksum(app))
//! RUN make        key = sha256(PARENT "\n" "RUN make" "\n")
//! ```
//!
//! Edit a file, and the checksum, the key and the step change, and every
//! step after it runs again; `git clone` the project afresh, and nothing
//! does, because the checksum leaves out modification times.
//!
//! Write [`checksum`] and [`cache_key`]. Run `cargo ex check
//! 15_copy_cache_key` until it passes.

// The parameters are unused until the `todo!()`s are replaced.
#![allow(unused_variables)]

use cratebox_image::digest::Digest;

/// What an entry is, with what identifies its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file, and the sha256 of its contents in 64 hex digits.
    File {
        /// The contents' sha256, in hex, without `sha256:`.
        sha256: String,
    },
    /// A directory. What it holds comes as entries of its own.
    Dir,
    /// A symbolic link, and its target as written (never followed).
    Symlink {
        /// Where the link points.
        target: String,
    },
}

/// One entry that a COPY reads from the build context, as `lstat` and a
/// read of the file describe it. There is no modification time, on
/// purpose: see [`checksum`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// The path relative to what is copied, `/`-separated: `app/main.py`.
    pub path: String,
    /// File, directory or link.
    pub kind: EntryKind,
    /// The mode, perhaps straight from `st_mode`, file type bits and all;
    /// only the low 12 bits (permissions, setuid, setgid, sticky) count.
    pub mode: u32,
    /// The owner's user id.
    pub uid: u32,
    /// The owner's group id.
    pub gid: u32,
}

/// The checksum of the entries a COPY reads: equal exactly when the
/// copies would be equal, whatever order the entries come in.
///
/// It is the sha256 of one record per entry, the entries sorted by path,
/// each record being
///
/// ```text
/// PATH \0 TYPE \0 MODE \0 UID \0 GID \0 DETAIL \0
/// ```
///
/// with no blanks: the fields are separated by NUL bytes and each record
/// ends with a newline. TYPE is `file`, `dir` or `symlink`; MODE is
/// `mode & 0o7777` in octal without a leading zero (`755`, `4755`); UID and
/// GID are in decimal; DETAIL is a file's sha256 (hex), a link's target,
/// or nothing for a directory.
///
/// Modification times are not in it: a fresh `git clone` or a `touch`
/// changes every mtime and nothing that ends up in the image.
pub fn checksum(entries: &[SourceEntry]) -> Digest {
    // TODO: sort references to the entries by path (the slice is not yours
    //       to reorder).
    // TODO: write one record per entry into a String; `format!` writes a
    //       NUL byte as "\0" and octal as `{:o}`.
    // TODO: the digest of the whole text: `Digest::of(bytes)`.
    todo!("the checksum of the entries a COPY reads")
}

/// The key a build step is cached under: the sha256 of
///
/// ```text
/// PARENT \n INSTRUCTION \n SOURCES
/// ```
///
/// where PARENT is the digest of the image the step starts from, written
/// `sha256:...`; INSTRUCTION the step as it will run, variables expanded
/// (`COPY app /app`); and SOURCES the [`checksum`] of what a COPY or ADD
/// reads, `sha256:...` too, or nothing at all for other steps.
pub fn cache_key(parent: &Digest, instruction: &str, sources: Option<&Digest>) -> Digest {
    // TODO: a Digest displays as `sha256:...`; `Digest::as_str` gives the
    //       same as a &str. No sources is an empty third line.
    todo!("the cache key of a build step")
}
