//! Chapter 1: the oldest container there is — fork, chroot, exec.
//!
//! chroot(2) changes what `/` means for one process and its children. That
//! is all it does: the process still sees every other process, shares the
//! hostname, the network and the mount table, and if it is root it can
//! climb back out (see the `breakout` program in the demo image).

use std::path::Path;

use nix::fcntl::OFlag;
use nix::unistd::{chdir, chroot, fork, pipe2, ForkResult};

use crate::command::ContainerCommand;
use crate::exec::exec_command;
use crate::report::{self, SETUP_FAILED};
use crate::supervise::{block, forwarded_signals, supervise, unblock_all};
use crate::ContainerError;

// ANCHOR: run_chrooted
/// Run `command` with `rootfs` as its root directory and return its exit
/// code (128 + signal when a signal killed it).
// ANCHOR: run_chrooted_core
pub fn run_chrooted(rootfs: &Path, command: &ContainerCommand) -> Result<i32, ContainerError> {
    let rootfs = crate::rootfs::validate_rootfs(rootfs)?;
    let prepared = command
        .prepare()
        .map_err(|_| ContainerError::NulInCommand)?;
    // The child reports a failure before exec through this pipe.
    let (report_read, report_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| ContainerError::syscall("pipe2", e))?;
    let signals = forwarded_signals();
    block(&signals).map_err(|e| ContainerError::syscall("sigprocmask", e))?;

    // SAFETY: this program is single-threaded, so the child is a complete
    // copy of it and may allocate; it only runs the code below, then execs
    // or exits.
    match unsafe { fork() }.map_err(|e| ContainerError::syscall("fork", e))? {
        ForkResult::Child => {
            drop(report_read);
            // Change what "/" means for this process, then step inside: the
            // current directory would otherwise stay on the host.
            let code = match chroot(&rootfs).and_then(|()| chdir("/")) {
                Err(errno) => {
                    let message = format!("cannot chroot into {}: {errno}", rootfs.display());
                    report::send(&report_write, SETUP_FAILED, &message);
                    SETUP_FAILED
                }
                Ok(()) => match unblock_all() {
                    Ok(()) => exec_command(&prepared, &report_write),
                    Err(_) => SETUP_FAILED,
                },
            };
            // SAFETY: _exit skips the parent's atexit handlers and stdio
            // buffers, which belong to the parent, not to this copy.
            unsafe { libc::_exit(code) }
        }
        // ANCHOR_END: run_chrooted_core
        ForkResult::Parent { child } => {
            drop(report_write);
            let report = report::receive(report_read);
            let code =
                supervise(child, &signals).map_err(|e| ContainerError::syscall("waitpid", e))?;
            match report {
                Some(report) => Err(ContainerError::InChild(report)),
                None => Ok(code),
            }
        }
    }
}
// ANCHOR_END: run_chrooted
