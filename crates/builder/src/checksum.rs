//! The checksum that decides whether a COPY or ADD can come from the cache.
//!
//! A RUN is reused when its command line matches, because the builder cannot
//! know what a command will read. A COPY is different: the builder reads the
//! files itself, so it can tell exactly when they changed. What counts is
//! what ends up in the image: each file's path (relative to what is copied),
//! type, permission bits, owner, and contents or link target. What does not
//! count is the modification time: a `git clone` or a `touch` changes every
//! mtime and nothing else, and a cache keyed on mtimes would miss after
//! each of them.
//!
//! The checksum is a sha256 over one record per entry, sorted by path so
//! that the order the directory was read in does not matter:
//!
//! ```text
//! PATH \0 TYPE \0 MODE \0 UID \0 GID \0 DETAIL \n
//! ```
//!
//! TYPE is `file`, `dir` or `symlink`; MODE is the permission bits (with
//! setuid, setgid and sticky) in octal, like `755`; DETAIL is the sha256 of
//! a file's contents in hex, a symlink's target, or empty for a directory.

use sha2::{Digest as _, Sha256};

use cratebox_image::digest::Digest;

/// What an entry is, with what identifies its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file and the sha256 of its contents, in hex.
    File { sha256: String },
    /// A directory.
    Dir,
    /// A symbolic link and its target, as written.
    Symlink { target: String },
}

/// One entry a COPY reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// The path relative to the source, `/`-separated (the source itself is
    /// its own base name).
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits, `0o7777` at most.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

// ANCHOR: checksum
/// The checksum of the entries a COPY or ADD reads: equal exactly when the
/// copies would be equal, whatever the order and the modification times.
pub fn checksum(entries: &[SourceEntry]) -> Digest {
    let mut sorted: Vec<&SourceEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut hasher = Sha256::new();
    for entry in sorted {
        let (kind, detail) = match &entry.kind {
            EntryKind::File { sha256 } => ("file", sha256.as_str()),
            EntryKind::Dir => ("dir", ""),
            EntryKind::Symlink { target } => ("symlink", target.as_str()),
        };
        let record = format!(
            "{}\0{kind}\0{:o}\0{}\0{}\0{detail}\n",
            entry.path,
            entry.mode & 0o7777,
            entry.uid,
            entry.gid
        );
        hasher.update(record.as_bytes());
    }
    Digest::from_hasher(hasher)
}
// ANCHOR_END: checksum

// ANCHOR: cache_key
/// The key a step is cached under: the image it starts from, the
/// instruction as it will run (variables expanded), and for COPY and ADD
/// the checksum of what they read. Change any of the three and the key
/// changes, so the step and every step after it run again.
pub fn cache_key(parent: &Digest, instruction: &str, sources: Option<&Digest>) -> Digest {
    let sources = sources.map(Digest::as_str).unwrap_or("");
    Digest::of(format!("{parent}\n{instruction}\n{sources}").as_bytes())
}
// ANCHOR_END: cache_key

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, sha256: &str, mode: u32) -> SourceEntry {
        SourceEntry {
            path: path.into(),
            kind: EntryKind::File {
                sha256: sha256.into(),
            },
            mode,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn order_does_not_count_metadata_does() {
        let a = file("a", "aa", 0o644);
        let b = file("b", "bb", 0o755);
        let base = checksum(&[a.clone(), b.clone()]);
        assert_eq!(base, checksum(&[b.clone(), a.clone()]));
        assert_ne!(base, checksum(&[file("a", "aa", 0o600), b.clone()]));
        assert_ne!(base, checksum(&[file("a", "ab", 0o644), b.clone()]));
        assert_ne!(base, checksum(&[file("c", "aa", 0o644), b.clone()]));
        let mut owned = a.clone();
        owned.uid = 1000;
        assert_ne!(base, checksum(&[owned, b]));
        insta::assert_snapshot!(base, @"sha256:41cae9d5ef8a0b203c2a32b6593980d14f2a9a13f47be176b9068f0164d14d4e");
    }

    #[test]
    fn keys_chain_on_the_parent() {
        let parent = Digest::of(b"parent");
        let copy = checksum(&[file("a", "aa", 0o644)]);
        let key = cache_key(&parent, "COPY a /a", Some(&copy));
        assert_ne!(
            key,
            cache_key(&Digest::of(b"other"), "COPY a /a", Some(&copy))
        );
        assert_ne!(key, cache_key(&parent, "COPY a /b", Some(&copy)));
        assert_ne!(key, cache_key(&parent, "COPY a /a", None));
    }
}
