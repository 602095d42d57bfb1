//! Which namespaces a container gets, as clone(2) flags.
//!
//! A namespace wraps one kind of global resource so that the processes in it
//! get their own copy: their own hostname (UTS), process numbers (PID), mount
//! table (mount), System V IPC and POSIX queues (IPC), network stack (net),
//! view of the cgroup tree (cgroup), and user and group ids (user). Asking
//! clone(2) for a new one is one bit each.

use nix::sched::CloneFlags;

/// The isolation a container asks for. Chapter 2 turns everything on except
/// the user namespace, which is `--userns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespaces {
    /// Own hostname and domain name.
    pub uts: bool,
    /// Own process ids: the first process is PID 1 and sees only its descendants.
    pub pid: bool,
    /// Own mount table, so pivot_root and /proc do not touch the host's.
    pub mount: bool,
    /// Own System V IPC objects and POSIX message queues.
    pub ipc: bool,
    /// Own network stack: only a loopback device, down until we raise it.
    pub net: bool,
    /// Own cgroup root: /proc/self/cgroup shows "/".
    pub cgroup: bool,
    /// Own user and group ids, mapped onto unprivileged host ids.
    pub user: bool,
}

/// Whose user ids a container's processes have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserNamespace {
    /// The host's: root inside is root outside.
    #[default]
    Shared,
    /// Its own (`--userns`): root inside is an unprivileged id outside.
    Own,
}

impl UserNamespace {
    /// From a `--userns` flag.
    pub fn from_flag(userns: bool) -> UserNamespace {
        match userns {
            true => UserNamespace::Own,
            false => UserNamespace::Shared,
        }
    }
}

impl Namespaces {
    /// Everything chapter 2 isolates, and a user namespace as asked.
    pub fn all(user: UserNamespace) -> Self {
        Namespaces {
            uts: true,
            pid: true,
            mount: true,
            ipc: true,
            net: true,
            cgroup: true,
            user: user == UserNamespace::Own,
        }
    }
}

// ANCHOR: clone_flags
/// The clone(2) flags that create the namespaces in `ns`.
pub fn clone_flags(ns: &Namespaces) -> CloneFlags {
    let mut flags = CloneFlags::empty();
    for (wanted, flag) in [
        (ns.uts, CloneFlags::CLONE_NEWUTS),
        (ns.pid, CloneFlags::CLONE_NEWPID),
        (ns.mount, CloneFlags::CLONE_NEWNS),
        (ns.ipc, CloneFlags::CLONE_NEWIPC),
        (ns.net, CloneFlags::CLONE_NEWNET),
        (ns.cgroup, CloneFlags::CLONE_NEWCGROUP),
        (ns.user, CloneFlags::CLONE_NEWUSER),
    ] {
        if wanted {
            flags |= flag;
        }
    }
    flags
}
// ANCHOR_END: clone_flags

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_two_flags() {
        insta::assert_snapshot!(format!(
            "{:?}\n{:?}",
            clone_flags(&Namespaces::all(UserNamespace::Shared)),
            clone_flags(&Namespaces::all(UserNamespace::Own))
        ));
    }

    #[test]
    fn nothing_asked_nothing_set() {
        let none = Namespaces {
            uts: false,
            pid: false,
            mount: false,
            ipc: false,
            net: false,
            cgroup: false,
            user: false,
        };
        assert!(clone_flags(&none).is_empty());
    }
}
