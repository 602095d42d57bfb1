//! What the kernel does with a system call once the filter has decided.
//!
//! A seccomp filter is a program that ends in `ret K`: the 32-bit `K` is the
//! verdict. Its high 16 bits pick the action (`SECCOMP_RET_ACTION_FULL`), its
//! low 16 bits carry data for the actions that take some: the errno that
//! `SECCOMP_RET_ERRNO` makes the call fail with, the message a tracer gets
//! with `SECCOMP_RET_TRACE`. seccomp(2) lists them; [`Action::ret`] builds `K`
//! and [`Action::from_ret`] reads one back.
//!
//! When several filters are stacked (a container that loads its own on top
//! of ours), the kernel runs them all and keeps the most severe verdict, in
//! from most to least: kill the process, kill the thread, trap, errno,
//! trace, log, allow. A process cannot loosen the filter it was given.

use std::fmt;

/// `SECCOMP_RET_KILL_PROCESS`: the whole process dies of SIGSYS (Linux 4.14).
const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_KILL_THREAD` (once called `SECCOMP_RET_KILL`): only the
/// calling thread dies, which leaves a multi-threaded program half alive.
const RET_KILL_THREAD: u32 = 0x0000_0000;
/// `SECCOMP_RET_TRAP`: the thread gets a SIGSYS it can catch.
const RET_TRAP: u32 = 0x0003_0000;
/// `SECCOMP_RET_ERRNO`: the call is not made and returns `-data`.
const RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_TRACE`: a ptrace tracer is told, with `data` as the message.
const RET_TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_LOG`: the call is made, and the kernel logs it (Linux 4.14).
const RET_LOG: u32 = 0x7ffc_0000;
/// `SECCOMP_RET_ALLOW`: the call is made.
const RET_ALLOW: u32 = 0x7fff_0000;

/// The action half of a return value.
const ACTION_MASK: u32 = 0xffff_0000;
/// The data half of a return value.
const DATA_MASK: u32 = 0x0000_ffff;

/// The largest errno the kernel will return from a filter: a larger one
/// would read as a valid result rather than an error (`MAX_ERRNO`).
pub const MAX_ERRNO: u16 = 4095;

/// A filter's verdict on one system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Run the call.
    Allow,
    /// Do not run it; it returns -1 with this errno.
    Errno(u16),
    /// Kill the calling thread (docker's `SCMP_ACT_KILL`).
    KillThread,
    /// Kill the whole process.
    KillProcess,
    /// Send SIGSYS, which the program may handle.
    Trap,
    /// Run the call and log it: a profile in the making uses this to find
    /// out which calls a program needs.
    Log,
    /// Stop for a ptrace tracer, which sees this message number.
    Trace(u16),
}

impl Action {
    /// The 32-bit value a filter returns for this action: `SECCOMP_RET_*`
    /// in the high half, the errno or trace message in the low half.
    pub fn ret(self) -> u32 {
        match self {
            Action::Allow => RET_ALLOW,
            Action::Errno(errno) => RET_ERRNO | u32::from(errno),
            Action::KillThread => RET_KILL_THREAD,
            Action::KillProcess => RET_KILL_PROCESS,
            Action::Trap => RET_TRAP,
            Action::Log => RET_LOG,
            Action::Trace(message) => RET_TRACE | u32::from(message),
        }
    }

    /// Reads a filter's return value back. An action the kernel does not
    /// know counts as [`Action::KillProcess`], which is what the kernel
    /// does with one.
    pub fn from_ret(value: u32) -> Action {
        // The mask keeps 16 bits, so the conversion cannot lose any.
        let data = (value & DATA_MASK) as u16;
        match value & ACTION_MASK {
            RET_ALLOW => Action::Allow,
            RET_ERRNO => Action::Errno(data),
            RET_KILL_THREAD => Action::KillThread,
            RET_TRAP => Action::Trap,
            RET_LOG => Action::Log,
            RET_TRACE => Action::Trace(data),
            _ => Action::KillProcess,
        }
    }
}

/// The short names `disassemble` prints, as seccomp-tools does:
/// `ALLOW`, `ERRNO(1)`, `KILL_PROCESS`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Allow => f.write_str("ALLOW"),
            Action::Errno(errno) => write!(f, "ERRNO({errno})"),
            Action::KillThread => f.write_str("KILL_THREAD"),
            Action::KillProcess => f.write_str("KILL_PROCESS"),
            Action::Trap => f.write_str("TRAP"),
            Action::Log => f.write_str("LOG"),
            Action::Trace(message) => write!(f, "TRACE({message})"),
        }
    }
}

/// The action names a profile may use, in the order error messages list them.
pub(crate) const ACTION_NAMES: &str = "SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, \
     SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG, SCMP_ACT_TRACE";

/// The action a profile names, before its errno is known. `errno` is the
/// entry's `errnoRet`, or the profile's `defaultErrnoRet`, or EPERM; a
/// tracer's message is the entry's `errnoRet` too (runc reads it so), or 0.
pub(crate) fn parse_action(name: &str, errno: Option<u16>) -> Option<Action> {
    Some(match name {
        "SCMP_ACT_ALLOW" => Action::Allow,
        // EPERM is 1 on every Linux architecture.
        "SCMP_ACT_ERRNO" => Action::Errno(errno.unwrap_or(1)),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap,
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_TRACE" => Action::Trace(errno.unwrap_or(0)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_return_value() {
        let all = [
            Action::Allow,
            Action::Errno(1),
            Action::Errno(38),
            Action::KillThread,
            Action::KillProcess,
            Action::Trap,
            Action::Log,
            Action::Trace(7),
        ];
        for action in all {
            assert_eq!(Action::from_ret(action.ret()), action, "{action}");
        }
    }

    #[test]
    fn return_values_are_the_kernels() {
        assert_eq!(Action::Allow.ret(), libc::SECCOMP_RET_ALLOW);
        assert_eq!(Action::Errno(38).ret(), libc::SECCOMP_RET_ERRNO | 38);
        assert_eq!(Action::KillThread.ret(), libc::SECCOMP_RET_KILL_THREAD);
        assert_eq!(Action::KillProcess.ret(), libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(Action::Trap.ret(), libc::SECCOMP_RET_TRAP);
        assert_eq!(Action::Log.ret(), libc::SECCOMP_RET_LOG);
        assert_eq!(Action::Trace(2).ret(), libc::SECCOMP_RET_TRACE | 2);
    }

    #[test]
    fn an_unknown_action_is_the_most_severe() {
        assert_eq!(Action::from_ret(0x7fc0_0000), Action::KillProcess);
    }
}
