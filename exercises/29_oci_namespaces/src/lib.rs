//! # Exercise 29: config.json's namespaces, made or joined
//!
//! ```text
//! config.json                                   what the runtime does
//! "linux": { "namespaces": [
//!     { "type": "pid" },                        unshare  CLONE_NEWPID | CLONE_NEWNS
//!     { "type": "network",
//!       "path": "/proc/4242/ns/net" },          setns    /proc/4242/ns/net  CLONE_NEWNET
//!     { "type": "mount" }
//! ] }
//! ```
//!
//! A bundle says which namespaces its container has. An entry without a
//! `path` is a new namespace, made for the container; an entry with one
//! is a namespace that exists already, to join with setns(2): that is how
//! the containers of a pod share one network. A type that is not listed
//! at all stays the runtime's own: no `network` entry is `--network host`.
//!
//! Write [`plan`]. The table of types, the types and the errors are
//! written. Run `cargo ex check 29_oci_namespaces` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

use thiserror::Error;

/// The namespace types of the runtime spec, in its order, each with the
/// clone(2) flag that makes one (and that setns(2) checks a path against).
pub const KINDS: [(&str, i32); 8] = [
    ("pid", libc::CLONE_NEWPID),
    ("network", libc::CLONE_NEWNET),
    ("mount", libc::CLONE_NEWNS),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("time", libc::CLONE_NEWTIME),
];

/// One entry of `linux.namespaces`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// Its `"type"`: one of the names in [`KINDS`].
    pub kind: String,
    /// The namespace to join, such as `/proc/4242/ns/net` or
    /// `/run/netns/web`; `None` for a new one.
    pub path: Option<String>,
}

/// What to do before the container's program runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The flags of the namespaces to make, or-ed together, for unshare(2)
    /// or clone(2); 0 when there are none.
    pub unshare: i32,
    /// The namespaces to join, each as its flag and its path, in the order
    /// to call setns(2).
    pub join: Vec<(i32, String)>,
}

/// A `linux.namespaces` the runtime refuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NamespaceError {
    /// A type that is not in [`KINDS`], as written.
    #[error(
        "linux.namespaces: unknown type {0:?} (known: {known})",
        known = KINDS.map(|(kind, _)| kind).join(", ")
    )]
    Unknown(String),
    /// A type listed more than once, made or joined.
    #[error("linux.namespaces: {0:?} appears twice")]
    Duplicate(String),
    /// A `path` that is there but empty.
    #[error("linux.namespaces: {0:?} has an empty path (leave \"path\" out for a new namespace)")]
    EmptyPath(String),
}

/// What to unshare and what to join for `namespaces`, a config.json's
/// `linux.namespaces`:
///
/// - each entry's `kind` is one of [`KINDS`], spelled exactly so (`net`
///   is /proc's name, not the spec's), or it is [`NamespaceError::Unknown`];
/// - a kind listed a second time is [`NamespaceError::Duplicate`];
/// - a `path` of `""` is [`NamespaceError::EmptyPath`];
/// - the first entry that is wrong, in the config's order, is the error;
/// - an entry without a path adds its flag to `unshare`; one with a path
///   is joined: `(flag, path)` in `join`;
/// - `join` has `user` first, since the user namespace gives the rights
///   to join the others; `mount` last, since once in it, every path is
///   looked up in the container's files, not ours; and the others between
///   them, in the config's order.
pub fn plan(namespaces: &[Namespace]) -> Result<Plan, NamespaceError> {
    // TODO: for each entry in turn: its flag from KINDS; refuse a kind
    //       seen before, and an empty path.
    // TODO: no path: or the flag into unshare; a path: push (flag, path).
    // TODO: then the order of join: user first, mount last, the rest as
    //       they came.
    todo!("what to unshare and what to join")
}
