//! # Exercise 16: which namespaces `exec` joins, and in what order
//!
//! A container is a process in namespaces of its own. `exec` makes a new
//! process inside it by joining them, one `setns(2)` per namespace, in
//! this order:
//!
//! ```text
//! user     first: joining it gives us the rights to join the others
//! cgroup, ipc, uts, net
//! pid      applies to our children: exec forks after it
//! mnt      last: it changes our root, and every path after it
//! ```
//!
//! Only namespaces the container does not share with us are joined:
//! `setns` into our own user namespace fails with EINVAL.
//!
//! Write [`join_plan`]. Run `cargo ex check 16_join_order` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

/// Every namespace `exec` may join, in the order it joins them.
pub const JOIN_ORDER: [&str; 7] = ["user", "cgroup", "ipc", "uts", "net", "pid", "mnt"];

/// The namespaces to join, in [`JOIN_ORDER`]: each one the container has
/// (`theirs(name)` is `Some`) whose inode differs from ours, or that we
/// do not have at all.
pub fn join_plan(
    ours: &dyn Fn(&str) -> Option<u64>,
    theirs: &dyn Fn(&str) -> Option<u64>,
) -> Vec<&'static str> {
    // TODO: go through JOIN_ORDER and keep the names to join. Compare
    //       theirs(name) with ours(name): three cases.
    todo!("the namespaces to join, in order")
}
