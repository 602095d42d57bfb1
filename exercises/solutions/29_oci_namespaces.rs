//! Exercise 29, solved.

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

/// The flag of the namespace type `kind`, if it is one.
fn flag_of(kind: &str) -> Option<i32> {
    KINDS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, flag)| *flag)
}

/// What to unshare and what to join for `namespaces`.
pub fn plan(namespaces: &[Namespace]) -> Result<Plan, NamespaceError> {
    let mut plan = Plan::default();
    let mut seen = 0;
    for namespace in namespaces {
        let kind = &namespace.kind;
        let flag = flag_of(kind).ok_or_else(|| NamespaceError::Unknown(kind.clone()))?;
        if seen & flag != 0 {
            return Err(NamespaceError::Duplicate(kind.clone()));
        }
        seen |= flag;
        match namespace.path.as_deref() {
            None => plan.unshare |= flag,
            Some("") => return Err(NamespaceError::EmptyPath(kind.clone())),
            Some(path) => plan.join.push((flag, path.to_string())),
        }
    }
    // A stable sort: the ones between user and mount keep the config's order.
    plan.join.sort_by_key(|(flag, _)| match *flag {
        libc::CLONE_NEWUSER => 0,
        libc::CLONE_NEWNS => 2,
        _ => 1,
    });
    Ok(plan)
}
