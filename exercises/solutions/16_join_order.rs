//! Reference solution for exercise 16: which namespaces `exec` joins.

/// Every namespace `exec` may join, in the order it joins them.
pub const JOIN_ORDER: [&str; 7] = ["user", "cgroup", "ipc", "uts", "net", "pid", "mnt"];

/// The namespaces to join, in [`JOIN_ORDER`]: each one the container has
/// (`theirs(name)` is `Some`) whose inode differs from ours, or that we
/// do not have at all.
pub fn join_plan(
    ours: &dyn Fn(&str) -> Option<u64>,
    theirs: &dyn Fn(&str) -> Option<u64>,
) -> Vec<&'static str> {
    JOIN_ORDER
        .into_iter()
        .filter(|name| match (theirs(name), ours(name)) {
            (Some(their), Some(our)) => their != our,
            (Some(_), None) => true,
            (None, _) => false,
        })
        .collect()
}
