//! Reference solution for exercise 08: applying a layer, whiteouts and all.

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
    for entry in layer {
        let (dir, name) = parent_and_name(&entry.path);
        if name == OPAQUE_MARKER {
            tree.retain(|path, _| !is_under(path, dir));
            make_dir(tree, dir);
        } else if let Some(deleted) = name.strip_prefix(WHITEOUT_PREFIX) {
            remove_subtree(tree, &join(dir, deleted));
            make_dir(tree, dir);
        }
    }
    for entry in layer {
        let (_, name) = parent_and_name(&entry.path);
        if name.starts_with(WHITEOUT_PREFIX) {
            continue;
        }
        make_parents(tree, &entry.path);
        match entry.node {
            Node::Dir => make_dir(tree, &entry.path),
            _ => {
                remove_subtree(tree, &entry.path);
                tree.insert(entry.path.clone(), entry.node.clone());
            }
        }
    }
}

/// Whether `path` is strictly below `dir` (`""` is the root, above every
/// path). A plain `starts_with(dir)` would put `usr/lib64` under `usr/lib`.
fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Remove `path` and everything under it.
fn remove_subtree(tree: &mut Tree, path: &str) {
    tree.retain(|p, _| p != path && !is_under(p, path));
}

/// Make `dir` a directory unless it is one already: its parents first, then
/// whatever else was at `dir` goes.
fn make_dir(tree: &mut Tree, dir: &str) {
    if dir.is_empty() || tree.get(dir) == Some(&Node::Dir) {
        return;
    }
    make_parents(tree, dir);
    remove_subtree(tree, dir);
    tree.insert(dir.to_string(), Node::Dir);
}

/// Make every directory above `path` exist.
fn make_parents(tree: &mut Tree, path: &str) {
    let (parent, _) = parent_and_name(path);
    make_dir(tree, parent);
}
