//! # Exercise 01: from namespace names to clone(2) flags
//!
//! A command line says `--ns uts,pid,net`; clone(2) and unshare(2) want one
//! bit per namespace. Turn the names into [`CloneFlags`].
//!
//! The names are the ones Linux itself uses in `/proc/self/ns`:
//!
//! | name | flag | what the new namespace gets its own copy of |
//! |---|---|---|
//! | `uts` | `CLONE_NEWUTS` | hostname and domain name |
//! | `pid` | `CLONE_NEWPID` | process ids |
//! | `mnt` (or `mount`) | `CLONE_NEWNS` | the mount table |
//! | `ipc` | `CLONE_NEWIPC` | System V IPC, POSIX message queues |
//! | `net` | `CLONE_NEWNET` | the network stack |
//! | `cgroup` | `CLONE_NEWCGROUP` | the view of the cgroup tree |
//! | `user` | `CLONE_NEWUSER` | user and group ids |
//!
//! Why `CLONE_NEWNS` and not `CLONE_NEWMNT`: the mount namespace came first
//! (2002), when nobody expected others, so it got the generic name.
//!
//! Run `cargo ex check 01_clone_flags` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

use nix::sched::CloneFlags;
use thiserror::Error;

/// Every name [`clone_flags_for`] accepts, in the order the error lists them.
/// (`mount` is accepted too, as another spelling of `mnt`.)
pub const NAMES: [&str; 7] = ["uts", "pid", "mnt", "ipc", "net", "cgroup", "user"];

/// A name that is not a namespace. The message names it and lists the valid
/// ones, so whoever typed it knows what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown namespace {name:?}: expected one of {}", NAMES.join(", "))]
pub struct UnknownNamespace {
    /// The name as it was given.
    pub name: String,
}

/// The clone(2) flags that create the namespaces called `names`.
///
/// No names means no flags; a name given twice counts once. The first name
/// that is not a namespace is an error.
pub fn clone_flags_for(names: &[&str]) -> Result<CloneFlags, UnknownNamespace> {
    // TODO: start from CloneFlags::empty() and add one flag per name.
    // TODO: a name that matches none of the table above is
    //       Err(UnknownNamespace { name: ... }).
    todo!("map each name to its CLONE_NEW* flag")
}
