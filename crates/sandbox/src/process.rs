//! Whether a process still exists.
//!
//! Several things in cratebox are named after the process that owns them
//! (a container's supervisor, a cgroup `<pid>-<n>`, a build's scratch
//! directory) and are cleaned up by whoever finds their owner gone. They
//! all ask this one question, the same way.

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

/// True while a process with this pid runs. A zombie (ended, waiting to
/// be reaped by whoever adopted it) does not: an owner that ended is gone,
/// however long its reaper takes.
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
    !matches!(kill(Pid::from_raw(raw), None), Err(Errno::ESRCH)) && !is_zombie(pid)
}

// ANCHOR: stamp
// ANCHOR: stamp_struct
/// A process named so that its number cannot be mistaken for a later
/// process's: the pid, when it started (clock ticks after boot, field 22
/// of `/proc/PID/stat`) and which boot that was. A record that outlives
/// its process (a crash, a reboot) then never points at a stranger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcessStamp {
    /// The pid on the host.
    pub pid: u32,
    /// When it started, in clock ticks after boot.
    pub start: u64,
    /// The kernel's id of this boot.
    pub boot: String,
}

impl ProcessStamp {
    /// Stamp process `pid`, if it exists.
    pub fn of(pid: u32) -> Option<ProcessStamp> {
        Some(ProcessStamp {
            pid,
            start: start_time(pid)?,
            boot: boot_id()?,
        })
    }

    /// True while this very process runs ([`is_alive`]: a zombie does not).
    pub fn is_alive(&self) -> bool {
        is_alive(self.pid)
            && boot_id().as_deref() == Some(self.boot.as_str())
            && start_time(self.pid) == Some(self.start)
    }
}
// ANCHOR_END: stamp_struct

/// Whether process `pid` has ended and waits to be reaped (state `Z`,
/// field 3 of `/proc/PID/stat`).
pub fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, after_name) = stat.rsplit_once(')')?;
            after_name
                .split_whitespace()
                .next()
                .map(|state| state == "Z")
        })
        .unwrap_or(false)
}

/// Field 22 of `/proc/PID/stat`, counted after the command name, which
/// is in parentheses and may itself hold spaces and parentheses.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    // After the name come field 3 (state) onwards: field 22 is the 20th.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// This boot's id, a random UUID the kernel makes at each boot.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_string())
}
// ANCHOR_END: stamp

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_tells_a_process_from_a_later_one_with_its_pid() {
        let me = ProcessStamp::of(std::process::id()).expect("we exist");
        assert!(me.is_alive());
        let older = ProcessStamp {
            start: me.start.saturating_sub(1),
            ..me.clone()
        };
        assert!(!older.is_alive(), "another start time is another process");
        let other_boot = ProcessStamp {
            boot: "00000000-0000-0000-0000-000000000000".into(),
            ..me
        };
        assert!(!other_boot.is_alive(), "a record from before a reboot");
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("true runs");
        let stamp = ProcessStamp::of(child.id()).expect("not reaped yet");
        // Ended, not yet reaped: a zombie is not alive.
        while !is_zombie(child.id()) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(!stamp.is_alive());
        child.wait().expect("true ends");
        assert!(!stamp.is_alive());
    }

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
