//! The runtime and the container's first process talk over a socket pair
//! while the container is being created. Each message is one datagram of
//! text, so that a learner can follow a create with `strace -e sendto`:
//!
//! ```text
//! runtime                          container side
//! ───────                          ──────────────
//! (puts it in its cgroup)
//! "go"                        ──►
//!                             ◄──  "userns"      (a new user namespace: write my maps)
//! (writes uid_map, gid_map)
//! "mapped"                    ──►
//!                             ◄──  "pid 4242"    (the container's process, as the host numbers it)
//!                                  (from stage one: the next message may overtake it)
//!                             ◄──  "hooks"       (mounts made: run prestart and createRuntime)
//! "hooked"                    ──►
//!                             ◄──  "created"     (waiting on exec.fifo for `start`)
//!                             ◄──  "error TEXT"  (instead, at any point)
//! ```

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};

/// One end of the pair.
#[derive(Debug)]
pub struct Channel(OwnedFd);

impl Channel {
    /// A connected pair, closed on exec.
    pub fn pair() -> nix::Result<(Channel, Channel)> {
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        Ok((Channel(a), Channel(b)))
    }

    /// Send one message.
    pub fn send(&self, message: &str) -> nix::Result<()> {
        send(
            self.0.as_raw_fd(),
            message.as_bytes(),
            MsgFlags::MSG_NOSIGNAL,
        )
        .map(|_| ())
    }

    /// Receive one message; `None` when the other end is closed.
    pub fn recv(&self) -> Option<String> {
        let mut buffer = [0u8; 4096];
        loop {
            match recv(self.0.as_raw_fd(), &mut buffer, MsgFlags::empty()) {
                Ok(0) => return None,
                Ok(n) => return Some(String::from_utf8_lossy(&buffer[..n]).into_owned()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Wait for exactly `expected`; anything else is an error, with the
    /// other side's own message when it sent one.
    pub fn expect(&self, expected: &str) -> Result<(), String> {
        match self.recv() {
            Some(message) if message == expected => Ok(()),
            Some(message) => Err(message
                .strip_prefix("error ")
                .map(str::to_string)
                .unwrap_or_else(|| format!("expected {expected:?}, got {message:?}"))),
            None => Err(format!("the other side ended before {expected:?}")),
        }
    }

    /// Report a failure to the other side.
    pub fn error(&self, message: &str) {
        let _ = self.send(&format!("error {message}"));
    }
}
