//! Bringing up the loopback device of a new network namespace.
//!
//! A fresh network namespace has exactly one interface, `lo`, and it is
//! down: even 127.0.0.1 does not answer. `ip link set lo up` is one ioctl,
//! SIOCSIFFLAGS, on any socket; nix has no wrapper for it, so this is the
//! one place we call libc directly.

use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

/// Set IFF_UP on `lo` in the calling process's network namespace.
pub fn bring_up_loopback() -> Result<(), Errno> {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is a plain C struct of integers and byte arrays, for
    // which all-zero bytes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: the fd is a live socket; request is a valid ifreq naming "lo"
    // (NUL-terminated) that outlives the call, as SIOCGIFFLAGS expects.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) })?;
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe { request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above; SIOCSIFFLAGS reads the name and the flags.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &request) })?;
    Ok(())
}
