//! Chapter 6: a foreground run's loop, the pump's work done in the
//! program itself (`run` without `-d`, `start -a`): the output goes to
//! the log and to our own stdout and stderr, our keys to the container's
//! terminal, our signals to its init.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::waitpid;
use nix::unistd::{read, Pid};

use cratebox_sandbox::exit::exit_code;
use cratebox_sandbox::supervise::{block, reap_ended};
use cratebox_sandbox::terminal::{copy_window_size, relay_signals, write_all};
use cratebox_sandbox::Started;

use crate::engine::Engine;
use crate::logs::{LogWriter, Stream};
use crate::supervisor::{Echo, HEALTH};

/// The command that runs one health check of container `id`.
pub fn health_command(engine: &Engine, id: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap_or_else(|_| "cratebox".into()));
    command
        .arg(HEALTH)
        .arg(id)
        .env("CRATEBOX_ROOT", engine.state_root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

// ANCHOR: pump
/// The loop of a foreground run (the pump's, in this program): copy the
/// container's output into its log and to our own stdout and stderr, our
/// keys to its terminal, signals we get on to its init; start its health
/// checks; return its exit code once it has ended and its output is read.
pub fn pump(
    container: &Started,
    outputs: Vec<(OwnedFd, Stream)>,
    input: Option<&OwnedFd>,
    mut health: Option<HealthTimer>,
    log: &mut LogWriter,
    echo: Echo,
) -> i32 {
    let init = container.pid();
    // The signals are blocked (spawn did that before clone; SIGWINCH, a
    // resized terminal, here): a signalfd turns them into something
    // poll(2) can wait for beside the pipes.
    let set = relay_signals(container.signals());
    if block(&set).is_err() {
        return container_wait(container);
    }
    let signals = match SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC) {
        Ok(fd) => fd,
        Err(_) => return container_wait(container),
    };
    let mut streams: Vec<(Option<OwnedFd>, Stream)> = outputs
        .into_iter()
        .map(|(fd, stream)| (Some(fd), stream))
        .collect();
    let stdin = std::io::stdin();
    let mut typing = input.is_some();
    let mut code = None;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let open: Vec<usize> = (0..streams.len())
            .filter(|&i| streams[i].0.is_some())
            .collect();
        if code.is_some() && open.is_empty() {
            break;
        }
        let mut fds: Vec<PollFd> = open
            .iter()
            .filter_map(|&i| streams[i].0.as_ref())
            .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        fds.push(PollFd::new(signals.as_fd(), PollFlags::POLLIN));
        let typing_now = typing && code.is_none();
        if typing_now {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        // Once init is gone, whatever is left in the pipes is there
        // already: wait a little for it, never for ever.
        let timeout = match (code, health.as_ref().and_then(HealthTimer::due)) {
            (Some(_), _) => PollTimeout::from(200u16),
            (None, None) => PollTimeout::NONE,
            (None, Some(due)) => {
                let left = due.saturating_duration_since(Instant::now());
                PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
            }
        };
        match poll(&mut fds, timeout) {
            Ok(0) if code.is_some() => break,
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        for (slot, &i) in open.iter().enumerate() {
            if !ready[slot] {
                continue;
            }
            let stream = streams[i].1;
            let Some(fd) = streams[i].0.as_ref() else {
                continue;
            };
            match read(fd.as_raw_fd(), &mut buffer) {
                Ok(0) | Err(_) => {
                    let _ = log.finish(stream);
                    streams[i].0 = None;
                }
                Ok(n) => {
                    let _ = log.write(stream, &buffer[..n]);
                    if echo == Echo::Terminal {
                        copy_out(stream, &buffer[..n]);
                    }
                }
            }
        }
        // ANCHOR: pump_signals
        if ready[open.len()] {
            if let Ok(Some(info)) = signals.read_signal() {
                let signo = info.ssi_signo as i32;
                if signo == libc::SIGCHLD {
                    for (pid, ended) in reap_ended() {
                        if pid == init {
                            code = Some(ended);
                        } else if let Some(health) = health.as_mut() {
                            health.ended(pid);
                        }
                    }
                } else if signo == libc::SIGWINCH {
                    if let Some(master) = input {
                        copy_window_size(stdin.as_fd(), master.as_fd());
                    }
                } else if info.ssi_code != libc::SI_KERNEL {
                    // Ours to pass on; a terminal's Ctrl-C (SI_KERNEL)
                    // already reached the container's processes.
                    if let Ok(signal) = Signal::try_from(signo) {
                        let _ = kill(init, signal);
                    }
                }
            }
        }
        // ANCHOR_END: pump_signals
        if let (Some(health), None) = (health.as_mut(), code) {
            health.tick();
        }
        if typing_now && ready.get(open.len() + 1) == Some(&true) {
            match (read(stdin.as_raw_fd(), &mut buffer), input) {
                (Ok(n), Some(master)) if n > 0 => write_all(master.as_fd(), &buffer[..n]),
                _ => typing = false,
            }
        }
    }
    for (fd, stream) in &mut streams {
        if fd.take().is_some() {
            let _ = log.finish(*stream);
        }
    }
    if let Some(check) = health.and_then(|h| h.check) {
        // A check still under way ends with its container.
        let _ = kill(check, Signal::SIGKILL);
        let _ = waitpid(check, None);
    }
    match code {
        Some(code) => code,
        None => container_wait(container),
    }
}
// ANCHOR_END: pump

/// The health checks of a foreground run: every `every`, one `cratebox
/// __health ID` (the pump does the same for a detached one).
#[derive(Debug)]
pub struct HealthTimer {
    every: Duration,
    next: Instant,
    check: Option<Pid>,
    command: Command,
}

impl HealthTimer {
    /// Checks every `every`, each one run by `command`.
    pub fn new(every: Duration, command: Command) -> HealthTimer {
        HealthTimer {
            every,
            next: Instant::now() + every,
            check: None,
            command,
        }
    }

    /// When the next check is due (none while one runs).
    fn due(&self) -> Option<Instant> {
        self.check.is_none().then_some(self.next)
    }

    /// Start a check when one is due.
    fn tick(&mut self) {
        if self.check.is_some() || Instant::now() < self.next {
            return;
        }
        match self.command.spawn() {
            Ok(child) => self.check = i32::try_from(child.id()).ok().map(Pid::from_raw),
            Err(_) => self.next = Instant::now() + self.every,
        }
    }

    /// A child ended: if it was the check, the next is due an interval on.
    fn ended(&mut self, pid: Pid) {
        if self.check == Some(pid) {
            self.check = None;
            self.next = Instant::now() + self.every;
        }
    }
}

/// Wait for init the plain way (when the loop could not be set up).
fn container_wait(container: &Started) -> i32 {
    loop {
        match waitpid(container.pid(), None) {
            Ok(status) => {
                if let Some(code) = exit_code(status) {
                    return code;
                }
            }
            Err(Errno::EINTR) => continue,
            Err(_) => return -1,
        }
    }
}

/// Copy output to our own stdout or stderr; a reader that went away
/// (`run ... | head`) only stops the copy, not the container.
fn copy_out(stream: Stream, data: &[u8]) {
    let _ = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(data).and_then(|()| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(data),
    };
}
