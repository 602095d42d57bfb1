//! How a child's end becomes an exit code, the way shells and docker do it.

use nix::sys::wait::WaitStatus;

// ANCHOR: exit_code
/// The exit code a shell would report for this wait status: the process's
/// own code when it exited, 128 + the signal number when a signal killed it
/// (so `kill -9` shows as 137, like `docker run`).
///
/// Returns `None` for states that are not an end (stopped, continued).
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, signal, _) => Some(128 + signal as i32),
        _ => None,
    }
}
// ANCHOR_END: exit_code

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;
    use nix::unistd::Pid;

    #[test]
    fn exited_keeps_its_code_and_signals_add_128() {
        let pid = Pid::from_raw(42);
        assert_eq!(exit_code(WaitStatus::Exited(pid, 3)), Some(3));
        assert_eq!(
            exit_code(WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            Some(137)
        );
        assert_eq!(
            exit_code(WaitStatus::Signaled(pid, Signal::SIGTERM, true)),
            Some(143)
        );
        assert_eq!(exit_code(WaitStatus::Stopped(pid, Signal::SIGSTOP)), None);
    }
}
