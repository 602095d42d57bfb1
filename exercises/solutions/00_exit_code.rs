//! Reference solution for exercise 00: how a process ended.

pub use cratebox_sandbox::report::{NOT_EXECUTABLE, NOT_FOUND, SETUP_FAILED};
pub use nix::sys::signal::Signal;
pub use nix::sys::wait::WaitStatus;

/// The exit code a shell reports for `status`; `None` when the process
/// has not ended.
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        // Signals are numbered from 1, and exit codes stop at 255, so the
        // two ranges never meet: 130 can only be SIGINT, 137 only SIGKILL.
        WaitStatus::Signaled(_, signal, _) => Some(128 + signal as i32),
        // Stopped, Continued, StillAlive and the ptrace stops: not an end.
        _ => None,
    }
}

/// How the process ended, in one line; `None` when it has not.
pub fn describe(status: WaitStatus) -> Option<String> {
    let code = exit_code(status)?;
    Some(match status {
        WaitStatus::Signaled(_, signal, true) => {
            format!("killed by {signal} (core dumped): exit code {code}")
        }
        WaitStatus::Signaled(_, signal, false) => format!("killed by {signal}: exit code {code}"),
        _ => {
            let meaning = match code {
                SETUP_FAILED => ": the container could not be set up",
                NOT_EXECUTABLE => ": the command could not be run",
                NOT_FOUND => ": no such command",
                _ => "",
            };
            format!("exited with code {code}{meaning}")
        }
    })
}
