//! A tiny init: PID 1 of the container, parent of the command.
//!
//! PID 1 is special. Orphaned processes are re-parented to it, and if it
//! does not wait(2) for them they stay as zombies forever. And the kernel
//! does not apply default signal actions to it: a `kill -TERM 1` that would
//! end any other process is ignored unless PID 1 handles SIGTERM itself.
//! A shell or a server written for a normal machine does neither.
//!
//! So cratebox runs the command as PID 2 under this init (the job that
//! `docker run --init` gives to tini): it reaps every zombie, forwards the
//! signals it gets to the command, and exits with the command's code.

use std::os::fd::OwnedFd;

use nix::sys::signal::SigSet;
use nix::unistd::{fork, ForkResult};

use crate::command::PreparedCommand;
use crate::exec::exec_command;
use crate::report::SETUP_FAILED;
use crate::supervise::{block, supervise, unblock_all};

// ANCHOR: init
/// Start `command` as our child, then supervise it. Returns the exit code
/// for init to exit with.
pub fn run_init(command: &PreparedCommand, report_write: OwnedFd) -> i32 {
    // Take every signal through sigwaitinfo from now on.
    let all = SigSet::all();
    if block(&all).is_err() {
        return SETUP_FAILED;
    }
    // SAFETY: the container's init is single-threaded (a clone of a
    // single-threaded program), so the child may allocate before execve.
    match unsafe { fork() } {
        Err(_) => SETUP_FAILED,
        Ok(ForkResult::Child) => {
            // The command starts with no signal blocked, and with SIGPIPE's
            // default action: a Rust program ignores SIGPIPE, and an
            // ignored signal stays ignored across execve, so `yes | head`
            // in the container would never end.
            // SAFETY: signal(2) with SIG_DFL only changes this process's
            // disposition of SIGPIPE.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
            if command.tty {
                become_terminal_owner();
            }
            let code = match unblock_all() {
                Ok(()) => exec_command(command, &report_write),
                Err(_) => SETUP_FAILED,
            };
            // SAFETY: leave without running the parent's exit handlers.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            // Only the command's copy of the report pipe may stay open: its
            // exec closes it, and the parent outside reads end-of-file.
            drop(report_write);
            supervise(child, &all).unwrap_or(SETUP_FAILED)
        }
    }
}
// ANCHOR_END: init

/// With `-t`: a session of our own, with stdin (the terminal's slave end)
/// as its controlling terminal, so that the terminal's Ctrl-C and window
/// changes reach this process group.
pub fn become_terminal_owner() {
    let _ = nix::unistd::setsid();
    // SAFETY: TIOCSCTTY takes an int argument and touches no memory.
    unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) };
}
