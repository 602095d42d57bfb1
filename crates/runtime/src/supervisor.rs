//! Chapter 6: the supervisor, one process per running container.
//!
//! Until chapter 5, the program you typed waited for its container: when
//! it ended, so did the container. A container that lives on needs a
//! parent that lives on too, to hold its output, wait for it and write
//! down how it ended. docker has a daemon for that (and a shim per
//! container); podman has no daemon, and starts one small supervisor per
//! container, conmon. cratebox does as podman: `run -d` starts the same
//! program again in a hidden mode, as the container's supervisor, and
//! returns as soon as the container runs.
//!
//! ```text
//! cratebox run -d ──► supervisor (setsid, its own session)
//!      ▲  prints        │ pipes for stdout, stderr
//!      │  the id        │ start_limited (chapters 2–4) ──► init ──► command
//!      └── "ok" ────────┤ record: Running, pids, StartedAt
//!                       │ poll: pipes → <id>-json.log; signals → init
//!                       │ init ends: exit code, OOM, FinishedAt
//!                       ▼ --restart? run again : --rm? remove : exit
//! ```
//!
//! A foreground `run` does the same work in the program itself, and also
//! copies the output to its own stdout and stderr.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{pipe2, read, Pid};

use cratebox_sandbox::exit::exit_code;
use cratebox_sandbox::process::ProcessStamp;
use cratebox_sandbox::supervise::block;
use cratebox_sandbox::terminal::{copy_window_size, open_pty, relay_signals, write_all, RawMode};
use cratebox_sandbox::{ContainerCommand, Started, UserNamespace};

use crate::attach::{socket_path, Attachments};
use crate::containers::{now, Record, RestartPolicy, Spec, Status};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::health::{start_check, Check, Health, HealthConfig};
use crate::layered::{config_on_layers, Isolation};
use crate::logs::{LogWriter, Stream};
use crate::{explain, start_limited, RunOutcome};

/// Where the container's output goes besides its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Only the log: a detached container.
    LogOnly,
    /// Also our own stdout and stderr: a foreground `run` or `start -a`.
    Terminal,
}

/// What a supervisor tells the program that started it, once: the
/// container runs, or could not start (with its exit code and why).
pub type Ready = Result<(), (i32, String)>;

/// How the supervisor's last run ended.
#[derive(Debug, Clone)]
pub struct Ended {
    /// The exit code.
    pub code: i32,
    /// What to tell about it (OOM, pids limit), as chapter 3 does.
    pub notes: Vec<String>,
}

// ANCHOR: supervise
/// Supervise container `id` until it ends for good: run it, and again as
/// its `--restart` policy says; then remove it if it was made with `--rm`.
/// `ready` is called once, when the first run has started or failed to.
pub fn supervise(
    engine: &Engine,
    id: &str,
    echo: Echo,
    mut ready: impl FnMut(Ready),
) -> Result<Ended, EngineError> {
    let record = engine.containers.get(id)?;
    let spec = record
        .spec
        .clone()
        .ok_or_else(|| EngineError::NotStartable {
            container: record.name.clone(),
        })?;
    let lowers = engine.lowers_of(&record)?;
    let me = ProcessStamp::of(std::process::id());
    let mut ended;
    let mut delay = Duration::from_millis(100);
    loop {
        // Claim the container, unless a `stop` came first, or another
        // supervisor has it (two `start`s at once).
        let claimed = engine.containers.update(id, |r| {
            if r.state.stopping || (r.is_running() && r.state.supervisor != me) {
                return;
            }
            r.status = Status::Running {
                pid: std::process::id(),
            };
            r.state.supervisor = me.clone();
            r.state.error = None;
            r.state.health = None;
        })?;
        if !matches!(claimed.status, Status::Running { .. }) || claimed.state.supervisor != me {
            ended = Ended {
                code: exit_of(&claimed),
                notes: Vec::new(),
            };
            break;
        }
        let outcome = run_once(engine, &claimed, &spec, &lowers, echo, &mut ready);
        let (code, oom, error, notes) = match outcome {
            Ok(outcome) => (
                outcome.code,
                outcome.stats.oom_kills > 0,
                None,
                explain(&outcome, &spec.limits),
            ),
            Err(error) => (
                error.exit_code(),
                false,
                Some(error.to_string()),
                Vec::new(),
            ),
        };
        let started = error.is_none();
        let record = engine.containers.update(id, |r| {
            r.status = Status::Exited { code };
            r.state.init = None;
            r.state.finished_at = Some(now());
            r.state.oom_killed = oom;
            r.state.error = error.clone();
        })?;
        ended = Ended { code, notes };
        if !started || !restarts(&spec.restart, code, &record) {
            break;
        }
        engine
            .containers
            .update(id, |r| r.state.restart_count += 1)?;
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(10));
    }
    // ANCHOR_END: supervise
    let record = engine.containers.update(id, |r| {
        if r.state.supervisor == me {
            r.state.supervisor = None;
            if matches!(r.status, Status::Running { .. }) {
                r.status = Status::Exited { code: ended.code };
            }
        }
    })?;
    if spec.auto_remove {
        // --rm takes the container's anonymous volumes with it, as docker.
        engine.remove(&record, false, true)?;
    }
    Ok(ended)
}

/// The code a record says its container exited with (-1: unknown).
fn exit_of(record: &Record) -> i32 {
    match record.live_status() {
        Status::Exited { code } => code,
        _ => -1,
    }
}

// ANCHOR: restarts
/// Whether `--restart` runs the container again after it exited with
/// `code`. Never after `stop`, `kill` or `rm -f`.
pub fn restarts(policy: &RestartPolicy, code: i32, record: &Record) -> bool {
    if record.state.stopping {
        return false;
    }
    match *policy {
        RestartPolicy::No => false,
        RestartPolicy::Always => true,
        RestartPolicy::OnFailure { max } => {
            code != 0 && (max == 0 || record.state.restart_count < max)
        }
    }
}
// ANCHOR_END: restarts

/// One run of the container: start it with pipes for its output, record
/// that it runs, pump its output into the log until it ends.
fn run_once(
    engine: &Engine,
    record: &Record,
    spec: &Spec,
    lowers: &[std::path::PathBuf],
    echo: Echo,
    ready: &mut impl FnMut(Ready),
) -> Result<RunOutcome, EngineError> {
    let io = |what: &'static str| {
        move |errno: Errno| EngineError::Io {
            what,
            path: "pipe".into(),
            source: errno.into(),
        }
    };
    // The container's stdio: two pipes (stdout, stderr), or with -t one
    // terminal for all three. What we read from is `outputs`; the ends
    // the container gets are `theirs`, closed here once it has them.
    let (outputs, theirs, master) = match spec.tty {
        false => {
            let (out_read, out_write) = pipe2(OFlag::O_CLOEXEC).map_err(io("create"))?;
            let (err_read, err_write) = pipe2(OFlag::O_CLOEXEC).map_err(io("create"))?;
            // Without -i, stdin is empty, as in docker; with -i in the
            // foreground it is ours.
            let stdin: OwnedFd =
                match (spec.open_stdin, echo) {
                    (true, Echo::Terminal) => std::io::stdin()
                        .as_fd()
                        .try_clone_to_owned()
                        .map_err(|source| EngineError::Io {
                            what: "use",
                            path: "stdin".into(),
                            source,
                        })?,
                    _ => null()?,
                };
            (
                vec![(out_read, Stream::Stdout), (err_read, Stream::Stderr)],
                [stdin, out_write, err_write],
                None,
            )
        }
        true => {
            let stdin = std::io::stdin();
            let like = (echo == Echo::Terminal).then(|| stdin.as_fd());
            let pty = open_pty(like).map_err(io("open"))?;
            let master = pty.master.try_clone().map_err(|source| EngineError::Io {
                what: "use",
                path: "a pseudo-terminal".into(),
                source,
            })?;
            let slave = || {
                pty.slave.try_clone().map_err(|source| EngineError::Io {
                    what: "use",
                    path: "a pseudo-terminal".into(),
                    source,
                })
            };
            (
                vec![(pty.master, Stream::Stdout)],
                [slave()?, slave()?, slave()?],
                Some(master),
            )
        }
    };
    let mut command = ContainerCommand::new(record.command.clone());
    for pair in &spec.env {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        command.set_env(name, value);
    }
    command.cwd = spec.working_dir.clone();
    command.user = spec.user.clone();
    let isolation = Isolation {
        hostname: spec.hostname.clone(),
        user_namespace: UserNamespace::from_flag(spec.user_namespace),
    };
    let top = engine.containers.dirs(&record.id);
    let mut config = config_on_layers(lowers, &top, command, &isolation)?;
    config.mounts = engine.extra_mounts(&spec.mounts);
    config.stdio = Some([
        theirs[0].as_raw_fd(),
        theirs[1].as_raw_fd(),
        theirs[2].as_raw_fd(),
    ]);
    config.command.tty = spec.tty;
    let mut log = LogWriter::open(&engine.containers.log_path(&record.id)).map_err(|source| {
        EngineError::Io {
            what: "open",
            path: engine.containers.log_path(&record.id),
            source,
        }
    })?;
    let started = start_limited(&config, &spec.limits);
    // The container has its copies; ours must close, or the pipes never
    // reach end-of-file.
    drop(theirs);
    let running = match started {
        Ok(running) => running,
        Err(error) => {
            ready(Err((error.exit_code(), error.to_string())));
            return Err(error.into());
        }
    };
    let init = running.container.pid();
    engine.containers.update(&record.id, |r| {
        r.state.init = u32::try_from(init.as_raw()).ok().and_then(ProcessStamp::of);
        r.state.started_at = Some(now());
    })?;
    ready(Ok(()));
    // Our keys go to the container's terminal (-it in the foreground),
    // through our own terminal in raw mode.
    let input = match (&master, echo, spec.open_stdin) {
        (Some(master), Echo::Terminal, true) => Some(master),
        _ => None,
    };
    let raw = input.and_then(|_| RawMode::enter());
    // Detached, `attach` may join later, through a socket.
    let mut attach = match echo {
        Echo::LogOnly => Attachments::listen(&socket_path(&engine.containers.dir(&record.id))).ok(),
        Echo::Terminal => None,
    };
    let terminal = Terminal {
        typing: input,
        master: master.as_ref(),
        keys: spec.open_stdin,
    };
    // Health checks, when the image or `run` asks for them.
    let mut publish = |health: &Health| {
        let health = health.clone();
        let _ = engine
            .containers
            .update(&record.id, move |r| r.state.health = Some(health));
    };
    let health = spec.health.as_ref().and_then(|config| {
        let argv = config.argv()?;
        Some((config, argv))
    });
    if health.is_some() {
        publish(&Health::starting());
    }
    let now = Instant::now();
    let health = health.map(|(config, argv)| HealthRun {
        config: config.clone(),
        argv,
        spec,
        started: now,
        next: now + config.interval(),
        check: None,
        deadline: None,
        timed_out: false,
        health: Health::starting(),
        publish: &mut publish,
    });
    let code = pump(
        &running.container,
        outputs,
        terminal,
        attach.as_mut(),
        health,
        &mut log,
        echo,
    );
    drop(attach);
    drop(raw);
    let stats = running.cgroup.finish()?;
    Ok(RunOutcome { code, stats })
}

// ANCHOR: pump
/// The supervisor's loop: copy the container's output into its log (and
/// to our own stdout and stderr when echoing), pass signals we get on to
/// its init, and return its exit code once it has ended and its output
/// is all read.
fn pump(
    container: &Started,
    outputs: Vec<(OwnedFd, Stream)>,
    terminal: Terminal<'_>,
    mut attach: Option<&mut Attachments>,
    mut health: Option<HealthRun<'_>>,
    log: &mut LogWriter,
    echo: Echo,
) -> i32 {
    let input = terminal.typing;
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
        let check_at = fds.len();
        if let Some(check) = health.as_ref().and_then(|h| h.check.as_ref()) {
            fds.push(PollFd::new(check.output.as_fd(), PollFlags::POLLIN));
        }
        let attach_from = fds.len();
        if let Some(attach) = attach.as_deref() {
            fds.extend(
                attach
                    .fds()
                    .into_iter()
                    .map(|fd| PollFd::new(fd, PollFlags::POLLIN)),
            );
        }
        // Once init is gone, whatever is left in the pipes is there
        // already: wait a little for it, never for ever.
        let timeout = match (code, health.as_ref().map(HealthRun::due)) {
            (Some(_), _) => PollTimeout::from(200u16),
            (None, None) => PollTimeout::NONE,
            (None, Some(due)) => {
                let left = due.saturating_duration_since(Instant::now());
                PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
            }
        };
        match poll(&mut fds, timeout) {
            Ok(0) if code.is_some() => break,
            Ok(0) => {}
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
                    if let Some(attach) = attach.as_deref_mut() {
                        attach.broadcast(&buffer[..n]);
                    }
                }
            }
        }
        if ready[open.len()] {
            if let Ok(Some(info)) = signals.read_signal() {
                let signo = info.ssi_signo as i32;
                if signo == libc::SIGCHLD {
                    for (pid, ended) in reap() {
                        if pid == init {
                            code = Some(ended);
                        } else if let Some(health) = health.as_mut() {
                            health.ended(pid, ended);
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
        if let Some(attach) = attach.as_deref_mut() {
            attach.handle(&ready[attach_from..], terminal.master, terminal.keys);
        }
        if let Some(health) = health.as_mut() {
            if check_at < attach_from && ready[check_at] {
                health.read_output();
            }
            if code.is_none() {
                health.tick(init);
            }
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
    match code {
        Some(code) => code,
        None => container_wait(container),
    }
}
// ANCHOR_END: pump

/// The container's terminal, when it has one (`-t`).
#[derive(Debug, Clone, Copy)]
struct Terminal<'a> {
    /// Where our own keys go (`run -it` in the foreground).
    typing: Option<&'a OwnedFd>,
    /// The terminal's master end, for `attach`'s keys and window size.
    master: Option<&'a OwnedFd>,
    /// Whether keys may reach it at all (`-i`).
    keys: bool,
}

/// /dev/null, open.
fn null() -> Result<OwnedFd, EngineError> {
    Ok(File::open("/dev/null")
        .map_err(|source| EngineError::Io {
            what: "open",
            path: "/dev/null".into(),
            source,
        })?
        .into())
}

/// Reap every child that ended: each one's pid and exit code (the init's,
/// a health check's).
fn reap() -> Vec<(Pid, i32)> {
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

// ANCHOR: health_run
/// The health checks of one run: when the next is due, the one under way.
struct HealthRun<'a> {
    config: HealthConfig,
    argv: Vec<String>,
    spec: &'a Spec,
    started: Instant,
    next: Instant,
    check: Option<Check>,
    deadline: Option<Instant>,
    timed_out: bool,
    health: Health,
    /// Write the new state to the record.
    publish: &'a mut dyn FnMut(&Health),
}

impl HealthRun<'_> {
    /// When something is next to do: start a check, or give up on one.
    fn due(&self) -> Instant {
        match self.deadline {
            Some(deadline) if self.check.is_some() => deadline,
            _ => self.next,
        }
    }

    /// Start a check when one is due; kill one that ran out of time.
    fn tick(&mut self, init: Pid) {
        let now = Instant::now();
        match &self.check {
            None if now >= self.next => match start_check(init, self.spec, self.argv.clone()) {
                Ok(check) => {
                    self.check = Some(check);
                    self.deadline = Some(now + self.config.timeout());
                    self.timed_out = false;
                }
                Err(_) => self.next = now + self.config.interval(),
            },
            Some(check) if self.deadline.is_some_and(|d| now >= d) && !self.timed_out => {
                let _ = kill(check.pid, Signal::SIGKILL);
                self.timed_out = true;
            }
            _ => {}
        }
    }

    /// Keep what the check prints.
    fn read_output(&mut self) {
        if let Some(check) = self.check.as_mut() {
            let mut buffer = [0u8; 4096];
            if let Ok(n) = read(check.output.as_raw_fd(), &mut buffer) {
                check.printed.extend_from_slice(&buffer[..n]);
            }
        }
    }

    /// A child ended: if it was the check, take its result.
    fn ended(&mut self, pid: Pid, code: i32) {
        if self.check.as_ref().map(|c| c.pid) != Some(pid) {
            return;
        }
        // What it printed last is in the pipe still; the pipe's writers
        // are gone, so this read ends.
        self.read_output();
        let Some(check) = self.check.take() else {
            return;
        };
        let mut result = check.result(code);
        if self.timed_out {
            result.exit_code = -1;
            result.output = format!(
                "Health check exceeded timeout ({}s)",
                self.config.timeout().as_secs_f64()
            );
        }
        let start_period = Duration::from_nanos(self.config.start_period);
        let in_start_period = self.started.elapsed() < start_period;
        self.health
            .record(result, self.config.retries(), in_start_period);
        (self.publish)(&self.health);
        self.next = Instant::now() + self.config.interval();
        self.deadline = None;
    }
}
// ANCHOR_END: health_run

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
