//! Reference solution for exercise 15: the cache key of a COPY.

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
/// PATH \0 TYPE \0 MODE \0 UID \0 GID \0 DETAIL \n
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
    let mut sorted: Vec<&SourceEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut records = String::new();
    for entry in sorted {
        let (kind, detail) = match &entry.kind {
            EntryKind::File { sha256 } => ("file", sha256.as_str()),
            EntryKind::Dir => ("dir", ""),
            EntryKind::Symlink { target } => ("symlink", target.as_str()),
        };
        records += &format!(
            "{}\0{kind}\0{:o}\0{}\0{}\0{detail}\0",
            entry.path,
            entry.mode & 0o7777,
            entry.uid,
            entry.gid,
        );
    }
    Digest::of(records.as_bytes())
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
    let sources = sources.map_or("", Digest::as_str);
    Digest::of(format!("{parent}\n{instruction}\n{sources}").as_bytes())
}
