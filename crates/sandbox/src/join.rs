//! Chapter 6: `exec`, a new process inside a running container.
//!
//! A container is nothing but a process in its own namespaces and
//! cgroup, so a second process gets in by joining the same ones: setns(2)
//! on each of the container init's `/proc/PID/ns/*` files, in an order
//! that matters.
//!
//! ```text
//! open /proc/PID/ns/{user,cgroup,ipc,uts,net,pid,mnt}   all first: after
//!                                                     joining mnt, /proc
//!                                                     is the container's
//! setns user     first: it grants the rights the other joins need
//! setns cgroup, ipc, uts, net
//! setns pid      applies to our *children* only: we fork below
//! setns mnt      last: it changes our root, and the paths above with it
//! fork ─► child: join the cgroup (descriptors opened before), chdir,
//!                become the user, execve
//! wait for the child, passing signals on; its exit code is ours
//! ```

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{setns, CloneFlags};
use nix::unistd::{fork, pipe2, setgroups, setresgid, setresuid, ForkResult, Gid, Pid, Uid};
use thiserror::Error;

use crate::command::ContainerCommand;
use crate::exec::exec_command;
use crate::report::{self, ChildReport, SETUP_FAILED};
use crate::supervise::{block, forwarded_signals, supervise, unblock_all};

// ANCHOR: order
/// The namespaces `exec` joins, in the order it joins them.
pub const JOIN_ORDER: [&str; 7] = ["user", "cgroup", "ipc", "uts", "net", "pid", "mnt"];
// ANCHOR_END: order

/// Why joining a container failed.
#[derive(Debug, Error)]
pub enum JoinError {
    /// A namespace file could not be opened (the container just ended?).
    #[error("cannot open {path}: {errno}: is the container still running?")]
    Open {
        /// The file.
        path: String,
        /// Why.
        errno: Errno,
    },
    /// setns(2) refused.
    #[error("cannot join the container's {namespace} namespace: {errno}")]
    Setns {
        /// Which.
        namespace: &'static str,
        /// Why.
        errno: Errno,
    },
    /// Another system call failed.
    #[error("{call} failed: {errno}")]
    Syscall {
        /// Which.
        call: &'static str,
        /// Why.
        errno: Errno,
    },
    /// The command could not be started in the container.
    #[error("{}", .0.message)]
    InChild(ChildReport),
    /// The command holds a NUL byte.
    #[error(
        "the command or its environment contains a NUL byte, which cannot be passed to a program"
    )]
    NulInCommand,
}

impl JoinError {
    /// The exit code for this failure: the child's (126, 127) or 125.
    pub fn exit_code(&self) -> i32 {
        match self {
            JoinError::InChild(report) => report.code,
            _ => SETUP_FAILED,
        }
    }
}

// ANCHOR: plan
/// Which namespaces to join, in [`JOIN_ORDER`]: those where the target's
/// differs from ours. `ours` and `theirs` give each namespace's inode
/// (as `/proc/PID/ns/NAME` shows it), by name. Joining one we are already
/// in is harmless for all but the user namespace, where setns(2) refuses
/// it (EINVAL), so the plan leaves every shared one out.
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
// ANCHOR_END: plan

/// The inode of a namespace file: two processes share a namespace when
/// their files have the same one.
fn namespace_inode(pid: &str, name: &str) -> Option<u64> {
    std::fs::metadata(format!("/proc/{pid}/ns/{name}"))
        .ok()
        .map(|m| m.ino())
}

fn clone_flag(name: &str) -> CloneFlags {
    match name {
        "user" => CloneFlags::CLONE_NEWUSER,
        "cgroup" => CloneFlags::CLONE_NEWCGROUP,
        "ipc" => CloneFlags::CLONE_NEWIPC,
        "uts" => CloneFlags::CLONE_NEWUTS,
        "net" => CloneFlags::CLONE_NEWNET,
        "pid" => CloneFlags::CLONE_NEWPID,
        _ => CloneFlags::CLONE_NEWNS,
    }
}

/// The open namespaces of a running container, ready to be joined.
#[derive(Debug)]
pub struct Namespaces {
    joins: Vec<(&'static str, OwnedFd)>,
}

// ANCHOR: open
/// Open every namespace of process `pid` that we are not in, before
/// joining any: once in its mount namespace, `/proc/PID` would name
/// another process, or none.
pub fn open_namespaces(pid: Pid) -> Result<Namespaces, JoinError> {
    let target = pid.as_raw().to_string();
    let plan = join_plan(&|name| namespace_inode("self", name), &|name| {
        namespace_inode(&target, name)
    });
    let mut joins = Vec::new();
    for name in plan {
        let path = format!("/proc/{target}/ns/{name}");
        let file = File::open(&path).map_err(|e| JoinError::Open {
            path: path.clone(),
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })?;
        joins.push((name, OwnedFd::from(file)));
    }
    Ok(Namespaces { joins })
}
// ANCHOR_END: open

// ANCHOR: enter
/// Join the namespaces, in order. After the user namespace, become its
/// root: our uid 0 outside is nobody inside, and uid 0 inside is what
/// the container's own processes run as.
fn enter(namespaces: &Namespaces) -> Result<(), JoinError> {
    for (name, fd) in &namespaces.joins {
        setns(fd.as_fd(), clone_flag(name)).map_err(|errno| JoinError::Setns {
            namespace: name,
            errno,
        })?;
        if *name == "user" {
            let root = (Uid::from_raw(0), Gid::from_raw(0));
            setgroups(&[])
                .and_then(|()| setresgid(root.1, root.1, root.1))
                .and_then(|()| setresuid(root.0, root.0, root.0))
                .map_err(|errno| JoinError::Syscall {
                    call: "setresuid",
                    errno,
                })?;
        }
    }
    Ok(())
}
// ANCHOR_END: enter

/// How an exec'd process gets its stdio.
#[derive(Debug, Clone, Copy)]
pub struct ExecStdio {
    /// Its stdin, stdout and stderr as descriptors of ours (None: ours).
    pub fds: Option<[RawFd; 3]>,
    /// Make the process a session leader with its stdin as controlling
    /// terminal (for `exec -t`).
    pub terminal: bool,
}

// ANCHOR: exec_in
/// Run `command` inside the container whose init is `pid`: join its
/// namespaces, fork, move the child into its cgroup (`cgroup_procs`:
/// the container's `cgroup.procs` files, opened for writing before
/// anything else), and exec. Without `detach`, wait for the command and
/// return its exit code; with it, return 0 once it runs: when we exit,
/// the container's init adopts it.
///
/// This process stays in the container's namespaces afterwards: call it
/// last, from a single-threaded program (setns of a user namespace
/// requires one thread).
pub fn exec_in(
    pid: Pid,
    command: &ContainerCommand,
    cgroup_procs: Vec<File>,
    stdio: ExecStdio,
    detach: bool,
    terminal: Option<&OwnedFd>,
) -> Result<i32, JoinError> {
    let prepared = command.prepare().map_err(|_| JoinError::NulInCommand)?;
    let namespaces = open_namespaces(pid)?;
    let (report_read, report_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(|errno| JoinError::Syscall {
            call: "pipe2",
            errno,
        })?;
    let signals = crate::terminal::relay_signals(&forwarded_signals());
    block(&signals).map_err(|errno| JoinError::Syscall {
        call: "sigprocmask",
        errno,
    })?;
    // ANCHOR: exec_in_fork
    enter(&namespaces)?;
    drop(namespaces);
    // SAFETY: single-threaded (see above), so the child may allocate.
    match unsafe { fork() } {
        Err(errno) => Err(JoinError::Syscall {
            call: "fork",
            errno,
        }),
        Ok(ForkResult::Child) => {
            drop(report_read);
            // Detached, fork once more and let the middle process end: an
            // orphan goes to the init of its parent's PID namespace, so
            // the command's parent must be in the container's, as the
            // middle process is; we are not.
            // SAFETY: still single-threaded.
            if detach && !matches!(unsafe { fork() }, Ok(ForkResult::Child)) {
                // SAFETY: leave without running the parent's exit handlers.
                unsafe { libc::_exit(0) }
            }
            let code = child(&prepared, cgroup_procs, stdio, &report_write);
            // SAFETY: as above.
            unsafe { libc::_exit(code) }
        }
        // ANCHOR_END: exec_in_fork
        Ok(ForkResult::Parent { child }) => {
            drop(report_write);
            drop(cgroup_procs);
            let report = report::receive(report_read);
            if detach {
                let _ = nix::sys::wait::waitpid(child, None);
                return match report {
                    Some(report) => Err(JoinError::InChild(report)),
                    None => Ok(0),
                };
            }
            // With a terminal (exec -t), copy between it and ours until
            // the command ends; else just wait, passing signals on.
            let waited = match terminal {
                Some(master) => crate::terminal::relay(master, child, &signals),
                None => supervise(child, &signals),
            };
            let code = waited.map_err(|errno| JoinError::Syscall {
                call: "waitpid",
                errno,
            })?;
            match report {
                Some(report) => Err(JoinError::InChild(report)),
                None => Ok(code),
            }
        }
    }
}
// ANCHOR_END: exec_in

/// The forked child: now in the container's PID namespace too. Returns
/// an exit code only on failure.
fn child(
    command: &crate::command::PreparedCommand,
    cgroup_procs: Vec<File>,
    stdio: ExecStdio,
    report_write: &OwnedFd,
) -> i32 {
    // Writing 0 to cgroup.procs moves the writer: its limits apply to us
    // and to whatever we start, a fork bomb included.
    for mut procs in cgroup_procs {
        if let Err(e) = procs.write_all(b"0") {
            let message = format!("cannot join the container's cgroup: {e}");
            report::send(report_write, SETUP_FAILED, &message);
            return SETUP_FAILED;
        }
    }
    if let Some(fds) = stdio.fds {
        for (fd, target) in fds.into_iter().zip(0..) {
            if fd != target && nix::unistd::dup2(fd, target).is_err() {
                return SETUP_FAILED;
            }
        }
    }
    if stdio.terminal {
        crate::init::become_terminal_owner();
    }
    // As the container's init does for its command.
    // SAFETY: signal(2) with SIG_DFL only changes SIGPIPE's disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    if unblock_all().is_err() {
        return SETUP_FAILED;
    }
    exec_command(command, report_write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_what_differs_user_first_mount_last() {
        let ours = |name: &str| Some(name.len() as u64);
        // A container without a user namespace of its own: ours is shared.
        let theirs = |name: &str| match name {
            "user" => Some(4),
            other => Some(100 + other.len() as u64),
        };
        insta::assert_debug_snapshot!(join_plan(&ours, &theirs), @r#"
        [
            "cgroup",
            "ipc",
            "uts",
            "net",
            "pid",
            "mnt",
        ]
        "#);
        let all_own = |name: &str| Some(100 + name.len() as u64);
        let plan = join_plan(&ours, &all_own);
        assert_eq!(plan.first(), Some(&"user"));
        assert_eq!(plan.last(), Some(&"mnt"));
        // A kernel without cgroup namespaces has no file for it.
        let no_cgroup = |name: &str| (name != "cgroup").then_some(100);
        assert!(!join_plan(&ours, &no_cgroup).contains(&"cgroup"));
    }
}
