//! Whether a process still exists.
//!
//! Several things in cratebox are named after the process that owns them
//! (a container's supervisor, a cgroup `<pid>-<n>`, a build's scratch
//! directory) and are cleaned up by whoever finds their owner gone. They
//! all ask this one question, the same way.

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

/// True while a process with this pid exists (a zombie counts: it has not
/// been reaped yet).
///
/// kill(2) with no signal only checks: ESRCH means no such process, while
/// EPERM means it exists but belongs to someone we may not signal. Looking
/// for `/proc/PID` instead would also work, but says the wrong thing where
/// `/proc` shows another PID namespace.
///
/// A pid is reused once its process is reaped, so "alive" can be a newer
/// process with the same number; the owners above accept that: the worst
/// case is cleaning up later than possible, never too early.
pub fn is_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        // kill(0) and kill(-1) mean process groups, not one process.
        return false;
    }
    !matches!(kill(Pid::from_raw(raw), None), Err(Errno::ESRCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn we_are_alive_and_a_reaped_child_is_not() {
        assert!(is_alive(std::process::id()));
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("true runs");
        let pid = child.id();
        child.wait().expect("true ends");
        assert!(!is_alive(pid));
        assert!(!is_alive(0));
        assert!(!is_alive(u32::MAX));
    }
}
