//! The terminal for `watch`: keys one at a time, without Enter and
//! without echo, read with a timeout so that the loop can also poll files;
//! the screen cleared with ANSI escapes. termios and two escapes do all a
//! terminal crate would here.
//!
//! Only canonical mode and echo are turned off: the terminal still turns
//! Ctrl-C into SIGINT (which also stops a running `cargo test`), and still
//! adds a carriage return to each newline, so ordinary printing works.

use std::io::{IsTerminal, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::termios::{self, LocalFlags, SetArg, SpecialCharacterIndices, Termios};

/// Set by the signal handler; see [`interrupted`].
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C (or SIGTERM, or SIGHUP) arrived since
/// [`Keys::setup`] installed the handler.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

extern "C" fn on_signal(_: nix::libc::c_int) {
    // An atomic store is all a signal handler may safely do here.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Keys from stdin when it is a terminal; restores the terminal as it was
/// when dropped, whichever way `watch` ends.
#[derive(Debug)]
pub struct Keys {
    /// The terminal's settings before ours, when stdin is a terminal.
    saved: Option<Termios>,
}

impl Keys {
    /// Catch Ctrl-C, SIGTERM and SIGHUP so that `watch` can end cleanly,
    /// and put stdin, if it is a terminal, in non-canonical mode without
    /// echo, where a read returns after a tenth of a second with or
    /// without a key.
    pub fn setup() -> Result<Keys> {
        let action = SigAction::new(
            SigHandler::Handler(on_signal),
            // No SA_RESTART: a read waiting for a key returns at once.
            SaFlags::empty(),
            SigSet::empty(),
        );
        for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
            // SAFETY: the handler only stores to an atomic, which is
            // async-signal-safe, and it is installed before any thread
            // could race with it (the runner has one thread).
            unsafe { sigaction(signal, &action) }.context("cannot catch signals")?;
        }
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Ok(Keys { saved: None });
        }
        let saved = termios::tcgetattr(stdin.as_fd()).context("cannot read the terminal's mode")?;
        let mut keys = saved.clone();
        keys.local_flags
            .remove(LocalFlags::ICANON | LocalFlags::ECHO);
        keys.control_chars[SpecialCharacterIndices::VMIN as usize] = 0;
        keys.control_chars[SpecialCharacterIndices::VTIME as usize] = 1;
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &keys)
            .context("cannot set the terminal's mode")?;
        Ok(Keys { saved: Some(saved) })
    }

    /// Whether keys can be read at all (stdin is a terminal).
    pub fn available(&self) -> bool {
        self.saved.is_some()
    }

    /// The next key, or `None` after about `wait` without one. Without a
    /// terminal, just waits.
    pub fn next(&self, wait: Duration) -> Result<Option<u8>> {
        if self.saved.is_none() {
            std::thread::sleep(wait);
            return Ok(None);
        }
        let stdin = std::io::stdin();
        let mut buffer = [0u8; 1];
        // Each read waits at most a tenth of a second (VTIME).
        let tries = (wait.as_millis() / 100).max(1);
        for _ in 0..tries {
            match nix::unistd::read(stdin.as_fd().as_raw_fd(), &mut buffer) {
                Ok(1) => return Ok(Some(buffer[0])),
                Ok(_) => {}
                Err(Errno::EINTR) => return Ok(None),
                Err(e) => return Err(e).context("cannot read a key"),
            }
            if interrupted() {
                break;
            }
        }
        Ok(None)
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}

/// Clear the screen and the scrollback when stdout is a terminal; a rule
/// between two screens when it is a file or a pipe.
pub fn clear_screen() {
    let mut stdout = std::io::stdout();
    if stdout.is_terminal() {
        // Home, erase the screen, erase the scrollback.
        let _ = write!(stdout, "\x1b[H\x1b[2J\x1b[3J");
    } else {
        let _ = writeln!(stdout, "\n{}", "─".repeat(72));
    }
    let _ = stdout.flush();
}
