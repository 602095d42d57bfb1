//! How a child tells its parent what went wrong before exec.
//!
//! Once forked, the child cannot return an error to anyone: it is a
//! separate process. So the parent opens a pipe with O_CLOEXEC before
//! forking. If the child fails, it writes one line, `CODE MESSAGE`, and
//! exits. If it succeeds, execve(2) closes its end. Either way the parent
//! reads until end-of-file: nothing read means the command is running.

use std::os::fd::{AsFd, OwnedFd};

use nix::unistd::{read, write};

/// What a child reported before it could exec its command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildReport {
    /// The exit code to use: 127 not found, 126 not executable, 125 setup.
    pub code: i32,
    /// One line for the user.
    pub message: String,
}

/// Exit code for a failure to prepare the container, as docker uses.
pub const SETUP_FAILED: i32 = 125;
/// Exit code when the command exists but cannot be run.
pub const NOT_EXECUTABLE: i32 = 126;
/// Exit code when the command does not exist.
pub const NOT_FOUND: i32 = 127;

// ANCHOR: send
/// Child side: write the report. Errors are ignored, since the child is about
/// to exit and its exit code still says something went wrong.
pub fn send(fd: impl AsFd, code: i32, message: &str) {
    let line = format!("{code} {message}");
    let mut bytes = line.as_bytes();
    while !bytes.is_empty() {
        match write(fd.as_fd(), bytes) {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes = &bytes[n..],
        }
    }
}

// ANCHOR_END: send

// ANCHOR: receive
/// Parent side: read until every writer has exec'd or exited.
pub fn receive(fd: OwnedFd) -> Option<ChildReport> {
    let mut text = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match read(std::os::fd::AsRawFd::as_raw_fd(&fd), &mut buf) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    if text.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&text);
    let (code, message) = text.split_once(' ').unwrap_or(("125", &text));
    Some(ChildReport {
        code: code.parse().unwrap_or(SETUP_FAILED),
        message: message.trim_end().to_string(),
    })
}
// ANCHOR_END: receive
