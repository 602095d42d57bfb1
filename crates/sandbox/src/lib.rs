//! # cratebox-sandbox: starting the container process
//!
//! This crate is where a process becomes a container. Each file holds one
//! kernel idea; the book's chapters walk through them in this order:
//!
//! | file | idea | chapter |
//! |---|---|---|
//! | [`chroot`] | fork, chroot, exec: a different `/`, nothing else | 1 |
//! | [`command`], [`exec`] | the command, found in the image's PATH, then execve | 1 |
//! | [`report`] | how a child reports a failure before exec | 1 |
//! | [`supervise`], [`exit`] | waiting, forwarding signals, exit codes | 1 |
//! | [`namespaces`] | which namespaces, as clone(2) flags | 2 |
//! | [`container`] | clone into new namespaces, then set up and run | 2 |
//! | [`mounts`], [`devices`] | the mount plan: /proc, /sys, /dev, pivot_root | 2 |
//! | [`resolve`], [`mount_point`] | a path resolved inside the root, never out of it; where each mount lands | 2 |
//! | [`idmap`] | uid and gid maps of a user namespace | 2 |
//! | [`hostname`], [`network`] | the UTS and network namespaces' first steps | 2 |
//! | [`init`] | a tiny PID 1 that reaps zombies and forwards signals | 2 |
//! | [`process`] | whether a process still exists | 3 |
//! | [`overlay`] | an image's layers as one overlay mount, past one page of options | 4 |
//! | [`join`] | `exec`: setns into a running container's namespaces, in order | 6 |
//! | [`extra_mount`] | what `-v`, `--mount` and `--tmpfs` add to the plan | 6 |
//! | [`copy`] | a new volume filled from the image (`cp -a`) | 6 |
//! | [`terminal`] | `-t`: a pseudo-terminal, raw mode, the relay | 6 |
//! | [`capabilities`] | root's powers cut to docker's 14, `--cap-add`, `--cap-drop` | 9 |
//! | [`security`] | capabilities, no_new_privs and seccomp, in that order, before execve | 9 |
//! | [`paths`] | masked and read-only /proc and /sys paths, `nodev` remounts | 9 |
//! | [`rootless`] | a user's own user namespace, mapped by newuidmap, held by a pause process | 9 |
//!
//! The pure parts (clone flags, the mount plan, id maps, hostname rules,
//! fitting overlay options in a page) return data and are snapshot-tested;
//! resolving a path inside a root is tested on temp dirs, without root; the
//! rest performs them and is tested by running real containers as root (see
//! the chapters' tests).

pub mod capabilities;
pub mod chroot;
pub mod command;
pub mod container;
pub mod copy;
pub mod devices;
pub mod exec;
pub mod exit;
pub mod extra_mount;
pub mod hostname;
pub mod idmap;
pub mod init;
pub mod join;
pub mod mount_point;
pub mod mounts;
pub mod namespaces;
pub mod network;
pub mod overlay;
pub mod paths;
pub mod process;
pub mod report;
pub mod resolve;
pub mod rootfs;
pub mod rootless;
pub mod security;
pub mod supervise;
pub mod terminal;
pub mod user;

use thiserror::Error;

pub use command::ContainerCommand;
pub use container::{run, spawn, ContainerConfig, Spawned, Started};
pub use namespaces::{Namespaces, UserNamespace};

/// Why a container could not be run.
#[derive(Debug, Error)]
pub enum ContainerError {
    /// The rootfs is missing, empty or unreadable.
    #[error(transparent)]
    Rootfs(#[from] rootfs::RootfsError),
    /// The hostname would not be accepted.
    #[error(transparent)]
    Hostname(#[from] hostname::HostnameError),
    /// The uid or gid map could not be written.
    #[error(transparent)]
    IdMap(#[from] idmap::IdMapError),
    /// An argument or variable contains a NUL byte, which execve cannot pass.
    #[error(
        "the command or its environment contains a NUL byte, which cannot be passed to a program"
    )]
    NulInCommand,
    /// A system call in the parent failed.
    #[error("{call} failed: {errno}")]
    Syscall {
        /// Which call.
        call: &'static str,
        /// What the kernel said.
        errno: nix::errno::Errno,
    },
    /// The child reported a failure before it could run the command.
    #[error("{}", .0.message)]
    InChild(report::ChildReport),
}

impl ContainerError {
    fn syscall(call: &'static str, errno: nix::errno::Errno) -> Self {
        ContainerError::Syscall { call, errno }
    }

    /// The exit code a command-line program should use for this error:
    /// the child's (125/126/127, as docker) or 125 for the rest.
    pub fn exit_code(&self) -> i32 {
        match self {
            ContainerError::InChild(report) => report.code,
            _ => report::SETUP_FAILED,
        }
    }
}
