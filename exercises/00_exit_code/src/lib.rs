//! # Exercise 00: how a process ended, as a shell says it
//!
//! ```text
//! $ sh -c 'exit 3'; echo $?          3     exited with code 3
//! $ sh -c 'kill -TERM $$'; echo $?   143   killed by SIGTERM: exit code 143
//! $ sh -c 'kill -KILL $$'; echo $?   137   killed by SIGKILL: exit code 137
//! ```
//!
//! When a child ends, waitpid(2) hands its parent a *wait status*: it
//! exited, with a code from 0 to 255, or a signal killed it. A shell, and
//! `docker run` after it, fold both into one number: the code itself, or
//! 128 + the signal's number. Write [`exit_code`], which does that, and
//! [`describe`], which says it in words. Run `cargo ex check 00_exit_code`
//! until it passes.

// The parameters and the imports are unused until the `todo!()`s are replaced.
#![allow(unused_variables, unused_imports)]

pub use cratebox_sandbox::report::{NOT_EXECUTABLE, NOT_FOUND, SETUP_FAILED};
pub use nix::sys::signal::Signal;
pub use nix::sys::wait::WaitStatus;

/// The exit code a shell reports for `status`: the process's own code when
/// it exited, 128 + the signal's number when a signal killed it (`kill -9`
/// is 137). `None` for a process that has not ended: stopped, continued,
/// still running, or stopped by a tracer.
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    // TODO: match on the status. `WaitStatus::Exited` carries the code,
    //       `WaitStatus::Signaled` the signal (`signal as i32` is its number).
    // TODO: every other variant is a process that has not ended.
    todo!("the shell's exit code for this wait status")
}

/// How the process ended, in one line, or `None` when it has not:
///
/// - `exited with code 0`; and for the three codes a container runtime
///   uses for itself, what they mean, after a colon:
///   [`SETUP_FAILED`] (125) `the container could not be set up`,
///   [`NOT_EXECUTABLE`] (126) `the command could not be run`,
///   [`NOT_FOUND`] (127) `no such command`;
/// - `killed by SIGKILL: exit code 137`, and when the kernel wrote a core
///   dump, `killed by SIGSEGV (core dumped): exit code 139`.
pub fn describe(status: WaitStatus) -> Option<String> {
    // TODO: match on the status again; a Signal displays as its name
    //       (`SIGKILL`), and exit_code already knows the number.
    // TODO: the three codes can be arms of their own: a `match` accepts
    //       constants as patterns.
    todo!("how the process ended, in words")
}
