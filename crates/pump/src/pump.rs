//! The pump's loop: one `ppoll` over everything a detached container has.

use crate::args::{Args, Command};
use crate::frames::{Event, FrameReader};
use crate::log::{encode, rfc3339, Splitter, TIME_LEN};
use crate::sys::{self, PollFd, Timespec, POLLIN};

/// The signals the pump takes through its signalfd: SIGCHLD (the init or
/// a health check ended) and those it passes on to the container's init.
const SIGNALS: [i32; 7] = [
    17, // SIGCHLD
    1,  // SIGHUP
    2,  // SIGINT
    3,  // SIGQUIT
    10, // SIGUSR1
    12, // SIGUSR2
    15, // SIGTERM
];
const SIGCHLD: i32 = 17;
/// How many `attach` clients may be attached at once.
const CLIENTS: usize = 4;
/// How long to wait for output still in the pipes once the init ended.
const DRAIN: Timespec = Timespec {
    sec: 0,
    nsec: 200_000_000,
};

/// The log, with a buffer so that a burst of small lines is one write.
struct Log {
    fd: i32,
    buffer: [u8; 8192],
    len: usize,
}

impl Log {
    fn put(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > self.buffer.len() {
            self.flush();
        }
        if bytes.len() > self.buffer.len() {
            let _ = sys::write_all(self.fd, bytes);
            return;
        }
        self.buffer[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn flush(&mut self) {
        let _ = sys::write_all(self.fd, &self.buffer[..self.len]);
        self.len = 0;
    }

    /// Log `piece` of `stream`, stamped with the time now.
    fn line(&mut self, stream: &str, piece: &[u8]) {
        let now = sys::clock(sys::CLOCK_REALTIME);
        let time: [u8; TIME_LEN] = rfc3339(now.sec, now.nsec as u32);
        encode(stream, piece, &time, &mut |bytes| self.put(bytes));
    }
}

/// One of the container's outputs.
struct Output {
    fd: i32,
    name: &'static str,
    splitter: Splitter,
}

/// An attached client.
#[derive(Clone, Copy)]
struct Client {
    fd: i32,
    reader: FrameReader,
}

// ANCHOR: run
/// Pump until the container's init has ended and its output is read;
/// then exec `--then` with `--exited CODE` added. Never returns.
pub fn run(args: &Args, envp: *const *const u8) -> ! {
    sys::set_name(b"cratebox-pump\0\0\0");
    let mask = SIGNALS.iter().fold(0, |set, &s| set | sys::sig_bit(s));
    let signals = match sys::set_blocked(mask).and_then(|()| sys::signalfd(mask)) {
        Ok(fd) => fd,
        Err(_) => fail(b"cratebox-pump: cannot take signals through a signalfd\n"),
    };
    let mut outputs = [
        Output {
            fd: if args.terminal >= 0 {
                args.terminal
            } else {
                args.stdout
            },
            name: "stdout",
            splitter: Splitter::default(),
        },
        Output {
            fd: args.stderr,
            name: "stderr",
            splitter: Splitter::default(),
        },
    ];
    let mut log = Log {
        fd: args.log,
        buffer: [0; 8192],
        len: 0,
    };
    let mut clients = [Client {
        fd: -1,
        reader: FrameReader::default(),
    }; CLIENTS];
    let mut code: Option<i32> = None;
    let mut check: Option<i32> = None;
    let mut next_check = sys::clock(sys::CLOCK_MONOTONIC).nanos() + args.health;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if code.is_some() && outputs.iter().all(|o| o.fd < 0) {
            break;
        }
        // The array, in a fixed order: outputs, signals, listener, clients.
        let mut fds = [PollFd::default(); 4 + CLIENTS];
        for (slot, output) in fds.iter_mut().zip(&outputs) {
            *slot = watch(output.fd);
        }
        fds[2] = watch(signals);
        fds[3] = watch(args.attach);
        for (slot, client) in fds[4..].iter_mut().zip(&clients) {
            *slot = watch(client.fd);
        }
        let now = sys::clock(sys::CLOCK_MONOTONIC).nanos();
        let timeout = match code {
            Some(_) => Some(DRAIN),
            None if args.health > 0 && check.is_none() => {
                Some(Timespec::from_nanos(next_check.saturating_sub(now)))
            }
            None => None,
        };
        match sys::poll(&mut fds, timeout) {
            Ok(0) if code.is_some() => break,
            Ok(_) => {}
            Err(sys::EINTR) => continue,
            Err(_) => break,
        }
        for (i, output) in outputs.iter_mut().enumerate() {
            if fds[i].revents == 0 {
                continue;
            }
            match sys::read(output.fd, &mut buffer) {
                Ok(0) | Err(_) => {
                    let name = output.name;
                    output.splitter.finish(&mut |piece| log.line(name, piece));
                    sys::close(output.fd);
                    output.fd = -1;
                }
                Ok(n) => {
                    let name = output.name;
                    let data = &buffer[..n];
                    output
                        .splitter
                        .feed(data, &mut |piece| log.line(name, piece));
                    broadcast(&mut clients, data);
                }
            }
        }
        if fds[2].revents != 0 {
            let mut info = [0u8; 128];
            if sys::read(signals, &mut info) == Ok(info.len()) {
                let signo = i32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
                if signo == SIGCHLD {
                    while let Some(ended) = sys::reap_one() {
                        if ended.pid == args.init {
                            code = Some(ended.code);
                        } else if Some(ended.pid) == check {
                            check = None;
                            next_check = sys::clock(sys::CLOCK_MONOTONIC).nanos() + args.health;
                        }
                    }
                } else {
                    sys::kill(args.init, signo);
                }
            }
        }
        if fds[3].revents != 0 {
            accept(args.attach, &mut clients);
        }
        for (i, client) in clients.iter_mut().enumerate() {
            if fds[4 + i].revents != 0 && !serve(client, args, &mut buffer) {
                sys::close(client.fd);
                client.fd = -1;
            }
        }
        if code.is_none()
            && check.is_none()
            && args.health > 0
            && sys::clock(sys::CLOCK_MONOTONIC).nanos() >= next_check
        {
            check = start(&args.check, args, envp);
            if check.is_none() {
                next_check = sys::clock(sys::CLOCK_MONOTONIC).nanos() + args.health;
            }
        }
        log.flush();
    }
    for output in &mut outputs {
        if output.fd >= 0 {
            let name = output.name;
            output.splitter.finish(&mut |piece| log.line(name, piece));
        }
    }
    log.flush();
    if let Some(pid) = check {
        // A check still under way ends with its container.
        sys::kill(pid, 9);
        while sys::reap_one().is_some_and(|r| r.pid != pid) {}
    }
    // What we were handed is not for the program we become.
    close_all(args);
    for client in clients.iter().filter(|c| c.fd >= 0) {
        sys::close(client.fd);
    }
    then(&args.then, code.unwrap_or(-1), envp)
}
// ANCHOR_END: run

/// A poll entry for reading from `fd` (skipped when negative).
fn watch(fd: i32) -> PollFd {
    PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    }
}

/// Send output to every client; one that cannot take it is dropped.
fn broadcast(clients: &mut [Client], data: &[u8]) {
    for client in clients.iter_mut().filter(|c| c.fd >= 0) {
        if sys::write_all(client.fd, data).is_err() {
            sys::close(client.fd);
            client.fd = -1;
        }
    }
}

/// Take the clients waiting on the listener (which is non-blocking).
fn accept(listener: i32, clients: &mut [Client]) {
    while let Ok(fd) = sys::accept(listener) {
        match clients.iter_mut().find(|c| c.fd < 0) {
            Some(free) => {
                *free = Client {
                    fd,
                    reader: FrameReader::default(),
                }
            }
            None => sys::close(fd),
        }
    }
}

/// Read what a client sent and act on it; false once it is gone.
fn serve(client: &mut Client, args: &Args, buffer: &mut [u8]) -> bool {
    let n = match sys::read(client.fd, buffer) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    let terminal = args.terminal;
    // Keys go to the terminal, or else to the stdin pipe (-i alone).
    let keys_to = if terminal >= 0 { terminal } else { args.stdin };
    let keys = args.keys;
    client
        .reader
        .feed(&buffer[..n], &mut |event| match event {
            Event::Keys(bytes) if keys && keys_to >= 0 => {
                // The pipe does not block: what its reader leaves unread
                // past a pipe's worth is dropped, not waited for.
                let _ = sys::write_all(keys_to, bytes);
            }
            Event::Window(rows, cols) if terminal >= 0 => {
                sys::set_window_size(terminal, rows, cols);
            }
            _ => {}
        })
        .is_ok()
}

/// Close what the pump was handed.
fn close_all(args: &Args) {
    for fd in [
        args.log,
        args.stdout,
        args.stderr,
        args.terminal,
        args.attach,
    ] {
        if fd >= 0 {
            sys::close(fd);
        }
    }
}

/// Start a health check: `command` in a child, with our signals unblocked
/// and none of our descriptors. Its pid.
fn start(command: &Command, args: &Args, envp: *const *const u8) -> Option<i32> {
    match sys::fork() {
        Ok(0) => {
            close_all(args);
            let _ = sys::set_blocked(0);
            // SAFETY: the words came from the kernel's argument strings,
            // and the array ends with a null pointer.
            unsafe { sys::execve(command.words[0], command.words.as_ptr(), envp) };
            sys::exit(127)
        }
        Ok(pid) => Some(pid),
        Err(_) => None,
    }
}

/// Become `command --exited CODE`.
fn then(command: &Command, code: i32, envp: *const *const u8) -> ! {
    const EXITED: &[u8] = b"--exited\0";
    // The code in decimal, right-aligned, NUL-terminated.
    let mut number = [0u8; 12];
    let mut value = code.unsigned_abs();
    let mut start = number.len() - 1;
    loop {
        start -= 1;
        number[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    if code < 0 {
        start -= 1;
        number[start] = b'-';
    }
    let mut words = command.words;
    words[command.len] = EXITED.as_ptr();
    words[command.len + 1] = number[start..].as_ptr();
    words[command.len + 2] = core::ptr::null();
    let _ = sys::set_blocked(0);
    // SAFETY: as in `start`; our two words are NUL-terminated.
    unsafe { sys::execve(words[0], words.as_ptr(), envp) };
    fail(b"cratebox-pump: cannot run the supervisor again to record the exit\n")
}

/// Say why on stderr (the supervisor's log) and stop.
fn fail(message: &[u8]) -> ! {
    let _ = sys::write_all(2, message);
    sys::exit(125)
}
