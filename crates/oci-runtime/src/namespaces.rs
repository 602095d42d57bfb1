//! `linux.namespaces` → what the container's first process unshares and
//! which existing namespaces it joins, in the order that works.
//!
//! Each entry either has a `path` (join that namespace: `setns(2)`) or
//! not (make a new one: `unshare(2)`). Joining goes first, the user
//! namespace before the rest (it decides what the process may do in the
//! others) and the mount namespace last (after it, the other paths would
//! be looked up in the container's mounts).

use std::fmt;
use std::path::PathBuf;

use nix::sched::CloneFlags;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

/// What to do with the namespaces of `config.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePlan {
    /// New namespaces, as one set of flags.
    pub unshare: CloneFlags,
    /// Namespaces to join, in the order to join them.
    pub join: Vec<(CloneFlags, PathBuf)>,
}

/// Why `linux.namespaces` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceError {
    /// A type listed twice.
    Duplicate(&'static str),
    /// A path given, but empty.
    EmptyPath(&'static str),
}

impl fmt::Display for NamespaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamespaceError::Duplicate(kind) => {
                write!(f, "linux.namespaces: {kind:?} appears twice: list each type once")
            }
            NamespaceError::EmptyPath(kind) => write!(
                f,
                "linux.namespaces: {kind:?} has an empty path: give a /proc/PID/ns/ path, or leave `path` out for a new one"
            ),
        }
    }
}

/// The spec's name of a namespace type, as `config.json` writes it.
pub fn kind_name(kind: LinuxNamespaceType) -> &'static str {
    match kind {
        LinuxNamespaceType::Mount => "mount",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "network",
        LinuxNamespaceType::Time => "time",
    }
}

/// The spec's name of the namespace type whose clone(2) flag is `flag`.
pub fn name_of(flag: CloneFlags) -> &'static str {
    use LinuxNamespaceType::*;
    [Mount, Cgroup, Uts, Ipc, User, Pid, Network, Time]
        .into_iter()
        .find(|kind| clone_flag(*kind) == flag)
        .map_or("unknown", kind_name)
}

// ANCHOR: clone_flag
/// The clone(2) flag of each type.
pub fn clone_flag(kind: LinuxNamespaceType) -> CloneFlags {
    match kind {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        // nix has no name for it; the kernel's value (Linux 5.6).
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}
// ANCHOR_END: clone_flag

// ANCHOR: plan
/// Sort the entries into new and joined namespaces.
pub fn plan(namespaces: &[LinuxNamespace]) -> Result<NamespacePlan, NamespaceError> {
    let mut seen = CloneFlags::empty();
    let mut unshare = CloneFlags::empty();
    let mut join = Vec::new();
    for namespace in namespaces {
        let kind = namespace.typ();
        let flag = clone_flag(kind);
        if seen.contains(flag) {
            return Err(NamespaceError::Duplicate(kind_name(kind)));
        }
        seen |= flag;
        match namespace.path() {
            None => unshare |= flag,
            Some(path) if path.as_os_str().is_empty() => {
                return Err(NamespaceError::EmptyPath(kind_name(kind)))
            }
            Some(path) => join.push((flag, path.clone())),
        }
    }
    // User first, mount last; a stable sort keeps the rest in order.
    join.sort_by_key(|(flag, _)| match *flag {
        CloneFlags::CLONE_NEWUSER => 0,
        CloneFlags::CLONE_NEWNS => 2,
        _ => 1,
    });
    Ok(NamespacePlan { unshare, join })
}
// ANCHOR_END: plan

impl NamespacePlan {
    /// Whether the container has a namespace of this kind of its own or
    /// joined (rather than sharing the runtime's).
    pub fn has(&self, flag: CloneFlags) -> bool {
        self.unshare.contains(flag) || self.join.iter().any(|(f, _)| *f == flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Vec<LinuxNamespace> {
        serde_json::from_str(json).expect("namespaces")
    }

    #[test]
    fn podmans_usual_list_is_all_new() {
        let plan = plan(&parse(
            r#"[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"}]"#,
        ))
        .expect("a plan");
        insta::assert_debug_snapshot!(plan);
    }

    #[test]
    fn a_pod_member_joins_user_first_and_mount_last() {
        let plan = plan(&parse(
            r#"[{"type":"mount","path":"/proc/7/ns/mnt"},{"type":"network","path":"/proc/7/ns/net"},
                {"type":"pid"},{"type":"user","path":"/proc/7/ns/user"},{"type":"ipc","path":"/proc/7/ns/ipc"}]"#,
        ))
        .expect("a plan");
        insta::assert_debug_snapshot!(plan);
    }

    #[test]
    fn duplicates_and_empty_paths_are_named() {
        let twice = plan(&parse(
            r#"[{"type":"pid"},{"type":"pid","path":"/proc/1/ns/pid"}]"#,
        ));
        let empty = plan(&parse(r#"[{"type":"network","path":""}]"#));
        insta::assert_snapshot!(format!(
            "{}\n{}",
            twice.expect_err("a duplicate"),
            empty.expect_err("an empty path")
        ));
    }
}
