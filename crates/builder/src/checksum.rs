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
//! PATH \0 TYPE \0 MODE \0 UID \0 GID \0 DETAIL \0
//! ```
//!
//! TYPE is `file`, `dir` or `symlink`; MODE is the permission bits (with
//! setuid, setgid and sticky) in octal, like `755`; DETAIL is the sha256 of
//! a file's contents in hex, a symlink's target, or empty for a directory.
//! Every field ends with a NUL byte, the one byte no file name and no link
//! target can hold, so no two different lists of entries give the same
//! bytes. (A newline would not do: names may contain newlines.)

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
            "{}\0{kind}\0{:o}\0{}\0{}\0{detail}\0",
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
        insta::assert_snapshot!(base, @"sha256:57e4de59da802e8640854e83c6cb4b4778a20c740e445601822010ca7269f282");
    }

    #[test]
    fn newlines_in_names_cannot_fake_another_list() {
        let link = |target: &str| SourceEntry {
            path: "a".into(),
            kind: EntryKind::Symlink {
                target: target.into(),
            },
            mode: 0o777,
            uid: 0,
            gid: 0,
        };
        let one = [link("t"), file("q\nz", "aa", 0o644)];
        let two = [link("t\nq"), file("z", "aa", 0o644)];
        assert_ne!(checksum(&one), checksum(&two));
    }

    /// Exercise 15 checks a learner's `checksum` and `cache_key` against
    /// these very digests (copied into its tests, since the exercises do
    /// not build this crate). Change the format, and this test says that
    /// the exercise must change with it.
    #[test]
    fn same_digests_as_exercise_15() {
        let sha = |text: &str| Digest::of(text.as_bytes()).hex().to_string();
        let entry = |path: &str, kind, mode| SourceEntry {
            path: path.into(),
            kind,
            mode,
            uid: 1000,
            gid: 1000,
        };
        let context = [
            entry("app", EntryKind::Dir, 0o755),
            entry(
                "app/main.py",
                EntryKind::File {
                    sha256: sha("print('hello')\n"),
                },
                0o644,
            ),
            entry(
                "app/run.sh",
                EntryKind::File {
                    sha256: sha("#!/bin/sh\nexec python3 main.py\n"),
                },
                0o755,
            ),
            entry(
                "app/latest",
                EntryKind::Symlink {
                    target: "main.py".into(),
                },
                0o777,
            ),
            entry("app/static", EntryKind::Dir, 0o755),
            entry(
                "app/static/style.css",
                EntryKind::File {
                    sha256: sha("body { margin: 0 }\n"),
                },
                0o644,
            ),
        ];
        let sources = checksum(&context);
        let parent = Digest::of(b"alpine");
        let text = format!(
            "{sources}\n{}\n{}",
            cache_key(&parent, "COPY app /app", Some(&sources)),
            cache_key(&parent, "RUN pip install flask", None)
        );
        insta::assert_snapshot!(text, @r"
        sha256:a57da1e64da63446b114337b0a8c70e80f3070656228fea1b2c05b794ba458fc
        sha256:f8fbca8eed78b232abbcd553cc6af974e099cde8bcfd457e7168a28585dc4605
        sha256:2485d6d0ab360387c0c7ca66090c6b0104a441a47a6194a1e095b85cfa69b71f
        ");
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
