//! Chapter 6: a terminal for the container (`-t`).
//!
//! A shell, an editor, `top`: programs that talk to a person want a
//! terminal, not pipes. Without one a shell prints no prompt, `stty size`
//! fails and Ctrl-C kills the program outside instead of the one inside.
//! A pseudo-terminal is a pair of file descriptors: the container gets the
//! *slave* end as its stdin, stdout and stderr (and as its controlling
//! terminal), and the supervisor keeps the *master* end, where it reads
//! what the container prints and writes what the user types.
//!
//! ```text
//! your terminal (raw) ◄──► supervisor ◄──► master ═ slave ◄──► shell in the container
//!   keys, Ctrl-C as a byte                    line discipline: echo, ^C → SIGINT
//! ```
//!
//! Your own terminal is put in raw mode meanwhile: every key goes through
//! as a byte, and the container's terminal does the echoing, line editing
//! and turning Ctrl-C into SIGINT, for the container's own programs.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use nix::sys::wait::waitpid;
use nix::unistd::{isatty, read, write, Pid};

use crate::exit::exit_code;

nix::ioctl_read_bad!(get_window_size, libc::TIOCGWINSZ, Winsize);
nix::ioctl_write_ptr_bad!(set_window_size_raw, libc::TIOCSWINSZ, Winsize);

/// Both ends of a new pseudo-terminal.
#[derive(Debug)]
pub struct Pty {
    /// The supervisor's end.
    pub master: OwnedFd,
    /// The container's end: its stdin, stdout and stderr.
    pub slave: OwnedFd,
}

/// Open a pseudo-terminal, as large as `like` (our own terminal) when it
/// is one.
pub fn open_pty(like: Option<BorrowedFd<'_>>) -> Result<Pty, Errno> {
    let size = like.and_then(window_size);
    let pty = openpty(size.as_ref(), None)?;
    Ok(Pty {
        master: pty.master,
        slave: pty.slave,
    })
}

/// A terminal's size, if `fd` is a terminal.
pub fn window_size(fd: BorrowedFd<'_>) -> Option<Winsize> {
    let mut size = Winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one Winsize into `size`, which outlives
    // the call.
    unsafe { get_window_size(fd.as_raw_fd(), &mut size) }.ok()?;
    Some(size)
}

/// Set a terminal's size.
pub fn set_window_size(fd: BorrowedFd<'_>, size: &Winsize) {
    // SAFETY: TIOCSWINSZ reads one Winsize from `size`.
    let _ = unsafe { set_window_size_raw(fd.as_raw_fd(), size) };
}

/// Give `to` the size of `from` (SIGWINCH: the user resized the window).
pub fn copy_window_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    if let Some(size) = window_size(from) {
        // SAFETY: TIOCSWINSZ reads one Winsize from `size`.
        let _ = unsafe { set_window_size_raw(to.as_raw_fd(), &size) };
    }
}

/// Our terminal in raw mode until dropped, when its settings come back.
#[derive(Debug)]
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Put stdin, if it is a terminal, in raw mode.
    pub fn enter() -> Option<RawMode> {
        let stdin = std::io::stdin();
        if !isatty(stdin.as_raw_fd()).unwrap_or(false) {
            return None;
        }
        let saved = tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}

/// The signals a terminal relay takes through its signalfd: those
/// forwarded to the container, and SIGWINCH.
pub fn relay_signals(forwarded: &SigSet) -> SigSet {
    let mut set = *forwarded;
    set.add(Signal::SIGWINCH);
    set
}

// ANCHOR: relay
/// Copy between our terminal and `master` until `child` has ended and its
/// output is read: our keys in, its output out; a resized window resized
/// inside too. `signals` (see [`relay_signals`]) must be blocked. Returns
/// the child's exit code.
pub fn relay(master: &OwnedFd, child: Pid, signals: &SigSet) -> Result<i32, Errno> {
    let signal_fd = SignalFd::with_flags(signals, SfdFlags::SFD_CLOEXEC)?;
    let stdin = std::io::stdin();
    let mut stdin_open = true;
    let mut master_open = true;
    let mut code = None;
    let mut buffer = [0u8; 16 * 1024];
    while master_open || code.is_none() {
        let mut fds = vec![PollFd::new(signal_fd.as_fd(), PollFlags::POLLIN)];
        if master_open {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open && code.is_none() {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        // After the child ended, what it printed is in the master already.
        let timeout = match code {
            None => PollTimeout::NONE,
            Some(_) => PollTimeout::from(100u16),
        };
        match poll(&mut fds, timeout) {
            Ok(0) => break,
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        // ANCHOR: relay_copy
        if ready[0] {
            if let Ok(Some(info)) = signal_fd.read_signal() {
                match info.ssi_signo as i32 {
                    libc::SIGCHLD => {
                        if let Some(ended) = reap(child) {
                            code = Some(ended);
                        }
                    }
                    libc::SIGWINCH => copy_window_size(stdin.as_fd(), master.as_fd()),
                    signo => {
                        if let Ok(signal) = Signal::try_from(signo) {
                            let _ = kill(child, signal);
                        }
                    }
                }
            }
        }
        let mut slot = 1;
        if master_open {
            if ready[slot] {
                match read(master.as_raw_fd(), &mut buffer) {
                    // EIO: every copy of the slave is closed.
                    Ok(0) | Err(_) => master_open = false,
                    Ok(n) => write_all(std::io::stdout().as_fd(), &buffer[..n]),
                }
            }
            slot += 1;
        }
        if stdin_open && code.is_none() && ready.get(slot) == Some(&true) {
            match read(stdin.as_raw_fd(), &mut buffer) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => write_all(master.as_fd(), &buffer[..n]),
            }
        }
        // ANCHOR_END: relay_copy
    }
    match code {
        Some(code) => Ok(code),
        None => loop {
            match waitpid(child, None) {
                Ok(status) => {
                    if let Some(code) = exit_code(status) {
                        return Ok(code);
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno),
            }
        },
    }
}
// ANCHOR_END: relay

/// Reap what ended; `child`'s exit code if it did.
fn reap(child: Pid) -> Option<i32> {
    let ended = crate::supervise::reap_ended();
    ended
        .into_iter()
        .find(|&(pid, _)| pid == child)
        .map(|(_, code)| code)
}

/// Write all of `data`, giving up on an error (a reader gone).
pub fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) {
    while !data.is_empty() {
        match write(fd, data) {
            Ok(0) | Err(_) => return,
            Ok(n) => data = &data[n..],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pty_takes_the_size_it_is_given() {
        let first = open_pty(None).expect("a pty");
        let size = Winsize {
            ws_row: 33,
            ws_col: 111,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one Winsize.
        unsafe { set_window_size_raw(first.master.as_raw_fd(), &size) }.expect("resizable");
        let second = open_pty(Some(first.slave.as_fd())).expect("a pty");
        let got = window_size(second.slave.as_fd()).expect("a terminal");
        assert_eq!((got.ws_row, got.ws_col), (33, 111));
        // Bytes written to the master come out of the slave.
        write_all(first.master.as_fd(), b"hi\n");
        let mut buffer = [0u8; 16];
        let n = read(first.slave.as_raw_fd(), &mut buffer).expect("readable");
        assert_eq!(&buffer[..n], b"hi\n");
    }
}
