//! Reference solution for exercise 09: what a container changed, and the layer that records it.

use std::collections::BTreeMap;
use std::fmt;

/// A file name that starts with this is a whiteout: `etc/.wh.motd` says
/// "delete `etc/motd`" and is not a file of the result.
pub const WHITEOUT_PREFIX: &str = ".wh.";

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
/// file: only its *name* says it deletes something. Exercise 08 applies
/// these.
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

/// What happened to a path, as `docker diff` marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `A`: not in the lower tree, in the upper one.
    Added,
    /// `C`: in both, but different; or a directory in both with something
    /// changed somewhere below it.
    Changed,
    /// `D`: in the lower tree, gone from the upper one.
    Deleted,
}

/// One line of `docker diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Added, changed or deleted.
    pub kind: Kind,
    /// The path, relative to the root like the tree's: `etc/hosts`.
    pub path: String,
}

impl Change {
    /// A change of `kind` to `path`.
    pub fn new(kind: Kind, path: &str) -> Change {
        let path = path.to_string();
        Change { kind, path }
    }
}

/// As `docker diff` prints it: `A /var/www/index.html`.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = match self.kind {
            Kind::Added => 'A',
            Kind::Changed => 'C',
            Kind::Deleted => 'D',
        };
        write!(f, "{letter} /{}", self.path)
    }
}

/// Whether `path` is strictly below `dir` (`""` is the root, above every
/// path). A plain `starts_with(dir)` would put `usr/lib64` under `usr/lib`.
pub fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// What changed from `lower` (the image) to `upper_view` (what the
/// container sees now), sorted by path, each path at most once:
///
/// - `Added`: every path of `upper_view` that `lower` lacks, children of an
///   added directory included;
/// - `Changed`: a path in both trees that holds a different node (a new
///   content, a new link target, or another kind of node); and a directory
///   in both trees with any difference at any depth below it, because
///   changing a file changes the directories it is in (overlayfs copies them
///   up, so docker lists them);
/// - `Deleted`: a path of `lower` that `upper_view` lacks, but only the top
///   of a deleted subtree: its parent is the root or a directory in
///   `upper_view`. Below a deleted directory, or below a directory replaced
///   by a file, nothing more is listed.
pub fn changes(lower: &Tree, upper_view: &Tree) -> Vec<Change> {
    // Every path of either tree, once, in order: the result comes out sorted.
    let paths: std::collections::BTreeSet<&String> =
        lower.keys().chain(upper_view.keys()).collect();
    let mut changes = Vec::new();
    for path in paths {
        let kind = match (lower.get(path), upper_view.get(path)) {
            (None, Some(_)) => Some(Kind::Added),
            (Some(_), None) => {
                let (parent, _) = parent_and_name(path);
                let top = parent.is_empty() || upper_view.get(parent) == Some(&Node::Dir);
                top.then_some(Kind::Deleted)
            }
            (Some(before), Some(after)) if before != after => Some(Kind::Changed),
            (Some(Node::Dir), Some(Node::Dir)) => {
                let before = lower.iter().filter(|(p, _)| is_under(p, path));
                let after = upper_view.iter().filter(|(p, _)| is_under(p, path));
                (!before.eq(after)).then_some(Kind::Changed)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            changes.push(Change::new(kind, path));
        }
    }
    changes
}

/// The layer that records `changes`: applied to the lower tree by exercise
/// 08's rules, it gives `upper_view`. This is what `docker commit` writes.
///
/// One entry per change, in the same order:
///
/// - `Added` or `Changed`: the path with its node from `upper_view` (a
///   changed directory is written again, as an empty directory entry: its
///   children come as entries of their own, or are left alone);
/// - `Deleted`: the whiteout for the path, `dir/.wh.NAME`.
///
/// Because the changes are sorted, a directory comes before its children;
/// opaque markers are not needed, since every deleted child is listed.
pub fn to_layer(changes: &[Change], upper_view: &Tree) -> Vec<Entry> {
    changes
        .iter()
        .map(|change| match change.kind {
            Kind::Deleted => Entry::whiteout(&change.path),
            Kind::Added | Kind::Changed => Entry {
                path: change.path.clone(),
                node: upper_view[&change.path].clone(),
            },
        })
        .collect()
}
