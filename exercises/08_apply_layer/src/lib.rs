//! # Exercise 08: applying a layer
//!
//! An image's root file system is not stored anywhere: it is *made*, by
//! applying the image's layers in turn to an empty directory. A layer is a
//! tar of changes. Most entries add or replace a path; a tar cannot say
//! "delete", so the OCI image spec spells a deletion as an empty file with
//! a reserved name:
//!
//! | entry in the layer | means |
//! |---|---|
//! | `etc/hosts` | put this at `etc/hosts`, replacing what was there |
//! | `etc/.wh.motd` | delete `etc/motd`, and everything under it, from the layers below |
//! | `var/www/.wh..wh..opq` | hide every child `var/www` had in the layers below |
//!
//! Write [`apply`]: one layer, applied to a tree in memory. The model, the
//! helpers and [`render`] are written; the doc comment of [`apply`] has the
//! rules.
//!
//! Run `cargo ex check 08_apply_layer` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

use std::collections::BTreeMap;

/// A file name that starts with this is a whiteout: `etc/.wh.motd` says
/// "delete `etc/motd`" and is not a file of the result.
pub const WHITEOUT_PREFIX: &str = ".wh.";

/// This file name in a directory makes the directory opaque: every child it
/// had in the layers below is hidden.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// What a path holds. Real layers also carry owners, modes and times; the
/// rules for applying a layer do not look at them, so this model leaves
/// them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A regular file, with its content.
    File(String),
    /// A directory: its children are the tree's paths under it.
    Dir,
    /// A symbolic link, with its target as written. Targets are resolved
    /// inside the running container, never while layers are applied.
    Symlink(String),
}

/// A root file system in memory: every path, relative to the root and
/// without a leading `/` (`etc/hosts`), and what it holds. The root itself
/// is implicit: it is always a directory and has no entry.
pub type Tree = BTreeMap<String, Node>;

/// One entry of a layer tar, in tar order. A whiteout is an ordinary empty
/// file: only its *name* says it deletes something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path as the tar gives it, relative: `etc/hosts`.
    pub path: String,
    /// What the tar puts there.
    pub node: Node,
}

impl Entry {
    /// A regular file.
    pub fn file(path: &str, content: &str) -> Entry {
        Entry::new(path, Node::File(content.to_string()))
    }

    /// A directory.
    pub fn dir(path: &str) -> Entry {
        Entry::new(path, Node::Dir)
    }

    /// A symbolic link to `target`.
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry::new(path, Node::Symlink(target.to_string()))
    }

    /// The whiteout that deletes `path`: `etc/motd` gives `etc/.wh.motd`.
    pub fn whiteout(path: &str) -> Entry {
        let (dir, name) = parent_and_name(path);
        Entry::file(&join(dir, &format!("{WHITEOUT_PREFIX}{name}")), "")
    }

    /// The marker that makes `dir` opaque: `var/www` gives
    /// `var/www/.wh..wh..opq`.
    pub fn opaque(dir: &str) -> Entry {
        Entry::file(&join(dir, OPAQUE_MARKER), "")
    }

    fn new(path: &str, node: Node) -> Entry {
        let path = path.to_string();
        Entry { path, node }
    }
}

/// Split a path at its last `/`: `etc/nginx/nginx.conf` gives
/// `("etc/nginx", "nginx.conf")`, and a name at the root, `etc`, gives
/// `("", "etc")`.
pub fn parent_and_name(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// `name` inside `dir`, where `""` is the root.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The tree as text, one path a line, in the tree's (sorted) order:
///
/// ```text
/// dir  /etc
/// file /etc/hosts "127.0.0.1 localhost"
/// link /bin/sh -> bash
/// ```
pub fn render(tree: &Tree) -> String {
    tree.iter()
        .map(|(path, node)| match node {
            Node::Dir => format!("dir  /{path}\n"),
            Node::File(content) => format!("file /{path} {content:?}\n"),
            Node::Symlink(target) => format!("link /{path} -> {target}\n"),
        })
        .collect()
}

/// Apply one layer to `tree`, by the OCI image spec's rules.
///
/// 1. Whiteouts first, wherever they are in the tar: they speak about the
///    layers *below*, so they must not touch what this same layer adds.
///    - `dir/.wh.NAME` removes `dir/NAME` and everything under it. A name
///      that is not there is nothing to remove.
///    - `dir/.wh..wh..opq` removes every child of `dir`, at any depth, and
///      keeps `dir` itself.
///
///    Either way `dir` is left a directory, created (with its parents) if
///    the tree lacks it.
/// 2. Then every other entry, in tar order, replaces whatever is at its
///    path:
///    - a directory over a directory changes nothing: the children stay;
///    - anything else removes what was there first, with its whole subtree
///      (a file over a directory leaves nothing of the directory);
///    - missing parent directories are created, and a parent that is not a
///      directory is replaced by one, as tar does.
///
/// No whiteout is ever a path of the result.
pub fn apply(tree: &mut Tree, layer: &[Entry]) {
    // TODO: first pass, the whiteouts. For each entry, split its path with
    //       `parent_and_name`. `.wh..wh..opq` removes everything below its
    //       directory; `.wh.NAME` removes NAME and its subtree. Leave the
    //       directory itself there, a directory.
    // TODO: second pass, every entry whose name is not a whiteout, in order:
    //       create its missing parents, then put the node at its path. Only a
    //       directory over a directory keeps what was under it.
    // TODO: "everything under `dir`" means paths that start with `dir/`,
    //       not just `dir`: `usr/lib64` is not under `usr/lib`.
    todo!("apply the layer's whiteouts, then its entries")
}
