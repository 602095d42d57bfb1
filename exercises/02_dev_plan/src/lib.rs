//! # Exercise 02: plan a container's /dev
//!
//! A container must not see the host's /dev: `/dev/sda` there would be the
//! host's disk. It gets a small /dev of its own instead, and this exercise
//! writes the plan for it as data, the way
//! `cratebox_sandbox::mounts::mount_plan` does for the whole root: a list of
//! [`MountOp`]s, each of which prints as the shell command it stands for.
//!
//! The steps, in order, all under `rootfs/dev`:
//!
//! 1. a tmpfs on `dev` (flags `MS_NOSUID | MS_STRICTATIME`, data
//!    `mode=755,size=65536k`);
//! 2. one step per entry of [`DEVICES`]: a [`MountOp::Device`] (mknod), or,
//!    in a user namespace, where the kernel refuses mknod(2), a
//!    [`MountOp::Bind`] of the host's `/dev/NAME` onto an empty file
//!    (`file: true`);
//! 3. a devpts on `dev/pts` (flags `MS_NOSUID | MS_NOEXEC`, data
//!    `newinstance,ptmxmode=0666,mode=0620`): `newinstance` gives the
//!    container its own terminals instead of the host's;
//! 4. the symlink `dev/ptmx` → `pts/ptmx`, the new instance's multiplexer;
//! 5. a tmpfs on `dev/shm` for POSIX shared memory (flags
//!    `MS_NOSUID | MS_NODEV | MS_NOEXEC`, data `mode=1777,size=65536k`);
//! 6. one symlink per entry of [`DEV_SYMLINKS`] (`dev/fd` → `/proc/self/fd`, ...).
//!
//! Run `cargo ex check 02_dev_plan` until it passes.

// The parameter and the imports are unused until the `todo!()` is replaced.
#![allow(unused_variables, unused_imports)]

use std::path::Path;

use cratebox_sandbox::devices::{DEVICES, DEV_SYMLINKS};
use cratebox_sandbox::mounts::MountOp;
use nix::mount::MsFlags;

/// Every step that gives the container at `rootfs` its own /dev.
///
/// `user_namespace` is true when the container runs in a user namespace:
/// device nodes are then bind-mounted from the host instead of created.
pub fn dev_plan(rootfs: &Path, user_namespace: bool) -> Vec<MountOp> {
    // TODO: start with the tmpfs on rootfs/dev (MountOp::Filesystem).
    // TODO: for each device in DEVICES, push a MountOp::Device, or when
    //       user_namespace is true a MountOp::Bind from /dev/NAME with file: true.
    // TODO: then devpts on dev/pts, the dev/ptmx symlink, the tmpfs on dev/shm,
    //       and a MountOp::Symlink for each (name, target) in DEV_SYMLINKS.
    todo!("build the /dev part of the mount plan")
}
