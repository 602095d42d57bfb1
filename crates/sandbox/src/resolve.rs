//! Resolving a path inside a root, the way the container will see it.
//!
//! Until pivot_root, a container's root is just a directory on the host,
//! and the kernel resolves `<root>/proc` against the *host's* tree. An image
//! is free to make `/proc` a symbolic link, though: to `/etc`, which the
//! kernel takes to be the host's /etc, or to `../../..`, which climbs out of
//! the root. Mounting on `<root>/proc` as it stands would mount on a host
//! path (in the container's mount namespace, but over files the container
//! was never meant to see), and `mkdir -p` would create host directories.
//!
//! [`resolve_in_root`] walks the path one component at a time, reading each
//! link itself, the way the kernel walks a path for a process whose root is
//! `root`:
//!
//! ```text
//! /proc -> /tmp/x        <root>/tmp/x      an absolute link starts again at the root
//! /sys  -> ../../../x    <root>/x          `..` at the root stays at the root
//! /a -> /b, /b -> /a     error             at most 40 links, the kernel's own limit
//! ```
//!
//! runc resolves every mount destination like this (with the Go library
//! filepath-securejoin), and so do the mount plan of chapter 2 and the
//! volumes of the next chapters. The answer holds only as long as nobody
//! changes the tree: mounts are made before anything of the container runs,
//! so only the host could, and the host is trusted. (Newer runc closes even
//! that gap by opening each step with openat2(2)'s `RESOLVE_IN_ROOT`.)

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

/// How many symbolic links one resolution may follow: the kernel's own
/// limit (`MAXSYMLINKS`), beyond which a lookup fails with ELOOP.
pub const MAX_LINKS: usize = 40;

/// Why a path could not be resolved inside a root.
#[derive(Debug, Error)]
pub enum ResolveError {
    /// The links never end: a loop, or a chain too long to be honest.
    #[error("{path} in the image goes through more than {MAX_LINKS} symbolic links (a loop?)")]
    TooManyLinks {
        /// The path inside the root, as asked for.
        path: PathBuf,
    },
    /// A component could not be looked at.
    #[error("cannot resolve {path} in the image: cannot read {at}: {source}")]
    Read {
        /// The path inside the root, as asked for.
        path: PathBuf,
        /// The host path that could not be read.
        at: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

// ANCHOR: resolve_in_root
/// The host path of `path` as a process whose root is `root` would find
/// it: symbolic links are followed inside `root`, never out of it. `path`
/// is read as inside the root whether or not it starts with `/`.
///
/// Components that do not exist (yet) are kept as they are, so the result
/// is also where a missing mount point is to be created. Every component
/// of the result that exists is a real directory, not a link: the last one
/// may be anything (a file, a device), and the caller checks that it fits.
// ANCHOR: resolve_in_root_walk
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<PathBuf, ResolveError> {
    let shown = Path::new("/").join(path);
    // What is resolved so far, relative to the root: no links, no `..`.
    let mut inside = PathBuf::new();
    // What is left to walk, the next component last.
    let mut left = reversed_components(path);
    let mut links = 0;
    while let Some(name) = left.pop() {
        if name == ".." {
            // Never above the root: popping an empty path does nothing.
            inside.pop();
            continue;
        }
        let next = inside.join(&name);
        let host = root.join(&next);
        match host.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(ResolveError::TooManyLinks { path: shown });
                }
                let target = host.read_link().map_err(|source| ResolveError::Read {
                    path: shown.clone(),
                    at: host.clone(),
                    source,
                })?;
                // A link is read relative to its directory, an absolute
                // one relative to the root: `inside` stays, or empties.
                if target.has_root() {
                    inside.clear();
                }
                left.extend(reversed_components(&target));
            }
            // ANCHOR_END: resolve_in_root_walk
            Ok(_) => inside = next,
            // Missing (or under a file): nothing there can be a link.
            Err(e) if e.kind() == io::ErrorKind::NotFound => inside = next,
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => inside = next,
            Err(source) => {
                return Err(ResolveError::Read {
                    path: shown,
                    at: host,
                    source,
                })
            }
        }
    }
    // `root.join("")` would add a trailing slash.
    Ok(match inside.as_os_str().is_empty() {
        true => root.to_path_buf(),
        false => root.join(inside),
    })
}
// ANCHOR_END: resolve_in_root

/// The names and `..`s of `path`, last first (`/` and `.` mean nothing
/// here: every path is inside the root, and `.` stays where it is).
fn reversed_components(path: &Path) -> Vec<OsString> {
    path.components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A root with a few real directories and files, and `links` on top.
    fn root_with(links: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("a temp dir");
        for dir in ["etc", "usr/lib", "tmp"] {
            std::fs::create_dir_all(root.path().join(dir)).expect("a dir");
        }
        std::fs::write(
            root.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\n",
        )
        .expect("a file");
        for (link, target) in links {
            symlink(target, root.path().join(link)).expect("a link");
        }
        root
    }

    /// Where `path` resolves, relative to the root, or the error.
    fn resolve(root: &Path, path: &str) -> String {
        match resolve_in_root(root, Path::new(path)) {
            Ok(host) => {
                let inside = host.strip_prefix(root).expect("always inside the root");
                format!("/{}", inside.display())
            }
            Err(error) => format!("error: {error}"),
        }
    }

    #[test]
    fn links_are_followed_inside_the_root_and_never_out_of_it() {
        let root = root_with(&[
            ("proc", "/tmp/x"),
            ("sys", "../../../../x"),
            ("dev", "/etc"),
            ("lib", "usr/lib"),
            ("up", ".."),
            ("chain1", "chain2"),
            ("chain2", "/lib"),
            ("selfloop", "/selfloop"),
            ("a", "b"),
            ("b", "a"),
            ("through", "etc/passwd"),
            ("slash", "/"),
        ]);
        let cases = [
            // Plain paths, with and without a leading slash.
            "/etc",
            "etc",
            "/",
            "",
            "/etc/passwd",
            "/missing/deeper",
            // `.` and `..` in the path itself.
            "/./etc/../usr/./lib",
            "/../../etc",
            "/tmp/../../../..",
            // Absolute, relative and climbing links.
            "/proc",
            "/proc/self",
            "/sys",
            "/dev/pts",
            "/lib",
            "/up/up/etc",
            "/slash/etc",
            // Links to links, and links that never end.
            "/chain1",
            "/chain1/x",
            "/selfloop",
            "/a",
            // A link to a file, then a component below it.
            "/through",
            "/through/x",
        ];
        let table: String = cases
            .iter()
            .map(|case| format!("{case:<22} {}\n", resolve(root.path(), case)))
            .collect();
        insta::assert_snapshot!(table);
    }

    #[test]
    fn forty_links_are_followed_and_the_forty_first_is_refused() {
        // l0 -> l1 -> ... -> l39 -> /etc: 40 links, then one more.
        let root = root_with(&[]);
        for n in 0..MAX_LINKS {
            let target = match n + 1 {
                MAX_LINKS => "/etc".to_string(),
                next => format!("l{next}"),
            };
            symlink(target, root.path().join(format!("l{n}"))).expect("a link");
        }
        assert_eq!(resolve(root.path(), "/l0"), "/etc");
        symlink("l0", root.path().join("one-more")).expect("a link");
        assert_eq!(
            resolve(root.path(), "/one-more"),
            "error: /one-more in the image goes through more than 40 symbolic links (a loop?)"
        );
    }

    #[test]
    fn the_root_itself_may_be_reached_through_a_link() {
        let root = tempfile::tempdir().expect("a temp dir");
        symlink("../../..", root.path().join("sys")).expect("a link");
        let resolved = resolve_in_root(root.path(), Path::new("/sys")).expect("resolves");
        assert_eq!(resolved.as_os_str(), root.path().as_os_str());
    }
}
