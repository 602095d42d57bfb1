//! Chapter 9: `--network slirp4netns`, a network without root.
//!
//! A bridge, its veth pairs and the firewall rules are made in the host's
//! network namespace, which only the host's root may change. slirp4netns
//! needs none of that: it opens a `tap0` device inside the container's
//! network namespace and answers the packets that come out of it with its
//! own small TCP/IP stack (the one QEMU's user networking uses), making
//! ordinary sockets on the host for each connection. So the container
//! reaches out as the user who started it, and `10.0.2.2` inside is the
//! host's loopback.
//!
//! ```text
//! container netns                       host
//! tap0 10.0.2.100/24 ── slirp4netns ──► connect(), as the user
//! gateway 10.0.2.2 = host's 127.0.0.1
//! DNS 10.0.2.3     = host's resolver
//! ```

use std::io::Read;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::process::{Command, Stdio};

use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::unistd::{pipe2, Pid};

/// The container's address on `tap0`.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);
/// Where slirp4netns answers DNS.
pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);

/// Start slirp4netns for the container whose first process is `pid`, and
/// return once `tap0` is up with its address and route. It runs until
/// this process (the container's supervisor, then the pump it becomes)
/// exits: it holds the read end of a pipe whose write end only we have.
pub fn connect(pid: Pid) -> Result<(), String> {
    let pipe = |what| pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("slirp4netns: {what} pipe: {e}"));
    let (ready_read, ready_write) = pipe("a ready")?;
    let (exit_read, exit_write) = pipe("an exit")?;
    // slirp4netns gets the ready pipe's write end and the exit pipe's
    // read end as fds 3 and 4.
    let child_fds = [ready_write.as_raw_fd(), exit_read.as_raw_fd()];
    // ANCHOR: connect
    let mut command = Command::new("slirp4netns");
    command
        .args(["--configure", "--mtu=65520", "--ready-fd=3", "--exit-fd=4"])
        .arg(pid.to_string())
        .arg("tap0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // Nobody would read it after the start: a full pipe would stop it.
        .stderr(Stdio::null());
    // ANCHOR_END: connect
    // SAFETY: the closure only calls dup2(2), which is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
            for (fd, target) in child_fds.into_iter().zip(3..) {
                if libc::dup2(fd, target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        })
    };
    let mut child = command.spawn().map_err(|e| {
        format!("cannot start slirp4netns: {e}: install it (`sudo apt install slirp4netns`), or use --network none")
    })?;
    drop((ready_write, exit_read));
    // "1" once tap0 is configured; end-of-file if it gave up.
    let mut ready = std::fs::File::from(ready_read);
    let mut byte = [0u8; 1];
    if !matches!(ready.read(&mut byte), Ok(1)) {
        let _ = child.kill();
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(format!(
            "slirp4netns could not connect the container ({status}): try --network none"
        ));
    }
    // Kept open, and across the supervisor's exec of the pump, for as long
    // as this process lives: then slirp4netns reads end-of-file and exits.
    let exit_write: OwnedFd = exit_write;
    let _ = fcntl(exit_write.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty()));
    let _ = exit_write.into_raw_fd();
    // Reaped by whoever waits for our children; it is not ours to wait for.
    drop(child);
    Ok(())
}
