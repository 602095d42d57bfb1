//! The rules for applying a layer to a tree, with no file system in sight.
//!
//! A layer is a tar of *changes*: files to add or replace, and files to
//! delete. A tar cannot say "delete", so the OCI image spec borrows aufs's
//! trick and spells a deletion as an empty file with a reserved name:
//!
//! ```text
//! etc/.wh.motd        delete etc/motd (and everything under it) from the layers below
//! var/.wh..wh..opq    hide every child var/ had in the layers below ("opaque")
//! etc/hosts           add etc/hosts, or replace whatever was there
//! ```
//!
//! Applying layers A, B, C in turn to an empty [`Tree`] gives ubuntu's root
//! file system; applying one more gives nginx's. This module is that
//! procedure and nothing else: [`apply`] takes a tree and a layer's entries
//! and changes the tree by the spec's rules. No I/O, so the rules can be
//! snapshot-tested in microseconds and rewritten as an exercise. The real
//! unpacker ([`crate::unpack`]) and the overlay mount must agree with it, and
//! the tests in `tests/layers.rs` check that they do.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

/// A file name starting with this deletes the rest of the name.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// This file name in a directory hides the directory's lower children.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// A layer entry that breaks the rules.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChangesetError {
    /// A leading `/`: refused rather than stripped, because a layer that
    /// says `/etc/passwd` was not made by an honest tool.
    #[error("entry {path:?} is absolute: layer paths are relative to the layer's root")]
    Absolute {
        /// The path as the layer gave it.
        path: PathBuf,
    },
    /// A `..` component could climb out of the root the layer is applied to.
    #[error("entry {path:?} has a .. component: a layer may not point outside its root")]
    ParentComponent {
        /// The path as the layer gave it.
        path: PathBuf,
    },
    /// `.wh.`, `.wh..` or `.wh...`: a whiteout for nothing, or for a
    /// directory's own entries `.` and `..`.
    #[error("entry {path:?} is a whiteout for no real name")]
    BadWhiteout {
        /// The path as the layer gave it.
        path: PathBuf,
    },
    /// A plain archive (ADD's) holding a `.wh.` name: in the layer it
    /// goes into, it would read as a deletion.
    #[error("entry {path:?} is named .wh.*, which an image layer reserves for deletions: rename it in the archive")]
    WhiteoutInArchive {
        /// The path as the archive gave it.
        path: PathBuf,
    },
    /// `.wh..wh.` names other than the opaque marker: aufs's own
    /// bookkeeping, which has no meaning in an OCI layer.
    #[error("entry {path:?} uses the reserved prefix .wh..wh. and is not .wh..wh..opq")]
    Reserved {
        /// The path as the layer gave it.
        path: PathBuf,
    },
    /// The layer's root itself can only be a directory.
    #[error("entry {path:?} names the layer's root but is not a directory")]
    RootNotDirectory {
        /// The path as the layer gave it.
        path: PathBuf,
    },
    /// A hard link needs a file to link to.
    #[error("hard link {path:?} points at {target:?}, which is not a file in the tree")]
    MissingLinkTarget {
        /// The link.
        path: PathBuf,
        /// What it links to.
        target: PathBuf,
    },
}

// ANCHOR: model
/// What a path holds. Symlink targets are kept as written: they are
/// resolved inside the container, never while applying layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A regular file and its bytes.
    File {
        /// The file's content.
        content: Vec<u8>,
    },
    /// A directory; its children are the tree's paths under it.
    Dir,
    /// A symbolic link.
    Symlink {
        /// Where it points.
        target: PathBuf,
    },
    /// A hard link to another file of the same layer. Only layer entries
    /// use this: [`apply`] turns it into a copy of the target's node, since
    /// in the finished tree a hard link is simply the same file again.
    Hardlink {
        /// The path it links to, relative to the root like every path.
        target: PathBuf,
    },
}

// ANCHOR: tree_model
/// One file in a tree: what it is and its permission bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// File, directory or link.
    pub kind: Kind,
    /// Permission bits, e.g. `0o644`.
    pub mode: u32,
}

/// A root file system in memory: every path (relative, `etc/hosts`) and
/// what it holds. A sorted map, so a parent always comes before its
/// children and rendering is stable. The root itself is implicit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Every path in the tree.
    pub nodes: BTreeMap<PathBuf, Node>,
}

/// One entry of a layer tar, as the tar gives it: whiteouts are ordinary
/// (empty) files whose *names* carry the meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerEntry {
    /// The entry's path as written in the tar.
    pub path: PathBuf,
    /// What it is.
    pub kind: Kind,
    /// Permission bits.
    pub mode: u32,
}
// ANCHOR_END: tree_model
// ANCHOR_END: model

impl LayerEntry {
    /// A regular file, mode 0644.
    pub fn file(path: &str, content: &str) -> LayerEntry {
        let content = content.as_bytes().to_vec();
        LayerEntry::new(path, Kind::File { content }, 0o644)
    }

    /// A directory, mode 0755.
    pub fn dir(path: &str) -> LayerEntry {
        LayerEntry::new(path, Kind::Dir, 0o755)
    }

    /// A symbolic link.
    pub fn symlink(path: &str, target: &str) -> LayerEntry {
        let target = PathBuf::from(target);
        LayerEntry::new(path, Kind::Symlink { target }, 0o777)
    }

    /// A hard link to `target`, an earlier file of the same layer.
    pub fn hardlink(path: &str, target: &str) -> LayerEntry {
        let target = PathBuf::from(target);
        LayerEntry::new(path, Kind::Hardlink { target }, 0o644)
    }

    /// The whiteout that deletes `path`: `dir/name` becomes `dir/.wh.name`.
    pub fn whiteout(path: &str) -> LayerEntry {
        let path = Path::new(path);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let marker = format!("{WHITEOUT_PREFIX}{}", name.unwrap_or_default());
        let path = path.with_file_name(marker);
        LayerEntry::new(
            &path.to_string_lossy(),
            Kind::File { content: vec![] },
            0o600,
        )
    }

    /// The marker that makes directory `dir` opaque.
    pub fn opaque(dir: &str) -> LayerEntry {
        let path = Path::new(dir).join(OPAQUE_MARKER);
        LayerEntry::new(
            &path.to_string_lossy(),
            Kind::File { content: vec![] },
            0o600,
        )
    }

    /// The same entry with other permission bits.
    pub fn mode(self, mode: u32) -> LayerEntry {
        LayerEntry { mode, ..self }
    }

    fn new(path: &str, kind: Kind, mode: u32) -> LayerEntry {
        let path = PathBuf::from(path);
        LayerEntry { path, kind, mode }
    }
}

// ANCHOR: role
// ANCHOR: role_of_path
/// What an entry means, judged by its path alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Put the entry at this (cleaned) path. Empty for the layer's root.
    Put(PathBuf),
    /// `dir/.wh.name`: delete `dir/name` from the layers below.
    Delete(PathBuf),
    /// `dir/.wh..wh..opq`: hide `dir`'s children in the layers below.
    Opaque(PathBuf),
}

/// Clean an entry's path and say what the entry means. Tars commonly write
/// `./etc/hosts`; the `.` components go. Absolute paths and `..` are
/// refused, not repaired: see [`ChangesetError::Absolute`].
pub fn role(raw: &Path) -> Result<Role, ChangesetError> {
    let path = clean_path(raw)?;
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(Role::Put(path));
    };
    let parent = path.parent().unwrap_or(Path::new("")).to_path_buf();
    if name == OPAQUE_MARKER {
        return Ok(Role::Opaque(parent));
    }
    if name.starts_with(".wh..wh.") {
        return Err(ChangesetError::Reserved { path: raw.into() });
    }
    match name.strip_prefix(WHITEOUT_PREFIX) {
        Some("" | "." | "..") => Err(ChangesetError::BadWhiteout { path: raw.into() }),
        Some(deleted) => Ok(Role::Delete(parent.join(deleted))),
        None => Ok(Role::Put(path)),
    }
}
// ANCHOR_END: role_of_path

/// `raw` without `.` components, or an error if it is absolute or has `..`.
pub fn clean_path(raw: &Path) -> Result<PathBuf, ChangesetError> {
    let mut clean = PathBuf::new();
    for component in raw.components() {
        match component {
            Component::Normal(name) => clean.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(ChangesetError::ParentComponent { path: raw.into() })
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ChangesetError::Absolute { path: raw.into() })
            }
        }
    }
    Ok(clean)
}
// ANCHOR_END: role

// ANCHOR: apply
/// Apply one layer to `tree`, by the spec's rules:
///
/// 1. Whiteouts first, whatever their place in the tar: they speak about
///    the layers *below*, so they must not touch what this same layer adds.
///    `.wh.name` removes `name` and its subtree; `.wh..wh..opq` removes
///    every child of its directory.
/// 2. Then the layer's other entries, in tar order. An entry replaces
///    whatever was at its path: a file over a directory removes the whole
///    subtree, a directory over a directory keeps the children.
///
/// Parent directories missing from the layer are created, as tar does.
/// Nothing is changed if any entry's path is refused.
pub fn apply(tree: &mut Tree, layer: &[LayerEntry]) -> Result<(), ChangesetError> {
    let roles = layer
        .iter()
        .map(checked_role)
        .collect::<Result<Vec<_>, _>>()?;

    for role in &roles {
        match role {
            Role::Delete(path) => {
                tree.remove_subtree(path);
                tree.make_parents(path);
            }
            Role::Opaque(dir) => {
                tree.remove_children(dir);
                tree.make_dir(dir);
            }
            Role::Put(_) => {}
        }
    }

    for (entry, role) in layer.iter().zip(&roles) {
        if let Role::Put(path) = role {
            tree.put(path, entry)?;
        }
    }
    Ok(())
}
// ANCHOR_END: apply

/// [`role`], also refusing a root entry that is not a directory.
fn checked_role(entry: &LayerEntry) -> Result<Role, ChangesetError> {
    let role = role(&entry.path)?;
    match (&role, &entry.kind) {
        (Role::Put(path), kind) if path.as_os_str().is_empty() && *kind != Kind::Dir => {
            Err(ChangesetError::RootNotDirectory {
                path: entry.path.clone(),
            })
        }
        _ => Ok(role),
    }
}

impl Tree {
    /// The tree made by applying `layers` (base first) to nothing.
    pub fn from_layers(layers: &[&[LayerEntry]]) -> Result<Tree, ChangesetError> {
        let mut tree = Tree::default();
        for layer in layers {
            apply(&mut tree, layer)?;
        }
        Ok(tree)
    }

    /// Put one non-whiteout entry at its cleaned path.
    fn put(&mut self, path: &Path, entry: &LayerEntry) -> Result<(), ChangesetError> {
        if path.as_os_str().is_empty() {
            // The root: a directory (checked before), and not part of the model.
            return Ok(());
        }
        self.make_parents(path);
        let node = match &entry.kind {
            Kind::Dir => {
                self.make_dir(path);
                self.nodes.insert(path.into(), Node::dir(entry.mode));
                return Ok(());
            }
            Kind::Hardlink { target } => {
                let missing = || ChangesetError::MissingLinkTarget {
                    path: entry.path.clone(),
                    target: target.clone(),
                };
                let target = clean_path(target).map_err(|_| missing())?;
                match self.nodes.get(&target) {
                    Some(
                        node @ Node {
                            kind: Kind::File { .. },
                            ..
                        },
                    ) => node.clone(),
                    _ => return Err(missing()),
                }
            }
            // A symlink has no permissions of its own: Linux shows 0777.
            Kind::Symlink { .. } => Node {
                kind: entry.kind.clone(),
                mode: 0o777,
            },
            Kind::File { .. } => Node {
                kind: entry.kind.clone(),
                mode: entry.mode,
            },
        };
        self.remove_subtree(path);
        self.nodes.insert(path.into(), node);
        Ok(())
    }

    /// Make every ancestor of `path` a directory, as tar does for an entry
    /// whose directories the archive never named. An ancestor that is
    /// something else is replaced: in the layer's own directory that name is
    /// a directory, and it hides the file below.
    fn make_parents(&mut self, path: &Path) {
        let mut ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
        ancestors.reverse();
        for dir in ancestors.into_iter().filter(|d| !d.as_os_str().is_empty()) {
            self.make_dir(dir);
        }
    }

    /// Make `dir` a directory (mode 0755) unless it already is one.
    fn make_dir(&mut self, dir: &Path) {
        if dir.as_os_str().is_empty() || self.is_dir(dir) {
            return;
        }
        self.make_parents(dir);
        self.remove_subtree(dir);
        self.nodes.insert(dir.into(), Node::dir(0o755));
    }

    fn is_dir(&self, path: &Path) -> bool {
        matches!(
            self.nodes.get(path),
            Some(Node {
                kind: Kind::Dir,
                ..
            })
        )
    }

    /// Remove `path` and everything under it.
    fn remove_subtree(&mut self, path: &Path) {
        self.nodes.retain(|p, _| !p.starts_with(path));
    }

    /// Remove everything under `dir`, keeping `dir`.
    fn remove_children(&mut self, dir: &Path) {
        self.nodes.retain(|p, _| p == dir || !p.starts_with(dir));
    }

    /// The tree as text, one path a line: kind, mode, path, and a file's
    /// content or a link's target. What the snapshot tests compare.
    pub fn render(&self) -> String {
        self.to_string()
    }
}

impl Node {
    /// A directory with these permission bits.
    pub fn dir(mode: u32) -> Node {
        Node {
            kind: Kind::Dir,
            mode,
        }
    }
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (path, node) in &self.nodes {
            let (kind, extra) = match &node.kind {
                Kind::Dir => ("dir ", String::new()),
                Kind::File { content } => {
                    ("file", format!(" {:?}", String::from_utf8_lossy(content)))
                }
                Kind::Symlink { target } => ("link", format!(" -> {}", target.display())),
                Kind::Hardlink { target } => ("hard", format!(" => {}", target.display())),
            };
            writeln!(f, "{kind} {:04o} /{}{extra}", node.mode, path.display())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
