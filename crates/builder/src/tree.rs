//! Reading files out of an image's layers without mounting them.
//!
//! COPY reads from the build context, or with `--from` from another
//! stage's image; both COPY and WORKDIR need to know what the image being
//! built already has at a path (is `/usr/local/bin` a directory? is `/bin`
//! a symlink to `usr/bin`?). An image's layers are unpacked one directory
//! each, in the shape overlayfs reads, so a [`Tree`] answers these
//! questions the way overlayfs would: the top layer that has a path wins, a
//! whiteout (a 0/0 character device) hides the path below it, and an
//! opaque directory hides everything below it. The build context is the
//! one-layer case.
//!
//! Paths given to a tree are *inside* it, relative, and never leave it:
//! [`Tree::resolve`] follows symlinks the way the kernel would after a
//! chroot, so `/..` stays `/` and an absolute link target starts again at
//! the tree's root, not the host's.

use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::path::{Component, Path, PathBuf};

use cratebox_image::unpack::{is_whiteout, OPAQUE_XATTR};
use thiserror::Error;

/// How many symlinks one lookup may follow, as the kernel's limit.
const MAX_LINKS: usize = 40;

/// Whether a symlink that is the last component of a path is followed
/// (`cat /bin/sh` reads its target) or is itself the answer (`ln -sf`
/// replaces the link, `COPY x /bin/sh` writes over the link, not through it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastLink {
    /// Follow it to its target.
    Follow,
    /// Stop at the link.
    Keep,
}

/// Why a path could not be resolved inside a tree.
#[derive(Debug, Error)]
pub enum TreeError {
    /// A loop of symlinks, or an absurdly long chain.
    #[error("too many levels of symbolic links at /{0}")]
    TooManyLinks(PathBuf),
    /// A symlink that could not be read.
    #[error("cannot read the link {path}: {source}")]
    ReadLink {
        /// The link on the host.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A stack of directories seen as one.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The layers, top first.
    layers: Vec<PathBuf>,
}

/// One path found in a tree.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where it is on the host (in the layer that wins).
    pub host: PathBuf,
    /// Its lstat.
    pub meta: Metadata,
}

impl Tree {
    /// A tree of one directory, like the build context.
    pub fn dir(root: &Path) -> Tree {
        Tree {
            layers: vec![root.to_path_buf()],
        }
    }

    /// The tree of an image whose unpacked layers are `lowers`, base first.
    pub fn layers(lowers: &[PathBuf]) -> Tree {
        Tree {
            layers: lowers.iter().rev().cloned().collect(),
        }
    }

    /// The entry at `rel` (cleaned, relative), without following a symlink
    /// at its end. Symlinks on the way are not followed either: use
    /// [`Tree::resolve`] first.
    pub fn lookup(&self, rel: &Path) -> Option<Found> {
        for layer in &self.layers {
            // A whiteout or an opaque directory on the way hides the layers below.
            let mut hidden = false;
            let mut prefix = PathBuf::new();
            for component in rel.components() {
                prefix.push(component);
                let at = layer.join(&prefix);
                match fs::symlink_metadata(&at) {
                    Ok(meta) if is_whiteout(&meta) => return None,
                    Ok(meta) if prefix == rel => return Some(Found { host: at, meta }),
                    Ok(meta) if meta.is_dir() => {
                        if is_opaque(&at) {
                            hidden = true;
                        }
                    }
                    // Something else (a file, a link) in the way in this layer.
                    Ok(_) => return None,
                    Err(_) => break,
                }
            }
            if rel.as_os_str().is_empty() {
                return fs::symlink_metadata(layer).ok().map(|meta| Found {
                    host: layer.clone(),
                    meta,
                });
            }
            if hidden {
                return None;
            }
        }
        None
    }

    /// The names in directory `rel`, merged over the layers, sorted; each
    /// with the entry that wins. Each layer is checked component by
    /// component, as [`Tree::lookup`] does: a layer where something on the
    /// way is not a directory (a file, a symlink, a whiteout) hides the
    /// layers below, and is never followed on the host.
    pub fn children(&self, rel: &Path) -> Vec<(OsString, Found)> {
        let mut seen = std::collections::BTreeMap::new();
        for layer in &self.layers {
            let mut hides_below = false;
            let mut blocked = false;
            let mut prefix = PathBuf::new();
            let mut missing = false;
            for component in std::iter::once(None).chain(rel.components().map(Some)) {
                if let Some(component) = component {
                    prefix.push(component);
                }
                let at = layer.join(&prefix);
                match fs::symlink_metadata(&at) {
                    Ok(meta) if meta.is_dir() => hides_below |= is_opaque(&at),
                    Ok(_) => {
                        blocked = true;
                        break;
                    }
                    Err(_) => {
                        missing = true;
                        break;
                    }
                }
            }
            if blocked {
                break;
            }
            if !missing {
                if let Ok(entries) = fs::read_dir(layer.join(rel)) {
                    for entry in entries.flatten() {
                        let name = entry.file_name();
                        if seen.contains_key(&name) {
                            continue;
                        }
                        let host = entry.path();
                        if let Ok(meta) = fs::symlink_metadata(&host) {
                            seen.insert(name, Found { host, meta });
                        }
                    }
                }
            }
            if hides_below {
                break;
            }
        }
        seen.into_iter()
            .filter(|(_, found)| !is_whiteout(&found.meta))
            .collect()
    }

    // ANCHOR: resolve
    /// `path` with every symlink on the way replaced by its target, as a
    /// cleaned relative path inside the tree; a symlink at the very end is
    /// followed as `last` says. `..` never climbs above the root.
    pub fn resolve(&self, path: &Path, last: LastLink) -> Result<PathBuf, TreeError> {
        let mut todo: Vec<OsString> = components(path);
        todo.reverse();
        let mut done = PathBuf::new();
        let mut links = 0;
        while let Some(name) = todo.pop() {
            if name == ".." {
                done.pop();
                continue;
            }
            let candidate = done.join(&name);
            let is_last = todo.is_empty();
            match self.lookup(&candidate) {
                Some(found)
                    if found.meta.is_symlink() && (!is_last || last == LastLink::Follow) =>
                {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(TreeError::TooManyLinks(candidate));
                    }
                    let target =
                        fs::read_link(&found.host).map_err(|source| TreeError::ReadLink {
                            path: found.host.clone(),
                            source,
                        })?;
                    if target.is_absolute() {
                        done = PathBuf::new();
                    }
                    let mut more = components(&target);
                    more.reverse();
                    todo.extend(more);
                }
                _ => done = candidate,
            }
        }
        Ok(done)
    }
    // ANCHOR_END: resolve
}

/// The normal components of `path`, with `..` kept and `.`, `/` dropped.
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Whether a directory is marked opaque (its lower layers hidden).
fn is_opaque(dir: &Path) -> bool {
    matches!(xattr::get(dir, OPAQUE_XATTR), Ok(Some(value)) if value == b"y")
}

/// Clean a path written in a Dockerfile into a relative path inside a
/// root: `/a/./b/../c` is `a/c`. Returns `None` when `..` would climb
/// above the root: for a source, that is a path outside the context.
pub fn clean(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::ParentDir if !out.pop() => return None,
            _ => {}
        }
    }
    Some(out)
}

/// Clean a destination inside the image, where `..` above the root stays
/// at the root, as it does in a real file system: `/../etc` is `etc`.
pub fn clean_in_root(path: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_paths() {
        assert_eq!(clean("/a/./b/../c"), Some(PathBuf::from("a/c")));
        assert_eq!(clean("a/b/"), Some(PathBuf::from("a/b")));
        assert_eq!(clean("."), Some(PathBuf::new()));
        assert_eq!(clean("../x"), None);
        assert_eq!(clean("a/../../x"), None);
        assert_eq!(clean_in_root("/../etc/x"), PathBuf::from("etc/x"));
        assert_eq!(clean_in_root("app/../../../y"), PathBuf::from("y"));
    }

    #[test]
    fn layers_merge_like_overlayfs() {
        let dir = tempfile::tempdir().unwrap();
        let (base, top) = (dir.path().join("base"), dir.path().join("top"));
        fs::create_dir_all(base.join("usr/bin")).unwrap();
        fs::write(base.join("usr/bin/sh"), "sh").unwrap();
        fs::write(base.join("usr/bin/gone"), "x").unwrap();
        std::os::unix::fs::symlink("usr/bin", base.join("bin")).unwrap();
        std::os::unix::fs::symlink("/etc/../../usr", base.join("up")).unwrap();
        fs::create_dir_all(top.join("usr/bin")).unwrap();
        fs::write(top.join("usr/bin/new"), "new").unwrap();
        let tree = Tree::layers(&[base, top]);
        let names: Vec<_> = tree
            .children(Path::new("usr/bin"))
            .into_iter()
            .map(|(n, _)| n.to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["gone", "new", "sh"]);
        assert_eq!(
            tree.resolve(Path::new("bin/sh"), LastLink::Follow).unwrap(),
            Path::new("usr/bin/sh")
        );
        assert_eq!(
            tree.resolve(Path::new("bin"), LastLink::Keep).unwrap(),
            Path::new("bin")
        );
        assert_eq!(
            tree.resolve(Path::new("up/bin"), LastLink::Follow).unwrap(),
            Path::new("usr/bin")
        );
        assert_eq!(
            tree.resolve(Path::new("../../bin"), LastLink::Follow)
                .unwrap(),
            Path::new("usr/bin")
        );
        assert!(tree.lookup(Path::new("usr/bin/new")).is_some());
        // A symlink in a lower layer under a directory of an upper one is
        // never followed on the host.
        let dir2 = tempfile::tempdir().unwrap();
        let (low, high, secret) = (
            dir2.path().join("low"),
            dir2.path().join("high"),
            dir2.path().join("secret"),
        );
        fs::create_dir_all(secret.join("sub")).unwrap();
        fs::create_dir_all(&low).unwrap();
        std::os::unix::fs::symlink(&secret, low.join("x")).unwrap();
        fs::create_dir_all(high.join("x/sub")).unwrap();
        let tree = Tree::layers(&[low, high]);
        let names: Vec<_> = tree
            .children(Path::new("x/sub"))
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(names.is_empty(), "{names:?}");
        fs::write(secret.join("sub/secret.txt"), "host").unwrap();
        assert!(tree.children(Path::new("x/sub")).is_empty());
        assert!(tree.lookup(Path::new("usr/bin/none")).is_none());
    }
}
