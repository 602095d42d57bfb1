//! Chapter 6: `attach`, a terminal joining a detached container later.
//!
//! A detached container's supervisor makes a Unix socket beside the
//! record, `containers/<id>/attach.sock`, and its pump (crates/pump)
//! listens on it. `attach` connects to it: the pump sends it whatever the
//! container prints from then on, and takes what it sends, in small
//! frames (the pump's `frames` module reads them):
//!
//! ```text
//! client → pump   b'd' LEN(u16) BYTES       keys, for the container's terminal
//!                 b'w' ROWS(u16) COLS(u16)  the client's window size
//! pump → client   the container's output, as it comes
//! ```
//!
//! Ctrl-P Ctrl-Q detaches: the client stops, the container goes on. When
//! the container ends, the pump closes the socket, and `attach`
//! ends with the container's exit code.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use cratebox_sandbox::terminal::write_all;

pub use cratebox_pump::frames::{DATA, WINDOW};

/// Ctrl-P then Ctrl-Q: detach, as in docker.
pub const DETACH_KEYS: [u8; 2] = [0x10, 0x11];

// ANCHOR: frames
/// One frame of keys.
pub fn data_frame(keys: &[u8]) -> Vec<u8> {
    let keys = &keys[..keys.len().min(u16::MAX as usize)];
    let mut frame = vec![DATA];
    frame.extend_from_slice(&(keys.len() as u16).to_be_bytes());
    frame.extend_from_slice(keys);
    frame
}

/// One frame with a window size.
pub fn window_frame(rows: u16, cols: u16) -> Vec<u8> {
    let mut frame = vec![WINDOW];
    frame.extend_from_slice(&rows.to_be_bytes());
    frame.extend_from_slice(&cols.to_be_bytes());
    frame
}
// ANCHOR_END: frames

/// Where a container's attach socket is.
pub fn socket_path(container_dir: &Path) -> PathBuf {
    container_dir.join("attach.sock")
}

// ANCHOR: short_path
/// Run `with` on a short name for `path`. A socket's path must fit in 108
/// bytes, and a state root in a temp dir plus a 64-digit id does not: so
/// the directory is opened and named through `/proc/self/fd/N/`, which
/// the kernel resolves to it (conmon does the same).
fn through_short_path<T>(path: &Path, with: impl FnOnce(&Path) -> io::Result<T>) -> io::Result<T> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return with(path);
    };
    let dir = std::fs::File::open(dir)?;
    let short = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&dir)
    ))
    .join(name);
    let result = with(&short);
    drop(dir);
    result
}
// ANCHOR_END: short_path

/// Listen at `path` (a leftover socket from a crash is replaced), not
/// blocking: the pump accepts whoever is waiting, then goes back to its
/// loop.
pub fn listen(path: &Path) -> io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    let listener = through_short_path(path, |short| UnixListener::bind(short))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// How an `attach` session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Ctrl-P Ctrl-Q: the container runs on.
    Detached,
    /// The container ended (the supervisor closed the socket).
    Closed,
}

// ANCHOR: client
/// The client's side: our terminal (raw, when it is one) joined to the
/// container's through the socket at `path`, until Ctrl-P Ctrl-Q or the
/// end of the container.
pub fn attach_client(path: &Path) -> io::Result<Ending> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use nix::sys::signal::{SigSet, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};

    let mut socket = through_short_path(path, |short| UnixStream::connect(short))?;
    let _raw = cratebox_sandbox::terminal::RawMode::enter();
    let stdin = io::stdin();
    let send_size = |socket: &mut UnixStream| {
        if let Some(size) = cratebox_sandbox::terminal::window_size(stdin.as_fd()) {
            let _ = socket.write_all(&window_frame(size.ws_row, size.ws_col));
        }
    };
    send_size(&mut socket);
    let mut winch = SigSet::empty();
    winch.add(Signal::SIGWINCH);
    winch.thread_block().map_err(io::Error::from)?;
    let signals = SignalFd::with_flags(&winch, SfdFlags::SFD_CLOEXEC).map_err(io::Error::from)?;
    let mut stdin_open = true;
    let mut held = false;
    let mut buffer = [0u8; 4096];
    loop {
        let mut fds = vec![
            PollFd::new(socket.as_fd(), PollFlags::POLLIN),
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if ready[0] {
            match socket.read(&mut buffer) {
                Ok(0) | Err(_) => return Ok(Ending::Closed),
                Ok(n) => write_all(io::stdout().as_fd(), &buffer[..n]),
            }
        }
        if ready[1] && signals.read_signal().is_ok() {
            send_size(&mut socket);
        }
        if stdin_open && ready.get(2) == Some(&true) {
            let n = nix::unistd::read(std::os::fd::AsRawFd::as_raw_fd(&stdin), &mut buffer)
                .unwrap_or(0);
            if n == 0 {
                stdin_open = false;
                continue;
            }
            // Ctrl-P is held back until the next key says whether it
            // starts the detach sequence.
            let mut keys = Vec::with_capacity(n + 1);
            for &byte in &buffer[..n] {
                match (held, byte) {
                    (true, b) if b == DETACH_KEYS[1] => return Ok(Ending::Detached),
                    (true, b) if b == DETACH_KEYS[0] => keys.push(b),
                    (true, b) => {
                        keys.extend([DETACH_KEYS[0], b]);
                        held = false;
                    }
                    (false, b) if b == DETACH_KEYS[0] => held = true,
                    (false, b) => keys.push(b),
                }
            }
            if !keys.is_empty() && socket.write_all(&data_frame(&keys)).is_err() {
                return Ok(Ending::Closed);
            }
        }
    }
}
// ANCHOR_END: client

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_being_cut_anywhere() {
        use cratebox_pump::frames::{Event, FrameReader};
        let mut stream = data_frame(b"ls -l\r");
        stream.extend(window_frame(40, 123));
        stream.extend(data_frame(b"exit\r"));
        for cut in 0..stream.len() {
            let mut reader = FrameReader::default();
            let (mut keys, mut windows) = (Vec::new(), Vec::new());
            for part in [&stream[..cut], &stream[cut..]] {
                let fed = reader.feed(part, &mut |event| match event {
                    Event::Keys(bytes) => keys.extend_from_slice(bytes),
                    Event::Window(rows, cols) => windows.push((rows, cols)),
                });
                assert!(fed.is_ok(), "cut at {cut}");
            }
            assert_eq!(keys, b"ls -l\rexit\r", "cut at {cut}");
            assert_eq!(windows, [(40, 123)], "cut at {cut}");
        }
    }
}
