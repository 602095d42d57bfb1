//! Waiting for a child while passing signals on to it.
//!
//! Both the program outside the container and the tiny init inside it do
//! the same job: wait until one process ends, and meanwhile hand any
//! termination signal they receive down to it. They block the signals and
//! take them one at a time with sigwaitinfo(2) rather than installing
//! handlers: no async-signal-safety puzzles, and SIGCHLD becomes just
//! another event in the loop.

use nix::errno::Errno;
use nix::sys::signal::{kill, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::exit::exit_code;

/// The signals the outer program forwards into the container.
pub fn forwarded_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ] {
        set.add(signal);
    }
    set
}

/// Block `set` for the calling thread, so its signals wait for sigwaitinfo.
/// Call it *before* fork or clone: a child that dies at once then still
/// leaves its SIGCHLD pending for us.
pub fn block(set: &SigSet) -> Result<(), Errno> {
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(set), None)
}

/// Undo every block; the command must start with a clean signal mask, since
/// the mask survives execve(2).
pub fn unblock_all() -> Result<(), Errno> {
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
}

// ANCHOR: supervise
/// Wait for `child` to end and return its exit code, forwarding every
/// signal in `set` (which must be blocked) except SIGCHLD. Any other child
/// that ends meanwhile is reaped too: inside a PID namespace that is init's
/// duty, since orphans are re-parented to it.
///
/// Signals the kernel raised itself (si_code SI_KERNEL, e.g. Ctrl-C on a
/// terminal) are not forwarded: the terminal already sent them to every
/// process in the foreground group, the container's included.
pub fn supervise(child: Pid, set: &SigSet) -> Result<i32, Errno> {
    loop {
        let (signo, code) = wait_for_signal(set)?;
        if signo == libc::SIGCHLD {
            // One SIGCHLD may stand for several children: reap them all.
            loop {
                match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
                    Ok(status) if status.pid() == Some(child) => {
                        if let Some(code) = exit_code(status) {
                            return Ok(code);
                        }
                    }
                    Ok(_) => {}
                    Err(errno) => return Err(errno),
                }
            }
        } else if code != libc::SI_KERNEL {
            if let Ok(signal) = Signal::try_from(signo) {
                // The child may be gone already; its SIGCHLD comes next.
                let _ = kill(child, signal);
            }
        }
    }
}
// ANCHOR_END: supervise

/// sigwaitinfo(2): the next pending signal in `set`, with its si_code.
fn wait_for_signal(set: &SigSet) -> Result<(i32, i32), Errno> {
    loop {
        // SAFETY: siginfo_t is plain data, valid when zeroed; `set` is a
        // valid sigset_t and `info` outlives the call.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: see above; sigwaitinfo only writes into `info`.
        let signo = unsafe { libc::sigwaitinfo(set.as_ref(), &mut info) };
        match Errno::result(signo) {
            Ok(signo) => return Ok((signo, info.si_code)),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
        }
    }
}
/// Reap every child that has ended, without waiting: each one's pid and
/// exit code. For loops that learn of endings from SIGCHLD, which says
/// that *some* child ended, maybe several.
pub fn reap_ended() -> Vec<(Pid, i32)> {
    let mut ended = Vec::new();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return ended,
            Ok(status) => {
                if let (Some(pid), Some(code)) = (status.pid(), exit_code(status)) {
                    ended.push((pid, code));
                }
            }
        }
    }
}
